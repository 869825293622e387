/**
 * Snippets: every snippet, with its placeholders at their defaults, is a binding that real Nix parses, and the
 * disko and rollback snippets together give a host with no finding.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT, analyzeFolder } from '../support/engine';
import { nixParse } from '../support/nix';

interface Snippet {
  prefix: string | string[];
  description: string;
  body: string[];
}

const snippets = JSON.parse(readFileSync(path.join(REPO_ROOT, 'snippets', 'nix.json'), 'utf8')) as Record<string, Snippet>;
const scratch = mkdtempSync(path.join(os.tmpdir(), 'snippets-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The text VS Code inserts when every placeholder keeps its default (`${1:x}` → x, `$1` → the same value). */
export function expand(body: string[], indent = '  '): string {
  const values = new Map<string, string>();
  let text = body.join('\n').replace(/\t/g, indent);
  text = text.replace(/\$\{(\d+):([^}]*)\}/g, (_match, index: string, value: string) => {
    if (!values.has(index)) values.set(index, value);
    return values.get(index)!;
  });
  // `\$` is a literal dollar in a snippet (a shell variable such as `$sv`), not a tabstop or snippet variable.
  return text.replace(/(?<!\\)\$(\d+)/g, (_match, index: string) => values.get(index) ?? '').replace(/\\\$/g, '$');
}

/** Writes a host folder from a disko file and a configuration, both checked by real Nix, and returns its findings. */
async function findingsOfHost(name: string, disko: string, configuration: string): Promise<string[]> {
  const folder = path.join(scratch, name);
  mkdirSync(folder);
  writeFileSync(path.join(folder, 'disko.nix'), disko);
  writeFileSync(path.join(folder, 'configuration.nix'), configuration);
  for (const file of ['disko.nix', 'configuration.nix']) assert.ok(nixParse(path.join(folder, file)).ok, nixParse(path.join(folder, file)).error);
  const { result } = await analyzeFolder(folder);
  return result.findings.map((finding) => `${finding.code}: ${finding.message}`);
}

const ESP = 'ESP = { size = "512M"; type = "EF00"; content = { type = "filesystem"; format = "vfat"; mountpoint = "/boot"; }; };';

