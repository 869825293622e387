/**
 * Editor intelligence over LSP (stdio, as any editor drives it): hover, definition, references, rename (with
 * prepareRename and its refusals), name completions inside strings, document symbols, code lenses and the
 * `ephemeralRoot/layout` request, on a small host written for them and on the seed example.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CodeLens, CompletionItem, DocumentSymbol, Hover, Location, TextDocumentEdit, WorkspaceEdit } from 'vscode-languageserver-protocol';
import type { LayoutResult } from '../../server/src/lsp/layout';
import { REPO_ROOT, analyzeFolder } from '../support/engine';
import { LspClient, uri } from '../support/lsp-client';
import { positionOf } from '../support/positions';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'navigation-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const NAV_DISKO = `{
  disko.devices = {
    disk.main = {
      type = "disk";
      device = "/dev/vda";
      content = {
        type = "gpt";
        partitions.zfs = {
          size = "100%";
          content = { type = "zfs"; pool = "tank"; };
        };
      };
    };
    zpool.tank = {
      type = "zpool";
      rootFsOptions.canmount = "off";
      datasets = {
        local = { type = "zfs_fs"; options.mountpoint = "none"; };
        "local/root" = {
          type = "zfs_fs";
          options.mountpoint = "legacy";
          mountpoint = "/";
          postCreateHook = "zfs list -t snapshot -H -o name | grep -E '^tank/local/root@blank$' || zfs snapshot tank/local/root@blank";
        };
        "local/nix" = { type = "zfs_fs"; options.mountpoint = "legacy"; mountpoint = "/nix"; };
        safe = { type = "zfs_fs"; options.mountpoint = "none"; };
        "safe/persist" = { type = "zfs_fs"; mountpoint = "/persist"; };
        "safe/home" = { type = "zfs_fs"; mountpoint = "/home"; };
        "safe/data" = { type = "zfs_fs"; options.mountpoint = "/srv/data"; };
      };
    };
  };
}
`;

const NAV_CONFIGURATION = `{ pkgs, ... }:
let
  pool = "tank";
in
{
  imports = [ ./disko.nix ];
  networking.hostId = "8425e349";
  boot.initrd.systemd.enable = true;
  boot.initrd.systemd.services.rollback = {
    wantedBy = [ "initrd.target" ];
    after = [ "zfs-import-tank.service" ];
    before = [ "sysroot.mount" ];
    unitConfig.DefaultDependencies = "no";
    serviceConfig.Type = "oneshot";
    path = [ pkgs.zfs ];
    script = "zfs rollback -r tank/local/root@blank";
  };
  fileSystems."/persist".neededForBoot = true;
  fileSystems."/home".device = "\${pool}/safe/home";
  environment.persistence."/persist".directories = [ "/var/lib/nixos" ];
}
`;

function applyWorkspaceEdit(edit: WorkspaceEdit): Map<string, string> {
  const texts = new Map<string, string>();
  for (const change of (edit.documentChanges ?? []) as TextDocumentEdit[]) {
    const file = new URL(change.textDocument.uri).pathname;
    let text = texts.get(file) ?? readFileSync(file, 'utf8');
    const lines = () => text.split('\n');
    const offsetOf = (position: { line: number; character: number }) => lines().slice(0, position.line).reduce((sum, line) => sum + line.length + 1, 0) + position.character;
    const edits = [...change.edits].sort((a, b) => offsetOf(b.range.start) - offsetOf(a.range.start));
    for (const item of edits as { range: { start: { line: number; character: number }; end: { line: number; character: number } }; newText: string }[]) {
      text = text.slice(0, offsetOf(item.range.start)) + item.newText + text.slice(offsetOf(item.range.end));
    }
    texts.set(file, text);
  }
  return texts;
}

function hoverText(hover: Hover | null): string {
  assert.ok(hover, 'a hover');
  const contents = hover.contents as { kind: string; value: string };
  assert.equal(contents.kind, 'markdown');
  return contents.value;
}

describe('navigation over LSP', () => {
  let client: LspClient;
  let folder: string;
  let disko: string;
  let configuration: string;
  const request = <T>(method: string, params: unknown) => client.connection.sendRequest(method, params) as Promise<T>;
  const at = (file: string, text: string, needle: string, shift = 0, nth = 0) => ({ textDocument: { uri: uri(file) }, position: positionOf(text, needle, shift, nth) });

  before(async () => {
    folder = path.join(scratch, 'nav');
    mkdirSync(folder);
    disko = path.join(folder, 'disko.nix');
    configuration = path.join(folder, 'configuration.nix');
    writeFileSync(disko, NAV_DISKO);
    writeFileSync(configuration, NAV_CONFIGURATION);
    client = new LspClient();
    await client.initialize(folder);
  });
  after(() => client.shutdown());

  it('hovers a dataset in a rollback script: erased on every boot, where each side is defined', async () => {
    const text = hoverText(await request<Hover>('textDocument/hover', at(configuration, NAV_CONFIGURATION, 'tank/local/root@blank', 8)));
    assert.match(text, /\*\*ZFS dataset `tank\/local\/root`\*\*/);
    assert.match(text, /\*\*Erased on every boot\*\* — rolled back to `@blank` \(the root file system\) by initrd unit `rollback`/);
    assert.match(text, /disko: `zfs_fs` `"local\/root"` \(\[disko\.nix:19\]\(file:\/\/.*disko\.nix#L19\)\)/);
    assert.match(text, /`mountpoint = "\/"`/);
    assert.match(text, /ZFS `mountpoint` property: `legacy` \(set by `options.mountpoint`\)/);
    assert.match(text, /NixOS mounts it at `\/` \(`fileSystems."\/"`, emitted by disko/);
    assert.match(text, /legacy mount \(no `zfsutil`\)/);
    assert.match(text, /needed for boot: \*\*yes\*\* — `\/` is one of the paths NixOS always mounts in stage 1/);
    assert.match(text, /snapshot `@blank` taken by `postCreateHook`/);
  });

  it('hovers persisted datasets: explicit neededForBoot with impermanence, zfsutil, stage 2, zfs-mount, inherited none', async () => {
    const persist = hoverText(await request<Hover>('textDocument/hover', at(disko, NAV_DISKO, '"safe/persist"', 3)));
    assert.match(persist, /\*\*Persisted\*\* — its own dataset, and nothing rolls it back/);
    assert.match(persist, /ZFS `mountpoint` property: `\/persist` \(from disko's `mountpoint`\)/);
    assert.match(persist, /with `zfsutil`/);
    assert.match(persist, new RegExp(`needed for boot: \\*\\*yes\\*\\* — \`neededForBoot = true\` \\(\\[configuration\\.nix:${positionOf(NAV_CONFIGURATION, 'neededForBoot = true').line + 1}\\]`));
    assert.match(persist, /impermanence keeps `environment\.persistence\."\/persist"` on it/);
    const home = hoverText(await request<Hover>('textDocument/hover', at(disko, NAV_DISKO, '"safe/home"', 3)));
    assert.match(home, /needed for boot: \*\*no\*\* — `neededForBoot` is not set/);
    const data = hoverText(await request<Hover>('textDocument/hover', at(disko, NAV_DISKO, '"safe/data"', 3)));
    assert.match(data, /ZFS mounts it at `\/srv\/data` through zfs-mount\.service in stage 2/);
    assert.match(data, /no `mountpoint`: disko adds no fileSystems entry/);
    const local = hoverText(await request<Hover>('textDocument/hover', at(disko, NAV_DISKO, 'local = {', 2)));
    assert.match(local, /ZFS `mountpoint` property: `none` \(set by `options.mountpoint`\)/);
    assert.match(local, /ZFS does not mount it \(mountpoint=none\)/);
  });

  it('hovers mount points and persistent storage: on which dataset, erased or persisted', async () => {
    const persist = hoverText(await request<Hover>('textDocument/hover', at(configuration, NAV_CONFIGURATION, 'persistence."/persist"', 14)));
    assert.match(persist, /\*\*Persistent storage `\/persist`\*\*/);
    assert.match(persist, /`fileSystems."\/persist"`.*: `tank\/safe\/persist` \(zfs\)/);
    assert.match(persist, /\*\*Persisted\*\* — its own dataset/);
    const key = hoverText(await request<Hover>('textDocument/hover', at(configuration, NAV_CONFIGURATION, 'fileSystems."/home"', 14)));
    assert.match(key, /\*\*Mount point `\/home`\*\*/);
    assert.match(key, /needed for boot: \*\*no\*\*/);
  });

  it('hovers a computed device and the pool part of a dataset name', async () => {
    const computed = hoverText(await request<Hover>('textDocument/hover', at(configuration, NAV_CONFIGURATION, '/safe/home', 2)));
    assert.match(computed, /\*\*ZFS dataset `tank\/safe\/home`\*\*/);
    assert.match(computed, /This name is computed here/);
    const pool = hoverText(await request<Hover>('textDocument/hover', at(configuration, NAV_CONFIGURATION, 'tank/local/root@blank', 1)));
    assert.match(pool, /\*\*ZFS pool `tank`\*\*/);
    assert.match(pool, /imported: \*\*stage 1\*\* — a root pool/);
  });

  it('hovers units: zfs-import-<pool>.service, sysroot.mount, initrd.target', async () => {
    const importUnit = hoverText(await request<Hover>('textDocument/hover', at(configuration, NAV_CONFIGURATION, 'zfs-import-tank.service', 3)));
    assert.match(importUnit, /\*\*systemd unit `zfs-import-tank\.service`\*\*/);
    assert.match(importUnit, /zpool import -N tank/);
    assert.match(importUnit, /Stage 1 \(systemd initrd\) has it only for root pools/);
    assert.match(importUnit, /This host: a root pool: stage 1 imports it/);
    // The pool part of the unit name explains the unit too.
    assert.match(hoverText(await request<Hover>('textDocument/hover', at(configuration, NAV_CONFIGURATION, 'zfs-import-tank.service', 12))), /\*\*systemd unit `zfs-import-tank\.service`\*\*/);
    const sysroot = hoverText(await request<Hover>('textDocument/hover', at(configuration, NAV_CONFIGURATION, 'sysroot.mount', 2)));
    assert.match(sysroot, /The mount of the root file system at `\/sysroot` in systemd stage 1/);
    assert.match(sysroot, /This host: `fileSystems."\/"` mounts `tank\/local\/root`/);
    const target = hoverText(await request<Hover>('textDocument/hover', at(configuration, NAV_CONFIGURATION, 'initrd.target', 2)));
    assert.match(target, /The default target of systemd stage 1/);
    assert.match(target, /wantedBy = \[ "initrd\.target" \]/);
  });

  it('goes to the disko declaration from a rollback target, a snapshot hook and from zfs-import-<pool>.service to the pool', async () => {
    const lineOf = (needle: string) => positionOf(NAV_DISKO, needle).line;
    const fromRollback = await request<Location[]>('textDocument/definition', at(configuration, NAV_CONFIGURATION, 'tank/local/root@blank', 6));
    assert.deepEqual(fromRollback.map((location) => [location.uri, location.range.start.line]), [[uri(disko), lineOf('"local/root" = {')]]);
    const fromHook = await request<Location[]>('textDocument/definition', at(disko, NAV_DISKO, 'zfs snapshot tank/local/root@blank', 18));
    assert.deepEqual(fromHook.map((location) => location.range.start.line), [lineOf('"local/root" = {')]);
    const fromUnit = await request<Location[]>('textDocument/definition', at(configuration, NAV_CONFIGURATION, 'zfs-import-tank.service', 4));
    assert.deepEqual(fromUnit.map((location) => [location.uri, location.range.start.line, location.range.start.character]), [[uri(disko), lineOf('zpool.tank'), positionOf(NAV_DISKO, 'zpool.tank', 6).character]]);
    const toSnapshot = await request<Location[]>('textDocument/definition', at(configuration, NAV_CONFIGURATION, '@blank', 2));
    assert.deepEqual(toSnapshot.map((location) => location.range.start.line), [lineOf('zfs snapshot tank')]);
  });

  it('finds every reference to a dataset and to a pool, across files', async () => {
    const references = await request<Location[]>('textDocument/references', { ...at(disko, NAV_DISKO, '"local/root"', 2), context: { includeDeclaration: true } });
    const places = references.map((location) => `${path.basename(new URL(location.uri).pathname)}:${location.range.start.line}`).sort();
    // The declaration, the grep guard, the snapshot and the rollback.
    const line = (text: string, needle: string) => positionOf(text, needle).line;
    assert.deepEqual(places, [`configuration.nix:${line(NAV_CONFIGURATION, 'zfs rollback')}`, `disko.nix:${line(NAV_DISKO, '"local/root" = {')}`, `disko.nix:${line(NAV_DISKO, 'postCreateHook')}`, `disko.nix:${line(NAV_DISKO, 'postCreateHook')}`].sort());
    const withoutDeclaration = await request<Location[]>('textDocument/references', { ...at(disko, NAV_DISKO, '"local/root"', 2), context: { includeDeclaration: false } });
    assert.equal(withoutDeclaration.length, 3);
    const pool = await request<Location[]>('textDocument/references', { ...at(disko, NAV_DISKO, 'zpool.tank', 7), context: { includeDeclaration: true } });
    const poolPlaces = pool.map((location) => `${path.basename(new URL(location.uri).pathname)}:${location.range.start.line}`);
    const expectations = [`disko.nix:${line(NAV_DISKO, 'pool = "tank"')}`, `disko.nix:${line(NAV_DISKO, 'zpool.tank')}`, `configuration.nix:${line(NAV_CONFIGURATION, 'zfs-import-tank')}`, `configuration.nix:${line(NAV_CONFIGURATION, 'zfs rollback')}`, `configuration.nix:${line(NAV_CONFIGURATION, 'safe/home')}`];
    for (const expected of expectations) assert.ok(poolPlaces.includes(expected), `${expected} in ${poolPlaces.join(' ')}`);
  });

  it('renames a dataset with its children across files, and refuses when a name is computed', async () => {
    const prepare = await request<{ range: { start: { character: number } }; placeholder: string }>('textDocument/prepareRename', at(configuration, NAV_CONFIGURATION, 'tank/local/root@blank', 7));
    assert.equal(prepare.placeholder, 'local/root');
    const edit = await request<WorkspaceEdit>('textDocument/rename', { ...at(disko, NAV_DISKO, 'local = {', 1), newName: 'os' });
    const texts = applyWorkspaceEdit(edit);
    const newDisko = texts.get(disko)!;
    assert.match(newDisko, /\n {8}os = \{ type = "zfs_fs"/);
    assert.match(newDisko, /"os\/root" = \{/);
    assert.match(newDisko, /"os\/nix" = \{/);
    assert.match(newDisko, /grep -E '\^tank\/os\/root@blank\$' \|\| zfs snapshot tank\/os\/root@blank/);
    assert.match(texts.get(configuration)!, /zfs rollback -r tank\/os\/root@blank/);
    for (const change of edit.documentChanges as TextDocumentEdit[]) assert.ok('version' in change.textDocument, 'versioned document changes');
    // The renamed host has the findings it had.
    const before = await analyzeFolder(folder);
    const renamedFolder = path.join(scratch, 'nav-renamed');
    cpSync(folder, renamedFolder, { recursive: true });
    for (const [file, text] of texts) writeFileSync(path.join(renamedFolder, path.basename(file)), text);
    const renamed = await analyzeFolder(renamedFolder);
    const summary = (findings: { code: string; origin: { file: string } }[], root: string) => findings.map((finding) => `${finding.code}@${path.relative(root, finding.origin.file)}`).sort();
    assert.deepEqual(summary(renamed.result.findings, renamedFolder), summary(before.result.findings, folder));
    // `tank/safe/home` is also written as "${pool}/safe/home": renaming it (or the pool) would leave that behind.
    await assert.rejects(request('textDocument/prepareRename', at(disko, NAV_DISKO, '"safe/home"', 3)), /Cannot rename dataset tank\/safe\/home: tank\/safe\/home is computed at .*configuration\.nix:19:32/);
    await assert.rejects(request('textDocument/rename', { ...at(disko, NAV_DISKO, 'zpool.tank', 7), newName: 'rpool' }), /Cannot rename pool tank/);
    await assert.rejects(request('textDocument/rename', { ...at(disko, NAV_DISKO, '"local/nix"', 3), newName: 'local/root' }), /already names tank\/local\/root/);
    await assert.rejects(request('textDocument/rename', { ...at(disko, NAV_DISKO, '"local/nix"', 3), newName: 'bad name' }), /not a valid dataset name/);
  });

  it('renames a snapshot: the hook, its guard and the rollback', async () => {
    const prepare = await request<{ placeholder: string }>('textDocument/prepareRename', at(configuration, NAV_CONFIGURATION, '@blank', 2));
    assert.equal(prepare.placeholder, 'blank');
    const texts = applyWorkspaceEdit(await request<WorkspaceEdit>('textDocument/rename', { ...at(configuration, NAV_CONFIGURATION, '@blank', 2), newName: 'empty' }));
    assert.match(texts.get(configuration)!, /zfs rollback -r tank\/local\/root@empty"/);
    assert.match(texts.get(disko)!, /grep -E '\^tank\/local\/root@empty\$' \|\| zfs snapshot tank\/local\/root@empty"/);
  });

  it('completes datasets in device strings, rollback targets, snapshots after @, units in after/before and disko mount points', async () => {
    const edited = NAV_CONFIGURATION.replace('  fileSystems."/persist".neededForBoot = true;', '  fileSystems."/persist".neededForBoot = true;\n  fileSystems."/nix".device = "";\n  fileSystems."" = { };')
      .replace('"zfs rollback -r tank/local/root@blank"', '"zfs rollback -r tank/local/root@blank; zfs rollback -r "')
      .replace('after = [ "zfs-import-tank.service" ];', 'after = [ "zfs-import-tank.service" "" ];');
    const file = path.join(folder, 'configuration.nix');
    client.open(file, edited, 1);
    try {
      const labels = (items: CompletionItem[]) => items.map((item) => item.label);
      const device = await request<CompletionItem[]>('textDocument/completion', at(file, edited, '"/nix".device = ""', 17));
      assert.ok(labels(device).includes('tank/local/nix') && labels(device).includes('tank/safe/persist'), labels(device).join(' '));
      assert.equal(device.find((item) => item.preselect)?.label, 'tank/local/nix', 'the dataset disko mounts at /nix comes first');
      const rollback = await request<CompletionItem[]>('textDocument/completion', at(file, edited, 'zfs rollback -r "', 16));
      assert.equal(rollback.sort((a, b) => a.sortText!.localeCompare(b.sortText!))[0].label, 'tank/local/root@blank');
      const snapshot = await request<CompletionItem[]>('textDocument/completion', at(file, edited, '@blank;', 1));
      assert.deepEqual(labels(snapshot), ['blank']);
      const units = await request<CompletionItem[]>('textDocument/completion', at(file, edited, '"zfs-import-tank.service" ""', 27));
      for (const name of ['zfs-import-tank.service', 'zfs-import.target', 'sysroot.mount', 'sysroot-nix.mount', 'sysroot-persist.mount', 'initrd.target']) assert.ok(labels(units).includes(name), `${name} in ${labels(units).join(' ')}`);
      assert.ok(!labels(units).includes('sysroot-home.mount'), '/home is not needed for boot, so stage 1 has no unit for it');
      const keys = await request<CompletionItem[]>('textDocument/completion', at(file, edited, 'fileSystems."" = { }', 13));
      assert.deepEqual(labels(keys).sort(), ['/', '/home', '/nix', '/persist']);
    } finally {
      client.change(file, 2, [{ text: NAV_CONFIGURATION }]);
    }
  });

  it('lists pools with datasets and config entries as document symbols, with code lenses on each dataset', async () => {
    const diskoSymbols = await request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri: uri(disko) } });
    assert.deepEqual(diskoSymbols.map((item) => item.name), ['tank']);
    assert.match(diskoSymbols[0].detail!, /imported in stage 1/);
    const datasets = Object.fromEntries(diskoSymbols[0].children!.map((item) => [item.name, item.detail]));
    assert.equal(datasets['local/root'], '/ · legacy · erased on every boot');
    assert.equal(datasets['safe/persist'], '/persist · persisted · mounted in stage 1');
    const configSymbols = await request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri: uri(configuration) } });
    assert.deepEqual(configSymbols.map((item) => item.name), ['boot.initrd.systemd.services.rollback', 'fileSystems."/persist"', 'fileSystems."/home"', 'environment.persistence."/persist"']);
    assert.match(configSymbols[0].detail!, /zfs rollback tank\/local\/root@blank/);
    const lenses = await request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri: uri(disko) } });
    const byLine = Object.fromEntries(lenses.map((lens) => [NAV_DISKO.split('\n')[lens.range.start.line].trim().split(' ')[0], lens.command!.title]));
    assert.deepEqual(byLine, {
      'zpool.tank': 'root pool · imported in stage 1',
      local: 'persisted · not mounted',
      '"local/root"': 'erased on every boot',
      '"local/nix"': 'persisted · mounted in stage 1',
      safe: 'persisted · not mounted',
      '"safe/persist"': 'persisted · mounted in stage 1',
      '"safe/home"': 'persisted · mounted in stage 2',
      '"safe/data"': 'persisted · mounted by zfs-mount in stage 2',
    });
  });

  it('answers ephemeralRoot/layout with pools, datasets, verdicts and findings', async () => {
    const layout = await request<LayoutResult>('ephemeralRoot/layout', { folders: [uri(folder)] });
    assert.equal(layout.folders.length, 1);
    const host = layout.folders[0].hosts.find((item) => item.name === 'nav')!;
    assert.ok(host, JSON.stringify(layout.folders[0].hosts.map((item) => item.name)));
    assert.deepEqual(host.pools.map((pool) => [pool.name, pool.imported]), [['tank', 'stage1']]);
    const root = host.pools[0].datasets.find((dataset) => dataset.fullName === 'tank/local/root')!;
    assert.deepEqual([root.name, root.mountPoints, root.zfsMountpoint, root.fate, root.neededForBoot, root.verdict], ['local/root', ['/'], 'legacy', 'erased', 'yes', 'erased on every boot']);
    assert.equal(root.location!.uri, uri(disko));
    const data = host.pools[0].datasets.find((dataset) => dataset.fullName === 'tank/safe/data')!;
    assert.deepEqual([data.zfsMountpoint, data.neededForBoot, data.stage], ['/srv/data', 'not-mounted', 'zfs-mount']);
    // Without folders, the server's own.
    const own = await request<LayoutResult>('ephemeralRoot/layout', {});
    assert.deepEqual(own.folders.map((item) => item.uri), [uri(folder)]);
  });
});

