/**
 * `ephemeralRoot/vmHosts` over stdio: the hosts "Run disko on a VM image" can build, read from the model — flake hosts
 * with their nixosConfigurations attribute and flake folder, a configuration.nix host, a disko file alone, the disks,
 * the paths the VM test probes — and the places of the code lens (`disko.devices`) in one file.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { VmHostsResult } from '../../server/src/lsp/vm-hosts';
import { scratch } from '../disko-vm/support';
import { LspClient, uri } from '../support/lsp-client';

describe('ephemeralRoot/vmHosts', () => {
  const space = scratch('lsp-vm-hosts-');
  let client: LspClient;
  before(async () => {
    client = new LspClient();
    await client.initialize(space.root);
  });
  after(async () => {
    await client.shutdown();
    space.cleanup();
  });

  const request = (params: { folders?: string[]; uri?: string }) => client.connection.sendRequest('ephemeralRoot/vmHosts', params) as Promise<VmHostsResult>;

  it('lists flake hosts by attribute, with disks and the paths to probe, and a disko file alone', async () => {
    const { hosts, lenses } = await request({ folders: [uri(space.root)] });
    assert.deepEqual(lenses, []);
    const byName = new Map(hosts.map((host) => [host.name, host]));
    assert.deepEqual([...byName.keys()].sort(), ['classic', 'loose/disko', 'seed', 'tern']);

    const seed = byName.get('seed')!;
    assert.equal(seed.kind, 'flake');
    assert.deepEqual(seed.flake, { dir: space.seed, attribute: 'seed' });
    assert.deepEqual(seed.diskoFiles, [path.join(space.seed, 'disko.nix')]);
    assert.deepEqual(seed.disks, [{ name: 'main', imageName: 'main' }]);
    assert.equal(seed.zfs, true);
    assert.equal(seed.rootDataset, 'rpool/nixos/empty');
    assert.equal(seed.rootRolledBack, true);
    assert.deepEqual(seed.ephemeral, ['/']);
    assert.deepEqual(seed.persisted, ['/boot', '/boot/efi', '/etc/nixos', '/nix', '/var/lib', '/var/log']);

    const tern = byName.get('tern')!;
    assert.deepEqual(tern.flake, { dir: space.tern, attribute: 'tern' });
    // impermanence: the root /persist and its directories, besides the mounts.
    for (const persisted of ['/persist', '/var/lib/nixos', '/var/log', '/nix', '/boot']) assert.ok(tern.persisted.includes(persisted), `${persisted} in ${tern.persisted.join(' ')}`);
    assert.equal(tern.persisted.includes('/'), false);

    // A configuration.nix host (no flake), named after its folder.
    const classic = byName.get('classic')!;
    assert.equal(classic.kind, 'configuration');
    assert.equal(classic.flake, undefined);
    assert.equal(classic.root, path.join(space.classic, 'configuration.nix'));
    assert.deepEqual(classic.diskoFiles, [path.join(space.classic, 'disko.nix')]);
    assert.deepEqual(classic.ephemeral, ['/']);

    const loose = byName.get('loose/disko')!;
    assert.equal(loose.kind, 'disko-only');
    assert.equal(loose.flake, undefined);
    assert.deepEqual(loose.diskoFiles, [space.loose]);
    assert.deepEqual(loose.disks, [{ name: 'main', imageName: 'main' }]);
  });

  it('gives the code lens place: the disko.devices of a file, with the hosts whose layout it is', async () => {
    const disko = path.join(space.seed, 'disko.nix');
    const { lenses, hosts } = await request({ uri: uri(disko) });
    assert.ok(hosts.some((host) => host.name === 'seed'));
    assert.equal(lenses.length, 1);
    assert.equal(lenses[0].range.start.line, 3, 'the line of `disko.devices = {`');
    assert.deepEqual(lenses[0].hosts, ['seed']);
    const configuration = await request({ uri: uri(path.join(space.seed, 'configuration.nix')) });
    assert.deepEqual(configuration.lenses, []);
  });
});
