/**
 * A late `mkIf` condition (late-condition.ts) reads `config` to decide itself. One that a read leaves undecided is not
 * read again while nothing that could change the answer changed: the revision, the state of `config` (readable or
 * not) and the number of conditions decided since. A read made inside another condition's decision is not remembered.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigReference } from '../../server/src/model/config-reference';
import { mergeModules } from '../../server/src/model/config';
import { LateCondition, configChanged } from '../../server/src/model/late-condition';
import { readPersistence } from '../../server/src/model/persistence';
import { secretsOf } from '../../server/src/model/secrets';
import { type ConfigReader, type Value, emptyAttrs, known } from '../../server/src/model/values';
import { analyzeFolder } from '../support/engine';

/** A `config` that answers what `answer` says and counts the reads made of it. */
class CountingConfig implements ConfigReader {
  reads = 0;
  state = 1;
  constructor(private readonly answer: () => Value | undefined) {}
  read(): Value | undefined {
    this.reads++;
    return this.answer();
  }
}

const UNKNOWN: Value = { kind: 'unknown', reason: 'a module we cannot read defines it' };
const TRUE: Value = { kind: 'bool', value: true };

function condition(config: ConfigReader, name = 'enable'): LateCondition {
  return new LateCondition({ path: ['config', 'services', name], config });
}

/** A flake with one host made of `base.nix` and `homelab.nix`, in a folder removed after the tests. */
function flakeHost(base: string, homelab: string): string {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'late-condition-'));
  after(() => rmSync(folder, { recursive: true, force: true }));
  writeFileSync(
    path.join(folder, 'flake.nix'),
    '{ inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";\n  outputs = { nixpkgs, ... }: {\n    nixosConfigurations.host = nixpkgs.lib.nixosSystem { modules = [ ./base.nix ./homelab.nix ]; };\n  };\n}\n',
  );
  writeFileSync(path.join(folder, 'base.nix'), base);
  writeFileSync(path.join(folder, 'homelab.nix'), homelab);
  return folder;
}