describe('navigation across hosts', () => {
  it('renames a dataset of a disko file two hosts share in both hosts, and hovers with one section per verdict', async () => {
    const folder = path.join(scratch, 'shared');
    const disko = `{
  disko.devices.zpool.tank = {
    type = "zpool";
    datasets.root = { type = "zfs_fs"; options.mountpoint = "legacy"; mountpoint = "/"; postCreateHook = "zfs snapshot tank/root@blank"; };
  };
}
`;
    const host = (rollback: boolean) => `{
  imports = [ ../../disko.nix ];
  networking.hostId = "8425e349";
  boot.initrd.systemd.enable = true;
  boot.initrd.systemd.services.rollback = {
    wantedBy = [ "initrd.target" ];
    after = [ "zfs-import-tank.service" ];
    before = [ "sysroot.mount" ];
    unitConfig.DefaultDependencies = "no";
    serviceConfig.Type = "oneshot";
    script = "${rollback ? 'zfs rollback -r tank/root@blank' : 'true'}";
  };
  fileSystems."/".device = "tank/root";
}
`;
    for (const [name, rollback] of [['a', true], ['b', false]] as const) {
      mkdirSync(path.join(folder, 'hosts', name), { recursive: true });
      writeFileSync(path.join(folder, 'hosts', name, 'configuration.nix'), host(rollback));
    }
    writeFileSync(path.join(folder, 'disko.nix'), disko);
    const client = new LspClient();
    try {
      await client.initialize(folder);
      const file = path.join(folder, 'hosts', 'a', 'configuration.nix');
      const edit = (await client.connection.sendRequest('textDocument/rename', { textDocument: { uri: uri(file) }, position: positionOf(host(true), 'device = "tank/root"', 15), newName: 'system' })) as WorkspaceEdit;
      const files = ((edit.documentChanges ?? []) as TextDocumentEdit[]).map((change) => path.relative(folder, new URL(change.textDocument.uri).pathname)).sort();
      assert.deepEqual(files, ['disko.nix', 'hosts/a/configuration.nix', 'hosts/b/configuration.nix']);
      const hover = (await client.connection.sendRequest('textDocument/hover', { textDocument: { uri: uri(path.join(folder, 'disko.nix')) }, position: positionOf(disko, 'datasets.root', 10) })) as Hover;
      const text = (hover.contents as { value: string }).value;
      assert.match(text, /_Host `a`:_[\s\S]*\*\*Erased on every boot\*\*/);
      assert.match(text, /_Host `b`:_[\s\S]*\*\*Persisted\*\*/);
    } finally {
      await client.shutdown();
    }
  });
});

