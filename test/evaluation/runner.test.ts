/**
 * The runner of `nix eval` (server/src/evaluation/runner.ts): arguments, the host name as a Nix string literal that
 * the real Nix parser reads back exactly, the timeout and cancellation ending the whole process group.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { nixString, projectionExpression } from '../../server/src/evaluation/projection';
import { evalArguments, runEvaluation } from '../../server/src/evaluation/runner';
import { processGroupAlive } from '../../client/src/disko-vm/process';

describe('nix eval runner', () => {
  it('asks for JSON, read-only, without import-from-derivation, from the flake folder', () => {
    const args = evalArguments('/work/flake', 'x: x', true);
    assert.deepEqual(args.slice(0, 3), ['--extra-experimental-features', 'nix-command flakes', 'eval']);
    for (const flag of ['--json', '--read-only']) assert.ok(args.includes(flag), flag);
    assert.deepEqual(args.slice(args.indexOf('--option'), args.indexOf('--option') + 3), ['--option', 'allow-import-from-derivation', 'false']);
    assert.ok(args.includes('/work/flake#nixosConfigurations'));
    assert.equal(args[args.length - 1], 'x: x');
    assert.ok(!evalArguments('/work/flake', 'x: x', false).includes('--read-only'), 'older Nix: no --read-only');
  });

  it('a hostile host name is a string literal, never code', () => {
    const name = 'a"b${builtins.abort "x"}\\c\n$d';
    const folder = mkdtempSync(path.join(os.tmpdir(), 'er-runner-'));
    try {
      const file = path.join(folder, 'name.nix');
      writeFileSync(file, nixString(name));
      const evaluated = spawnSync('nix-instantiate', ['--eval', '--json', file], { encoding: 'utf8' });
      assert.equal(evaluated.status, 0, evaluated.stderr);
      assert.equal(JSON.parse(evaluated.stdout), name);
      writeFileSync(file, projectionExpression(name));
      const parsed = spawnSync('nix-instantiate', ['--parse', file], { encoding: 'utf8' });
      assert.equal(parsed.status, 0, parsed.stderr);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("a flake folder whose path Nix would read as a reference ('#', '?') is refused, nothing runs", async () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'er-runner-'));
    try {
      const flake = path.join(folder, 'a#b?c');
      require('node:fs').mkdirSync(flake);
      writeFileSync(path.join(flake, 'flake.nix'), '{ outputs = _: { }; }');
      const ran = path.join(folder, 'ran');
      const fake = path.join(folder, 'nix');
      writeFileSync(fake, `#!/bin/sh\nif [ "$1" = --version ]; then echo 'nix (Nix) 2.8.0'; exit 0; fi\ntouch '${ran}'\n`);
      chmodSync(fake, 0o755);
      const outcome = await runEvaluation({ nix: fake, pathVariable: process.env.PATH ?? '' }, { source: { kind: 'flake', file: path.join(flake, 'flake.nix') }, host: 'h', workDir: path.join(folder, 'work'), roots: [flake] });
      assert.equal(outcome.kind, 'fault');
      assert.throws(() => require('node:fs').statSync(ran), 'nix eval did not run');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  for (const how of ['timeout', 'cancellation'] as const) {
    it(`${how} ends nix and everything it started`, async () => {
      const folder = mkdtempSync(path.join(os.tmpdir(), 'er-runner-'));
      try {
        const pidFile = path.join(folder, 'child.pid');
        const fake = path.join(folder, 'nix');
        // A nix that answers --version and otherwise starts a child and waits forever.
        writeFileSync(fake, `#!/bin/sh\nif [ "$1" = --version ]; then echo 'nix (Nix) 2.8.0'; exit 0; fi\nsleep 300 & echo $! > '${pidFile}'\nwait\n`);
        chmodSync(fake, 0o755);
        writeFileSync(path.join(folder, 'flake.nix'), '{ outputs = _: { }; }');
        const controller = new AbortController();
        const started = Date.now();
        const running = runEvaluation(
          { nix: fake, pathVariable: process.env.PATH ?? '' },
          { source: { kind: 'flake', file: path.join(folder, 'flake.nix') }, host: 'h', workDir: path.join(folder, 'work'), roots: [folder], timeoutMs: how === 'timeout' ? 800 : 60_000, signal: controller.signal },
        );
        if (how === 'cancellation') setTimeout(() => controller.abort(), 800);
        const outcome = await running;
        assert.equal(outcome.kind, 'fault');
        assert.match(outcome.kind === 'fault' ? outcome.message : '', how === 'timeout' ? /did not finish within/ : /cancelled/);
        assert.ok(Date.now() - started < 10_000);
        const child = Number(require('node:fs').readFileSync(pidFile, 'utf8'));
        await new Promise((resolve) => setTimeout(resolve, 300));
        let alive = true;
        try {
          process.kill(child, 0);
        } catch {
          alive = false;
        }
        assert.ok(!alive || !processGroupAlive(child), 'the child nix started is gone too');
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    });
  }
});
