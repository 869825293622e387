/**
 * Hover, go to definition and references between btrfs subvolumes (disko), the `subvol=` of `fileSystems` entries
 * and the rollback (the subvolume it deletes, the blank snapshot it restores from), and on a tmpfs root — over LSP, on
 * copies of the btrfs and tmpfs examples and a host written for it (`subvol=` by hand, a rollback under a loop).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Hover, Location } from 'vscode-languageserver-protocol';
import { REPO_ROOT } from '../support/engine';
import { LspClient, uri } from '../support/lsp-client';
import { positionOf } from '../support/positions';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'btrfs-navigation-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function hoverText(hover: Hover | null): string {
  assert.ok(hover, 'a hover');
  return (hover.contents as { value: string }).value;
}

/** The text each location points at. */
function targets(locations: Location[]): string[] {
  return locations
    .map((location) => {
      const file = new URL(location.uri).pathname;
      const lines = readFileSync(file, 'utf8').split('\n');
      const { start, end } = location.range;
      const text = start.line === end.line ? lines[start.line].slice(start.character, end.character) : `${lines[start.line].slice(start.character)}…`;
      return `${path.basename(file)}:${start.line + 1}:${text}`;
    })
    .sort();
}

describe('btrfs subvolumes: hover, definition and references over LSP', () => {
  const folder = path.join(scratch, 'btrfs-impermanence');
  const configuration = path.join(folder, 'configuration.nix');
  const disko = path.join(folder, 'disko.nix');
  let client: LspClient;
  let configurationText: string;
  let diskoText: string;

  before(async () => {
    cpSync(path.join(REPO_ROOT, 'examples', 'btrfs-impermanence'), folder, { recursive: true });
    configurationText = readFileSync(configuration, 'utf8');
    diskoText = readFileSync(disko, 'utf8');
    client = new LspClient();
    await client.initialize(folder);
  });
  after(() => client.shutdown());

  const hover = async (file: string, text: string, needle: string, shift: number, nth = 0) => hoverText((await client.connection.sendRequest('textDocument/hover', { textDocument: { uri: uri(file) }, position: positionOf(text, needle, shift, nth) })) as Hover | null);
  const definition = async (file: string, text: string, needle: string, shift: number, nth = 0) => targets((await client.connection.sendRequest('textDocument/definition', { textDocument: { uri: uri(file) }, position: positionOf(text, needle, shift, nth) })) as Location[]);
  const references = async (file: string, text: string, needle: string, shift: number) => targets((await client.connection.sendRequest('textDocument/references', { textDocument: { uri: uri(file) }, position: positionOf(text, needle, shift), context: { includeDeclaration: true } })) as Location[]);

  it('the subvolume the rollback deletes: erased, where disko declares it, its mount, its blank snapshot and the rollback', async () => {
    const text = await hover(configuration, configurationText, 'btrfs subvolume delete /btrfs_tmp/root', 'btrfs subvolume delete /btrfs_tmp/'.length + 1);
    assert.match(text, /^\*\*btrfs subvolume `root`\*\* · on `\/dev\/mapper\/crypted`/);
    assert.match(text, /\*\*Erased on every boot\*\* — deleted and restored from `root-blank` by initrd unit `rollback-root` on every boot/);
    assert.match(text, /- disko: `subvolumes\."\/root"`.*disko\.nix:\d+.* · `mountpoint = "\/"`/);
    assert.match(text, /- NixOS mounts it at `\/` \(`fileSystems\."\/"` with `subvol=root`, emitted by disko from/);
    assert.match(text, /needed for boot: \*\*yes\*\*/);
    assert.match(text, /- blank snapshot `root-blank` taken by `postCreateHook` \(read-only\)/);
    assert.match(text, /- rolled back by initrd unit `rollback-root`.*: deletes its nested subvolumes, then it, then restores it from `root-blank`/);
  });

  it('the blank snapshot the rollback restores from: persisted, taken by the disko hook; definition is the hook command', async () => {
    const text = await hover(configuration, configurationText, '/btrfs_tmp/root-blank /btrfs_tmp/root', '/btrfs_tmp/'.length + 2);
    assert.match(text, /^\*\*btrfs subvolume `root-blank`\*\*/);
    assert.match(text, /\*\*Persisted\*\* — the blank snapshot of `root`/);
    assert.match(text, /- the blank snapshot of `root`, taken by `postCreateHook` \(read-only\)/);
    assert.match(text, /- restored from by initrd unit `rollback-root` into `root`/);
    const [target] = await definition(configuration, configurationText, '/btrfs_tmp/root-blank /btrfs_tmp/root', '/btrfs_tmp/'.length + 2);
    assert.match(target, /^disko\.nix:\d+:btrfs subvolume snapshot -r \/tmp\/btrfs-top\/root \/tmp\/btrfs-top\/root-blank$/);
  });

  it('definition from the rollback leads to the disko subvolume; references list disko, the hook and the rollback', async () => {
    const declaration = `disko.nix:${diskoText.split('\n').findIndex((line) => line.includes('"/root" = {')) + 1}:/root`;
    assert.deepEqual(await definition(configuration, configurationText, 'btrfs subvolume delete /btrfs_tmp/root', 'btrfs subvolume delete /btrfs_tmp/'.length + 1), [declaration]);
    const all = await references(disko, diskoText, '"/root" = {', 2);
    assert.ok(all.includes(declaration), all.join('\n'));
    // The list -o loop names `root` too, but only the delete and the restore target are the rollback's own X.
    assert.ok(all.filter((item) => item.startsWith('configuration.nix:') && item.endsWith(':root')).length >= 1, all.join('\n'));
  });

  it('the survival hover on a btrfs host: the root is erased by the rollback, so whether a path exists at activation is asked', async () => {
    const text = await hover(configuration, configurationText, '"/etc/machine-id"', 3);
    assert.match(text, /kept by: \*\*impermanence\*\*, which links it from `\/persist\/etc\/machine-id`/);
    // Only with the root known to be erased (EPH btrfs) does the hover ask about activation.
    assert.match(text, /exists when activation creates users .*: \*\*no\*\*/);
  });

  it('code lenses above the disko subvolumes: erased, persisted and mounted in stage 1', async () => {
    const lenses = (await client.connection.sendRequest('textDocument/codeLens', { textDocument: { uri: uri(disko) } })) as { range: { start: { line: number } }; command?: { title: string } }[];
    const lines = diskoText.split('\n');
    const titles = Object.fromEntries(lenses.map((lens) => [lines[lens.range.start.line].trim().split(' ')[0], lens.command?.title]));
    assert.deepEqual(titles, {
      '"/root"': 'erased on every boot',
      '"/nix"': 'persisted · mounted in stage 1',
      '"/persist"': 'persisted · mounted in stage 1',
      '"/log"': 'persisted · mounted in stage 1',
    });
  });

  it('a mount point disko emits for a subvolume: the hover names the subvolume and its fate; definition reaches disko', async () => {
    const text = await hover(configuration, configurationText, 'fileSystems."/persist"', 'fileSystems."'.length + 2);
    assert.match(text, /\*\*Mount point `\/persist`\*\*/);
    assert.match(text, /\*\*btrfs subvolume `persist`\*\*/);
    assert.match(text, /\*\*Persisted\*\* — no rollback deletes it/);
    assert.match(text, /impermanence keeps `environment\.persistence\."\/persist"` on it/);
    // References reach the subvolume's disko `mountpoint` (its fileSystems entry is disko's).
    const locations = await references(configuration, configurationText, 'fileSystems."/persist"', 'fileSystems."'.length + 2);
    assert.ok(locations.includes(`disko.nix:${diskoText.split('\n').findIndex((line) => line.includes('mountpoint = "/persist"')) + 1}:/persist`), locations.join('\n'));
  });
});

describe('btrfs subvolumes written by hand and a tmpfs root', () => {
  it('a hand-written subvol= option leads to the disko subvolume, and a subvolume disko does not declare says so', async () => {
    const folder = path.join(scratch, 'by-hand');
    mkdirSync(folder, { recursive: true });
    const disko = `{
  disko.devices.disk.main = {
    type = "disk";
    device = "/dev/vda";
    content = {
      type = "gpt";
      partitions.root = {
        size = "100%";
        content = {
          type = "btrfs";
          subvolumes = {
            "@root" = { };
            "@nix" = { };
          };
        };
      };
    };
  };
}
`;
    const configuration = `{ ... }:
{
  imports = [ ./disko.nix ];
  boot.initrd.systemd.enable = true;
  fileSystems."/" = { device = "/dev/vda1"; fsType = "btrfs"; options = [ "subvol=@root" "noatime" ]; };
  fileSystems."/nix" = { device = "/dev/vda1"; fsType = "btrfs"; options = [ "subvol=/@nix" ]; };
  fileSystems."/home" = { device = "/dev/vda1"; fsType = "btrfs"; options = [ "subvol=@home" ]; };
}
`;
    writeFileSync(path.join(folder, 'disko.nix'), disko);
    writeFileSync(path.join(folder, 'configuration.nix'), configuration);
    const client = new LspClient();
    try {
      await client.initialize(folder);
      const file = path.join(folder, 'configuration.nix');
      const at = (needle: string, shift: number) => ({ textDocument: { uri: uri(file) }, position: positionOf(configuration, needle, shift) });
      const locations = targets((await client.connection.sendRequest('textDocument/definition', at('subvol=@root', 9))) as Location[]);
      assert.deepEqual(locations, [`disko.nix:${disko.split('\n').findIndex((line) => line.includes('"@root"')) + 1}:@root`]);
      // `subvol=/@nix` names `@nix`: one leading slash does not make another subvolume.
      const nix = targets((await client.connection.sendRequest('textDocument/definition', at('subvol=/@nix', 10))) as Location[]);
      assert.deepEqual(nix, [`disko.nix:${disko.split('\n').findIndex((line) => line.includes('"@nix"')) + 1}:@nix`]);
      const root = hoverText((await client.connection.sendRequest('textDocument/hover', at('subvol=@root', 9))) as Hover);
      // No rollback reads this root: it persists (and no made-up erase).
      assert.match(root, /\*\*btrfs subvolume `@root`\*\*/);
      assert.match(root, /\*\*Persisted\*\* — no rollback deletes it/);
      assert.match(root, /NixOS mounts it at `\/` \(`fileSystems\."\/"` with `subvol=@root`, written at/);
      const home = hoverText((await client.connection.sendRequest('textDocument/hover', at('subvol=@home', 9))) as Hover);
      assert.match(home, /- disko: \*\*not declared\*\* in the host's btrfs layout/);
      assert.deepEqual(await client.connection.sendRequest('textDocument/definition', at('subvol=@home', 9)), []);
    } finally {
      await client.shutdown();
    }
  });

  it('a tmpfs root: the disko nodev key says erased, with the mode and size read from its options', async () => {
    const folder = path.join(scratch, 'tmpfs');
    cpSync(path.join(REPO_ROOT, 'examples', 'broken-tmpfs'), folder, { recursive: true });
    const files = ['configuration.nix', 'disko.nix'].map((name) => path.join(folder, name));
    const texts = files.map((file) => readFileSync(file, 'utf8'));
    const client = new LspClient();
    try {
      await client.initialize(folder);
      const diskoIndex = texts[1].indexOf('nodev');
      assert.ok(diskoIndex >= 0, 'the example declares a disko nodev');
      const nodevKey = /nodev(?:\.|\s*=\s*\{\s*)"\/"/.exec(texts[1]);
      assert.ok(nodevKey, 'nodev."/" in disko.nix');
      const position = positionOf(texts[1], nodevKey[0], nodevKey[0].length - 2);
      const text = hoverText((await client.connection.sendRequest('textDocument/hover', { textDocument: { uri: uri(files[1]) }, position })) as Hover);
      assert.match(text, /\*\*Mount point `\/`\*\*/);
      assert.match(text, /\*\*Erased on every boot\*\* — a tmpfs: it starts empty on every boot/);
      assert.match(text, /- mount options: `defaults`, `size=25%` \(disko `nodev`\)/);
      assert.match(text, /no `mode=`: `\/` is `1777`, world-writable \(\[F58\]/);
    } finally {
      await client.shutdown();
    }
  });
});
