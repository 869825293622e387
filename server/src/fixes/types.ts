/**
 * What a quick fix is: edits across files, a title, and whether it is the fix "Fix all" applies.
 */
import type { HostModel } from '../model/host-model';
import type { Workspace } from '../model/workspace';
import type { Finding, RuleCode } from '../rules/types';
import type { TextEdit } from './nix-edit';

export interface QuickFix {
  title: string;
  /** The fix "Fix all" applies and editors mark as preferred; at most one per finding. */
  preferred: boolean;
  edits: TextEdit[];
}

export interface FixContext {
  finding: Finding;
  host: HostModel;
  workspace: Workspace;
}

export interface FixProvider {
  /** A stable name (the file name of the provider). */
  name: string;
  codes: RuleCode[];
  fixes(context: FixContext): QuickFix[];
}

/** What the caller that applies fixes can do. */
export interface FixOptions {
  /**
   * It can create a file (an LSP client whose `workspace.workspaceEdit.resourceOperations` include `create`): a
   * fix may then put new settings into a new module when the host has no module of its own to take them.
   */
  createFiles: boolean;
}
