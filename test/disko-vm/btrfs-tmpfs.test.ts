/**
 * "Run disko on a VM image" for btrfs and tmpfs hosts: the hosts as the language server describes them
 * (`ephemeralRoot/vmHosts`, over LSP) run every mode against the stand-in nix, which checks its arguments and replays
 * what the real tool prints for these layouts (mkfs.btrfs and the subvolumes disko creates, the blank snapshot of the
 * hook, a tmpfs mounted as the root). The prove-the-rollback test writes a probe to `/` and to every persisted path,
 * reboots, and requires the first gone and the others kept; a btrfs rollback that stopped wiping fails it.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { processEnv } from '../../client/src/disko-vm/preconditions';
import { type CancelToken, type RunUi, runDiskoVm } from '../../client/src/disko-vm/run';
import type { RunResult, VmHost, VmMode, VmSettings, VmTarget } from '../../client/src/disko-vm/types';
import { memoryRegistry } from '../../client/src/disko-vm/work-folder';
import type { VmHostsResult } from '../../server/src/lsp/vm-hosts';
import { LspClient, uri } from '../support/lsp-client';
import { REPO_ROOT, STAND_IN_NIX, invocations, settings, standInEnv } from './support';

const root = mkdtempSync(path.join(os.tmpdir(), 'disko-vm-btrfs-tmpfs-'));
after(() => rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }));
const work = path.join(root, 'work');
const registry = memoryRegistry();

/** A flake around a configuration.nix, as the README's hosts are written. */
function flake(dir: string, name: string): void {
  writeFileSync(
    path.join(dir, 'flake.nix'),
    `{
  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";
    disko.url = "github:nix-community/disko";
    impermanence.url = "github:nix-community/impermanence";
  };
  outputs =
    { nixpkgs, disko, impermanence, ... }:
    {
      nixosConfigurations.${name} = nixpkgs.lib.nixosSystem {
        system = "x86_64-linux";
        modules = [
          disko.nixosModules.disko
          impermanence.nixosModules.impermanence
          ./configuration.nix
        ];
      };
    };
}
`,
  );
}

let hosts: VmHost[] = [];
before(async () => {
  cpSync(path.join(REPO_ROOT, 'examples', 'btrfs-impermanence'), path.join(root, 'vesper'), { recursive: true });
  flake(path.join(root, 'vesper'), 'vesper');
  cpSync(path.join(REPO_ROOT, 'examples', 'broken-btrfs'), path.join(root, 'wren'), { recursive: true });
  flake(path.join(root, 'wren'), 'wren');
  cpSync(path.join(REPO_ROOT, 'examples', 'tmpfs-root'), path.join(root, 'tmpfs-root'), { recursive: true });
  const client = new LspClient();
  try {
    await client.initialize(root);
    hosts = (await client.connection.sendRequest<VmHostsResult>('ephemeralRoot/vmHosts', { folders: [uri(root)] })).hosts;
  } finally {
    await client.shutdown();
  }
});

function host(name: string): VmHost {
  const found = hosts.find((candidate) => candidate.name === name);
  assert.ok(found, `host ${name} among ${JSON.stringify(hosts.map((candidate) => candidate.name))}`);
  return found;
}

let saved: NodeJS.ProcessEnv | undefined;
afterEach(() => {
  if (saved) process.env = saved;
  saved = undefined;
});
function useStandIn(extra: Record<string, string> = {}): void {
  saved = process.env;
  process.env = standInEnv(root, extra);
}

function recorder(): RunUi & { lines: string[] } {
  const lines: string[] = [];
  return { lines, stage: () => undefined, line: (text) => lines.push(text), confirm: async () => true, warn: async () => true };
}
const never: CancelToken = { isCancellationRequested: false, onCancellationRequested: () => ({ dispose: () => undefined }) };

async function run(mode: VmMode, target: VmTarget, overrides: Partial<VmSettings> = {}, ui: RunUi = recorder()): Promise<RunResult> {
  return runDiskoVm({ mode, target, settings: settings(work, overrides), extensionRoot: REPO_ROOT, environment: processEnv(true), workspaceFolders: [root], registry, assumeYes: true, nonce: 'test' }, ui, never);
}

