/**
 * Code actions on our diagnostics: the quick fixes of the fixes layer, "Ignore <code> here" (a pragma comment above
 * the binding), and "Show documentation for <code>" (opened through `window/showDocument`, so it works in any
 * editor that supports it).
 *
 * A fix that creates a module (when a host has no module of its own to take a setting) is offered only to a client
 * that announced `workspace.workspaceEdit.resourceOperations` with `create` and `documentChanges`; for any other
 * client that fix is not offered, and a finding falls back to another fix or none.
 */
import type { ClientCapabilities, CodeAction, CodeActionParams, CreateFile, Diagnostic, ExecuteCommandParams, TextDocumentEdit, WorkspaceEdit } from 'vscode-languageserver';
import { CodeActionKind, ResourceOperationKind } from 'vscode-languageserver';
import { fixAllEdits } from '../fixes/apply';
import { insertRollbackService } from '../fixes/handlers/insert-rollback-service';
import type { TextEdit } from '../fixes/nix-edit';
import { admissible, fixesFor } from '../fixes/registry';
import type { FixOptions } from '../fixes/types';
import type { Workspace } from '../model/workspace';
import type { HostFinding } from '../rules/engine';
import { docsUrl } from '../rules/types';
import type { SourceFile } from '../syntax/parser';
import { pathToUri } from './documents';
import type { Analysis } from './analysis';

export const FIX_ALL_KIND = 'source.fixAll.ephemeralRoot';
export const INSERT_ROLLBACK_KIND = 'source.ephemeralRoot.insertRollbackService';

/** Whether a client can apply a workspace edit that creates a file: document changes with the `create` operation. */
export function fixOptionsFor(capabilities: ClientCapabilities): FixOptions {
  const workspaceEdit = capabilities.workspace?.workspaceEdit;
  return { createFiles: workspaceEdit?.documentChanges === true && (workspaceEdit.resourceOperations ?? []).includes(ResourceOperationKind.Create) };
}

/** What a workspace edit needs of an analysis: the files' line tables and the open documents' versions. */
type EditSite = Pick<Analysis, 'workspace' | 'documentVersion'>;

/**
 * Edits as an LSP workspace edit. Open documents are addressed with their version, so an editor refuses the edit
 * when the document changed since the fix was computed instead of applying it to the wrong text. A file to create
 * comes first as a `CreateFile` (which fails if the file appeared meanwhile), then its content as an insertion.
 */
export function workspaceEdit(site: EditSite, edits: TextEdit[]): WorkspaceEdit {
  const byFile = new Map<string, TextEdit[]>();
  for (const item of edits) byFile.set(item.file, [...(byFile.get(item.file) ?? []), item]);
  const creations: CreateFile[] = [];
  const documentChanges: TextDocumentEdit[] = [];
  for (const [file, fileEdits] of byFile) {
    const uri = pathToUri(file);
    if (fileEdits.some((item) => item.create)) {
      creations.push({ kind: 'create', uri, options: { overwrite: false, ignoreIfExists: false } });
      const start = { line: 0, character: 0 };
      documentChanges.push({ textDocument: { uri, version: null }, edits: fileEdits.map((item) => ({ range: { start, end: start }, newText: item.text })) });
      continue;
    }
    const version = site.documentVersion(uri);
    documentChanges.push({
      textDocument: { uri, version },
      edits: fileEdits.map((item) => ({ range: site.workspace.range({ file, start: item.start, end: item.end }), newText: item.text })),
    });
  }
  return { documentChanges: [...creations, ...documentChanges] };
}

function sameRange(workspace: Workspace, finding: HostFinding, diagnostic: Diagnostic): boolean {
  const range = workspace.range(finding.origin);
  return (
    range.start.line === diagnostic.range.start.line &&
    range.start.character === diagnostic.range.start.character &&
    range.end.line === diagnostic.range.end.line &&
    range.end.character === diagnostic.range.end.character
  );
}

export const SHOW_DOCUMENTATION = 'ephemeralRoot.showDocumentation';
export const FIX_COMMANDS = [SHOW_DOCUMENTATION];

