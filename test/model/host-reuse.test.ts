/**
 * Reusing hosts between analyses (the language server's `ReuseCache`): an edit rebuilds only the hosts that read the
 * edited file, and the result is always the one a fresh analysis gives — also when a host read a file only through
 * a value another host had already computed.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Workspace } from '../../server/src/model/workspace';
import { type AnalysisResult, type HostReuse, analyze, createHostReuse } from '../../server/src/rules/engine';
import { SourceFile, initSyntax } from '../../server/src/syntax/parser';
import { CORPUS, REPO_ROOT, analysisSummary, listNix } from '../support/engine';

const SEED = path.join(REPO_ROOT, 'examples', 'seed');

/**
 * Two flake hosts made from the seed host. Each has its own disko.nix and configuration.nix; the rollback unit is a
 * shared module that reads the snapshot's name from `common/names.nix` through `import`.
 */
function writeTwoHostFlake(root: string): void {
  const configuration = readFileSync(path.join(SEED, 'configuration.nix'), 'utf8');
  const withoutUnit = configuration.replace(/\n {4}services\.initrd-rollback-root = \{[\s\S]*?\n {4}\};/, '');
  assert.notEqual(withoutUnit, configuration, 'the seed configuration still has its rollback unit');
  for (const name of ['alpha', 'beta']) {
    mkdirSync(path.join(root, 'hosts', name), { recursive: true });
    cpSync(path.join(SEED, 'disko.nix'), path.join(root, 'hosts', name, 'disko.nix'));
    // A declared machine id keeps the pair free of findings (machine-id-not-persisted would note the seed's).
    const ownConfiguration = withoutUnit.replace('"seed"', `"${name}"`).replace(/\n}\s*$/, '\n  environment.etc."machine-id".text = "0123456789abcdef0123456789abcdef\\n";\n}\n');
    writeFileSync(path.join(root, 'hosts', name, 'configuration.nix'), ownConfiguration);
  }
  mkdirSync(path.join(root, 'common'));
  writeFileSync(path.join(root, 'common', 'names.nix'), '{ snapshot = "rpool/nixos/empty@start"; }\n');
  writeFileSync(
    path.join(root, 'common', 'rollback.nix'),
    `{ pkgs, ... }:
let
  names = import ./names.nix;
in
{
  boot.initrd.systemd.services.initrd-rollback-root = {
    after = [ "zfs-import-rpool.service" ];
    wantedBy = [ "initrd.target" ];
    before = [ "sysroot.mount" ];
    path = [ pkgs.zfs ];
    unitConfig.DefaultDependencies = "no";
    serviceConfig.Type = "oneshot";
    script = "zfs rollback -r \${names.snapshot} && zfs list -t snapshot";
  };
}
`,
  );
  writeFileSync(
    path.join(root, 'flake.nix'),
    `{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";
  inputs.disko.url = "github:nix-community/disko";
  outputs = { nixpkgs, disko, ... }:
    let
      host = name: nixpkgs.lib.nixosSystem {
        modules = [ disko.nixosModules.disko ./hosts/\${name}/disko.nix ./hosts/\${name}/configuration.nix ./common/rollback.nix ];
      };
    in
    {
      nixosConfigurations.alpha = host "alpha";
      nixosConfigurations.beta = host "beta";
    };
}
`,
  );
}

/** The flake hosts an analysis built afresh, and those it reused (keys are `flake\0<file>\0<host>`). */
function flakeHosts(keys: string[]): string[] {
  return keys.filter((key) => key.startsWith('flake\0')).map((key) => key.split('\0')[2]);
}

function edit(workspace: Workspace, file: string, change: (text: string) => string): void {
  const current = workspace.source(file)?.text ?? '';
  workspace.setOverlay(SourceFile.fromText(file, change(current)));
}

