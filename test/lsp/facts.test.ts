/**
 * The facts behind hover, code lens and the layout view, three-valued: erased or persisted, mounted in which stage,
 * imported when — and "unknown" with its reason whenever the host does not say (a rollback under a condition or
 * with a computed target, computed fileSystems, a file analysed on its own), never a guess. Also the symbol index:
 * computed occurrences, mentions in other strings, keys written twice.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { datasetFacts, poolFacts, verdict } from '../../server/src/lsp/facts';
import { planRename, renameEdits } from '../../server/src/lsp/rename';
import { symbolIndex } from '../../server/src/lsp/symbols-index';
import type { HostModel } from '../../server/src/model/host-model';
import { analyzeFolder } from '../support/engine';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'facts-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const DISKO = `{
  disko.devices.zpool.tank = {
    type = "zpool";
    rootFsOptions.canmount = "off";
    datasets = {
      root = { type = "zfs_fs"; options.mountpoint = "legacy"; mountpoint = "/"; postCreateHook = "zfs snapshot tank/root@blank"; };
      "root/nix" = { type = "zfs_fs"; options.mountpoint = "legacy"; mountpoint = "/nix"; };
      home = { type = "zfs_fs"; options.mountpoint = "legacy"; mountpoint = "/home"; };
    };
  };
  disko.devices.zpool.tank.datasets.home.options.compression = "zstd";
}
`;

let count = 0;
async function load(configuration: string, disko = DISKO, name = 'configuration.nix'): Promise<{ host: HostModel; folder: string; result: Awaited<ReturnType<typeof analyzeFolder>> }> {
  const folder = path.join(scratch, `case-${count++}`);
  mkdirSync(folder);
  writeFileSync(path.join(folder, 'disko.nix'), disko);
  if (configuration) writeFileSync(path.join(folder, name), configuration);
  const analysis = await analyzeFolder(folder);
  const found = analysis.result.hosts.find((candidate) => candidate.kind === 'nixos') ?? analysis.result.hosts[0];
  assert.ok(found, 'a host');
  return { host: found, folder, result: analysis };
}

const unit = (script: string, wrap = (body: string) => body) => `{ pkgs, lib, config, ... }:
{
  imports = [ ./disko.nix ];
  networking.hostId = "8425e349";
  boot.initrd.systemd.enable = true;
  boot.initrd.systemd.services.rollback = ${wrap(`{
    wantedBy = [ "initrd.target" ];
    after = [ "zfs-import-tank.service" ];
    before = [ "sysroot.mount" ];
    unitConfig.DefaultDependencies = "no";
    serviceConfig.Type = "oneshot";
    script = ${script};
  }`)};
}
`;

describe('dataset facts', () => {
  it('erased when a certain stage-1 rollback targets it; a child is persisted (rollback does not recurse, F14)', async () => {
    const { host } = await load(unit('"${pkgs.zfs}/bin/zfs rollback -r tank/root@blank"'));
    const root = datasetFacts(host, 'tank/root');
    assert.equal(root.fate.state, 'erased');
    assert.match(root.fate.reason, /rolled back to `@blank` \(the root file system\) by initrd unit `rollback` on every boot, before it is mounted/);
    assert.equal(verdict(root), 'erased on every boot');
    const nix = datasetFacts(host, 'tank/root/nix');
    assert.equal(nix.fate.state, 'persisted');
    assert.match(nix.fate.reason, /does not recurse into child datasets \(F14\)/);
    assert.equal(verdict(nix), 'persisted · mounted in stage 1');
    assert.equal(verdict(datasetFacts(host, 'tank/home')), 'persisted · mounted in stage 2');
  });

  it('unknown when the rollback is under a condition, or its target is computed', async () => {
    const conditional = await load(unit('"zfs rollback -r tank/root@blank"', (body) => `lib.mkIf config.my.immutable ${body}`));
    const root = datasetFacts(conditional.host, 'tank/root');
    assert.equal(root.fate.state, 'unknown');
    assert.match(root.fate.reason, /only under a condition/);
    // Others are unknown too: nothing says the condition does not hold … but only for the rolled-back one.
    assert.equal(datasetFacts(conditional.host, 'tank/home').fate.state, 'persisted', datasetFacts(conditional.host, 'tank/home').fate.reason);
    const computed = await load(unit('"zfs rollback -r ${config.my.dataset}@blank"'));
    const home = datasetFacts(computed.host, 'tank/home');
    assert.equal(home.fate.state, 'unknown');
    assert.match(home.fate.reason, /the target of the `zfs rollback` in initrd unit `rollback` is computed/);
    assert.equal(verdict(home), 'erased or persisted: unknown · mounted in stage 2');
  });

  it('an initrd unit without systemd stage 1 never runs: persisted; a scripted hook under systemd stage 1: unknown', async () => {
    const off = await load(unit('"zfs rollback -r tank/root@blank"').replace('boot.initrd.systemd.enable = true;', 'boot.initrd.systemd.enable = false;'));
    const root = datasetFacts(off.host, 'tank/root');
    assert.equal(root.fate.state, 'persisted');
    assert.match(root.fate.reason, /systemd stage 1 is off \(boot\.initrd\.systemd\.enable = false\), so the unit never runs/);
    const hook = await load(`{ lib, ... }:
{
  imports = [ ./disko.nix ];
  networking.hostId = "8425e349";
  boot.initrd.systemd.enable = true;
  boot.initrd.postResumeCommands = lib.mkAfter "zfs rollback -r tank/root@blank";
}
`);
    const hooked = datasetFacts(hook.host, 'tank/root');
    assert.equal(hooked.fate.state, 'unknown');
    assert.match(hooked.fate.reason, /refuses scripted hooks: the configuration does not build \(F16\)/);
  });

  it('stage unknown when fileSystems are computed; a file on its own is unknown throughout', async () => {
    const computed = await load(`{ lib, config, ... }:
{
  imports = [ ./disko.nix ];
  disko.enableConfig = false;
  networking.hostId = "8425e349";
  fileSystems = lib.mapAttrs (name: value: { device = value; fsType = "zfs"; }) config.my.datasets;
}
`);
    const home = datasetFacts(computed.host, 'tank/home');
    assert.equal(home.stage.state, 'unknown');
    assert.match(home.stage.reason, /no fileSystems entry in reach mounts it, but some fileSystems entries are computed/);
    assert.equal(poolFacts(computed.host, 'tank').import.state, 'unknown');
    const alone = await load('');
    assert.notEqual(alone.host.kind, 'nixos');
    const root = datasetFacts(alone.host, 'tank/root');
    assert.equal(root.fate.state, 'unknown');
    assert.match(root.fate.reason, /not in reach/);
    assert.equal(root.stage.state, 'unknown');
  });

  it('pools: root pool, data pool, extraPools, never imported', async () => {
    const disko = DISKO.replace('  disko.devices.zpool.tank.datasets.home', `  disko.devices.zpool.data = { type = "zpool"; datasets.media = { type = "zfs_fs"; options.mountpoint = "legacy"; mountpoint = "/media"; }; };
  disko.devices.zpool.cold = { type = "zpool"; datasets.archive = { type = "zfs_fs"; options.mountpoint = "none"; }; };
  disko.devices.zpool.spare = { type = "zpool"; datasets.x = { type = "zfs_fs"; options.mountpoint = "none"; }; };
  disko.devices.zpool.tank.datasets.home`);
    const { host: model } = await load(unit('"zfs rollback -r tank/root@blank"').replace('  networking.hostId', '  boot.zfs.extraPools = [ "cold" ];\n  networking.hostId'), disko);
    assert.equal(poolFacts(model, 'tank').import.state, 'stage1');
    assert.equal(poolFacts(model, 'data').import.state, 'stage2');
    assert.equal(poolFacts(model, 'cold').import.state, 'stage2');
    assert.match(poolFacts(model, 'cold').import.reason, /extraPools/);
    assert.equal(poolFacts(model, 'spare').import.state, 'none');
  });
});

describe('symbol index', () => {
  it('records every key of a dataset written twice, mentions in other strings, and computed names', async () => {
    const { host: model, result } = await load(`{ lib, ... }:
let
  pool = "tank";
in
{
  imports = [ ./disko.nix ];
  networking.hostId = "8425e349";
  fileSystems."/home".device = lib.mkForce "\${pool}/home";
  services.sanoid.datasets."tank/home".hourly = 24;
}
`);
    const index = symbolIndex(result.result, result.workspace).hostIndex(model);
    const home = index.occurrences.filter((occurrence) => occurrence.symbol.kind === 'dataset' && occurrence.symbol.name === 'tank/home');
    const roles = home.map((occurrence) => `${occurrence.role}${occurrence.computed ? '(computed)' : ''}`).sort();
    assert.deepEqual(roles, ['declaration', 'declaration', 'device(computed)', 'mention']);
    const plan = planRename(symbolIndex(result.result, result.workspace), { kind: 'dataset', name: 'tank/root' }, [model]);
    const edits = renameEdits(result.workspace, plan, 'system');
    // The key `root`, the key `"root/nix"` (child), and the hook's `zfs snapshot tank/root@blank`.
    assert.deepEqual(edits.map((edit) => `${edit.expected}->${edit.text}`).sort(), ['root->system', 'root->system', 'root->system']);
    assert.equal(edits.length, 3);
  });
});
