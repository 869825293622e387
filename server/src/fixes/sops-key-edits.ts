/**
 * Edits of sops-nix's ssh-key lists, shared by the fixes that point sops-nix at the persistent copy of its keys:
 * `sops.age.sshKeyPaths` (ed25519 keys imported as age keys) and `sops.gnupg.sshKeyPaths` (rsa keys imported as gpg
 * keys), both by default sshd's host keys of that type (F43).
 */
import path from 'node:path';
import type { HostModel } from '../model/host-model';
import { sopsKeys } from '../model/secrets';
import type { Workspace } from '../model/workspace';
import { setInHost } from './filesystem-edits';
import { type TextEdit, nixString } from './nix-edit';

/** The two lists sops-nix imports ssh keys from (F43), named as `KeyPath.source` starts. */
export const SOPS_SSH_OPTIONS = [
  ['sops', 'age', 'sshKeyPaths'],
  ['sops', 'gnupg', 'sshKeyPaths'],
] as const;

/**
 * Points each sops-nix ssh-key list that holds one of `keys` at the copies of its keys under `root` (`<root><key>`):
 * one edit per list. `whole` asks that every key of a list be among `keys` (so the new list drops nothing the host
 * keeps); otherwise the list becomes the copies of its keys that are among `keys`, and keys outside them are dropped
 * (the caller knows they are gone at boot anyway). Undefined when a list cannot be rewritten safely.
 */
export function pointSopsSshKeys(host: HostModel, workspace: Workspace, root: string, keys: { path: string; source: string }[], whole: boolean): { edits: TextEdit[]; options: string[] } | undefined {
  const known = sopsKeys(host);
  if (!known.known || known.value.keyFile) return undefined;
  const edits: TextEdit[] = [];
  const options: string[] = [];
  for (const option of SOPS_SSH_OPTIONS) {
    const name = option.join('.');
    const mine = keys.filter((key) => key.source.startsWith(name));
    if (mine.length === 0) continue;
    const all = known.value.sshKeys.filter((key) => key.source.startsWith(name));
    if (whole && !all.every((key) => mine.some((item) => item.path === key.path))) return undefined;
    // A list written in several places is merged by NixOS: rewriting one of them would keep the others' keys.
    const definitions = host.config.at(...option).effective().definitions.filter((definition) => !definition.synthetic);
    if (definitions.length > 1 || definitions.some((definition) => definition.conditional)) return undefined;
    const edit = setInHost(host, workspace, [...option], `[ ${mine.map((key) => nixString(path.posix.join(root, key.path))).join(' ')} ]`);
    if (!edit) return undefined;
    edits.push(edit);
    options.push(name);
  }
  return edits.length > 0 && edits.length === new Set(keys.map((key) => SOPS_SSH_OPTIONS.findIndex((option) => key.source.startsWith(option.join('.'))))).size ? { edits, options } : undefined;
}