/** Where to write the pragma for a finding at `offset`: above the innermost binding holding it. */
export function pragmaInsertion(file: SourceFile, offset: number, code: string): { offset: number; text: string } {
  let node = file.root?.descendantForIndex(offset) ?? null;
  while (node && node.type !== 'binding' && node.type !== 'inherit' && node.type !== 'inherit_from') node = node.parent;
  if (!node) return { offset: 0, text: `# ephemeral-root: ignore ${code}\n` };
  const lineStart = file.lines.lineStart(file.lines.position(node.startIndex).line);
  const indentation = /^[ \t]*/.exec(file.text.slice(lineStart, node.startIndex))?.[0] ?? '';
  const onlyIndentBefore = indentation.length === node.startIndex - lineStart;
  if (!onlyIndentBefore) return { offset: node.startIndex, text: `# ephemeral-root: ignore ${code}\n${indentation}` };
  const newline = file.text.includes('\r\n') ? '\r\n' : '\n';
  return { offset: lineStart, text: `${indentation}# ephemeral-root: ignore ${code}${newline}` };
}

/** What the code actions need besides the analysis: what the client can apply, and where a failing fix is logged. */
export interface CodeActionContext {
  fixOptions: FixOptions;
  logError(message: string): void;
}

export function codeActionsFor(analysis: Analysis, filePath: string, params: CodeActionParams, context: CodeActionContext): CodeAction[] {
  const { result, workspace } = analysis;
  const { fixOptions } = context;
  const actions: CodeAction[] = [];
  const ours = params.context.diagnostics.filter((diagnostic) => diagnostic.source === 'ephemeral-root' && typeof diagnostic.code === 'string');
  const file = workspace.source(filePath);
  const hosts = new Map(result.hosts.map((host) => [host.name, host]));
  const only = params.context.only;
  const wants = (kind: string) => !only || only.some((requested) => kind === requested || kind.startsWith(`${requested}.`));
  const seen = new Set<string>();
  for (const diagnostic of ours) {
    const code = diagnostic.code as string;
    const finding = result.findings.find((candidate) => candidate.code === code && candidate.origin.file === filePath && candidate.host && sameRange(workspace, candidate, diagnostic));
    const host = finding?.host ? hosts.get(finding.host) : undefined;
    if (finding && host && wants(CodeActionKind.QuickFix)) {
      for (const fix of fixesFor(finding, host, workspace, (provider, error) => context.logError(`fix ${provider} failed: ${String(error)}`), fixOptions)) {
        if (seen.has(`fix:${fix.title}`)) continue;
        seen.add(`fix:${fix.title}`);
        actions.push({ title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], isPreferred: fix.preferred, edit: workspaceEdit(analysis, fix.edits) });
      }
    }
    if (!wants(CodeActionKind.QuickFix)) continue;
    if (file && !seen.has(`ignore:${code}:${diagnostic.range.start.line}`)) {
      seen.add(`ignore:${code}:${diagnostic.range.start.line}`);
      const insertion = pragmaInsertion(file, file.lines.offset(diagnostic.range.start), code);
      const position = file.lines.position(insertion.offset);
      actions.push({
        title: `Ignore ${code} here`,
        kind: CodeActionKind.QuickFix,
        diagnostics: [diagnostic],
        edit: { changes: { [params.textDocument.uri]: [{ range: { start: position, end: position }, newText: insertion.text }] } },
      });
    }
    if (!seen.has(`docs:${code}`)) {
      seen.add(`docs:${code}`);
      actions.push({ title: `Show documentation for ${code}`, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], command: { title: `Show documentation for ${code}`, command: SHOW_DOCUMENTATION, arguments: [code] } });
    }
  }
  if (wants(FIX_ALL_KIND) && only) {
    const edits = fixAllEdits(result.findings, result.hosts, workspace, new Set([filePath]), fixOptions);
    if (edits.length > 0) actions.push({ title: 'Fix all ephemeral-root problems', kind: FIX_ALL_KIND, edit: workspaceEdit(analysis, edits) });
  }
  if (wants(INSERT_ROLLBACK_KIND)) {
    for (const host of result.hosts.filter((candidate) => candidate.files.includes(filePath))) {
      const computed = insertRollbackService(host, workspace);
      const fix = computed && admissible(computed, host, workspace, fixOptions);
      if (fix && !seen.has(`fix:${fix.title}`)) actions.push({ title: fix.title, kind: INSERT_ROLLBACK_KIND, edit: workspaceEdit(analysis, fix.edits) });
    }
  }
  return actions;
}

/** Runs one of `FIX_COMMANDS`; `showDocument` opens a page in the client (`window/showDocument`). */
export async function executeFixCommand(params: ExecuteCommandParams, showDocument: (uri: string) => Promise<unknown>): Promise<unknown> {
  if (params.command === SHOW_DOCUMENTATION) await showDocument(docsUrl(String(params.arguments?.[0] ?? '')));
  return undefined;
}
