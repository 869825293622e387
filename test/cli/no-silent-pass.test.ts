/**
 * No silent pass: a host folder inside a flake is analysed from the flake (its findings would otherwise be
 * incomplete), only the findings under the given path are reported and stderr says so in one line; a folder with no
 * Nix files or no host says that on stderr, exits 0, and exits 2 with --strict.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../support/cli';
import { REPO_ROOT } from '../support/engine';

const TERN = path.join(REPO_ROOT, 'examples', 'broken-flake', 'hosts', 'tern');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'no-silent-pass-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * The layout: the flake at the root imports the disko layout (which mounts /persist without neededForBoot)
 * and hosts/kestrel/configuration.nix (impermanence on /persist, a rollback to a snapshot disko never takes). Alone,
 * hosts/kestrel/ sees neither the layout nor the mistakes.
 */
function kestrelFlake(): string {
  const root = mkdtempSync(path.join(scratch, 'flake-'));
  mkdirSync(path.join(root, 'hosts', 'kestrel'), { recursive: true });
  cpSync(path.join(TERN, 'disko.nix'), path.join(root, 'disko.nix'));
  const configuration = readFileSync(path.join(TERN, 'configuration.nix'), 'utf8').replace('  imports = [ ./disko.nix ];\n', '').replace(/tern/g, 'kestrel');
  writeFileSync(path.join(root, 'hosts', 'kestrel', 'configuration.nix'), configuration);
  writeFileSync(path.join(root, 'hosts', 'kestrel', 'notes.nix'), '{ }\n');
  writeFileSync(
    path.join(root, 'flake.nix'),
    [
      '{',
      '  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";',
      '  inputs.disko.url = "github:nix-community/disko";',
      '  inputs.impermanence.url = "github:nix-community/impermanence";',
      '  outputs = { nixpkgs, disko, impermanence, ... }: {',
      '    nixosConfigurations.kestrel = nixpkgs.lib.nixosSystem {',
      '      system = "x86_64-linux";',
      '      modules = [ disko.nixosModules.disko impermanence.nixosModules.impermanence ./disko.nix ./hosts/kestrel/configuration.nix ];',
      '    };',
      '  };',
      '}',
      '',
    ].join('\n'),
  );
  return root;
}

interface Report {
  hosts: { name: string }[];
  diagnostics: { file: string; code: string }[];
}

describe('no silent pass', () => {
  it('a host folder inside a flake: analysed from the flake, findings under the folder only, one line on stderr', () => {
    const root = kestrelFlake();
    const run = runCli(['check', '.', '--format', 'json'], path.join(root, 'hosts', 'kestrel'));
    assert.equal(run.status, 1, run.stderr);
    const report = JSON.parse(run.stdout) as Report;
    const codes = report.diagnostics.map((diagnostic) => diagnostic.code);
    // Both need the flake's disko layout: the /persist mount and the snapshot disko takes.
    assert.ok(codes.includes('persist-not-needed-for-boot'), codes.join(', '));
    assert.ok(codes.includes('rollback-snapshot-mismatch'), codes.join(', '));
    assert.deepEqual([...new Set(report.diagnostics.map((diagnostic) => diagnostic.file))], ['configuration.nix'], 'nothing outside the folder (the disko.nix findings stay out)');
    assert.deepEqual(report.hosts.map((host) => host.name), ['kestrel']);
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0], /^ephemeral-root: '\.' is inside the flake at '\.\.\/\.\.': analysed from there, reporting only findings under '\.'$/);
  });

  it('the same from the flake root with the folder as PATH', () => {
    const root = kestrelFlake();
    const run = runCli(['check', 'hosts/kestrel'], root);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stdout, /hosts\/kestrel\/configuration\.nix:\d+:\d+: error \[persist-not-needed-for-boot\]/);
    assert.doesNotMatch(run.stdout, /^disko\.nix:/m);
    assert.match(run.stderr, /'hosts\/kestrel' is inside the flake at '\.'/);
  });

  it('the flake root itself is analysed as before, without the note', () => {
    const root = kestrelFlake();
    const run = runCli(['check', '.'], root);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stdout, /^disko\.nix:\d+:\d+: warning \[snapshot-hook-not-idempotent\]/m);
    assert.equal(run.stderr, '');
  });

  it('an empty folder: "no Nix files" on stderr, exit 0; exit 2 with --strict', () => {
    const empty = mkdtempSync(path.join(scratch, 'empty-'));
    const run = runCli(['check', '.'], empty);
    assert.equal(run.status, 0);
    assert.equal(run.stderr, "ephemeral-root: no Nix files under '.': nothing was checked\n");
    assert.equal(runCli(['check', '.', '--strict'], empty).status, 2);
  });

  it('Nix files but no host: "no host found" on stderr, exit 0; exit 2 with --strict', () => {
    const folder = mkdtempSync(path.join(scratch, 'module-'));
    writeFileSync(path.join(folder, 'ssh.nix'), '{ services.openssh.enable = true; }\n');
    const run = runCli(['check', '.', '--format', 'json'], folder);
    assert.equal(run.status, 0);
    assert.deepEqual((JSON.parse(run.stdout) as Report).diagnostics, []);
    assert.match(run.stderr, /^ephemeral-root: no host found under '\.' \(.*\): only the files' syntax was checked\n$/);
    assert.equal(runCli(['check', '.', '--strict'], folder).status, 2);
  });

  it('a host is not "nothing checked": --strict passes a clean host', () => {
    const run = runCli(['check', 'examples/seed', '--strict'], REPO_ROOT);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '');
  });
});
