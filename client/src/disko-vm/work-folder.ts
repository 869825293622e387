/**
 * The work folder: where it may be, how the command knows it is its own, and what it may delete there.
 *
 * `ephemeralRoot.vm.workFolder` is a setting a workspace can set, so it could name any folder (`$HOME`); and each
 * run clears the previous run's images, which are gigabytes. The rules, so that a run never deletes a file it did
 * not make:
 * - The folder must lie inside a workspace folder or in the extension's own storage (by its real path, so a link
 *   out of the workspace does not count), and not be that folder itself.
 * - The command creates the folder itself and writes a record into it (`ephemeral-root-work-folder.json`): a random
 *   token, and the names of the entries its runs created. The token is also kept outside the workspace, in the
 *   extension's global state (`WorkFolderRegistry`): a record that a workspace brought along, or wrote later, does
 *   not match it, and such a folder is refused like one without a record.
 * - An existing folder without our record is refused with a message and never emptied; only an empty one is taken.
 * - A run deletes only entries named in the record (plain names directly in the folder, each still of the kind
 *   recorded: a file, a link, a folder), and the confirmation lists them first. A file the user put there, whatever
 *   its name, is not in the record and stays. A name the run is about to create that is taken by such a file makes
 *   the run refuse, so an image is never written over it.
 * - After a run, the entries that appeared in the folder while it ran (made by the processes it started) are
 *   added to the record, so that the next run removes them too.
 */
import { randomBytes } from 'node:crypto';
import { type Stats, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { workspaceFolderHolding } from './nix-executable';
import { IMAGE_EXTENSIONS, SafetyError, resolveThroughParents } from './safety';

/** The record: marks the folder as the command's, and lists what its runs created. */
export const WORK_FOLDER_RECORD = 'ephemeral-root-work-folder.json';
const README = 'README.txt';
const GITIGNORE = '.gitignore';
/** Files the command keeps in the folder for good; never listed in the record, never deleted by a run. */
export const PERMANENT_ENTRIES: readonly string[] = [WORK_FOLDER_RECORD, README, GITIGNORE];

export type EntryKind = 'file' | 'link' | 'folder';

export interface CreatedEntry {
  name: string;
  kind: EntryKind;
}

export interface WorkFolderRecord {
  token: string;
  created: CreatedEntry[];
}

/** Where the tokens of the folders the extension created are kept, outside any workspace (real path → token). */
export interface WorkFolderRegistry {
  tokenOf(folder: string): string | undefined;
  remember(folder: string, token: string): void | PromiseLike<void>;
}

/** A registry in memory (tests, and the CLI, which keeps nothing between runs). */
export function memoryRegistry(): WorkFolderRegistry {
  const tokens = new Map<string, string>();
  return { tokenOf: (folder) => tokens.get(folder), remember: (folder, token) => void tokens.set(folder, token) };
}

/** What a look at the folder found, before the confirmation. */
export interface WorkFolderState {
  /** Real path. */
  folder: string;
  /** The folder does not exist yet: the run creates it. */
  isNew: boolean;
  /** The record, when the folder is ours. */
  record?: WorkFolderRecord;
  /** Entries of previous runs that the next run deletes (shown in the confirmation). */
  toRemove: CreatedEntry[];
}

function kindOf(stats: Stats): EntryKind | undefined {
  if (stats.isSymbolicLink()) return 'link';
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'folder';
  return undefined;
}

function lstatOrUndefined(file: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch {
    return undefined;
  }
}

/** A name that denotes an entry directly in the folder, and not one of the permanent files. */
function isPlainName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0') && !PERMANENT_ENTRIES.includes(name);
}

/**
 * Refuses a folder outside the workspace folders and the extension's storage (`allowedRoots`); returns its real
 * path (through the nearest existing parent when it does not exist yet).
 */
export function checkWorkFolderPlace(folder: string, allowedRoots: string[]): string {
  const real = resolveThroughParents(folder);
  const roots = allowedRoots.filter((root) => root.length > 0);
  const holder = workspaceFolderHolding(real, roots);
  if (!holder) {
    throw new SafetyError(
      `Refused: the work folder ${folder} is outside the workspace folder(s) and the extension's storage. A run deletes the files of the previous run there, so it must be a folder of its own inside the workspace (e.g. "\${workspaceFolder}/.vm-work") or empty (the extension's storage). Set ephemeralRoot.vm.workFolder accordingly.`,
    );
  }
  if (real === resolveThroughParents(holder)) throw new SafetyError(`Refused: the work folder cannot be ${holder} itself; name a folder inside it (e.g. "\${workspaceFolder}/.vm-work").`);
  return real;
}