describe('snippets', () => {
  for (const [name, snippet] of Object.entries(snippets)) {
    it(`${name}: parses as Nix`, () => {
      assert.ok(snippet.description.length > 20);
      const file = path.join(scratch, `${name.replace(/\W+/g, '-')}.nix`);
      writeFileSync(file, `{\n${expand(snippet.body)}\n}\n`);
      const parsed = nixParse(file);
      assert.ok(parsed.ok, parsed.error);
    });
  }

  it('pool, root, /nix and persisted dataset snippets plus the rollback unit and the persist mount make a host with no finding', async () => {
    const folder = path.join(scratch, 'host');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(folder);
    const datasets = ['ZFS: container dataset (disko)', 'ZFS: ephemeral root dataset (disko)', 'ZFS: /nix dataset (disko)', 'ZFS: persisted dataset (disko)']
      .map((name) => expand(snippets[name].body))
      .join('\n');
    const pool = expand(snippets['ZFS: pool (disko)'].body).replace(/datasets = \{\n\s*\n/, `datasets = {\n${datasets}\n`);
    writeFileSync(
      path.join(folder, 'disko.nix'),
      `{\n  disko.devices.disk.main = { type = "disk"; device = "/dev/vda"; content = { type = "gpt"; partitions = { ESP = { size = "512M"; type = "EF00"; content = { type = "filesystem"; format = "vfat"; mountpoint = "/boot"; }; }; zfs = { size = "100%"; content = { type = "zfs"; pool = "rpool"; }; }; }; }; };\n  disko.devices.zpool = {\n${pool}\n  };\n}\n`,
    );
    writeFileSync(
      path.join(folder, 'configuration.nix'),
      `{\n  imports = [ ./disko.nix ];\n  networking.hostId = "8425e349";\n${expand(snippets['ZFS: initrd rollback unit'].body)}\n${expand(snippets['tmpfs: persist mount'].body)}\n}\n`,
    );
    for (const file of ['disko.nix', 'configuration.nix']) assert.ok(nixParse(path.join(folder, file)).ok, nixParse(path.join(folder, file)).error);
    const { result } = await analyzeFolder(folder);
    assert.deepEqual(result.findings.map((finding) => `${finding.code}: ${finding.message}`), []);
  });

  it('the btrfs layout, the btrfs rollback unit and the persist mount make a host with no finding', async () => {
    const layout = expand(snippets['btrfs: ephemeral root layout (disko)'].body, '  ');
    const disko = `{\n  disko.devices.disk.main = { type = "disk"; device = "/dev/vda"; content = { type = "gpt"; partitions = {\n${ESP}\n${layout}\n}; }; };\n}\n`;
    const configuration = `{\n  imports = [ ./disko.nix ];\n${expand(snippets['btrfs: initrd rollback unit'].body)}\n${expand(snippets['tmpfs: persist mount'].body)}\n}\n`;
    assert.deepEqual(await findingsOfHost('btrfs-host', disko, configuration), []);
  });

  it('the tmpfs root and the persist mount make a host with no finding', async () => {
    const partition = (label: string, mountpoint: string) => `${label} = { size = "20G"; content = { type = "filesystem"; format = "ext4"; mountpoint = "${mountpoint}"; }; };`;
    const disko = `{\n  disko.devices = {\n${expand(snippets['tmpfs: root (disko)'].body)}\n  disk.main = { type = "disk"; device = "/dev/vda"; content = { type = "gpt"; partitions = {\n${ESP}\n${partition('nix', '/nix')}\n${partition('persist', '/persist')}\n}; }; };\n  };\n}\n`;
    const configuration = `{\n  imports = [ ./disko.nix ];\n  services.openssh.enable = true;\n${expand(snippets['tmpfs: persist mount'].body)}\n}\n`;
    assert.deepEqual(await findingsOfHost('tmpfs-host', disko, configuration), []);
  });

  describe('what must survive the rollback (section E)', () => {
    /**
     * A host made from a section-E rule fixture (its flake imports impermanence or preservation and the secrets
     * tool, its root is rolled back by an initrd unit): the fixture's configuration up to its persistence settings,
     * then the given lines.
     */
    async function findingsOfFixtureHost(name: string, fixture: string, lines: string): Promise<string[]> {
      const source = path.join(REPO_ROOT, 'test', 'fixtures', 'rules', fixture);
      const configuration = readFileSync(path.join(source, 'configuration.nix'), 'utf8');
      const cut = configuration.indexOf('  fileSystems."/persist".neededForBoot = true;');
      assert.ok(cut > 0, `${fixture} has no /persist mount to cut at`);
      const folder = path.join(scratch, name);
      mkdirSync(folder);
      writeFileSync(path.join(folder, 'flake.nix'), readFileSync(path.join(source, 'flake.nix'), 'utf8'));
      writeFileSync(path.join(folder, 'disko.nix'), readFileSync(path.join(source, 'disko.nix'), 'utf8'));
      writeFileSync(path.join(folder, 'configuration.nix'), `${configuration.slice(0, cut)}${lines}\n}\n`);
      for (const file of ['flake.nix', 'disko.nix', 'configuration.nix']) assert.ok(nixParse(path.join(folder, file)).ok, nixParse(path.join(folder, file)).error);
      const { result } = await analyzeFolder(folder);
      return result.findings.map((finding) => `${finding.code}: ${finding.message}`);
    }

    const persistMount = expand(snippets['tmpfs: persist mount'].body);
    const codes = (findings: string[]) => findings.map((finding) => finding.split(':')[0]);

    it('the sops-nix snippet keeps its key on the persist mount: no finding, and the same key on the root is one', async () => {
      const sops = expand(snippets['sops-nix: key on persistent storage'].body);
      assert.deepEqual(await findingsOfFixtureHost('sops-persisted', 'password-secret-not-needed-for-users/trigger-regular-secret', `${persistMount}\n${sops}`), []);
      const onRoot = sops.replace('"/persist/var/lib/sops-nix/key.txt"', '"/var/lib/sops-nix/key.txt"');
      assert.notEqual(onRoot, sops);
      assert.deepEqual(codes(await findingsOfFixtureHost('sops-on-root', 'password-secret-not-needed-for-users/trigger-regular-secret', `${persistMount}\n${onRoot}`)), ['secret-key-not-persisted']);
    });

    it('the agenix snippet reads the persistent copy of the host key: no finding, and the linked copy is late', async () => {
      const agenix = expand(snippets['agenix: identity on persistent storage'].body);
      const host = `${persistMount}\n  services.openssh.enable = true;\n${agenix}`;
      assert.deepEqual(await findingsOfFixtureHost('agenix-persisted', 'secret-key-not-persisted/trigger-agenix-identities', host), []);
      // /etc/ssh is a stage-2 bind of impermanence: agenix, which decrypts before users are created, would not find it.
      const linked = host.replace('"/persist/etc/ssh/ssh_host_ed25519_key"', '"/etc/ssh/ssh_host_ed25519_key"');
      assert.notEqual(linked, host);
      assert.deepEqual(codes(await findingsOfFixtureHost('agenix-linked', 'secret-key-not-persisted/trigger-agenix-identities', linked)), ['secret-key-not-at-activation']);
    });

    it('the preservation snippet binds /etc/machine-id in the initrd: no finding, and without inInitrd one', async () => {
      const preservation = expand(snippets['preservation: machine-id in the initrd'].body);
      const host = `  fileSystems."/persist".neededForBoot = true;\n${preservation}`;
      assert.deepEqual(await findingsOfFixtureHost('preservation-initrd', 'machine-id-preserved-late/trigger-plain-string', host), []);
      const late = host.replace('{ file = "/etc/machine-id"; inInitrd = true; }', '"/etc/machine-id"');
      assert.notEqual(late, host);
      assert.deepEqual(codes(await findingsOfFixtureHost('preservation-late', 'machine-id-preserved-late/trigger-plain-string', late)), ['machine-id-preserved-late']);
    });
  });
});