function assertStandInHappy(): void {
  assert.deepEqual(
    invocations(root).filter((call) => !call.ok),
    [],
    'the stand-in nix got arguments the real CLI would not',
  );
}

describe('the VM command on btrfs and tmpfs hosts', () => {
  it('the server describes them: no ZFS, / erased, the subvolumes and persisted paths kept', () => {
    const vesper = host('vesper');
    assert.deepEqual([vesper.kind, vesper.zfs, vesper.rootRolledBack, vesper.ephemeral], ['flake', false, true, ['/']]);
    assert.deepEqual(vesper.persisted, ['/boot', '/etc/machine-id', '/etc/ssh', '/nix', '/persist', '/var/lib/nixos', '/var/log']);
    const tmpfs = host('tmpfs-root');
    assert.deepEqual([tmpfs.kind, tmpfs.zfs, tmpfs.ephemeral], ['configuration', false, ['/']]);
    assert.ok(tmpfs.persisted.includes('/persist') && tmpfs.persisted.includes('/nix'), tmpfs.persisted.join(' '));
  });

  it('btrfs: format images (raw and qcow2), the standalone disko file with --arg zfs false, the interactive VM', async () => {
    useStandIn();
    const vesper = host('vesper');
    const ui = recorder();
    const images = await run('images', { kind: 'host', host: vesper }, {}, ui);
    assert.equal(images.status, 'ok', images.message);
    assert.deepEqual(images.commands[0].args, ['build', '-L', '--log-format', 'internal-json', '--out-link', path.join(work, 'images-script'), '.#nixosConfigurations.vesper.config.system.build.diskoImagesScript']);
    assert.deepEqual(images.images.map((image) => [path.basename(image.file), image.format]), [['main.raw', 'raw']]);
    // What the image VM did with this layout: the LUKS container, mkfs.btrfs, each subvolume, the blank snapshot, the mounts.
    for (const expected of ['+ mkfs.btrfs /dev/mapper/crypted -f', "Create subvolume '/tmp/tmp.Fh3kX9/root'", "Create subvolume '/tmp/tmp.Fh3kX9/persist'", "Create a readonly snapshot of '/tmp/btrfs-top/root' in '/tmp/btrfs-top/root-blank'", '+ mount -t btrfs -o compress=zstd,noatime,subvol=root /dev/mapper/crypted /mnt']) {
      assert.ok(ui.lines.includes(expected), `${expected}\n${ui.lines.join('\n')}`);
    }
    const qcow2 = await run('images', { kind: 'host', host: vesper }, { imageFormat: 'qcow2' });
    assert.equal(qcow2.status, 'ok', qcow2.message);
    assert.deepEqual(qcow2.images.map((image) => [path.basename(image.file), image.format]), [['main.qcow2', 'qcow2']]);
    const standalone = await run('standalone', { kind: 'host', host: vesper });
    assert.equal(standalone.status, 'ok', standalone.message);
    assert.deepEqual(standalone.commands[0].args.slice(-3), ['--arg', 'zfs', 'false']);
    assert.equal(standalone.images.length, 1);
    const vm = await run('vm', { kind: 'host', host: vesper });
    assert.equal(vm.status, 'ok', vm.message);
    assert.deepEqual(vm.commands[0], { command: STAND_IN_NIX, args: ['run', '-L', '--log-format', 'internal-json', '.#nixosConfigurations.vesper.config.system.build.vmWithDisko'], cwd: path.join(root, 'vesper') });
    assert.deepEqual(invocations(root).filter((call) => call.mode !== 'flakes-probe').map((call) => call.mode), ['images', 'images-qcow2', 'standalone', 'vm']);
    assertStandInHappy();
  });

  it('btrfs: prove the rollback — the probe on / is gone after the reboot, the persisted ones survive', async () => {
    useStandIn();
    const ui = recorder();
    const result = await run('prove', { kind: 'host', host: host('vesper') }, {}, ui);
    assert.equal(result.status, 'ok', result.message);
    // The persisted file /etc/machine-id is not a directory: the checks skip it, as they say.
    assert.equal(result.message, 'Ephemeral root proved: / erased after a reboot; /boot, /etc/ssh, /nix, /persist, /var/lib/nixos, /var/log kept. Skipped (not a directory on the booted host): /etc/machine-id.');
    const test = readFileSync(path.join(work, 'prove-ephemeral-root.nix'), 'utf8');
    assert.match(test, /^\s*erased = \["\/"\]$/m);
    assert.match(test, /machine\.shutdown\(\)\n\s*machine\.start\(\)/);
    // The second boot ran the host's rollback unit before the probes were read.
    assert.ok(ui.lines.some((line) => line.includes("rollback-root[171]: Delete subvolume 'root'")), ui.lines.join('\n'));
    assertStandInHappy();
  });

  it('btrfs: a rollback that stopped wiping (the probe on / survives) is NOT proved', async () => {
    useStandIn({ EPHEMERAL_ROOT_STANDIN_VERDICT: 'root-kept' });
    const result = await run('prove', { kind: 'host', host: host('wren') });
    assert.equal(result.status, 'failed');
    assert.match(result.message, /^Ephemeral root NOT proved: \/ still held the probe after the reboot \(not erased\)\./);
    assertStandInHappy();
  });

  it('tmpfs: the four modes of a configuration.nix host; the image VM mounts a tmpfs as the root', async () => {
    useStandIn();
    const tmpfs = host('tmpfs-root');
    const ui = recorder();
    const images = await run('images', { kind: 'host', host: tmpfs }, {}, ui);
    assert.equal(images.status, 'ok', images.message);
    assert.deepEqual(images.commands[0].args.slice(-5), ['--file', '<nixpkgs/nixos>', '--argstr', 'configuration', tmpfs.root, 'config.system.build.diskoImagesScript'].slice(-5));
    assert.ok(ui.lines.includes('+ mount -t tmpfs none /mnt -o defaults,size=25%,mode=755'), ui.lines.join('\n'));
    assert.ok(ui.lines.includes('+ mkfs.ext4 /dev/disk/by-partlabel/disk-main-persist'), ui.lines.join('\n'));
    const standalone = await run('standalone', { kind: 'host', host: tmpfs });
    assert.equal(standalone.status, 'ok', standalone.message);
    assert.deepEqual(standalone.commands[0].args.slice(-3), ['--arg', 'zfs', 'false']);
    const vm = await run('vm', { kind: 'host', host: tmpfs });
    assert.equal(vm.status, 'ok', vm.message);
    const proveUi = recorder();
    const proved = await run('prove', { kind: 'host', host: tmpfs }, {}, proveUi);
    assert.equal(proved.status, 'ok', proved.message);
    assert.equal(proved.message, 'Ephemeral root proved: / erased after a reboot; /boot, /etc/ssh, /nix, /persist, /var/lib/nixos kept. Skipped (not a directory on the booted host): /etc/machine-id.');
    assert.ok(proveUi.lines.some((line) => line.includes('sysroot.mount: tmpfs on /sysroot type tmpfs (rw,relatime,size=25%,mode=755)')), proveUi.lines.join('\n'));
    assertStandInHappy();
  });

  it('the stand-in fails a standalone run as the real image VM does when a zpool layout is built without ZFS', async () => {
    useStandIn();
    const seedDisko = path.join(root, 'loose-zfs.nix');
    cpSync(path.join(REPO_ROOT, 'examples', 'seed', 'disko.nix'), seedDisko);
    const tmpfs = host('tmpfs-root');
    // The host says no ZFS (its own layout has none); pointed at a zpool layout, the image VM has no `zpool`.
    const result = await run('standalone', { kind: 'host', host: { ...tmpfs, diskoFiles: [seedDisko] } });
    assert.equal(result.status, 'failed');
    assert.match(readFileSync(result.log!, 'utf8'), /zpool: command not found/);
  });
});
