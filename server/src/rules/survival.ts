/**
 * Reasoning shared by the "what must survive the rollback" rules (RULES.md §E): the decryption keys of sops-nix and
 * agenix with what keeps each one, and the one persistence root a quick fix may write into.
 */
import type { HostModel } from '../model/host-model';
import { SOPS_SSH_IMPORT_MAY_FAIL, inputAtLeast } from '../model/input-versions';
import { type PathCover, type PersistenceRoot, isRuntimePath, separateMountHolding } from '../model/persistence';
import { type KeyPath, type SecretEntry, agenixIdentities, agenixImported, ageSecrets, sopsImported, sopsKeys, sopsSecrets } from '../model/secrets';

export interface CoveredKey extends KeyPath {
  cover: PathCover;
}

export interface KeySources {
  tool: 'sops' | 'agenix';
  /** `sops.age.keyFile` (sops-nix only). */
  keyFile?: CoveredKey;
  generateKey: boolean;
  /** The ssh keys (sops-nix) or identities (agenix) the tool reads. */
  keys: CoveredKey[];
  /** Some secret the tool installs, for a place to point at when every key is a default. */
  secrets: SecretEntry[];
}

function certainSecrets(list: { secrets: SecretEntry[]; open: boolean }): SecretEntry[] | undefined {
  const certain = list.secrets.filter((secret) => !secret.conditional);
  return certain.length > 0 ? certain : undefined;
}

function covered(host: HostModel, keys: KeyPath[]): CoveredKey[] | undefined {
  const result: CoveredKey[] = [];
  for (const key of keys) {
    // Keys a secrets tool or the store provide are never on the root (§E0); nothing to say about the rest either.
    if (isRuntimePath(key.path) || !key.path.startsWith('/')) return undefined;
    const cover = host.coverOf(key.path);
    if (!cover) return undefined;
    result.push({ ...key, cover });
  }
  return result;
}

/**
 * The keys each secrets tool of a host reads, with their covers — only for tools that are imported, have at least
 * one certain secret, and whose every key path and cover is known.
 */
export function keySources(host: HostModel): KeySources[] {
  const sources: KeySources[] = [];
  if (sopsImported(host)) {
    const secrets = certainSecrets(sopsSecrets(host));
    const keys = secrets ? sopsKeys(host) : undefined;
    if (secrets && keys?.known && !keys.value.gnupgHome) {
      const keyFile = keys.value.keyFile ? covered(host, [keys.value.keyFile]) : [];
      const ssh = covered(host, keys.value.sshKeys);
      if (keyFile && ssh) sources.push({ tool: 'sops', keyFile: keyFile[0], generateKey: keys.value.generateKey, keys: ssh, secrets });
    }
  }
  if (agenixImported(host)) {
    const secrets = certainSecrets(ageSecrets(host));
    const identities = secrets ? agenixIdentities(host) : undefined;
    if (secrets && identities?.known) {
      const keys = covered(host, identities.value);
      if (keys) sources.push({ tool: 'agenix', generateKey: false, keys, secrets });
    }
  }
  return sources;
}

export interface LostKeys {
  source: KeySources;
  /** The uncovered keys the finding is about. */
  lost: CoveredKey[];
  /** sops-nix older than 020dcff: one unreadable ssh key aborts (F45); undefined when the revision is unknown. */
  oldSops?: boolean;
}

/** Keys whose loss `secret-key-not-persisted` reports (RULES.md: the key file alone, or every ssh key/identity). */
export function lostKeys(host: HostModel): LostKeys[] {
  if (!host.ephemeralRoot()) return [];
  const result: LostKeys[] = [];
  for (const source of keySources(host)) {
    if (source.keyFile) {
      if (source.keyFile.cover.kind === 'none') result.push({ source, lost: [source.keyFile] });
      continue;
    }
    if (source.keys.length === 0) continue;
    const lost = source.keys.filter((key) => key.cover.kind === 'none');
    if (lost.length === 0) continue;
    if (lost.length === source.keys.length) {
      result.push({ source, lost });
      continue;
    }
    if (source.tool === 'sops') {
      // Before 020dcff one unreadable ssh key already stopped sops-install-secrets (F45, sops-nix#167).
      const newer = inputAtLeast(host.inputVersions().sopsNix, SOPS_SSH_IMPORT_MAY_FAIL);
      if (newer === false) result.push({ source, lost, oldSops: true });
    }
  }
  return result;
}

/**
 * The one persistence root a quick fix may add entries to: a single root that is certain, not computed, and kept
 * on a separate mount that stage 1 mounts (else the new entry would be lost or late as well).
 */
export function singlePersistenceRoot(host: HostModel, module?: PersistenceRoot['module']): PersistenceRoot | undefined {
  const { roots, open } = host.persistenceDetails();
  if (open) return undefined;
  const candidates = roots.filter((root) => !module || root.module === module);
  if (roots.length !== 1 || candidates.length !== 1 || candidates[0].conditional || !candidates[0].origin) return undefined;
  const root = candidates[0];
  const mount = separateMountHolding(host, root.path);
  if (!mount || host.neededForBoot(mount) !== true) return undefined;
  return root;
}