function notOurs(folder: string, why: string): SafetyError {
  return new SafetyError(
    `Refused: the work folder ${folder} ${why}, so it is not one this extension created, and nothing in it is deleted or written. Choose another folder (ephemeralRoot.vm.workFolder) that does not exist yet, or delete this one yourself if it is yours to delete.`,
  );
}

/** Reads the record of a folder that has one; refuses one that is not ours (no record, a foreign token, a bad list). */
function readRecord(folder: string, registry: WorkFolderRegistry): WorkFolderRecord | undefined {
  const file = path.join(folder, WORK_FOLDER_RECORD);
  const stats = lstatOrUndefined(file);
  if (!stats) return undefined;
  if (!stats.isFile()) throw notOurs(folder, `has ${WORK_FOLDER_RECORD}, but not as a file`);
  let parsed: { token?: unknown; created?: unknown };
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as { token?: unknown; created?: unknown };
  } catch {
    throw notOurs(folder, `has a ${WORK_FOLDER_RECORD} that is not valid JSON`);
  }
  const known = registry.tokenOf(folder);
  if (typeof parsed.token !== 'string' || known === undefined || parsed.token !== known) {
    throw notOurs(folder, `has a ${WORK_FOLDER_RECORD} that this extension did not write on this machine`);
  }
  const created = Array.isArray(parsed.created) ? parsed.created : [];
  const entries: CreatedEntry[] = [];
  for (const item of created as { name?: unknown; kind?: unknown }[]) {
    if (!isPlainName(item?.name) || !['file', 'link', 'folder'].includes(item.kind as string)) throw notOurs(folder, `has a ${WORK_FOLDER_RECORD} with an entry that is not a plain name in it (${JSON.stringify(item)})`);
    entries.push({ name: item.name, kind: item.kind as EntryKind });
  }
  return { token: parsed.token, created: entries };
}

/** Recorded entries that exist now, each still of the kind recorded. */
function removable(folder: string, record: WorkFolderRecord): CreatedEntry[] {
  return record.created.filter((entry) => {
    const stats = lstatOrUndefined(path.join(folder, entry.name));
    return stats !== undefined && kindOf(stats) === entry.kind;
  });
}

/**
 * Looks at the folder (reads only). `planned` are the entries the run will create; `unknownImages` says that the
 * run creates images whose names are not known ahead (a disko file alone), so no image file of the user may be there.
 */
export function inspectWorkFolder(folder: string, registry: WorkFolderRegistry, planned: CreatedEntry[], unknownImages = false): WorkFolderState {
  const stats = lstatOrUndefined(folder);
  if (!stats) return { folder, isNew: true, toRemove: [] };
  if (!stats.isDirectory()) throw new SafetyError(`Refused: the work folder ${folder} exists and is not a folder.`);
  const record = readRecord(folder, registry);
  const names = readdirSync(folder);
  if (!record && names.length > 0) throw notOurs(folder, `already exists, is not empty and has no ${WORK_FOLDER_RECORD}`);
  const toRemove = record ? removable(folder, record) : [];
  const removed = new Set(toRemove.map((entry) => entry.name));
  const kept = names.filter((name) => !removed.has(name) && !PERMANENT_ENTRIES.includes(name));
  const taken = planned.filter((entry) => kept.includes(entry.name)).map((entry) => entry.name);
  if (unknownImages) taken.push(...kept.filter((name) => IMAGE_EXTENSIONS.includes(path.extname(name)) && !taken.includes(name)));
  if (taken.length > 0) {
    throw new SafetyError(
      `Refused: the work folder ${folder} holds ${taken.join(', ')}, which this extension did not create, and the run would write ${taken.length === 1 ? 'that name' : 'those names'}. Move ${taken.length === 1 ? 'it' : 'them'} away and run the command again.`,
    );
  }
  return { folder, isNew: false, record, toRemove };
}