describe('navigation on the seed example', () => {
  it('counts findings per dataset in the layout after an edit, and hovers through an open, edited document', async () => {
    const folder = path.join(scratch, 'seed');
    cpSync(path.join(REPO_ROOT, 'examples', 'seed'), folder, { recursive: true });
    const client = new LspClient();
    try {
      await client.initialize(folder);
      const configuration = path.join(folder, 'configuration.nix');
      const text = readFileSync(configuration, 'utf8');
      const layout = await client.connection.sendRequest<LayoutResult>('ephemeralRoot/layout', { folders: [uri(folder)] });
      const rpool = layout.folders[0].hosts[0].pools.find((pool) => pool.name === 'rpool')!;
      assert.equal(rpool.datasets.find((dataset) => dataset.name === 'nixos/empty')!.findings.error, 0);
      // Roll back to a snapshot no hook takes: a finding on the rollback of nixos/empty.
      client.open(configuration, text.replace('rpool/nixos/empty@start', 'rpool/nixos/empty@gone'), 1);
      const after = await client.connection.sendRequest<LayoutResult>('ephemeralRoot/layout', { folders: [uri(folder)] });
      const empty = after.folders[0].hosts[0].pools.find((pool) => pool.name === 'rpool')!.datasets.find((dataset) => dataset.name === 'nixos/empty')!;
      assert.ok(empty.findings.error >= 1, JSON.stringify(empty));
      assert.ok(empty.codes.includes('rollback-snapshot-mismatch'), empty.codes.join(' '));
      const hover = (await client.connection.sendRequest('textDocument/hover', { textDocument: { uri: uri(configuration) }, position: positionOf(text, 'rpool/nixos/empty@start', 19) })) as Hover;
      assert.match((hover.contents as { value: string }).value, /\*\*ZFS snapshot `rpool\/nixos\/empty@gone`\*\*[\s\S]*no disko hook takes it/);
    } finally {
      await client.shutdown();
    }
  });
});
