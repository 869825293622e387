/**
 * The files an analysis reads: open editor documents first (their unsaved text wins), then the disk.
 * Parsed files are cached by path and by the disk file's size and modification time, so re-analysing a host after
 * an edit re-parses only what changed.
 *
 * The disk is read only inside the readable roots (confinement.ts): the folders being analysed. A path outside them
 * reads as `outside` — neither present nor absent — and the evaluator turns it into an unknown value.
 */
import { readdirSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { MAX_FILE_CHARS, SourceFile } from '../syntax/parser';
import { ReadPolicy } from './confinement';
import { isTracking, recordRead } from './dependencies';
import type { FileProvider } from './evaluator';

/**
 * `path.resolve` for the paths the model asks about, which are almost always absolute and normal already (the
 * evaluator resolves every path it builds): those are returned as they are, without the allocations of
 * `path.resolve`, which every read of every module file made on each edit.
 */
function absolute(filePath: string): string {
  if (path.sep === '/' && filePath.charCodeAt(0) === 47 /* / */ && !/\/\.{0,2}(?:\/|$)|\/$/.test(filePath)) return filePath;
  return path.resolve(filePath);
}

interface CachedFile {
  stamp: string;
  file: SourceFile;
}

/** Directories never searched for hosts or read as modules. */
export const IGNORED_DIRECTORIES = new Set(['.git', 'node_modules', '.direnv', 'result', '.vscode-test', 'out', 'dist']);

/** Raw text read for `builtins.readFile` and flake.lock: far smaller than a Nix file may be. */
const MAX_RAW_TEXT_BYTES = 1024 * 1024;

export class Workspace implements FileProvider {
  /** Which paths the analysis may read (the folders being analysed). */
  readonly policy = new ReadPolicy();
  private readonly overlays = new Map<string, SourceFile>();
  private readonly cache = new Map<string, CachedFile>();
  private readonly listings = new Map<string, string[]>();

  /**
   * Whether the caller reports every change on disk through `invalidate` (a language server whose client watches
   * the files): cached files and folder listings are then trusted without asking the disk again.
   */
  watched = false;

  /**
   * Makes a path given for analysis readable: a folder with everything below it, a file with the folder around it
   * (which holds what it imports beside it, but is not a folder the user chose: the home folder is refused there).
   */
  allowScope(scope: string): void {
    let isFolder = false;
    try {
      isFolder = statSync(scope).isDirectory();
    } catch {
      isFolder = false;
    }
    this.policy.allow(isFolder ? scope : path.dirname(scope), isFolder);
  }

  /** Sets the editor's text of a file (an open document). */
  setOverlay(file: SourceFile): void {
    this.overlays.set(absolute(file.path), file);
  }

  removeOverlay(filePath: string): void {
    this.overlays.delete(absolute(filePath));
  }

  overlay(filePath: string): SourceFile | undefined {
    return this.overlays.get(absolute(filePath));
  }

  /**
   * The parse of a file's disk text when an editor opens the file with that same text. The open document then shares
   * the parse the analysis already read: opening a file unchanged parses nothing again, and every host that read the
   * file is reused as it is (a new parse of the same text would count as a change, `answer`).
   */
  parseOnDisk(filePath: string, text: string): SourceFile | undefined {
    const cached = this.cache.get(absolute(filePath));
    return cached && cached.file.text === text ? cached.file : undefined;
  }

  /**
   * Takes an open document's parse back as the disk's when the editor closes it and the disk holds the same text (the
   * file was opened and closed unchanged, or saved): closing it then changes nothing for the analysis. False when the
   * disk text differs or cannot be read; the caller then disposes the parse.
   */
  keepClosedParse(file: SourceFile): boolean {
    const resolved = absolute(file.path);
    if (this.overlays.get(resolved) === file) return false;
    const stats = this.stat(resolved);
    if (!stats || !stats.isFile()) return false;
    const read = this.policy.read(resolved, MAX_FILE_CHARS * 2);
    if ('refused' in read || stripBom(read.bytes.toString('utf8')) !== file.text) return false;
    const cached = this.cache.get(resolved);
    if (cached && cached.file !== file && !this.isShared(cached.file)) cached.file.dispose();
    this.cache.set(resolved, { stamp: `${stats.size}:${stats.mtimeMs}`, file });
    return true;
  }

  /** Whether the workspace still holds a parse as a disk file's (an editor's document may share it). */
  holdsParse(file: SourceFile): boolean {
    return this.cache.get(absolute(file.path))?.file === file;
  }

  /** Drops the cached parse of a disk file (after a watched-file event), and the folder listings holding it. */
  invalidate(filePath: string): void {
    const resolved = absolute(filePath);
    for (const root of this.listings.keys()) if (resolved.startsWith(`${root}${path.sep}`)) this.listings.delete(root);
    // A created or deleted file can turn a path into a folder or back: forget every remembered stat and read.
    this.stats.clear();
    this.realPaths.clear();
    this.texts.clear();
    this.directories.clear();
    const cached = this.cache.get(resolved);
    if (cached && !this.isShared(cached.file)) cached.file.dispose();
    this.cache.delete(resolved);
  }

  private isShared(file: SourceFile): boolean {
    for (const overlay of this.overlays.values()) if (overlay === file) return true;
    return false;
  }

  private readonly stats = new Map<string, Stats | null>();

  /** Whether a path lies outside every readable root (after resolving links); an open document never does. */
  isOutside(filePath: string): boolean {
    const resolved = absolute(filePath);
    if (this.overlays.has(resolved)) return false;
    return this.resolveReal(resolved) === 'outside';
  }

  /** Resolved paths (links followed), trusted like the stats while the client watches the files. */
  private readonly realPaths = new Map<string, string | 'outside' | undefined>();

  /** The policy's resolution of a path; asked once per path while watched (every import checks its target). */
  private resolveReal(resolved: string): string | 'outside' | undefined {
    if (!this.watched) return this.policy.resolve(resolved);
    if (this.realPaths.has(resolved)) return this.realPaths.get(resolved);
    const real = this.policy.resolve(resolved);
    this.realPaths.set(resolved, real);
    return real;
  }

  /** A file's status, only inside the readable roots (links resolved); undefined for a path outside them. */
  private stat(filePath: string): Stats | undefined {
    if (this.watched) {
      const cached = this.stats.get(filePath);
      if (cached !== undefined) return cached ?? undefined;
    }
    let stats: Stats | undefined;
    const real = this.resolveReal(absolute(filePath));
    try {
      stats = real && real !== 'outside' ? statSync(real) : undefined;
    } catch {
      stats = undefined;
    }
    if (this.watched) this.stats.set(filePath, stats ?? null);
    return stats;
  }

  source(filePath: string): SourceFile | undefined {
    const resolved = absolute(filePath);
    recordRead('source', resolved);
    const overlay = this.overlays.get(resolved);
    if (overlay) return overlay;
    if (this.watched) {
      const trusted = this.cache.get(resolved);
      if (trusted) return trusted.file;
    }
    const stats = this.stat(resolved);
    if (!stats || !stats.isFile()) return undefined;
    const stamp = `${stats.size}:${stats.mtimeMs}`;
    const cached = this.cache.get(resolved);
    if (cached && cached.stamp === stamp) return cached.file;
    let file: SourceFile;
    // The size cap holds while reading: a file that grows, or a special file that reports size 0, stops at the cap.
    const read = this.policy.read(resolved, MAX_FILE_CHARS * 2);
    if ('refused' in read) {
      if (read.refused !== 'too-large') return undefined;
      file = new SourceFile(resolved, '', undefined, 'too-large');
    } else file = SourceFile.fromText(resolved, stripBom(read.bytes.toString('utf8')));
    // An open document may share the old parse (`parseOnDisk`); its editor still shows that text.
    if (cached && !this.isShared(cached.file)) cached.file.dispose();
    this.cache.set(resolved, { stamp, file });
    return file;
  }

  isDirectory(filePath: string): boolean {
    const resolved = absolute(filePath);
    recordRead('isDirectory', resolved);
    if (this.overlays.has(resolved)) return false;
    if (this.stat(filePath)?.isDirectory()) return true;
    // An open, never saved document makes its folder exist for the analysis.
    for (const overlayPath of this.overlays.keys()) if (overlayPath.startsWith(`${resolved}${path.sep}`)) return true;
    return false;
  }

  /** Whether a path exists; undefined for a path outside the readable roots, whose existence is not ours to tell. */
  exists(filePath: string): boolean | undefined {
    if (isTracking()) recordRead('exists', absolute(filePath));
    if (this.overlays.has(absolute(filePath))) return true;
    if (this.isOutside(filePath)) return undefined;
    return this.stat(filePath) !== undefined || this.isDirectory(filePath);
  }

  /** Folder listings and raw texts read while the client watches the files (then trusted, like the parses). */
  private readonly directories = new Map<string, Map<string, string> | undefined>();
  private readonly texts = new Map<string, string | undefined>();

  readDir(dirPath: string): Map<string, string> | undefined {
    const resolved = path.resolve(dirPath);
    recordRead('readDir', resolved);
    if (this.watched && this.directories.has(resolved)) return this.directories.get(resolved);
    let result: Map<string, string> | undefined;
    const real = this.resolveReal(resolved);
    try {
      if (!real || real === 'outside') throw new Error('not readable');
      const entries = readdirSync(real, { withFileTypes: true });
      result = new Map<string, string>();
      for (const entry of entries) result.set(entry.name, entry.isDirectory() ? 'directory' : entry.isSymbolicLink() ? 'symlink' : 'regular');
    } catch {
      result = undefined;
    }
    if (this.watched) this.directories.set(resolved, result);
    return result;
  }

  readText(filePath: string): string | undefined {
    const resolved = absolute(filePath);
    recordRead('readText', resolved);
    const overlay = this.overlays.get(resolved);
    if (overlay) return overlay.text;
    if (this.watched && this.texts.has(resolved)) return this.texts.get(resolved);
    const read = this.policy.read(resolved, MAX_RAW_TEXT_BYTES);
    const text = 'bytes' in read ? read.bytes.toString('utf8') : undefined;
    if (this.watched) this.texts.set(resolved, text);
    return text;
  }

  /**
   * Answers a recorded read again (a key from `recordRead`), as a value that compares equal (`===`) exactly when
   * the read would now return the same: the language server reuses a host's analysis while all its reads do.
   */
  answer(key: string): unknown {
    const separator = key.indexOf('\0');
    const kind = key.slice(0, separator);
    const target = key.slice(separator + 1);
    switch (kind) {
      case 'source':
        // The parse itself, not its text: a reused analysis holds syntax nodes of that parse, which must still be
        // alive (a replaced parse is disposed), so a file parsed again counts as changed even with the same text.
        return this.source(target);
      case 'isDirectory':
        return this.isDirectory(target);
      case 'exists':
        return this.exists(target);
      case 'readDir': {
        const entries = this.readDir(target);
        return entries && [...entries].map(([name, type]) => `${name}/${type}`).join('\n');
      }
      case 'readText':
        return this.readText(target);
      case 'listNixFiles':
        return this.listNixFiles(target).join('\n');
      default:
        return Symbol('an unknown kind of read never matches');
    }
  }

  /** An origin as an LSP range (0-based lines, UTF-16 characters), read against the file's current text. */
  range(origin: { file: string; start: number; end: number }): { start: { line: number; character: number }; end: { line: number; character: number } } {
    const source = this.source(origin.file);
    if (!source) return { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    return { start: source.lines.position(origin.start), end: source.lines.position(Math.max(origin.start, origin.end)) };
  }

  /** Every `.nix` file below a folder (and open documents there), skipping build outputs and VCS folders. */
  listNixFiles(root: string, limit = 20_000): string[] {
    const resolvedRoot = path.resolve(root);
    recordRead('listNixFiles', resolvedRoot);
    const overlaid = [...this.overlays.keys()].filter((overlayPath) => overlayPath.startsWith(resolvedRoot + path.sep) && overlayPath.endsWith('.nix'));
    const cached = this.watched ? this.listings.get(resolvedRoot) : undefined;
    if (cached) return [...new Set([...cached, ...overlaid])].sort();
    const onDisk = this.scanNixFiles(resolvedRoot, limit);
    if (this.watched) this.listings.set(resolvedRoot, onDisk);
    return [...new Set([...onDisk, ...overlaid])].sort();
  }

  private scanNixFiles(resolvedRoot: string, limit: number): string[] {
    const found = new Set<string>();
    if (!this.policy.isInside(resolvedRoot)) return [];
    const visit = (dir: string, depth: number) => {
      if (found.size >= limit || depth > 30) return;
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      entries.sort((a, b) => a.name.localeCompare(b.name));
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          if (!IGNORED_DIRECTORIES.has(entry.name)) visit(full, depth + 1);
        } else if (entry.isFile() && entry.name.endsWith('.nix')) found.add(full);
      }
    };
    visit(resolvedRoot, 0);
    return [...found].sort();
  }
}

/** A byte-order mark becomes a space: Nix sees whitespace and every offset stays where the editor has it. */
function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? ` ${text.slice(1)}` : text;
}