describe('reusing hosts between analyses', () => {
  let root: string;
  before(async () => {
    await initSyntax();
    root = mkdtempSync(path.join(os.tmpdir(), 'reuse-'));
    writeTwoHostFlake(root);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  function session(): { workspace: Workspace; reuse: HostReuse; check: () => AnalysisResult } {
    const workspace = new Workspace();
    workspace.watched = true;
    const reuse = createHostReuse();
    return {
      workspace,
      reuse,
      // The reusing analysis, proven equal to a fresh one of the same texts on every call.
      check: () => {
        const kept = analyze(workspace, [root], { reuse });
        assert.equal(analysisSummary(kept, root), analysisSummary(analyze(workspace, [root]), root));
        return kept;
      },
    };
  }

  it('starts from a host pair without findings', () => {
    const { check, reuse } = session();
    const result = check();
    assert.deepEqual(result.hosts.map((host) => host.name), ['alpha', 'beta']);
    assert.deepEqual(result.findings.map((finding) => finding.code), []);
    assert.deepEqual(flakeHosts(reuse.computed), ['alpha', 'beta']);
  });

  it('rebuilds only the host whose own file changed', () => {
    const { workspace, reuse, check } = session();
    check();
    edit(workspace, path.join(root, 'hosts', 'beta', 'disko.nix'), (text) => text.replaceAll('empty@start', 'empty@blank'));
    const result = check();
    assert.deepEqual([flakeHosts(reuse.computed), flakeHosts(reuse.reused)], [['beta'], ['alpha']]);
    // beta's snapshot no longer matches what the shared unit rolls back to; alpha is untouched.
    assert.deepEqual(
      result.findings.filter((finding) => finding.code === 'rollback-snapshot-mismatch').map((finding) => finding.host),
      ['beta'],
    );
  });

  it('rebuilds every host that read a file through a value another host computed first', () => {
    const { workspace, reuse, check } = session();
    check();
    // alpha's analysis evaluated `import ./names.nix`; beta used the value alpha had computed. Both depend on it.
    edit(workspace, path.join(root, 'common', 'names.nix'), (text) => text.replace('@start', '@blank'));
    const result = check();
    assert.deepEqual([flakeHosts(reuse.computed), flakeHosts(reuse.reused)], [['alpha', 'beta'], []]);
    assert.deepEqual(
      result.findings.filter((finding) => finding.code === 'rollback-snapshot-mismatch').map((finding) => finding.host).sort(),
      ['alpha', 'beta'],
    );
    edit(workspace, path.join(root, 'common', 'names.nix'), (text) => text.replace('@blank', '@start'));
    assert.deepEqual(check().findings, []);
  });

  it('rebuilds every host of a flake when flake.nix changes, and forgets a host that is gone', () => {
    const { workspace, reuse, check } = session();
    check();
    edit(workspace, path.join(root, 'flake.nix'), (text) => text.replace('      nixosConfigurations.beta = host "beta";\n', ''));
    const result = check();
    // beta's configuration.nix, no longer built by the flake, is checked on its own as a fragment.
    assert.deepEqual(result.hosts.map((host) => [host.name, host.kind]), [['alpha', 'nixos'], ['beta', 'fragment']]);
    assert.deepEqual([flakeHosts(reuse.computed), flakeHosts(reuse.reused)], [['alpha'], []]);
    workspace.removeOverlay(path.join(root, 'flake.nix'));
    check();
    // beta was forgotten when it disappeared: it comes back computed afresh.
    assert.deepEqual([flakeHosts(reuse.computed), flakeHosts(reuse.reused)], [['alpha', 'beta'], []]);
  });

  it('picks up a file created on disk beside a host', () => {
    const { workspace, reuse, check } = session();
    check();
    const created = path.join(root, 'hosts', 'alpha', 'extra.nix');
    writeFileSync(created, '{ boot.zfs.forceImportRoot = false; }\n');
    workspace.invalidate(created);
    try {
      const result = check();
      assert.ok(result.files.includes(created));
      // The folder's listing changed, which decides the disko files beside each host: both are checked again.
      assert.deepEqual(flakeHosts(reuse.computed), ['alpha', 'beta']);
    } finally {
      rmSync(created);
      workspace.invalidate(created);
    }
    check();
  });

  it('sees a host folder and a flake.lock created on disk, through builtins.readDir and the lock file', () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'reuse-readdir-'));
    try {
      mkdirSync(path.join(folder, 'hosts', 'alpha'), { recursive: true });
      writeFileSync(path.join(folder, 'hosts', 'alpha', 'configuration.nix'), '{ networking.hostName = "alpha"; }\n');
      writeFileSync(
        path.join(folder, 'flake.nix'),
        '{ inputs.nixpkgs.url = "github:NixOS/nixpkgs"; outputs = { nixpkgs, ... }: { nixosConfigurations = nixpkgs.lib.genAttrs (builtins.attrNames (builtins.readDir ./hosts)) (name: nixpkgs.lib.nixosSystem { modules = [ ./hosts/${name}/configuration.nix ]; }); }; }\n',
      );
      const workspace = new Workspace();
      workspace.watched = true;
      const reuse = createHostReuse();
      const hosts = () => analyze(workspace, [folder], { reuse }).hosts.map((host) => [host.name, host.release?.version ?? null]);
      assert.deepEqual(hosts(), [['alpha', null]]);
      // A new folder under hosts/ and a lock file pinning nixos-24.11, reported as the client's file watcher would.
      mkdirSync(path.join(folder, 'hosts', 'beta'));
      const beta = path.join(folder, 'hosts', 'beta', 'configuration.nix');
      writeFileSync(beta, '{ networking.hostName = "beta"; }\n');
      workspace.invalidate(beta);
      const lock = path.join(folder, 'flake.lock');
      writeFileSync(lock, JSON.stringify({ nodes: { nixpkgs: { original: { owner: 'NixOS', repo: 'nixpkgs', ref: 'nixos-24.11', type: 'github' } }, root: { inputs: { nixpkgs: 'nixpkgs' } } }, root: 'root', version: 7 }));
      workspace.invalidate(lock);
      assert.deepEqual(hosts(), [['alpha', '24.11'], ['beta', '24.11']]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('reports an import expression that fails inside a value, also when the hosts that read it are reused', () => {
    const { workspace, reuse, check } = session();
    check();
    const rollback = path.join(root, 'common', 'rollback.nix');
    edit(workspace, rollback, (text) => text.replace('import ./names.nix', 'import ./not-there.nix'));
    const notFound = (result: AnalysisResult) => result.findings.filter((finding) => finding.code === 'import-not-found').map((finding) => path.relative(root, finding.origin.file));
    assert.deepEqual(notFound(check()), ['common/rollback.nix']);
    // An edit elsewhere rebuilds beta only; alpha is reused whole, and the failed import is still reported once.
    edit(workspace, path.join(root, 'hosts', 'beta', 'disko.nix'), (text) => `${text}\n# a comment\n`);
    const result = check();
    assert.deepEqual([flakeHosts(reuse.computed), flakeHosts(reuse.reused)], [['beta'], ['alpha']]);
    assert.deepEqual(notFound(result), ['common/rollback.nix']);
  });

  it('agrees with a fresh analysis after any sequence of edits (property)', () => {
    const folders = [root, SEED];
    const aria = path.join(CORPUS, 'notthebee__nix-config__aria-2025-01');
    if (existsSync(aria)) folders.push(aria);
    const mutations = [
      (text: string) => `${text}\n# a comment\n`,
      (text: string) => text.replace('@start', '@blank'),
      (text: string) => text.replace('@blank', '@start'),
      (text: string) => text.replace('neededForBoot = true;', 'neededForBoot = false;'),
      (text: string) => text.replace(/mountpoint = "[^"]*";/, 'mountpoint = "/elsewhere";'),
      (text: string) => text.replace('rpool', 'tank'),
      (text: string) => text.slice(0, Math.floor(text.length / 2)),
      (text: string) => text.replace('{', '{ imports = [ ./missing.nix ];'),
      (text: string) => text.replace('}', ''),
    ];
    for (const folder of folders) {
      const files = listNix(folder);
      fc.assert(
        fc.property(fc.array(fc.record({ file: fc.constantFrom(...files), mutation: fc.nat(mutations.length), close: fc.boolean() }), { minLength: 1, maxLength: 6 }), (steps) => {
          const workspace = new Workspace();
          workspace.watched = true;
          const reuse = createHostReuse();
          analyze(workspace, [folder], { reuse });
          for (const step of steps) {
            // The last "mutation" closes the document: the disk text comes back, in a new parse.
            if (step.mutation === mutations.length) workspace.removeOverlay(step.file);
            else edit(workspace, step.file, mutations[step.mutation]);
            assert.equal(analysisSummary(analyze(workspace, [folder], { reuse }), folder), analysisSummary(analyze(workspace, [folder]), folder));
          }
        }),
        { seed: 20261125, numRuns: folder === root ? 60 : 25 },
      );
    }
  });
});
