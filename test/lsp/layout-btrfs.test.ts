/**
 * The layout view's data beyond ZFS, through the request the view sends (`ephemeralRoot/layout`, over LSP stdio): the
 * btrfs subvolumes and the tmpfs root with erased/persisted marks, and per host what survives a boot and what does
 * not (persisted paths, keys, /var/lib/nixos, the machine id, each with what keeps it) — on copies of the examples.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { LayoutHost, LayoutResult } from '../../server/src/lsp/layout';
import { REPO_ROOT } from '../support/engine';
import { LspClient, uri } from '../support/lsp-client';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'layout-btrfs-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The layout of one host of a copied example (optionally edited first). */
async function layoutOf(example: string, edit?: (folder: string) => void): Promise<LayoutHost> {
  const folder = path.join(scratch, `${example}-${Math.random().toString(36).slice(2, 8)}`);
  cpSync(path.join(REPO_ROOT, 'examples', example), folder, { recursive: true });
  edit?.(folder);
  const client = new LspClient();
  try {
    await client.initialize(folder);
    const layout = await client.connection.sendRequest<LayoutResult>('ephemeralRoot/layout', { folders: [uri(folder)] });
    assert.equal(layout.folders[0].hosts.length, 1, JSON.stringify(layout.folders[0].hosts.map((host) => host.name)));
    return layout.folders[0].hosts[0];
  } finally {
    await client.shutdown();
  }
}

function row(host: LayoutHost, target: string) {
  const found = host.survival?.paths.find((item) => item.path === target);
  assert.ok(found, `${target} in ${JSON.stringify(host.survival?.paths.map((item) => item.path))}`);
  return found;
}

describe('layout view data: btrfs, tmpfs and what survives a boot', () => {
  it('btrfs: subvolumes with erased/persisted marks, the blank snapshot, and what keeps each path', async () => {
    const host = await layoutOf('btrfs-impermanence');
    assert.deepEqual(host.pools, []);
    assert.equal(host.btrfs.length, 1);
    const filesystem = host.btrfs[0];
    assert.equal(filesystem.device, '/dev/mapper/crypted');
    const verdicts = Object.fromEntries(filesystem.subvolumes.map((subvolume) => [subvolume.name, [subvolume.fate, subvolume.verdict, subvolume.mountPoints.join(',')]]));
    assert.deepEqual(verdicts, {
      log: ['persisted', 'persisted · mounted in stage 1', '/var/log'],
      nix: ['persisted', 'persisted · mounted in stage 1', '/nix'],
      persist: ['persisted', 'persisted · mounted in stage 1', '/persist'],
      root: ['erased', 'erased on every boot', '/'],
      'root-blank': ['persisted', 'blank snapshot of root', ''],
    });
    const root = filesystem.subvolumes.find((subvolume) => subvolume.name === 'root')!;
    assert.match(root.fateReason, /deleted and restored from root-blank by initrd unit rollback-root on every boot/);
    assert.ok(root.location?.uri.endsWith('/disko.nix'));
    // EPH is btrfs: the rollback of the root subvolume runs in stage 1.
    assert.equal(host.survival?.ephemeral?.kind, 'btrfs');
    assert.deepEqual([row(host, '/var/lib/nixos').keptBy, row(host, '/var/lib/nixos').survives, row(host, '/var/lib/nixos').atActivation], ['bind', 'yes', 'yes']);
    assert.deepEqual([row(host, '/etc/machine-id').keptBy, row(host, '/etc/machine-id').survives], ['link', 'yes']);
    // sshd is on: its default host keys are listed, kept by the /etc/ssh directory entry (a bind made after activation).
    const key = row(host, '/etc/ssh/ssh_host_ed25519_key');
    assert.deepEqual([key.keptBy, key.keeper, key.survives, key.atActivation], ['bind', 'impermanence (the directory /etc/ssh of /persist)', 'yes', 'no']);
  });

  it('btrfs: a path nothing keeps does not survive, and the rollback finding is counted on the root subvolume', async () => {
    const host = await layoutOf('broken-btrfs', (folder) => {
      const file = path.join(folder, 'configuration.nix');
      writeFileSync(file, readFileSync(file, 'utf8').replace('"/var/lib/nixos" ', ''));
    });
    const root = host.btrfs[0].subvolumes.find((subvolume) => subvolume.name === 'root')!;
    assert.ok(root.codes.includes('btrfs-rollback-nested-subvolumes'), root.codes.join(','));
    assert.ok(root.findings.error >= 1);
    const nixos = row(host, '/var/lib/nixos');
    assert.deepEqual([nixos.keptBy, nixos.survives, nixos.keeper], ['nothing', 'no', 'nothing: it lies on the root file system']);
  });

  it('tmpfs: the root is erased, its mode and size are read; the persisted entries survive', async () => {
    const good = await layoutOf('tmpfs-root');
    assert.deepEqual([good.tmpfsRoot?.fate, good.tmpfsRoot?.mode, good.tmpfsRoot?.size, good.tmpfsRoot?.worldWritable], ['erased', '755', 'size=25%', false]);
    assert.equal(good.survival?.ephemeral?.kind, 'tmpfs');
    assert.deepEqual([row(good, '/var/lib/nixos').keptBy, row(good, '/var/lib/nixos').survives], ['bind', 'yes']);
    const broken = await layoutOf('broken-tmpfs');
    assert.deepEqual([broken.tmpfsRoot?.mode, broken.tmpfsRoot?.worldWritable], [undefined, true]);
    assert.ok(broken.tmpfsRoot?.codes.includes('tmpfs-root-mode'), broken.tmpfsRoot?.codes.join(','));
  });

  it('ZFS: the seed host keeps its pools and now says what survives (the machine id is kept by nothing)', async () => {
    const host = await layoutOf('seed');
    assert.deepEqual(host.pools.map((pool) => pool.name), ['bpool', 'rpool']);
    assert.deepEqual(host.btrfs, []);
    assert.equal(host.survival?.ephemeral?.kind, 'zfs');
    assert.deepEqual([row(host, '/etc/machine-id').keptBy, row(host, '/etc/machine-id').survives], ['nothing', 'no']);
    assert.deepEqual([row(host, '/var/lib/nixos').keptBy, row(host, '/var/lib/nixos').keeper, row(host, '/var/lib/nixos').survives], ['mount', 'the mount /var/lib', 'yes']);
  });
});
