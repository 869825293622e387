/**
 * Open documents: the editor's text of each file, kept as a `SourceFile` that is re-parsed incrementally on every
 * change (the old tree is edited and reused), and mirrored into the workspace so that analysis sees unsaved text.
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
    this.open.get(uri)?.file.dispose();
    const document = { uri, path: filePath, version, file: SourceFile.fromText(filePath, text) };
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
      } else next = SourceFile.fromText(document.path, change.text);
      if (next !== file) file.dispose();
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
    document.file.dispose();
    return document;
  }
}
