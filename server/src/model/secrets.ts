/**
 * The secrets tools and sshd as the "what must survive the rollback" rules see them: which decryption keys sops-nix
 * and agenix read, which host keys sshd keeps, and where decrypted secrets land.
 *
 * These options come from modules in flake inputs (sops-nix, agenix) and from nixpkgs (openssh), which are not read:
 * their declarations and defaults are modelled here from the facts — `services.openssh.hostKeys` and
 * `generateHostKeys` (F51), `sops.age.sshKeyPaths`/`sops.gnupg.sshKeyPaths` derived from the host keys (F43),
 * `age.identityPaths` likewise (F47), secret paths under `/run/secrets`, `/run/secrets-for-users` and `/run/agenix`.
 * Every answer is three-valued: a list we cannot read, or a default that depends on an unknown option, is unknown.
 */
import type { ConfigNode, Definition } from './config';
import type { HostModel } from './host-model';
import { type Origin, type Value, stringText } from './values';

/** A path some tool reads, with where it is written (undefined for a default the host does not write). */
export interface KeyPath {
  path: string;
  origin?: Origin;
  /** The option the path comes from, for messages: `sops.age.keyFile`, `services.openssh.hostKeys` (default), … */
  source: string;
  /** The path is a default derived from `services.openssh.hostKeys`, not written by the host. */
  derived: boolean;
}

export type Known<T> = { known: true; value: T } | { known: false; why: string };

const unknownBecause = <T>(why: string): Known<T> => ({ known: false, why });
const knownValue = <T>(value: T): Known<T> => ({ known: true, value });

/** Default `services.openssh.hostKeys` (sshd.nix, F51). */
export const DEFAULT_HOST_KEYS = [
  { path: '/etc/ssh/ssh_host_rsa_key', type: 'rsa' },
  { path: '/etc/ssh/ssh_host_ed25519_key', type: 'ed25519' },
];

export interface HostKey {
  path: string;
  type: string | undefined;
  origin?: Origin;
  derived: boolean;
}

function boolOption(host: HostModel, node: ConfigNode, fallback: boolean): boolean | undefined {
  const resolved = node.bool();
  if (resolved.state === 'known') return resolved.value;
  if (resolved.state === 'absent') return fallback;
  host.noteUnknown(resolved);
  return undefined;
}

/** A list of strings, or undefined when an item or a contribution cannot be read. */
function stringList(node: ConfigNode): { values: { text: string; origin?: Origin }[]; definitions: Definition[] } | undefined {
  const result = node.list();
  if (result.open) return undefined;
  const values: { text: string; origin?: Origin }[] = [];
  for (const item of result.items) {
    if (item.definition.conditional) return undefined;
    const value = item.thunk.force();
    const text = stringText(value);
    if (text === undefined) return undefined;
    values.push({ text, origin: item.thunk.origin ?? value.origin });
  }
  return { values, definitions: result.items.map((item) => item.definition) };
}

/** `services.openssh.enable` (default false). */
export function opensshEnabled(host: HostModel): boolean | undefined {
  return boolOption(host, host.config.at('services', 'openssh', 'enable'), false);
}

/** Whether sshd generates its host keys: `generateHostKeys` defaults to `services.openssh.enable` (F51). */
export function opensshGeneratesKeys(host: HostModel): boolean | undefined {
  const enable = opensshEnabled(host);
  const generate = host.config.at('services', 'openssh', 'generateHostKeys').bool();
  if (generate.state === 'known') return generate.value || enable;
  if (generate.state === 'unknown') return enable === true ? true : undefined;
  return enable;
}

/** `services.openssh.hostKeys`: written, or the default pair (F51). */
export function hostKeys(host: HostModel): Known<HostKey[]> {
  const node = host.config.at('services', 'openssh', 'hostKeys');
  const { definitions } = node.effective();
  if (definitions.length === 0) {
    if (node.covers.length > 0) return unknownBecause('services.openssh.hostKeys may be set by a module that cannot be read');
    return knownValue(DEFAULT_HOST_KEYS.map((key) => ({ ...key, derived: true })));
  }
  const result = node.list();
  if (result.open) return unknownBecause('services.openssh.hostKeys cannot be read');
  const keys: HostKey[] = [];
  for (const item of result.items) {
    if (item.definition.conditional) return unknownBecause('services.openssh.hostKeys is set under a condition');
    const value = item.thunk.force();
    if (value.kind !== 'attrs' || value.unknownKeys.length > 0 || value.open) return unknownBecause('a host key entry cannot be read');
    const pathValue = value.entries.get('path');
    const forced = pathValue?.thunk.force();
    const text = forced ? stringText(forced) : undefined;
    if (text === undefined) return unknownBecause('a host key path cannot be read');
    const typeValue = value.entries.get('type')?.thunk.force();
    const type = typeValue ? stringText(typeValue) : undefined;
    if (typeValue && type === undefined) return unknownBecause('a host key type cannot be read');
    keys.push({ path: text, type, origin: pathValue?.thunk.origin ?? forced?.origin, derived: false });
  }
  return knownValue(keys);
}

