/**
 * The nixpkgs release a host is built from: two defaults that our rules depend on changed between releases
 * (ZFS imports in postResumeCommands since 24.11, F10; systemd stage 1 on by default since 26.05, F15).
 *
 * Sources, in order: the flake.lock node of the nixpkgs input that builds the host (`original.ref` such as
 * `nixos-24.11`, or for an unstable branch the release in development at `locked.lastModified`), the input's URL in
 * flake.nix, the `ephemeralRoot.nixpkgsRelease` setting (or `--release`), else unknown.
 */
import { parseFlakeLock } from './flake-lock';

export interface Release {
  /** `24.11`; for an unstable branch, the release in development. */
  version: string;
  /** An unstable branch between releases: features of `version` itself may or may not be in. */
  development: boolean;
  source: 'flake.lock' | 'flake.nix' | 'setting';
  /** What we read it from, for messages (`nixos-24.11 in flake.lock`). */
  evidence: string;
}

/** Release dates (branch-off is about two weeks earlier; a change "in 26.05" landed before its branch-off). */
const RELEASES: [string, string][] = [
  ['22.05', '2022-05-30'],
  ['22.11', '2022-11-30'],
  ['23.05', '2023-05-31'],
  ['23.11', '2023-11-29'],
  ['24.05', '2024-05-31'],
  ['24.11', '2024-11-30'],
  ['25.05', '2025-05-23'],
  ['25.11', '2025-11-30'],
  ['26.05', '2026-05-31'],
  ['26.11', '2026-11-30'],
  ['27.05', '2027-05-31'],
];

export function compareRelease(a: string, b: string): number {
  const [ay, am] = a.split('.').map(Number);
  const [by, bm] = b.split('.').map(Number);
  return ay !== by ? ay - by : am - bm;
}

/** True/false when the release is known to be at least `version`; undefined when it cannot be told. */
export function releaseAtLeast(release: Release | undefined, version: string): boolean | undefined {
  if (!release) return undefined;
  const order = compareRelease(release.version, version);
  if (release.development) return order > 0 ? true : order < 0 ? false : undefined;
  return order >= 0;
}

/** `nixos-24.11`, `release-24.11`, `nixpkgs-24.11-darwin`, `24.11` → `24.11`. */
export function versionFromRef(ref: string): string | undefined {
  const match = /(?:^|[-/])(\d{2}\.(?:05|11))(?:$|[-/])/.exec(ref);
  return match?.[1];
}

function isUnstableRef(ref: string | undefined): boolean {
  return ref === undefined || /unstable|master|main/.test(ref);
}

/** The release in development at a date: the first release dated after it. */
export function developmentRelease(timestampSeconds: number): string | undefined {
  const date = new Date(timestampSeconds * 1000).toISOString().slice(0, 10);
  return RELEASES.find(([, released]) => released > date)?.[0];
}

interface LockNode {
  inputs?: Record<string, string | string[]>;
  original?: { ref?: string; owner?: string; repo?: string; type?: string; url?: string; id?: string };
  locked?: { lastModified?: number; owner?: string; repo?: string };
}

/** Reads the release of one input of a flake from its flake.lock text. */
export function releaseFromLock(lockText: string, inputName: string): Release | undefined {
  let lock: { nodes?: Record<string, LockNode>; root?: string };
  lock = parseFlakeLock(lockText) as typeof lock;
  if (!lock || typeof lock !== 'object') return undefined;
  const nodes = lock.nodes ?? {};
  const root = nodes[lock.root ?? 'root'];
  let key = root?.inputs?.[inputName];
  if (Array.isArray(key)) key = key[0];
  const node = typeof key === 'string' ? nodes[key] : undefined;
  if (!node) return undefined;
  const ref = node.original?.ref;
  const isNixpkgs = (node.original?.repo ?? node.locked?.repo ?? '').toLowerCase() === 'nixpkgs' || node.original?.id === 'nixpkgs' || /nixpkgs/.test(node.original?.url ?? '');
  if (!isNixpkgs) return undefined;
  const version = ref ? versionFromRef(ref) : undefined;
  if (version && !isUnstableRef(ref)) return { version, development: false, source: 'flake.lock', evidence: `${ref} in flake.lock` };
  const lastModified = node.locked?.lastModified;
  if (typeof lastModified === 'number') {
    const development = developmentRelease(lastModified);
    if (development) {
      const date = new Date(lastModified * 1000).toISOString().slice(0, 10);
      return { version: development, development: true, source: 'flake.lock', evidence: `${ref ?? 'nixpkgs'} of ${date} in flake.lock` };
    }
  }
  return undefined;
}

/** The release named in a flake input URL such as `github:nixos/nixpkgs/nixos-24.11`. */
export function releaseFromUrl(url: string): Release | undefined {
  if (!/nixpkgs/i.test(url)) return undefined;
  const ref = url.split(/[/?&=]/).pop() ?? '';
  const version = versionFromRef(ref);
  if (!version || isUnstableRef(ref)) return undefined;
  return { version, development: false, source: 'flake.nix', evidence: `${ref} in flake.nix` };
}

export function releaseFromSetting(text: string | undefined): Release | undefined {
  if (!text) return undefined;
  const version = versionFromRef(text.trim());
  return version ? { version, development: false, source: 'setting', evidence: `nixpkgs release ${version} from the settings` } : undefined;
}

export function describeRelease(release: Release | undefined): string {
  if (!release) return 'unknown';
  return release.development ? `${release.version} (development)` : release.version;
}
