/**
 * The evaluation-backed mode through the CLI (`check --eval`), with the real Nix 2.8 and the stand-in nixpkgs: for
 * each family of unknowns the static reading leaves, a repository where the static reading is silent and the
 * evaluated run reports the right finding, and a correct one that stays clean; the cache; Nix's own failure.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { type Prepared, ROOT, prepare } from './support';

const CLI = path.join(ROOT, 'dist/cli.js');

interface Run {
  code: number | null;
  stderr: string;
  diagnostics: { code: string; severity: string; message: string; file: string; host?: string }[];
}

function check(prepared: Prepared, extra: string[]): Run {
  const result = spawnSync(process.execPath, [CLI, 'check', '.', '--format', 'json', ...extra], { cwd: prepared.repo, env: prepared.env, encoding: 'utf8', timeout: 120_000 });
  const json = JSON.parse(result.stdout) as { diagnostics: Run['diagnostics'] };
  return { code: result.status, stderr: result.stderr, diagnostics: json.diagnostics };
}

const FAMILIES: { family: string; code: string; file: string }[] = [
  { family: 'custom-option', code: 'hostid-missing', file: 'site.nix' },
  { family: 'special-args', code: 'hostid-missing', file: 'host-id.nix' },
  { family: 'lib-helper', code: 'nix-on-ephemeral-root', file: 'configuration.nix' },
  { family: 'input-module', code: 'hostid-missing', file: 'flake.nix' },
  // A host outside any flake: <nixpkgs/nixos> with NIXOS_CONFIG, the stand-in found through NIX_PATH.
  { family: 'classic', code: 'hostid-missing', file: 'site.nix' },
];

describe('check --eval', () => {
  for (const { family, code, file } of FAMILIES) {
    it(`${family}: silent statically, ${code} with --eval`, () => {
      const prepared = prepare(`${family}/trigger`);
      try {
        const plain = check(prepared, []);
        assert.equal(plain.diagnostics.filter((item) => item.code === code).length, 0, 'the static reading alone is silent');
        assert.equal(prepared.evalCalls().length, 0, 'no nix without --eval');
        const evaluated = check(prepared, ['--eval']);
        const found = evaluated.diagnostics.filter((item) => item.code === code);
        assert.equal(found.length, 1, `${code} with --eval\n${evaluated.stderr}\n${JSON.stringify(evaluated.diagnostics, null, 1)}`);
        assert.equal(path.basename(found[0].file), file, 'placed at the static definition it rests on');
        assert.match(found[0].message, /rests on values Nix evaluated/);
        assert.equal(evaluated.code, 1, 'an error finding: exit 1');
        assert.doesNotMatch(evaluated.stderr, /disagree/, 'the static reading and Nix agree wherever both know');
        assert.equal(prepared.evalCalls().length, 1, 'one nix eval for the host');
      } finally {
        rmSync(prepared.scratch, { recursive: true, force: true });
      }
    });
    it(`${family}: a correct configuration stays clean with --eval`, () => {
      const prepared = prepare(`${family}/correct`);
      try {
        const evaluated = check(prepared, ['--eval']);
        assert.deepEqual(evaluated.diagnostics, [], evaluated.stderr);
        assert.equal(evaluated.code, 0);
        assert.equal(prepared.evalCalls().length, 1, 'the host was evaluated');
        assert.doesNotMatch(evaluated.stderr, /disagree/);
      } finally {
        rmSync(prepared.scratch, { recursive: true, force: true });
      }
    });
  }

  it('the cache: a second run with nothing changed does not call Nix; a flake.lock change does', () => {
    const prepared = prepare('custom-option/trigger');
    try {
      const first = check(prepared, ['--eval']);
      assert.equal(prepared.evalCalls().length, 1);
      const second = check(prepared, ['--eval']);
      assert.equal(prepared.evalCalls().length, 1, 'answered from the cache');
      assert.match(second.stderr, /answered from the cache/);
      assert.deepEqual(second.diagnostics, first.diagnostics, 'the same findings from the cache');
      // A change to flake.lock (here only its formatting: Nix reads the same lock) is a change of what Nix reads.
      appendFileSync(path.join(prepared.repo, 'flake.lock'), '\n');
      check(prepared, ['--eval']);
      assert.equal(prepared.evalCalls().length, 2, 'flake.lock changed: evaluated again');
      // So is a change to a source file of the host.
      writeFileSync(path.join(prepared.repo, 'site.toml'), 'host_id = "7f3a91c0"\n');
      const fixed = check(prepared, ['--eval']);
      assert.equal(prepared.evalCalls().length, 3, 'a source file changed: evaluated again');
      assert.deepEqual(fixed.diagnostics, [], 'the fixed id is valid');
    } finally {
      rmSync(prepared.scratch, { recursive: true, force: true });
    }
  });

  it('Nix failing to evaluate the configuration is one evaluation-failed note on the host, not a fault', () => {
    const prepared = prepare('custom-option/trigger');
    try {
      // Adding a number to a string: an error tryEval cannot catch, so the whole evaluation fails.
      const site = path.join(prepared.repo, 'site.nix');
      writeFileSync(site, readFileSync(site, 'utf8').replace('config.networking.hostId = config.site.hostId;', 'config.networking.hostId = config.site.hostId + 1;'));
      const run = check(prepared, ['--eval']);
      const notes = run.diagnostics.filter((item) => item.code === 'evaluation-failed');
      assert.equal(notes.length, 1, `${run.stderr}\n${JSON.stringify(run.diagnostics, null, 1)}`);
      assert.equal(notes[0].severity, 'information');
      assert.match(notes[0].message, /Nix could not evaluate host 'kestrel'.*cannot coerce an integer to a string/);
      assert.equal(path.basename(notes[0].file), 'site.nix', 'placed where Nix places the error');
      assert.deepEqual(run.diagnostics.map((item) => item.code), ['evaluation-failed'], 'the static reading alone: silent');
      assert.equal(run.code, 0, 'a note is no fault');
    } finally {
      rmSync(prepared.scratch, { recursive: true, force: true });
    }
  });

  it('one path failing keeps the others: their findings and one evaluation-failed note', () => {
    const prepared = prepare('custom-option/trigger');
    try {
      // An option no module declares, under boot.initrd: the boot.initrd paths fail (a throw, caught per path).
      const site = path.join(prepared.repo, 'site.nix');
      writeFileSync(site, readFileSync(site, 'utf8').replace('config.networking.hostId', 'config.boot.initrd.sytemd.enable = true;\n  config.networking.hostId'));
      const run = check(prepared, ['--eval']);
      assert.deepEqual(run.diagnostics.map((item) => item.code).sort(), ['evaluation-failed', 'hostid-missing'], run.stderr);
      assert.match(run.diagnostics.find((item) => item.code === 'evaluation-failed')!.message, /boot\.initrd\.sytemd' does not exist/);
      assert.equal(run.code, 1);
    } finally {
      rmSync(prepared.scratch, { recursive: true, force: true });
    }
  });

  it('a fault of the evaluated path is loud: no nix on PATH exits 2 with the reason', () => {
    const prepared = prepare('custom-option/trigger');
    try {
      const result = spawnSync(process.execPath, [CLI, 'check', '.', '--eval'], { cwd: prepared.repo, env: { ...prepared.env, PATH: '/nonexistent' }, encoding: 'utf8' });
      assert.equal(result.status, 2);
      assert.match(result.stderr, /evaluation of host 'kestrel' failed: Nix is not installed/);
    } finally {
      rmSync(prepared.scratch, { recursive: true, force: true });
    }
  });

  it('a nix inside the repository is never run', () => {
    const prepared = prepare('custom-option/trigger');
    try {
      const planted = path.join(prepared.repo, 'bin');
      spawnSync('mkdir', ['-p', planted]);
      writeFileSync(path.join(planted, 'nix'), `#!/bin/sh\ntouch '${path.join(prepared.scratch, 'planted-ran')}'\nexit 1\n`, { mode: 0o755 });
      check({ ...prepared, env: { ...prepared.env, PATH: `${planted}:${prepared.env.PATH}` } }, ['--eval']);
      assert.throws(() => readFileSync(path.join(prepared.scratch, 'planted-ran')), 'the planted nix did not run');
      assert.equal(prepared.evalCalls().length, 1, 'the real one (through the wrapper) did');
    } finally {
      rmSync(prepared.scratch, { recursive: true, force: true });
    }
  });
});
