/**
 * Where the analysis may read: regular files and folders inside the folders being analysed, and nothing else.
 *
 * Every Nix file may come from an attacker, and whatever the evaluator reads can end up quoted in a finding, a hover
 * or a SARIF report: `networking.hostId = builtins.readFile /etc/shadow;` must not publish the shadow file, an
 * `imports = [ /proc/self/environ ]` must not publish CI tokens, and `builtins.pathExists /root/.ssh/id_rsa` must not
 * tell whether the key exists. So a path is read only when, with every symbolic link resolved, it lies inside one of
 * the readable roots (the workspace folders, the folders given to the CLI) and is not a kernel or device file system;
 * a file is read only when it is a regular file (never a FIFO that blocks, a socket, a device or a /proc file that
 * reports size 0 and never ends), and only up to a size cap counted while reading, not taken from `stat`.
 * Anything else is, for the evaluator, a path outside the analysis: an unknown value that names the path and never
 * its content or its existence.
 */
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Kernel and device file systems: never read, even below a root (someone may open `/` as a folder). */
const FORBIDDEN = ['/proc', '/sys', '/dev'];

/** What reading a file gave: its bytes, or why there are none. */
export type FileRead = { bytes: Buffer } | { refused: 'outside' | 'missing' | 'not-a-file' | 'too-large' };

export class ReadPolicy {
  /** Readable roots, as given and with links resolved (both forms, so a check needs no resolution of the root). */
  private readonly roots: string[] = [];

  /**
   * Allows reading below a folder. `/` and the kernel file systems are always refused; the home folder is refused
   * unless the user chose it (`chosen`: a workspace folder or a folder given to the CLI), not when it is only the
   * folder around a file opened on its own.
   */
  allow(folder: string, chosen = true): boolean {
    const resolved = path.resolve(folder);
    if (!isAcceptableRoot(resolved, chosen)) return false;
    for (const form of [resolved, realOrSelf(resolved)]) if (!this.roots.includes(form)) this.roots.push(form);
    return true;
  }

  get readableRoots(): readonly string[] {
    return this.roots;
  }

  /** Whether a path, as written (links not resolved), lies inside a readable root. */
  isInside(filePath: string): boolean {
    return this.roots.some((root) => isWithin(filePath, root));
  }

  /**
   * The path with every link resolved, when it exists and may be read; undefined when it does not exist; `outside`
   * when it (or what a link inside the roots points to) lies outside every root or on a forbidden file system.
   */
  resolve(filePath: string): string | 'outside' | undefined {
    const absolute = path.resolve(filePath);
    if (!this.isInside(absolute)) return 'outside';
    let real: string;
    try {
      real = realpathSync.native(absolute);
    } catch {
      return undefined;
    }
    if (FORBIDDEN.some((forbidden) => isWithin(real, forbidden))) return 'outside';
    return this.isInside(real) ? real : 'outside';
  }

  /**
   * Reads a regular file inside the roots, at most `cap` bytes. The file is opened without blocking and without
   * following a link (the path is already resolved), and checked to be a regular file on the open descriptor, so a
   * FIFO put in its place between the check and the read cannot block the analysis.
   */
  read(filePath: string, cap: number): FileRead {
    const resolved = this.resolve(filePath);
    if (resolved === 'outside') return { refused: 'outside' };
    if (resolved === undefined) return { refused: 'missing' };
    let descriptor: number;
    try {
      descriptor = openSync(resolved, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    } catch {
      return { refused: 'missing' };
    }
    try {
      const stats = fstatSync(descriptor);
      if (!stats.isFile()) return { refused: 'not-a-file' };
      return readUpTo(descriptor, cap, stats.size);
    } catch {
      return { refused: 'missing' };
    } finally {
      closeSync(descriptor);
    }
  }
}

/**
 * Reads an open file to its end, refusing it once more than `cap` bytes came. `sizeHint` (the size `fstat` reported)
 * only sizes the first buffer, one byte larger so that the end is seen without another allocation; the cap is counted
 * on what is read, because a file may grow meanwhile or report a wrong size. The buffer doubles when the hint was low.
 * Before, every read allocated a buffer of up to 1 MB whatever the file's size, which cost the CLI 4 % of a run over
 * 1,000 small hosts.
 */
export function readUpTo(descriptor: number, cap: number, sizeHint: number): FileRead {
  let buffer = Buffer.allocUnsafe(Math.min(cap + 1, Math.max(sizeHint + 1, 4096)));
  let total = 0;
  for (;;) {
    if (total === buffer.length) {
      const larger = Buffer.allocUnsafe(Math.min(cap + 1, buffer.length * 2));
      buffer.copy(larger, 0, 0, total);
      buffer = larger;
    }
    const count = readSync(descriptor, buffer, total, buffer.length - total, null);
    if (count === 0) break;
    total += count;
    if (total > cap) return { refused: 'too-large' };
  }
  return { bytes: buffer.subarray(0, total) };
}

/** The reason, in words, for an unknown value that a refused read left behind. Names the path, never its content. */
export function refusalText(filePath: string, refused: Extract<FileRead, { refused: unknown }>['refused']): string {
  switch (refused) {
    case 'outside':
      return `${filePath} lies outside the folders being analysed, so it is not read`;
    case 'not-a-file':
      return `${filePath} is not a regular file, so it is not read`;
    case 'too-large':
      return `${filePath} is too large to read`;
    default:
      return `${filePath} does not exist`;
  }
}

export function isWithin(filePath: string, folder: string): boolean {
  return filePath === folder || filePath.startsWith(folder.endsWith(path.sep) ? folder : `${folder}${path.sep}`);
}

function realOrSelf(folder: string): string {
  try {
    return realpathSync.native(folder);
  } catch {
    return folder;
  }
}

/** A root that would open the whole machine (or, unless chosen, the user's whole home with its keys). */
function isAcceptableRoot(folder: string, chosen: boolean): boolean {
  if (folder === path.parse(folder).root) return false;
  if (!chosen && folder === os.homedir()) return false;
  return !FORBIDDEN.some((forbidden) => isWithin(folder, forbidden));
}
