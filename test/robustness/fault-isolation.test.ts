/**
 * The server survives its own faults: a rule that throws is logged and skipped for that host, and the other rules
 * still publish; the CLI reports the fault on stderr in one line, still prints every other finding, and exits 2: a run
 * in which a rule failed is never a pass.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI } from '../support/cli';
import { REPO_ROOT } from '../support/engine';
import { LspClient, uri } from '../support/lsp-client';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'faults-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('fault isolation', () => {
  it('a failing rule is logged and skipped; the others still publish (language server)', async () => {
    const folder = path.join(scratch, 'broken-flake');
    cpSync(path.join(REPO_ROOT, 'examples', 'broken-flake'), folder, { recursive: true });
    const previous = process.env.EPHEMERAL_ROOT_INJECT_FAULT;
    process.env.EPHEMERAL_ROOT_INJECT_FAULT = 'rollback-snapshot-mismatch';
    const client = new LspClient();
    if (previous === undefined) delete process.env.EPHEMERAL_ROOT_INJECT_FAULT;
    const errors: string[] = [];
    client.connection.onNotification('window/logMessage', (message: { type: number; message: string }) => {
      if (message.type === 1) errors.push(message.message);
    });
    try {
      await client.initialize(folder);
      const file = path.join(folder, 'hosts', 'tern', 'configuration.nix');
      const published = client.next(uri(file), (diagnostics) => diagnostics.length > 0);
      client.open(file, readFileSync(file, 'utf8'));
      const codes = (await published).diagnostics.map((diagnostic) => diagnostic.code).sort();
      assert.ok(!codes.includes('rollback-snapshot-mismatch'), 'the failing rule reports nothing');
      assert.deepEqual(codes, ['import-unit-name-mismatch', 'machine-id-not-persisted', 'persist-not-needed-for-boot', 'rollback-missing-r', 'rollback-not-before-mount']);
      assert.ok(errors.some((message) => /rule rollback-snapshot-mismatch failed on host tern and was skipped/.test(message)), `logged: ${errors.join(' | ')}`);
      assert.equal(client.process.exitCode, null, 'the server is alive');
    } finally {
      await client.shutdown();
    }
  });

  it('a rule that starts failing on a later analysis leaves its earlier findings published (language server)', async () => {
    const folder = path.join(scratch, 'broken-flake-later');
    cpSync(path.join(REPO_ROOT, 'examples', 'broken-flake'), folder, { recursive: true });
    const previous = process.env.EPHEMERAL_ROOT_INJECT_FAULT;
    // One host, so the rule's first run is the first analysis and its second run the analysis after the edit.
    process.env.EPHEMERAL_ROOT_INJECT_FAULT = 'rollback-snapshot-mismatch@2';
    const client = new LspClient();
    if (previous === undefined) delete process.env.EPHEMERAL_ROOT_INJECT_FAULT;
    else process.env.EPHEMERAL_ROOT_INJECT_FAULT = previous;
    const errors: string[] = [];
    client.connection.onNotification('window/logMessage', (message: { type: number; message: string }) => {
      if (message.type === 1) errors.push(message.message);
    });
    try {
      await client.initialize(folder);
      const file = path.join(folder, 'hosts', 'tern', 'configuration.nix');
      const text = readFileSync(file, 'utf8');
      const first = client.next(uri(file), (diagnostics) => diagnostics.length > 0);
      client.open(file, text);
      assert.ok((await first).diagnostics.some((diagnostic) => diagnostic.code === 'rollback-snapshot-mismatch'), 'found before the rule fails');
      client.change(file, 2, [{ text: `${text}\n` }]);
      // Publications of the text as opened may still arrive: the one that counts is for the edited version.
      let published = await client.next(uri(file));
      while (published.version !== 2) published = await client.next(uri(file));
      const codes = published.diagnostics.map((diagnostic) => diagnostic.code);
      assert.ok(errors.some((message) => /rule rollback-snapshot-mismatch failed on host tern/.test(message)), `the fault is logged: ${errors.join(' | ')}`);
      assert.ok(codes.includes('rollback-snapshot-mismatch'), `the failed rule's earlier finding is still published: ${codes.join(', ')}`);
    } finally {
      await client.shutdown();
    }
  });

  it('a failing rule is reported in one line, the others still print, and the CLI exits 2 (CLI)', () => {
    const run = spawnSync(process.execPath, [CLI, 'check', 'examples/broken-flake', '--format', 'json'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, EPHEMERAL_ROOT_INJECT_FAULT: 'persist-not-needed-for-boot' },
    });
    assert.equal(run.status, 2, 'a fault is loud: exit 2, even though other rules found errors');
    assert.match(run.stderr, /^ephemeral-root: internal error in rule persist-not-needed-for-boot on host tern: fault injected/);
    assert.equal(run.stderr.trim().split('\n').length, 1);
    const codes = (JSON.parse(run.stdout) as { diagnostics: { code: string }[] }).diagnostics.map((item) => item.code);
    assert.ok(!codes.includes('persist-not-needed-for-boot'));
    assert.ok(codes.includes('rollback-snapshot-mismatch'));
  });
});
