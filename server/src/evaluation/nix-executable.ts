/**
 * Which `nix` runs, decided before anything runs, and the PATH its processes get: for the VM command
 * (client/src/disko-vm) and for the evaluation-backed mode (evaluation/runner.ts) alike.
 *
 * A workspace must not be able to put its own `nix` in front of the real one. Spawning a bare `nix` lets the
 * operating system search PATH, and an empty or relative PATH entry (`::`, `.`) is searched relative to the working
 * folder, which for a build is the flake's folder in the workspace. So `nix` is resolved here, once, to an absolute
 * path: from the machine-scoped setting `ephemeralRoot.vm.nixExecutable` when it is set, else by walking PATH. Empty
 * and relative entries are skipped, and so is any entry or executable that lies inside a workspace folder, by its
 * path as written and by its real path (a link into the workspace counts as inside). The processes then get a PATH
 * with the same entries removed, so what Nix and the image script start is not looked up in the workspace either.
 */
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import path from 'node:path';

export interface NixLookup {
  /** The PATH to walk (the extension host's). */
  pathVariable: string;
  /** The workspace folders (absolute). */
  workspaceFolders: string[];
  /** `ephemeralRoot.vm.nixExecutable`: an absolute path, or empty to walk PATH. */
  configured?: string;
}

export interface NixResolution {
  /** The absolute path of the `nix` to run. */
  nix?: string;
  /** Why none can be used (a sentence for the user). */
  error?: string;
  /** Candidates passed over, each with the reason (for the output channel). */
  skipped: string[];
}

function realOrSelf(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

function isInside(file: string, folder: string): boolean {
  const relative = path.relative(folder, file);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** The workspace folder a path lies in, by its path as written or by its real path; undefined when none. */
export function workspaceFolderHolding(file: string, workspaceFolders: string[]): string | undefined {
  const forms = new Set([path.resolve(file), realOrSelf(file)]);
  for (const folder of workspaceFolders) {
    const folderForms = new Set([path.resolve(folder), realOrSelf(folder)]);
    for (const form of forms) for (const folderForm of folderForms) if (isInside(form, folderForm)) return folder;
  }
  return undefined;
}

/** Why a PATH entry is never searched, or undefined when it may be. */
function pathEntryProblem(entry: string, workspaceFolders: string[]): string | undefined {
  if (entry === '') return 'an empty PATH entry (it means the working folder)';
  if (!path.isAbsolute(entry)) return `the relative PATH entry ${JSON.stringify(entry)} (it is relative to the working folder)`;
  const folder = workspaceFolderHolding(entry, workspaceFolders);
  if (folder) return `the PATH entry ${entry}, inside the workspace folder ${folder}`;
  return undefined;
}

/** Why a file cannot be the `nix` to run, or undefined when it can. */
function executableProblem(file: string, workspaceFolders: string[]): string | undefined {
  const folder = workspaceFolderHolding(file, workspaceFolders);
  if (folder) return `${file} lies inside the workspace folder ${folder}`;
  try {
    if (!statSync(file).isFile()) return `${file} is not a file`;
    accessSync(file, constants.X_OK);
  } catch {
    return `${file} is not an executable file`;
  }
  return undefined;
}

/** Finds the `nix` to run; runs nothing. */
export function resolveNixExecutable(lookup: NixLookup): NixResolution {
  const configured = (lookup.configured ?? '').trim();
  if (configured) {
    if (!path.isAbsolute(configured)) return { error: `The setting ephemeralRoot.vm.nixExecutable must be an absolute path, not ${JSON.stringify(configured)}.`, skipped: [] };
    const problem = executableProblem(configured, lookup.workspaceFolders);
    if (problem) return { error: `The setting ephemeralRoot.vm.nixExecutable cannot be used: ${problem}.`, skipped: [] };
    return { nix: configured, skipped: [] };
  }
  const skipped: string[] = [];
  for (const entry of lookup.pathVariable.split(path.delimiter)) {
    const entryProblem = pathEntryProblem(entry, lookup.workspaceFolders);
    if (entryProblem) {
      skipped.push(`skipped ${entryProblem}`);
      continue;
    }
    const candidate = path.join(entry, 'nix');
    try {
      statSync(candidate);
    } catch {
      continue;
    }
    const problem = executableProblem(candidate, lookup.workspaceFolders);
    if (problem) {
      skipped.push(`skipped ${problem}`);
      continue;
    }
    return { nix: candidate, skipped };
  }
  const passedOver = skipped.length > 0 ? ` (${skipped.join('; ')})` : '';
  return {
    error: `Nix is not installed or not on PATH: no \`nix\` executable outside the workspace${passedOver}. Install Nix (https://nixos.org/download) and restart VS Code so that it sees the new PATH, or set ephemeralRoot.vm.nixExecutable in your user settings.`,
    skipped,
  };
}

/** PATH for the processes the command starts: without empty, relative and workspace entries. */
export function safePathVariable(pathVariable: string, workspaceFolders: string[]): string {
  return pathVariable
    .split(path.delimiter)
    .filter((entry) => pathEntryProblem(entry, workspaceFolders) === undefined)
    .join(path.delimiter);
}
