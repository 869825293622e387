/**
 * The revisions of the flake inputs whose behaviour the "what must survive the rollback" rules depend on:
 * impermanence (PR #272 changed how persisted directories reach stage 1, F49), sops-nix (020dcff made an unreadable
 * ssh key non-fatal, F45) and agenix. They are read from the `flake.lock` beside the host's `flake.nix`, by the
 * repository name each locked node points at, so an input may be called anything in `flake.nix`.
 *
 * A host without a flake, a lock file that cannot be read, or an input fetched another way gives no version: the
 * rules then word their message for both cases or stay silent, as each rule's version paragraph says.
 */
import { parseFlakeLock } from './flake-lock';

export interface InputVersion {
  /** `locked.lastModified`, in seconds since the epoch. */
  lastModified?: number;
  rev?: string;
}

export interface InputVersions {
  impermanence?: InputVersion;
  sopsNix?: InputVersion;
  agenix?: InputVersion;
  preservation?: InputVersion;
}

/** The repository names (`locked.repo`) each input is recognised by; forks keep the name. */
const REPOSITORIES: Record<keyof InputVersions, string[]> = {
  impermanence: ['impermanence'],
  sopsNix: ['sops-nix'],
  agenix: ['agenix', 'ragenix'],
  preservation: ['preservation'],
};

/** Reads the revisions of the inputs we care about from the text of a flake.lock. */
export function inputVersionsFromLock(lockText: string): InputVersions {
  const versions: InputVersions = {};
  let lock: { nodes?: Record<string, { locked?: { lastModified?: unknown; repo?: unknown; rev?: unknown } }> };
  lock = parseFlakeLock(lockText) as typeof lock;
  if (!lock || typeof lock !== 'object') return versions;
  for (const node of Object.values(lock.nodes ?? {})) {
    const repo = typeof node?.locked?.repo === 'string' ? node.locked.repo : undefined;
    if (!repo) continue;
    for (const [key, names] of Object.entries(REPOSITORIES) as [keyof InputVersions, string[]][]) {
      // Two nodes of one repository (an input that another input locks again): the versions could differ, so the
      // version is unknown rather than whichever node came first.
      if (!names.includes(repo)) continue;
      const version: InputVersion = {
        lastModified: typeof node.locked?.lastModified === 'number' ? node.locked.lastModified : undefined,
        rev: typeof node.locked?.rev === 'string' ? node.locked.rev : undefined,
      };
      if (key in versions && versions[key]?.lastModified !== version.lastModified) versions[key] = {};
      else versions[key] = version;
    }
  }
  return versions;
}

/** Seconds since the epoch of a calendar day (UTC). */
export function dayInSeconds(day: string): number {
  return Date.parse(day.includes('T') ? day : `${day}T00:00:00Z`) / 1000;
}

/**
 * Whether an input is at least as new as a change made on `day` (a date, or the commit's exact time): true, false, or
 * undefined when its revision is not known. flake.lock's `lastModified` is the locked commit's time, so a change is
 * named by its commit time: commits made earlier on the same day do not have it yet.
 */
export function inputAtLeast(version: InputVersion | undefined, day: string): boolean | undefined {
  if (version?.lastModified === undefined) return undefined;
  return version.lastModified >= dayInSeconds(day);
}

/**
 * impermanence PR #272 (commit 2b99fef, committed 2025-09-20 14:52:57 +0200): persisted directories are no longer
 * fileSystems (F49). Three commits of the same morning (0ce550d, 768f3ab, 4e7cfb5) still make them fileSystems.
 */
export const IMPERMANENCE_SYSTEMD_MOUNTS = '2025-09-20T12:52:57Z';
/**
 * sops-nix 020dcff (committed 2024-01-10 17:59:57 +0100): an unreadable ssh key is skipped instead of aborting (F45).
 * The README commits of that afternoon (6db9bd9, 4cf4671, 5bd3f71) still abort.
 */
export const SOPS_SSH_IMPORT_MAY_FAIL = '2024-01-10T16:59:57Z';
