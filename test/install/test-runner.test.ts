/**
 * `npm test`'s runner (scripts/run-tests.mjs) on suites this test controls: a failing group does not stop the
 * groups after it, one summary table names every group with its counts, and the exit code says that one failed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'run-tests-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function runRunner(files: Record<string, string>): { status: number | null; stdout: string } {
  const out = mkdtempSync(path.join(scratch, 'out-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(out, name)), { recursive: true });
    writeFileSync(path.join(out, name), text);
  }
  // Without NODE_TEST_CONTEXT: inherited from this node:test process, it would make the runner's own node:test
  // child report to a parent that is not listening.
  const { NODE_TEST_CONTEXT: _context, ...env } = process.env;
  const run = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'run-tests.mjs')], {
    encoding: 'utf8',
    env: { ...env, EPHEMERAL_ROOT_TEST_OUT: out },
    timeout: 120_000,
  });
  return { status: run.status, stdout: run.stdout };
}

describe('scripts/run-tests.mjs', () => {
  it('runs every group after a failure, prints one summary table and exits 1', () => {
    const marker = path.join(scratch, 'second-suite-ran');
    const { status, stdout } = runRunner({
      'a.test.js': "const { it } = require('node:test'); it('passes', () => {}); it('passes too', () => {}); it('fails', () => { throw new Error('no'); });",
      'e2e/first.e2e.js': 'process.exit(1);',
      'e2e/second.e2e.js': `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x');`,
    });
    assert.equal(status, 1);
    assert.ok(existsSync(marker), 'the suite after the failing one ran');
    const table = stdout.slice(stdout.lastIndexOf('=== summary'));
    assert.match(table, /^group\s+passed\s+failed\s+time$/m);
    assert.match(table, /^unit and engine tests\s+2\s+1\s+\d+\.\d s$/m);
    assert.match(table, /^end-to-end: first\.e2e\s+0\s+1\s+\d+\.\d s$/m);
    assert.match(table, /^end-to-end: second\.e2e\s+1\s+0\s+\d+\.\d s$/m);
    assert.match(table, /2 of 3 group\(s\) failed: unit and engine tests, end-to-end: first\.e2e/);
    assert.match(table, /^total: 3 passed, 2 failed$/m, 'the plain closing line adds the groups up');
  });

  it('exits 0 when every group passed', () => {
    const { status, stdout } = runRunner({
      'a.test.js': "require('node:test').it('passes', () => {});",
      'e2e/only.e2e.js': 'process.exit(0);',
    });
    assert.equal(status, 0);
    assert.match(stdout, /all 2 group\(s\) passed/);
  });
});