/** Whether a module whose name mentions the tool is imported (flake input modules are library modules). */
function imported(host: HostModel, pattern: RegExp): boolean {
  return host.input.library.some((module) => pattern.test(module.name));
}

export function sopsImported(host: HostModel): boolean {
  return imported(host, /sops/i);
}

export function agenixImported(host: HostModel): boolean {
  return imported(host, /agenix/i);
}

export interface SecretEntry {
  name: string;
  node: ConfigNode;
  origin?: Origin;
  conditional: boolean;
}

/** The secrets of `sops.secrets` or `age.secrets`, and whether more might exist. */
export function secretsOf(node: ConfigNode): { secrets: SecretEntry[]; open: boolean } {
  const secrets: SecretEntry[] = [];
  for (const name of node.childNames()) {
    const child = node.child(name);
    if (child.dropped) continue;
    const definitions = child.effective().definitions;
    secrets.push({
      name,
      node: child,
      origin: definitions.find((definition) => definition.keyOrigin)?.keyOrigin,
      conditional: definitions.length > 0 && definitions.every((definition) => definition.conditional),
    });
  }
  return { secrets, open: node.unknownNames().length > 0 };
}

export function sopsSecrets(host: HostModel): { secrets: SecretEntry[]; open: boolean } {
  return secretsOf(host.config.at('sops', 'secrets'));
}

export function ageSecrets(host: HostModel): { secrets: SecretEntry[]; open: boolean } {
  return secretsOf(host.config.at('age', 'secrets'));
}

/** `sops.secrets.<n>.neededForUsers` (default false). */
export function neededForUsers(host: HostModel, secret: SecretEntry): boolean | undefined {
  return boolOption(host, secret.node.child('neededForUsers'), false);
}

/** Where sops-nix writes a secret (F43), unless the host sets `path` itself. */
export function sopsSecretPath(host: HostModel, secret: SecretEntry): string | undefined {
  const written = secret.node.child('path').string();
  if (written.state === 'known') return written.value;
  if (written.state === 'unknown') return undefined;
  const forUsers = neededForUsers(host, secret);
  if (forUsers === undefined) return undefined;
  return forUsers ? `/run/secrets-for-users/${secret.name}` : `/run/secrets/${secret.name}`;
}

/** Where agenix writes a secret (F47), unless the host sets `path` itself. */
export function ageSecretPath(secret: SecretEntry): string | undefined {
  const written = secret.node.child('path').string();
  if (written.state === 'known') return written.value;
  if (written.state === 'unknown') return undefined;
  return `/run/agenix/${secret.name}`;
}

/**
 * The keys sops-nix reads (F43): `sops.age.keyFile`, and the ssh keys of `sops.age.sshKeyPaths` (ed25519) and
 * `sops.gnupg.sshKeyPaths` (rsa), which default to the matching host keys when sshd is enabled — except keys that
 * sops itself deploys under /run/secrets.
 */
export interface SopsKeys {
  keyFile: KeyPath | null;
  generateKey: boolean;
  sshKeys: KeyPath[];
  /** `sops.gnupg.home` is set: a keyring directory we do not reason about. */
  gnupgHome: boolean;
}

function derivedSshKeys(host: HostModel, type: string, option: string): Known<KeyPath[]> {
  const enable = opensshEnabled(host);
  if (enable === undefined) return unknownBecause('services.openssh.enable is unknown, and the default of ' + option + ' follows it');
  if (!enable) return knownValue([]);
  const keys = hostKeys(host);
  if (!keys.known) return keys;
  return knownValue(
    keys.value
      .filter((key) => key.type === type && !key.path.startsWith('/run/secrets'))
      .map((key) => ({ path: key.path, origin: key.origin, source: `${option} (the default: services.openssh.hostKeys of type ${type})`, derived: true })),
  );
}

function explicitOrDerived(node: ConfigNode, option: string, derive: () => Known<KeyPath[]>): Known<KeyPath[]> {
  if (node.effective().definitions.length === 0) {
    if (node.covers.length > 0) return unknownBecause(`${option} may be set by a module that cannot be read`);
    return derive();
  }
  const list = stringList(node);
  if (!list) return unknownBecause(`${option} cannot be read`);
  return knownValue(list.values.map((value) => ({ path: value.text, origin: value.origin, source: option, derived: false })));
}

/**
 * sops-nix's renamed options (`mkRenamedOptionModule` in modules/sops/default.nix): `sops.sshKeyPaths` is now
 * `sops.gnupg.sshKeyPaths` and `sops.gnupgHome` is `sops.gnupg.home`. A host that still writes the old names sets the
 * new options through them, which this model does not follow: the keys are then unknown rather than the defaults.
 */
