/**
 * What a language feature reads: one folder's analysis, taken when the request is answered (rust-analyzer's
 * `Analysis`). Features are functions of an analysis and the request's parameters. They never see the server, which
 * owns the connection, the open documents, the folders and the scheduling; the server awaits the analysis of the
 * request's folder and then runs the feature on it without yielding, so the texts the feature reads are the texts the
 * analysis was made from.
 */
import type { Workspace } from '../model/workspace';
import type { AnalysisResult } from '../rules/engine';
import type { Settings } from './settings';

export interface Analysis {
  /** The workspace folder analysed (or the file itself, for a file analysed alone). */
  readonly folder: string;
  readonly result: AnalysisResult;
  readonly settings: Settings;
  /** The texts the result was computed from: source files, and positions of offsets (`range`). */
  readonly workspace: Workspace;
  /**
   * The version of an open document, so that an editor refuses an edit computed here once its text moved on; null
   * for a file that is not open.
   */
  documentVersion(uri: string): number | null;
}

/** The analyses of several folders, for the views that span a workspace (the layout view, the VM hosts). */
export interface Analyses {
  /** The folder that holds a file: a workspace folder, or the file itself when it lies outside every folder. */
  folderOf(filePath: string): string;
  analysisOf(folder: string): Promise<Analysis>;
}
