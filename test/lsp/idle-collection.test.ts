/**
 * The idle scavenge (server/src/lsp/idle-collection.ts): it runs once per burst of work, after the turn that ended
 * it, never while work is queued, and the server's launchers give Node the flag that makes it possible.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { IdleCollector } from '../../server/src/lsp/idle-collection';
import { REPO_ROOT } from '../support/engine';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('idle scavenge', () => {
  it('runs once after a burst of work, on the next turn, only when nothing is queued', async () => {
    const calls: unknown[] = [];
    let busy = false;
    const collector = new IdleCollector(() => busy, (options) => calls.push(options));
    collector.workDone();
    collector.workDone();
    assert.equal(calls.length, 0, 'not inside the turn that ended the work');
    await nextTurn();
    assert.deepEqual(calls, [{ type: 'minor' }]);
    busy = true;
    collector.workDone();
    await nextTurn();
    assert.equal(calls.length, 1, 'not while work is queued');
    busy = false;
    collector.workDone();
    await nextTurn();
    assert.equal(calls.length, 2);
    assert.equal(collector.collections, 2);
  });

  it('does nothing when Node was started without --expose-gc', async () => {
    const collector = new IdleCollector(() => false, undefined);
    assert.equal(collector.available, false);
    collector.workDone();
    await nextTurn();
    assert.equal(collector.collections, 0);
  });

  it('is possible in the server as its launchers start it, with the same heap flags in both', () => {
    const shebang = readFileSync(path.join(REPO_ROOT, 'bin', 'ephemeral-root-ls.js'), 'utf8').split('\n')[0];
    const flags = shebang.replace(/^#!\/usr\/bin\/env -S node\s+/, '').split(/\s+/);
    assert.ok(flags.includes('--expose-gc'), shebang);
    const probe = spawnSync(process.execPath, [...flags, '-e', "process.stdout.write(typeof gc + ' ' + require('v8').getHeapStatistics().heap_size_limit)"], { encoding: 'utf8' });
    assert.equal(probe.status, 0, probe.stderr);
    assert.match(probe.stdout, /^function \d+$/);
    // The extension starts the same server with its own execArgv: the two must not drift apart.
    const extension = readFileSync(path.join(REPO_ROOT, 'client', 'src', 'extension.ts'), 'utf8');
    const heap = /const heap = \[([^\]]*)\]/.exec(extension)?.[1];
    assert.ok(heap, 'client/src/extension.ts names its heap flags');
    assert.deepEqual(heap.split(',').map((flag) => flag.trim().replace(/^'|'$/g, '')), flags);
  });
});
