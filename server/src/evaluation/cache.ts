/**
 * Results of the evaluation-backed mode, kept per host by the hash of what Nix reads: the flake's `flake.lock`, the
 * other files of the flake's folder and the host's own files (all read from disk, as Nix reads them, not from the
 * editor's unsaved text), the projection expression and the `nix` that ran. Every file of the flake's folder counts,
 not only `.nix` files: a module may read any of them. A result is reused, across edits and
 * across runs of the CLI, until one of them changes; nothing else (a clock, a count of runs) expires it.
 *
 * The cache lives outside every workspace: `$EPHEMERAL_ROOT_CACHE_DIR`, else `$XDG_CACHE_HOME/nixos-ephemeral-root`,
 * else `~/.cache/nixos-ephemeral-root`, in a folder `evaluation/`, one JSON file per key, readable by the user only.
 * Password hashes never reach it (projection.ts replaces them).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IGNORED_DIRECTORIES } from '../model/workspace';
import { PROJECTION_VERSION, projectionHash } from './projection';
import type { RunOutcome } from './runner';

export type CachedOutcome = Exclude<RunOutcome, { kind: 'fault' }>;

export function cacheFolder(env: NodeJS.ProcessEnv = process.env): string {
  if (env.EPHEMERAL_ROOT_CACHE_DIR) return path.join(env.EPHEMERAL_ROOT_CACHE_DIR, 'evaluation');
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'nixos-ephemeral-root', 'evaluation');
}

/**
 * The files of a flake folder that Nix may read: all of them (Nix copies the flake's folder, and a module may read any
 * file with `builtins.readFile` or `fromTOML`), bounded, build outputs and VCS folders skipped.
 */
function flakeFiles(flakeDir: string, limit = 20_000): string[] {
  const found: string[] = [];
  const visit = (dir: string, depth: number) => {
    if (found.length >= limit || depth > 30) return;
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
      } else if (entry.isFile()) found.push(full);
    }
  };
  visit(flakeDir, 0);
  return found;
}

/** The cache key of a host: changes exactly when something Nix reads for it (or our expression, or `nix`) changes. */
export function cacheKey(input: { host: string; flakeDir: string; files: string[]; nix: string; nixPath?: string }): string {
  const hash = createHash('sha256');
  hash.update(`projection ${PROJECTION_VERSION} ${projectionHash(input.host)}\0nix ${input.nix}\0flake ${path.resolve(input.flakeDir)}\0host ${input.host}\0`);
  // A configuration outside a flake reads nixpkgs through NIX_PATH: which one is part of the key (its content is not).
  if (input.nixPath !== undefined) hash.update(`NIX_PATH ${input.nixPath}\0`);
  const files = [...new Set([...flakeFiles(input.flakeDir), ...input.files.map((file) => path.resolve(file))])].sort();
  for (const file of files) {
    let content: Buffer | string;
    try {
      content = statSync(file).size > 8 * 1024 * 1024 ? `large ${statSync(file).size} ${statSync(file).mtimeMs}` : readFileSync(file);
    } catch {
      content = 'missing';
    }
    hash.update(`${file}\0`);
    hash.update(createHash('sha256').update(content).digest('hex'));
    hash.update('\0');
  }
  return hash.digest('hex');
}

export class EvaluationCache {
  private readonly memory = new Map<string, CachedOutcome>();

  constructor(readonly folder: string = cacheFolder()) {}

  get(key: string): CachedOutcome | undefined {
    const kept = this.memory.get(key);
    if (kept) return kept;
    try {
      const outcome = JSON.parse(readFileSync(path.join(this.folder, `${key}.json`), 'utf8')) as CachedOutcome;
      if (outcome.kind !== 'ok' && outcome.kind !== 'nix-error') return undefined;
      this.memory.set(key, outcome);
      return outcome;
    } catch {
      return undefined;
    }
  }

  set(key: string, outcome: CachedOutcome): void {
    this.memory.set(key, outcome);
    try {
      mkdirSync(this.folder, { recursive: true, mode: 0o700 });
      // Written under another name and renamed: a reader never sees half a file.
      const temporary = path.join(this.folder, `${key}.${process.pid}.tmp`);
      writeFileSync(temporary, JSON.stringify(outcome), { mode: 0o600 });
      renameSync(temporary, path.join(this.folder, `${key}.json`));
    } catch {
      // A cache that cannot be written costs time, never a result.
    }
  }
}
