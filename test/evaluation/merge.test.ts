/**
 * The merge of Nix's projection into a host's static configuration (server/src/evaluation/merge.ts), on hosts built by
 * the real static reading: unknowns are filled, known values stay (with their places) and a difference is logged, an
 * option Nix does not have is absent.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { type MergeContext, mergeEvaluated } from '../../server/src/evaluation/merge';
import type { ProjectedPath } from '../../server/src/evaluation/runner';
import { analyzeFolder } from '../support/engine';

async function hostOf(files: Record<string, string>) {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'er-merge-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(folder, name), text);
  const { result } = await analyzeFolder(folder);
  rmSync(folder, { recursive: true, force: true });
  const host = result.hosts.find((item) => item.kind === 'nixos');
  assert.ok(host, 'a NixOS host');
  return host;
}

const FLAKE = `{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";
  inputs.site.url = "github:example/site";
  outputs = { self, nixpkgs, site }: {
    nixosConfigurations.h = nixpkgs.lib.nixosSystem { modules = [ ./configuration.nix site.nixosModules.default ]; };
  };
}`;

function context(root: string): MergeContext {
  return { host: 'h', fallback: { file: root, start: 0, end: 0 }, disagreements: [], anchors: new Map(), filled: new Set() };
}

const value = (json: unknown): ProjectedPath => ({ ok: true, value: json });

describe('merge of evaluated values', () => {
  it('fills an unknown value, at the place of the expression that made it unknown', async () => {
    const host = await hostOf({
      'flake.nix': FLAKE,
      'configuration.nix': `{ lib, ... }: { networking.hostId = builtins.fromTOML "x = 1"; }`,
    });
    assert.equal(host.config.at('networking', 'hostId').string().state, 'unknown');
    const merging = context(host.root);
    const merged = mergeEvaluated(host.config, { 'networking.hostId': value('0badc0de') }, merging);
    const resolved = merged.at('networking', 'hostId').string();
    assert.equal(resolved.state, 'known');
    assert.equal(resolved.state === 'known' && resolved.value, '0badc0de');
    assert.equal(resolved.state === 'known' && path.basename(resolved.definitions[0].origin!.file), 'configuration.nix');
    assert.deepEqual([...merging.filled], ['networking.hostId']);
    assert.deepEqual(merging.disagreements, []);
  });

  it('keeps a value the static reading knows, and logs a difference with both values', async () => {
    const host = await hostOf({ 'flake.nix': FLAKE, 'configuration.nix': `{ networking.hostId = "8425e349"; }` });
    const merging = context(host.root);
    const merged = mergeEvaluated(host.config, { 'networking.hostId': value('deadbeef') }, merging);
    const resolved = merged.at('networking', 'hostId').string();
    assert.equal(resolved.state === 'known' && resolved.value, '8425e349', 'the static value is kept');
    assert.deepEqual(
      merging.disagreements.map((item) => [item.path, item.static, item.evaluated]),
      [['networking.hostId', '"8425e349"', '"deadbeef"']],
    );
    assert.equal(merging.filled.size, 0);
  });

  it('the same value from both: nothing logged, nothing filled', async () => {
    const host = await hostOf({ 'flake.nix': FLAKE, 'configuration.nix': `{ networking.hostId = "8425e349"; }` });
    const merging = context(host.root);
    mergeEvaluated(host.config, { 'networking.hostId': value('8425e349') }, merging).at('networking', 'hostId').string();
    assert.deepEqual(merging.disagreements, []);
    assert.equal(merging.filled.size, 0);
  });

  it('an attribute set: statically known entries keep their nodes, names come from Nix', async () => {
    const host = await hostOf({
      'flake.nix': FLAKE,
      'configuration.nix': `{ lib, ... }: {
        fileSystems."/" = { device = "rpool/root"; fsType = "zfs"; };
        fileSystems."/persist" = { device = "rpool/persist"; fsType = "zfs"; neededForBoot = builtins.fromTOML "x = true"; };
      }`,
    });
    // The flake input's module might add mounts: the names are open statically.
    assert.ok(host.config.at('fileSystems').open);
    const nix = {
      '/': { device: 'rpool/root', fsType: 'zfs', options: ['defaults'], neededForBoot: false, mountPoint: '/' },
      '/persist': { device: 'rpool/persist', fsType: 'zfs', options: ['defaults'], neededForBoot: true, mountPoint: '/persist' },
      '/nix': { device: 'rpool/nix', fsType: 'zfs', options: ['defaults'], neededForBoot: false, mountPoint: '/nix' },
    };
    const merging = context(host.root);
    const merged = mergeEvaluated(host.config, { fileSystems: value(nix) }, merging);
    const fileSystems = merged.at('fileSystems');
    assert.equal(fileSystems.open, false);
    assert.deepEqual(fileSystems.childNames().sort(), ['/', '/nix', '/persist']);
    const device = fileSystems.at('/persist', 'device').string();
    assert.equal(device.state === 'known' && path.basename(device.definitions[0].origin!.file), 'configuration.nix', 'a static device keeps its place');
    const needed = fileSystems.at('/persist', 'neededForBoot').bool();
    assert.equal(needed.state === 'known' && needed.value, true, 'the unknown flag is filled');
    assert.deepEqual(merging.disagreements, []);
  });

  it('an option Nix does not have is absent, even under an unreadable module', async () => {
    const host = await hostOf({ 'flake.nix': FLAKE, 'configuration.nix': `{ }` });
    assert.equal(host.config.at('environment', 'persistence').absent, false, 'the input module might set it');
    const merged = mergeEvaluated(host.config, { 'environment.persistence': { ok: true, absent: true } }, context(host.root));
    assert.equal(merged.at('environment', 'persistence').absent, true);
  });

  it('a path that failed in Nix keeps the static reading', async () => {
    const host = await hostOf({ 'flake.nix': FLAKE, 'configuration.nix': `{ lib, ... }: { networking.hostId = builtins.fromTOML "x = 1"; }` });
    const merged = mergeEvaluated(host.config, { 'networking.hostId': { ok: false } }, context(host.root));
    assert.equal(merged.at('networking', 'hostId').string().state, 'unknown');
  });
});