describe('late conditions', () => {
  it('read an undecided option once, however often they are asked', () => {
    const config = new CountingConfig(() => UNKNOWN);
    const late = condition(config);
    for (let index = 0; index < 5; index++) assert.equal(late.value(), undefined);
    assert.equal(config.reads, 1);
  });

  it('read it again once config changes between readable and unreadable', () => {
    const config = new CountingConfig(() => UNKNOWN);
    const late = condition(config);
    late.value();
    config.state++;
    late.value();
    late.value();
    assert.equal(config.reads, 2);
  });

  it('read it again once another condition was decided, which may decide this one', () => {
    const config = new CountingConfig(() => UNKNOWN);
    const late = condition(config);
    late.value();
    assert.equal(condition(new CountingConfig(() => TRUE), 'other').value(), true);
    late.value();
    assert.equal(config.reads, 2);
  });

  it('do not remember a read made while another condition is being decided', () => {
    const inner = new CountingConfig(() => UNKNOWN);
    const nested = condition(inner, 'nested');
    // Deciding `outer` reads `config`, and that read asks `nested` (a definition under it is merged meanwhile).
    const outer = condition(new CountingConfig(() => (nested.value(), UNKNOWN)), 'outer');
    outer.value();
    assert.equal(inner.reads, 1);
    nested.value();
    nested.value();
    assert.equal(inner.reads, 2, 'asked outside any other decision, the nested condition reads once more, then remembers');
  });

  it('stay decided for the configuration a read answered a boolean in, and decide again in the next', () => {
    let answer = TRUE;
    const config = new CountingConfig(() => answer);
    const late = condition(config);
    for (let index = 0; index < 3; index++) assert.equal(late.value(), true);
    assert.equal(config.reads, 1);
    // Another merge made `config` readable anew: a definition under the condition may have been kept into it
    // (config.ts, `Expansion`), and that merge may define the option otherwise.
    answer = { kind: 'bool', value: false };
    config.state++;
    assert.equal(late.value(), false);
    assert.equal(late.value(), false);
    assert.equal(config.reads, 2);
  });

  it('leave a merged option unsettled while one is undecided, answering the same until one is decided or config changes', () => {
    let answer: Value | undefined = UNKNOWN;
    const config = new CountingConfig(() => answer);
    // x = mkMerge [ (mkIf config.services.enable "a") "b" ]
    const text = (value: string): Value => ({ kind: 'string', pieces: [{ text: value }] });
    const underCondition: Value = { kind: 'mkIf', condition: known({ kind: 'symbol', path: ['config', 'services', 'enable'], config }), content: known(text('a')) };
    const body = emptyAttrs();
    body.entries.set('x', { thunk: known({ kind: 'mkMerge', contents: known({ kind: 'list', items: [known(underCondition), known(text('b'))] }) }) });
    const node = mergeModules([{ file: '/module.nix', config: known(body) }], []).child('x');
    const undecided = node.effective();
    assert.equal(undecided.definitions.length, 2);
    assert.equal(node.effective(), undecided, 'nothing changed: the same result, not filtered again');
    assert.equal(config.reads, 1);
    // config is merged anew and now answers false: the definition under the condition is dropped.
    answer = { kind: 'bool', value: false };
    config.state++;
    configChanged();
    const decided = node.effective();
    assert.deepEqual(
      decided.definitions.map((definition) => (definition.value.kind === 'string' ? definition.value.pieces[0].text : definition.value.kind)),
      ['b'],
    );
  });

  it('on a host, a mount, unit, secret or persistence root defined only under a condition known to be false is not there', async () => {
    const folder = flakeHost(
      '{ ... }: {\n  networking.hostId = "8425e349";\n  homelab.enable = false;\n  fileSystems."/" = { device = "rpool/root"; fsType = "zfs"; };\n}\n',
      `{ config, lib, ... }: {
  options.homelab.enable = lib.mkEnableOption "the homelab";
  config = lib.mkIf config.homelab.enable {
    fileSystems."/srv" = { device = "rpool/srv"; fsType = "zfs"; };
    systemd.services.homelab-sync.script = "true";
    sops.secrets.homelab = { };
    environment.persistence."/persist".directories = [ "/var/lib/homelab" ];
  };
}
`,
    );
    const { result } = await analyzeFolder(folder);
    const host = result.hosts[0];
    assert.equal(host.hasMountAt('/srv'), false);
    assert.equal(host.fileSystemAt('/srv'), undefined);
    assert.deepEqual(host.stage2Units().units.map((unit) => unit.name), []);
    assert.deepEqual(host.persistence().map((root) => root.path), []);
    assert.deepEqual(readPersistence(host).roots.map((root) => root.path), []);
    assert.deepEqual(secretsOf(host.config.at('sops', 'secrets')).secrets.map((secret) => secret.name), []);
  });

  it('on a host, an option a missing import might define is read a few times, not once per definition under it', async () => {
    // The missing import might define `homelab.enable`: the condition stays undecided, and every definition under it
    // stays conditional (rules keep silent about them).
    const definitions = ['a', 'b', 'c'].map((name) => `    fileSystems."/srv/${name}" = { device = "rpool/${name}"; fsType = "zfs"; };\n    systemd.services.${name}.script = "true";\n`).join('');
    const folder = flakeHost(
      '{ ... }: {\n  networking.hostId = "8425e349";\n  disko.devices.zpool.rpool = { type = "zpool"; datasets.root = { type = "zfs_fs"; mountpoint = "/"; options.mountpoint = "legacy"; }; };\n  fileSystems."/" = { device = "rpool/root"; fsType = "zfs"; };\n}\n',
      `{ config, lib, ... }: {\n  options.homelab.enable = lib.mkEnableOption "the homelab";\n  imports = [ ./not-there.nix ];\n  config = lib.mkIf config.homelab.enable {\n${definitions}  };\n}\n`,
    );
    const read = ConfigReference.prototype.read;
    let reads = 0;
    ConfigReference.prototype.read = function (this: ConfigReference, optionPath: string[], origin) {
      if (optionPath.join('.') === 'homelab.enable') reads++;
      return read.call(this, optionPath, origin);
    };
    try {
      const { result } = await analyzeFolder(folder);
      assert.deepEqual(result.findings.map((finding) => finding.code), ['import-not-found']);
    } finally {
      ConfigReference.prototype.read = read;
    }
    // It was read 328 times when each ask read it again.
    assert.ok(reads > 0 && reads <= 4, `homelab.enable read ${reads} times`);
  });
});

