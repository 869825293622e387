/**
 * Open documents: the editor's text of each file, kept as a `SourceFile` that is re-parsed incrementally on every
 * change (the old tree is edited and reused), and mirrored into the workspace so that analysis sees unsaved text.
 *
 * A document opened with the text on disk shares the workspace's parse of the file, and a document closed with the
 * text on disk hands its parse back: opening and closing a file unchanged re-analyses nothing and keeps one parse of
 * it in memory, not one per version (a 20,000-line file's syntax nodes take some 140 MB).
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TextDocumentContentChangeEvent } from 'vscode-languageserver';
import type { Workspace } from '../model/workspace';
import { SourceFile, type TextChange } from '../syntax/parser';

export function uriToPath(uri: string): string | undefined {
  try {
    return uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
  } catch {
    return undefined;
  }
}

export function pathToUri(filePath: string): string {
  return pathToFileURL(filePath).toString();
}

export interface OpenDocument {
  uri: string;
  path: string;
  version: number;
  file: SourceFile;
}

export class Documents {
  private readonly open = new Map<string, OpenDocument>();

  constructor(private readonly workspace: Workspace) {}

  get(uri: string): OpenDocument | undefined {
    return this.open.get(uri);
  }

  all(): OpenDocument[] {
    return [...this.open.values()];
  }

  opened(uri: string, version: number, text: string): OpenDocument | undefined {
    const filePath = uriToPath(uri);
    if (!filePath) return undefined;
    const previous = this.open.get(uri);
    if (previous) this.release(previous.file);
    const file = this.workspace.parseOnDisk(filePath, text) ?? SourceFile.fromText(filePath, text);
    const document = { uri, path: filePath, version, file };
    this.open.set(uri, document);
    this.workspace.setOverlay(document.file);
    return document;
  }

  /** Applies incremental (or full) changes in order; each range is read against the text as it is at that point. */
  changed(uri: string, version: number, changes: TextDocumentContentChangeEvent[]): OpenDocument | undefined {
    const document = this.open.get(uri);
    if (!document) return undefined;
    let file = document.file;
    for (const change of changes) {
      let next: SourceFile;
      if ('range' in change) {
        const textChange: TextChange = { start: file.lines.offset(change.range.start), end: file.lines.offset(change.range.end), text: change.text };
        next = file.withChanges([textChange]);
      } else next = change.text === file.text ? file : SourceFile.fromText(document.path, change.text);
      if (next !== file) this.release(file);
      file = next;
    }
    document.file = file;
    document.version = version;
    this.workspace.setOverlay(file);
    return document;
  }

  closed(uri: string): OpenDocument | undefined {
    const document = this.open.get(uri);
    if (!document) return undefined;
    this.open.delete(uri);
    this.workspace.removeOverlay(document.path);
    if (!this.workspace.keepClosedParse(document.file)) this.release(document.file);
    return document;
  }

  /** Frees a parse the documents no longer use, unless the workspace holds it as a disk file's. */
  private release(file: SourceFile): void {
    if (!this.workspace.holdsParse(file)) file.dispose();
  }
}
