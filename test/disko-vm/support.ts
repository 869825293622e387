/**
 * Helpers of the tests of "Run disko on a VM image": hosts shaped like the server's answer, a temporary workspace
 * with copies of the examples, and the stand-in `nix` (test/stand-ins/nix) first on PATH.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { VmHost, VmSettings } from '../../client/src/disko-vm/types';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const STAND_INS = path.join(REPO_ROOT, 'test', 'stand-ins');
/** The stand-in `nix` by its absolute path, as the run resolves it. */
export const STAND_IN_NIX = path.join(STAND_INS, 'nix');

export function flakeHost(dir: string, name = 'seed', extra: Partial<VmHost> = {}): VmHost {
  return {
    name,
    kind: 'flake',
    flake: { dir, attribute: name },
    root: path.join(dir, 'configuration.nix'),
    diskoFiles: [path.join(dir, 'disko.nix')],
    disks: [{ name: 'main', imageName: 'main' }],
    disksOpen: false,
    zfs: true,
    rootDataset: 'rpool/nixos/empty',
    rootRolledBack: true,
    ephemeral: ['/'],
    persisted: ['/boot', '/nix', '/var/lib', '/var/log'],
    persistedOpen: false,
    ...extra,
  };
}

export function configurationHost(dir: string, extra: Partial<VmHost> = {}): VmHost {
  return { ...flakeHost(dir, 'classic'), kind: 'configuration', flake: undefined, ...extra };
}

export function settings(workFolder: string, extra: Partial<VmSettings> = {}): VmSettings {
  return { memory: 2048, imageFormat: 'raw', workFolder, nixArgs: [], ...extra };
}

/**
 * A scratch folder with copies of examples (seed, broken-flake, broken-classic) and a disko file alone; removed by
 * `cleanup`. Runs treat `root` as the workspace folder, so `work` (the work folder) lies inside it.
 */
export function scratch(prefix: string): { root: string; seed: string; tern: string; classic: string; loose: string; work: string; cleanup: () => void } {
  const root = mkdtempSync(path.join(os.tmpdir(), prefix));
  cpSync(path.join(REPO_ROOT, 'examples', 'seed'), path.join(root, 'seed'), { recursive: true });
  cpSync(path.join(REPO_ROOT, 'examples', 'broken-classic'), path.join(root, 'classic'), { recursive: true });
  cpSync(path.join(REPO_ROOT, 'examples', 'broken-flake'), path.join(root, 'tern'), { recursive: true });
  mkdirSync(path.join(root, 'loose'));
  cpSync(path.join(REPO_ROOT, 'examples', 'seed', 'disko.nix'), path.join(root, 'loose', 'disko.nix'));
  return {
    root,
    seed: path.join(root, 'seed'),
    tern: path.join(root, 'tern'),
    classic: path.join(root, 'classic'),
    loose: path.join(root, 'loose', 'disko.nix'),
    work: path.join(root, 'work'),
    cleanup: () => rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }),
  };
}

/** Environment for processes under test: the stand-in first on PATH, its log and store in `dir`. */
export function standInEnv(dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${STAND_INS}${path.delimiter}${process.env.PATH ?? ''}`,
    EPHEMERAL_ROOT_STANDIN_LOG: path.join(dir, 'stand-in.log'),
    EPHEMERAL_ROOT_STANDIN_STORE: path.join(dir, 'store'),
    ...extra,
  };
}

export interface Invocation {
  argv: string[];
  cwd: string;
  mode: string;
  ok: boolean;
  problem?: string;
  env: { TMPDIR?: string; QEMU_OPTS?: string };
}

/** What the stand-in recorded (one entry per call). */
export function invocations(dir: string): Invocation[] {
  const file = path.join(dir, 'stand-in.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Invocation);
}

/** The 1-based line of the first line of a file containing `text`. */
export function lineOf(file: string, text: string): number {
  const index = readFileSync(file, 'utf8').split('\n').findIndex((line) => line.includes(text));
  if (index < 0) throw new Error(`${text} not in ${file}`);
  return index + 1;
}
