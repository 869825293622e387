/**
 * Safety: the command formats image files in its work folder and nothing else.
 *
 * - Every argument of every process (and its working folder and executable) is checked: one that resolves, through
 *   any symlinks, to a block or character device or to anything under `/dev` is refused before anything runs
 *   (`realpath` + `stat`; for a path that does not exist yet, its nearest existing parent is resolved).
 * - The work folder must be a directory of its own: not `/`, not under `/dev`, `/proc` or `/sys`, not a device.
 * - Image names come from the layout (`disko.devices.disk.<n>.imageName`); disko's script writes
 *   `$PWD/<imageName>.<format>`, so a name with a `/` or `..` would reach outside the folder: refused.
 * - Where the work folder may be, and what a run deletes there, is work-folder.ts. After the image step, every image
 *   the run made must be a regular file in the folder, and real `qemu-img info` reads its format; image files that
 *   were there before the run (a user's) are not looked at.
 * - Processes get argument arrays (child_process.spawn without a shell).
 */
import { spawnSync } from 'node:child_process';
import { type Stats, lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ImageInfo, Step } from './types';

export class SafetyError extends Error {
  override readonly name = 'SafetyError';
}

const SYSTEM_TREES = ['/dev', '/proc', '/sys'];

function under(file: string, tree: string): boolean {
  return file === tree || file.startsWith(`${tree}/`);
}

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

/** The real path of a file, or of its nearest existing parent joined with the rest. */
export function resolveThroughParents(file: string): string {
  let current = path.resolve(file);
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(realpathSync(current), ...rest);
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return path.join(current, ...rest);
      rest.unshift(path.basename(current));
      current = parent;
    }
  }
}

/**
 * Why an argument is a device (a reason to refuse it), or undefined. Checked: the argument itself and, for
 * `name=value` arguments, the value; each relative to `cwd` when it names an existing file or looks like a path.
 */
export function deviceReason(argument: string, cwd: string): string | undefined {
  const candidates = [argument];
  const eq = argument.indexOf('=');
  if (eq > 0) candidates.push(argument.slice(eq + 1));
  for (const candidate of candidates) {
    if (candidate.length === 0 || candidate.startsWith('-')) continue;
    const looksLikePath = candidate.includes('/') || candidate.startsWith('~');
    const absolute = path.resolve(cwd, candidate);
    let exists = false;
    try {
      lstatSync(absolute);
      exists = true;
    } catch {
      exists = false;
    }
    if (!exists && !looksLikePath) continue;
    if (candidate.startsWith('.#') || /^[a-z][a-z0-9+]*:/.test(candidate)) continue; // installables and URLs
    const lexical = path.normalize(absolute);
    const real = resolveThroughParents(absolute);
    for (const resolved of new Set([real, lexical])) {
      if (under(resolved, '/dev')) return `${argument} resolves to ${resolved}, under /dev`;
      const stats = exists ? statOrUndefined(resolved) : undefined;
      if (stats?.isBlockDevice()) return `${argument} resolves to the block device ${resolved}`;
      if (stats?.isCharacterDevice()) return `${argument} resolves to the character device ${resolved}`;
    }
  }
  return undefined;
}

/** Refuses a step whose executable, working folder or any argument resolves to a device. */
export function checkStep(step: Pick<Step, 'command' | 'args' | 'cwd'>): void {
  for (const argument of [step.cwd, step.command, ...step.args]) {
    const reason = deviceReason(argument, step.cwd);
    if (reason) throw new SafetyError(`Refused: ${reason}. This command only ever formats image files in its work folder.`);
  }
}

/** Checks the work folder's path (it need not exist yet; work-folder.ts creates it); returns its real path. */
export function checkWorkFolder(folder: string): string {
  if (!path.isAbsolute(folder)) throw new SafetyError(`Refused: the work folder ${folder} is not an absolute path.`);
  const reason = deviceReason(folder, '/');
  if (reason) throw new SafetyError(`Refused: the work folder ${reason}. Images are only formatted in a folder of files.`);
  const resolved = resolveThroughParents(folder);
  for (const tree of SYSTEM_TREES) if (under(resolved, tree)) throw new SafetyError(`Refused: the work folder ${folder} is under ${tree}.`);
  if (resolved === '/') throw new SafetyError('Refused: the work folder cannot be /.');
  const existing = statOrUndefined(resolved);
  if (existing && !existing.isDirectory()) throw new SafetyError(`Refused: the work folder ${folder} exists and is not a folder.`);
  return resolved;
}

/** Refuses image names that would put the image outside the work folder. */
export function checkImageNames(names: string[]): void {
  for (const name of names) {
    if (name.length === 0 || name.includes('/') || name.includes('\0') || name === '.' || name === '..' || name.startsWith('..')) {
      throw new SafetyError(`Refused: the image name ${JSON.stringify(name)} (disko.devices.disk.<n>.imageName) would not be a file in the work folder.`);
    }
  }
}

export const IMAGE_EXTENSIONS = ['.raw', '.qcow2'];

/** Image files directly in a folder, leaving out the names in `ignored` (files that were there before the run). */
export function imageFilesIn(folder: string, ignored: ReadonlySet<string> = new Set()): string[] {
  return readdirSync(folder)
    .filter((entry) => IMAGE_EXTENSIONS.includes(path.extname(entry)) && !ignored.has(entry))
    .map((entry) => path.join(folder, entry))
    .sort();
}

/** `qemu-img info --output=json` of one image (real qemu-img; Debian qemu-utils). */
export function inspectImage(file: string, qemuImg = 'qemu-img'): ImageInfo {
  const run = spawnSync(qemuImg, ['info', '--output=json', file], { encoding: 'utf8', timeout: 30_000 });
  if (run.error) throw new Error(`qemu-img is not available (${run.error.message})`);
  if (run.status !== 0) throw new Error(`qemu-img info ${file} failed: ${run.stderr.trim()}`);
  const info = JSON.parse(run.stdout) as { format: string; 'virtual-size': number };
  return { file, format: info.format, virtualSize: info['virtual-size'] };
}

/**
 * Checks the images the formatting step left: each a regular file in the work folder (not a link out of it), in
 * the format asked for; every expected name present. Image files named in `preexisting` were there before the run
 * (not made by it) and are left out. Returns the images and the problems found.
 */
export function checkImages(folder: string, expected: string[], format: string, qemuImg?: string, preexisting: ReadonlySet<string> = new Set()): { images: ImageInfo[]; problems: string[] } {
  const problems: string[] = [];
  const images: ImageInfo[] = [];
  for (const file of imageFilesIn(folder, preexisting)) {
    const stats = lstatSync(file);
    if (!stats.isFile()) {
      problems.push(`${path.basename(file)} is not a regular file`);
      continue;
    }
    try {
      const info = inspectImage(file, qemuImg);
      images.push(info);
      if (path.extname(file) === `.${format}` && info.format !== format) problems.push(`${path.basename(file)} is ${info.format}, not ${format}`);
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  }
  for (const name of expected) if (!images.some((image) => path.basename(image.file) === name)) problems.push(`${name} was not created`);
  return { images, problems };
}
