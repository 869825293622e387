/**
 * Safety: the command formats image files in its work folder and nothing else.
 *
 * - Every argument of every process (and its working folder and executable) is checked: one that resolves, through
 *   any symlinks, to a block or character device or to anything under `/dev` is refused before anything runs
 *   (`realpath` + `stat`; for a path that does not exist yet, its nearest existing parent is resolved).
 * - The work folder must be a directory of its own: not `/`, not under `/dev`, `/proc` or `/sys`, not a device.
 * - Image names come from the layout (`disko.devices.disk.<n>.imageName`); disko's script writes
 *   `$PWD/<imageName>.<format>`, so a name with a `/` or `..` would reach outside the folder: refused.
 * - Before a run, the work folder is emptied of the previous run's files (only the names the command writes); after
 *   the image step, every image must be a regular file in the folder, and real `qemu-img info` reads its format.
 * - Processes get argument arrays (child_process.spawn without a shell).
 */
import { spawnSync } from 'node:child_process';
import { type Stats, lstatSync, mkdirSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WORK_FILES } from './args';
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

/** Checks (and creates) the work folder; returns its real path. */
export function checkWorkFolder(folder: string): string {
  if (!path.isAbsolute(folder)) throw new SafetyError(`Refused: the work folder ${folder} is not an absolute path.`);
  const reason = deviceReason(folder, '/');
  if (reason) throw new SafetyError(`Refused: the work folder ${reason}. Images are only formatted in a folder of files.`);
  const resolved = resolveThroughParents(folder);
  for (const tree of SYSTEM_TREES) if (under(resolved, tree)) throw new SafetyError(`Refused: the work folder ${folder} is under ${tree}.`);
  if (resolved === '/') throw new SafetyError('Refused: the work folder cannot be /.');
  const existing = statOrUndefined(resolved);
  if (existing && !existing.isDirectory()) throw new SafetyError(`Refused: the work folder ${folder} exists and is not a folder.`);
  mkdirSync(resolved, { recursive: true });
  return realpathSync(resolved);
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

/** Removes what a previous run left (only the names the command writes) and marks the folder as the command's. */
export function prepareWorkFolder(folder: string): void {
  for (const entry of readdirSync(folder)) {
    const ours =
      IMAGE_EXTENSIONS.includes(path.extname(entry)) ||
      entry === WORK_FILES.log ||
      entry === WORK_FILES.imagesScript ||
      entry === WORK_FILES.proveResult ||
      entry === WORK_FILES.imagesExpression ||
      entry === WORK_FILES.proveExpression ||
      entry === WORK_FILES.vmTmp ||
      entry === 'efivars.fd';
    if (!ours) continue;
    const full = path.join(folder, entry);
    const stats = lstatSync(full);
    // Images are regular files; links (out-links) and the VM's temp folder go too. Anything else stays.
    if (stats.isFile() || stats.isSymbolicLink() || (entry === WORK_FILES.vmTmp && stats.isDirectory())) rmSync(full, { recursive: true, force: true });
  }
  writeFileSync(
    path.join(folder, 'README.txt'),
    'Work folder of "Ephemeral Root: Run disko on a VM image". It holds the last run only: its images\n(*.raw, *.qcow2), its log (run.log), the generated Nix files and the build results (links into /nix/store).\nThe next run deletes these files first; nothing else here is touched.\n',
  );
}

/** Image files directly in a folder. */
export function imageFilesIn(folder: string): string[] {
  return readdirSync(folder)
    .filter((entry) => IMAGE_EXTENSIONS.includes(path.extname(entry)))
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
 * the format asked for; every expected name present. Returns the images and the problems found.
 */
export function checkImages(folder: string, expected: string[], format: string, qemuImg?: string): { images: ImageInfo[]; problems: string[] } {
  const problems: string[] = [];
  const images: ImageInfo[] = [];
  for (const file of imageFilesIn(folder)) {
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