const RENAMED_SOPS_OPTIONS = [
  ['sops', 'sshKeyPaths'],
  ['sops', 'gnupgHome'],
];

export function sopsKeys(host: HostModel): Known<SopsKeys> {
  for (const option of RENAMED_SOPS_OPTIONS) {
    const node = host.config.at(...option);
    if (node.effective().definitions.length > 0 || node.covers.length > 0) return unknownBecause(`${option.join('.')} (renamed by sops-nix) is set`);
  }
  const keyFileNode = host.config.at('sops', 'age', 'keyFile');
  const keyFile = keyFileNode.scalar();
  let file: KeyPath | null = null;
  if (keyFile.state === 'unknown') return unknownBecause(keyFile.what);
  if (keyFile.state === 'known' && keyFile.value.kind !== 'null') {
    const text = stringText(keyFile.value);
    if (text === undefined) return unknownBecause('sops.age.keyFile cannot be read');
    file = { path: text, origin: keyFile.definitions[0]?.origin, source: 'sops.age.keyFile', derived: false };
  }
  const generate = boolOption(host, host.config.at('sops', 'age', 'generateKey'), false);
  if (generate === undefined) return unknownBecause('sops.age.generateKey is unknown');
  const gnupgHome = host.config.at('sops', 'gnupg', 'home').scalar();
  if (gnupgHome.state === 'unknown') return unknownBecause(gnupgHome.what);
  const age = explicitOrDerived(host.config.at('sops', 'age', 'sshKeyPaths'), 'sops.age.sshKeyPaths', () => derivedSshKeys(host, 'ed25519', 'sops.age.sshKeyPaths'));
  if (!age.known) return age;
  const gnupg = explicitOrDerived(host.config.at('sops', 'gnupg', 'sshKeyPaths'), 'sops.gnupg.sshKeyPaths', () => derivedSshKeys(host, 'rsa', 'sops.gnupg.sshKeyPaths'));
  if (!gnupg.known) return gnupg;
  return knownValue({
    keyFile: file,
    generateKey: generate,
    sshKeys: [...age.value, ...gnupg.value],
    gnupgHome: gnupgHome.state === 'known' && gnupgHome.value.kind !== 'null',
  });
}

/**
 * `age.identityPaths`: written, or the rsa and ed25519 host keys when sshd is enabled (F47). agenix renamed
 * `age.sshKeyPaths` to it (`mkRenamedOptionModule` in modules/age.nix); a host writing the old name sets the list
 * through it, which this model does not follow, so the identities are then unknown rather than the defaults.
 */
export function agenixIdentities(host: HostModel): Known<KeyPath[]> {
  const renamed = host.config.at('age', 'sshKeyPaths');
  if (renamed.effective().definitions.length > 0 || renamed.covers.length > 0) return unknownBecause('age.sshKeyPaths (renamed by agenix) is set');
  return explicitOrDerived(host.config.at('age', 'identityPaths'), 'age.identityPaths', () => {
    const enable = opensshEnabled(host);
    if (enable === undefined) return unknownBecause('services.openssh.enable is unknown, and the default of age.identityPaths follows it');
    if (!enable) return knownValue([]);
    const keys = hostKeys(host);
    if (!keys.known) return keys;
    return knownValue(
      keys.value
        .filter((key) => key.type === 'rsa' || key.type === 'ed25519')
        .map((key) => ({ path: key.path, origin: key.origin, source: 'age.identityPaths (the default: the rsa and ed25519 services.openssh.hostKeys)', derived: true })),
    );
  });
}

/**
 * The secret a value names, when it is `config.sops.secrets.<n>.path` or `config.age.secrets.<n>.path` (a symbol
 * the evaluator keeps), else undefined.
 */
export function secretReference(value: Value): { tool: 'sops' | 'agenix'; name: string } | undefined {
  if (value.kind !== 'symbol') return undefined;
  const [root, tool, secrets, name, field] = value.path;
  if (root !== 'config' || secrets !== 'secrets' || field !== 'path' || value.path.length !== 5) return undefined;
  if (tool === 'sops') return { tool: 'sops', name };
  if (tool === 'age') return { tool: 'agenix', name };
  return undefined;
}

/**
 * The secret an option's value names (`hashedPasswordFile = config.sops.secrets.<n>.path;`): its one certain
 * definition is that name, kept as a symbol by the evaluator (config-reference.ts keeps a member nothing in reach
 * defines by name, so `path` of a secret the host declares is a symbol too).
 */
export function secretReferenceAt(node: ConfigNode): { tool: 'sops' | 'agenix'; name: string; origin?: Origin } | undefined {
  const { definitions } = node.effective();
  if (definitions.length === 1 && !definitions[0].conditional && node.covers.length === 0) {
    const reference = secretReference(definitions[0].value);
    return reference ? { ...reference, origin: definitions[0].origin } : undefined;
  }
  return undefined;
}
