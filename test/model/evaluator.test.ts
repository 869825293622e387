/**
 * The three-valued evaluator and the module merge on small programs: what is known is computed exactly, what is not
 * comes back unknown with a reason — never a guess.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeModules } from '../../server/src/model/config';
import { Evaluator } from '../../server/src/model/evaluator';
import { discoverHosts } from '../../server/src/model/hosts';
import { ModuleCollector, moduleArguments } from '../../server/src/model/modules';
import { ConfigReference } from '../../server/src/model/config-reference';
import { originOfRange } from '../../server/src/model/strings';
import { type Value, known, stringText } from '../../server/src/model/values';
import { Workspace } from '../../server/src/model/workspace';
import { SourceFile, initSyntax } from '../../server/src/syntax/parser';

async function workspaceWith(files: Record<string, string>): Promise<Workspace> {
  await initSyntax();
  const workspace = new Workspace();
  for (const [name, text] of Object.entries(files)) workspace.setOverlay(SourceFile.fromText(`/virtual/${name}`, text));
  return workspace;
}

async function evaluate(text: string, files: Record<string, string> = {}): Promise<Value> {
  const workspace = await workspaceWith({ ...files, 'main.nix': text });
  return new Evaluator(workspace).evalFile('/virtual/main.nix');
}

function plain(value: Value, depth = 0): unknown {
  switch (value.kind) {
    case 'attrs':
      return Object.fromEntries([...value.entries].map(([name, entry]) => [name, depth > 8 ? '…' : plain(entry.thunk.force(), depth + 1)]));
    case 'list':
      return value.items.map((item) => plain(item.force(), depth + 1));
    case 'string':
    case 'path':
      return stringText(value) ?? `<unknown string>`;
    case 'int':
    case 'float':
    case 'bool':
      return value.value;
    case 'null':
      return null;
    case 'unknown':
      return `<unknown: ${value.reason}>`;
    case 'symbol':
      return `<${value.path.join('.')}>`;
    default:
      return `<${value.kind}>`;
  }
}

describe('evaluator', () => {
  it('let, rec, inherit and with, with lexical names winning over with', async () => {
    const value = await evaluate('let pool = "rpool"; lib = { pool = "wrong"; x = 1; }; in with lib; rec { a = pool; b = x; c = a + "/root"; inherit pool; d = { inherit (lib) x; }; }');
    assert.deepEqual(plain(value), { a: 'rpool', b: 1, c: 'rpool/root', pool: 'rpool', d: { x: 1 } });
  });

  it('dotted paths merge with attribute-set literals', async () => {
    const value = await evaluate('{ boot.initrd.systemd = { enable = true; }; boot.initrd.systemd.services.x.after = [ "a" ]; boot.zfs.devNodes = "/dev/disk/by-id"; }');
    assert.deepEqual(plain(value), { boot: { initrd: { systemd: { enable: true, services: { x: { after: ['a'] } } } }, zfs: { devNodes: '/dev/disk/by-id' } } });
  });

  it("strips the indentation of ''-strings and maps every character back to the source", async () => {
    const text = "let pool = \"rpool\"; in ''\n    zfs rollback -r ${pool}/local/root@blank\n    echo done\n  ''";
    const value = await evaluate(text);
    // The closing line holds only spaces, so the common indentation is the four spaces of the content lines.
    assert.equal(stringText(value), 'zfs rollback -r rpool/local/root@blank\necho done\n');
    assert.equal(value.kind, 'string');
    if (value.kind !== 'string') return;
    const content = stringText(value)!;
    const start = content.indexOf('/local/root@blank');
    const origin = originOfRange(value, start, start + '/local/root@blank'.length);
    assert.equal(text.slice(origin!.start, origin!.end), '/local/root@blank');
  });

  it('unknown values carry their reason; nothing is guessed', async () => {
    const value = await evaluate('{ config, lib, ... }: { a = config.networking.hostName; b = lib.mkIf config.x.enable 1; c = builtins.getEnv "HOME"; d = if config.y then 1 else 2; }', {});
    assert.equal(value.kind, 'lambda');
  });

  it('builtins and lib functions compute over known values', async () => {
    const value = await evaluate(
      'let lib = (import <nixpkgs> { }).lib; in { a = builtins.map (x: x * 2) [ 1 2 ]; b = builtins.attrNames { z = 1; a = 2; }; c = builtins.substring 0 8 (builtins.hashString "md5" "host"); d = builtins.concatStringsSep "," [ "a" "b" ]; e = builtins.listToAttrs [ { name = "k"; value = 1; } ]; f = builtins.readDir ./.; }',
    );
    const result = plain(value) as Record<string, unknown>;
    assert.deepEqual(result.a, [2, 4]);
    assert.deepEqual(result.b, ['a', 'z']);
    assert.equal(result.c, '67b3dba8');
    assert.equal(result.d, 'a,b');
    assert.deepEqual(result.e, { k: 1 });
  });

  it('infinite recursion becomes unknown', async () => {
    assert.match(String(plain(await evaluate('let x = x; in x'))), /infinite recursion/);
  });
});

describe('module merge', () => {
  async function merged(files: Record<string, string>) {
    const workspace = await workspaceWith(files);
    const evaluator = new Evaluator(workspace);
    const set = new ModuleCollector(evaluator, known(moduleArguments(undefined, evaluator.library(), new ConfigReference()))).collect([{ value: known({ kind: 'path', path: '/virtual/configuration.nix' }) }]);
    return { set, config: mergeModules(set.modules, set.opaque) };
  }

  it('follows imports (./dir means dir/default.nix) and merges lists in mkBefore/mkAfter order', async () => {
    const { set, config } = await merged({
      'configuration.nix': '{ lib, ... }: { imports = [ ./units ]; boot.kernelParams = lib.mkAfter [ "last" ]; }',
      'units/default.nix': '{ lib, ... }: { imports = [ ../extra.nix ]; boot.kernelParams = [ "middle" ]; }',
      'extra.nix': '{ lib, ... }: { boot.kernelParams = lib.mkBefore [ "first" ]; }',
    });
    assert.deepEqual(set.files, ['/virtual/configuration.nix', '/virtual/units/default.nix', '/virtual/extra.nix']);
    assert.deepEqual(config.at('boot', 'kernelParams').list().items.map((item) => stringText(item.thunk.force())), ['first', 'middle', 'last']);
  });

  it('mkForce on a submodule element replaces the whole element; mkDefault loses', async () => {
    const { config } = await merged({
      'configuration.nix': '{ lib, ... }: { imports = [ ./other.nix ]; fileSystems."/" = lib.mkForce { device = "rpool/root"; fsType = "zfs"; }; networking.hostId = lib.mkDefault "00000000"; }',
      'other.nix': '{ fileSystems."/" = { device = "rpool/old"; fsType = "zfs"; options = [ "zfsutil" ]; }; networking.hostId = "8425e349"; }',
    });
    const root = config.at('fileSystems', '/');
    assert.deepEqual(root.child('device').string(), { state: 'known', value: 'rpool/root', definitions: root.child('device').effective().definitions });
    assert.equal(root.child('options').list().items.length, 0);
    const hostId = config.at('networking', 'hostId').string();
    assert.equal(hostId.state === 'known' && hostId.value, '8425e349');
  });

  it('mkIf with an unknown condition makes definitions conditional, and an unreadable value makes names unknown', async () => {
    const { config } = await merged({
      'configuration.nix': '{ config, lib, ... }: { config = lib.mkMerge [ (lib.mkIf config.custom.enable { networking.hostId = "8425e349"; }) { fileSystems = lib.mapAttrs (n: v: v) config.custom.mounts; } ]; }',
    });
    assert.equal(config.at('networking', 'hostId').string().state, 'unknown');
    assert.equal(config.at('fileSystems').open, true);
    assert.equal(config.at('fileSystems', '/nix', 'neededForBoot').bool().state, 'unknown');
  });

  it('a module with a trailing comma in its formals is read normally', async () => {
    const { config } = await merged({ 'configuration.nix': '{\n  lib,\n  pkgs,\n}:\n{\n  networking.hostId = "8425e349";\n}\n' });
    const hostId = config.at('networking', 'hostId').string();
    assert.equal(hostId.state === 'known' && hostId.value, '8425e349');
  });
});

describe('host discovery', () => {
  it('reads nixosConfigurations built through a local helper function and readDir', async () => {
    await initSyntax();
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const root = mkdtempSync(path.join(os.tmpdir(), 'flake-'));
    mkdirSync(path.join(root, 'hosts', 'alpha'), { recursive: true });
    mkdirSync(path.join(root, 'hosts', 'beta'), { recursive: true });
    writeFileSync(
      path.join(root, 'flake.nix'),
      '{ inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11"; outputs = { nixpkgs, ... }: let mkHost = name: nixpkgs.lib.nixosSystem { modules = [ ./hosts/${name}/configuration.nix ]; }; in { nixosConfigurations = nixpkgs.lib.genAttrs (builtins.attrNames (builtins.readDir ./hosts)) mkHost; }; }',
    );
    for (const name of ['alpha', 'beta']) writeFileSync(path.join(root, 'hosts', name, 'configuration.nix'), `{ networking.hostName = "${name}"; }`);
    const discovery = discoverHosts(new Workspace(), [root]);
    assert.deepEqual(
      discovery.hosts.map((host) => [host.name, host.kind, path.relative(root, host.root), host.release?.version]),
      [
        ['alpha', 'nixos', 'hosts/alpha/configuration.nix', '24.11'],
        ['beta', 'nixos', 'hosts/beta/configuration.nix', '24.11'],
      ],
    );
  });
});