function writeRecord(folder: string, record: WorkFolderRecord): void {
  const text = `${JSON.stringify(
    {
      about: 'Work folder of "Ephemeral Root: Run disko on a VM image". The next run deletes the entries listed under "created" (and nothing else); the token ties this folder to the extension that created it.',
      token: record.token,
      created: record.created,
    },
    undefined,
    2,
  )}\n`;
  const temporary = path.join(folder, `${WORK_FOLDER_RECORD}.tmp`);
  writeFileSync(temporary, text);
  // The rename replaces the record in one step: a run that is killed halfway leaves the old or the new list.
  renameSync(temporary, path.join(folder, WORK_FOLDER_RECORD));
}

/**
 * After the confirmation: creates the folder (or takes the empty one, or checks our record again), deletes the
 * entries the confirmation listed that are still recorded and of their kind, and records the `planned` entries.
 * Returns the record now in the folder.
 */
export async function claimWorkFolder(state: WorkFolderState, registry: WorkFolderRegistry, planned: CreatedEntry[]): Promise<WorkFolderRecord> {
  const { folder } = state;
  let record: WorkFolderRecord;
  if (state.isNew || !state.record) {
    if (state.isNew) {
      // The last step without `recursive`: a folder that appeared while the dialog was open is not taken over.
      mkdirSync(path.dirname(folder), { recursive: true });
      mkdirSync(folder);
    }
    else if (readdirSync(folder).length > 0) throw notOurs(folder, 'is no longer empty and has no record');
    record = { token: randomBytes(16).toString('hex'), created: [] };
    await registry.remember(folder, record.token);
    writeFileSync(path.join(folder, GITIGNORE), '# Work folder of "Ephemeral Root: Run disko on a VM image": nothing here belongs in git.\n*\n');
    writeFileSync(
      path.join(folder, README),
      `Work folder of "Ephemeral Root: Run disko on a VM image". It holds the last run: its images (*.raw, *.qcow2),\nits log (run.log), the generated Nix files and the build results (links into /nix/store).\nThe next run deletes exactly the entries listed in ${WORK_FOLDER_RECORD}, which this extension created;\nanything else you put here stays.\n`,
    );
  } else {
    // The folder may have changed while the dialog was open: read the record again, delete only what was shown.
    const current = readRecord(folder, registry);
    if (!current) throw notOurs(folder, `lost its ${WORK_FOLDER_RECORD}`);
    const shown = new Set(state.toRemove.map((entry) => `${entry.kind}:${entry.name}`));
    for (const entry of removable(folder, current)) {
      if (shown.has(`${entry.kind}:${entry.name}`)) rmSync(path.join(folder, entry.name), { recursive: entry.kind === 'folder', force: true });
    }
    record = { token: current.token, created: [] };
  }
  // What is still there of an older run (not shown, so not deleted) is no longer ours to delete: dropped from the record.
  record.created = planned.filter((entry) => isPlainName(entry.name));
  writeRecord(folder, record);
  return record;
}

/** The entries of the folder now (for `recordNewEntries`). */
export function entriesOf(folder: string): Set<string> {
  return new Set(readdirSync(folder));
}

/** Adds to the record what appeared in the folder since `before` (made by the run's processes). */
export function recordNewEntries(folder: string, record: WorkFolderRecord, before: ReadonlySet<string>): void {
  const known = new Set(record.created.map((entry) => entry.name));
  for (const name of readdirSync(folder)) {
    if (before.has(name) || known.has(name) || !isPlainName(name) || name === `${WORK_FOLDER_RECORD}.tmp`) continue;
    const stats = lstatOrUndefined(path.join(folder, name));
    const kind = stats && kindOf(stats);
    if (kind) record.created.push({ name, kind });
  }
  writeRecord(folder, record);
}

/** A line for the confirmation: what the run deletes in the folder, every entry named. */
export function describeRemovals(state: WorkFolderState): string {
  if (state.isNew) return `The work folder ${state.folder} does not exist yet: the command creates it (with ${WORK_FOLDER_RECORD}, which marks it as its own).`;
  if (state.toRemove.length === 0) return `Work folder ${state.folder}: nothing in it is deleted.`;
  const names = state.toRemove.map((entry) => (entry.kind === 'folder' ? `${entry.name}/` : entry.name));
  return `First it deletes what the previous run left in the work folder ${state.folder}: ${names.join(', ')}. Nothing else there is touched.`;
}
