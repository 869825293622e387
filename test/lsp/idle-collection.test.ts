/**
 * The idle scavenge (server/src/lsp/idle-collection.ts): it runs once per burst of work when the server has then been
 * idle for a moment, never while edits keep coming or work is queued, and the server's launchers give Node the flag
 * that makes it possible.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { IDLE_DELAY_MS, IdleCollector } from '../../server/src/lsp/idle-collection';
import { REPO_ROOT } from '../support/engine';

/** A clock the test moves by hand: timers fire when `advance` passes their time. */
class ManualClock {
  time = 0;
  private timers: { at: number; callback: () => void }[] = [];
  now = () => this.time;
  after = (ms: number, callback: () => void) => {
    this.timers.push({ at: this.time + ms, callback });
  };
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.time = next.at;
      next.callback();
    }
    this.time = end;
  }
}

describe('idle scavenge', () => {
  it('runs once the server has been idle for the delay after a burst of work', () => {
    const clock = new ManualClock();
    const calls: unknown[] = [];
    const collector = new IdleCollector(() => false, (options) => calls.push(options), clock);
    collector.workDone();
    collector.workDone();
    clock.advance(IDLE_DELAY_MS - 1);
    assert.equal(calls.length, 0, 'not before the delay');
    clock.advance(1);
    assert.deepEqual(calls, [{ type: 'minor' }], 'once for the burst');
    clock.advance(10 * IDLE_DELAY_MS);
    assert.equal(collector.collections, 1);
  });

  it('waits while edits keep coming, and skips while work is queued', () => {
    const clock = new ManualClock();
    let busy = false;
    const collector = new IdleCollector(() => busy, () => undefined, clock);
    // Edits every 2 ms, back to back: never idle long enough.
    for (let edit = 0; edit < 20; edit++) {
      collector.workDone();
      clock.advance(2);
    }
    assert.equal(collector.collections, 0);
    clock.advance(IDLE_DELAY_MS);
    assert.equal(collector.collections, 1, 'once they stop');
    busy = true;
    collector.workDone();
    clock.advance(2 * IDLE_DELAY_MS);
    assert.equal(collector.collections, 1, 'not while work is queued');
    busy = false;
    collector.workDone();
    clock.advance(IDLE_DELAY_MS);
    assert.equal(collector.collections, 2);
  });

  it('does nothing when Node was started without --expose-gc', () => {
    const clock = new ManualClock();
    const collector = new IdleCollector(() => false, undefined, clock);
    assert.equal(collector.available, false);
    collector.workDone();
    clock.advance(10 * IDLE_DELAY_MS);
    assert.equal(collector.collections, 0);
  });

  it('is possible in the server as its launchers start it, with the same heap flags in both', () => {
    const shebang = readFileSync(path.join(REPO_ROOT, 'bin', 'ephemeral-root-ls.js'), 'utf8').split('\n')[0];
    const flags = shebang.replace(/^#!\/usr\/bin\/env -S node\s+/, '').split(/\s+/);
    assert.ok(flags.includes('--expose-gc'), shebang);
    // Without it, V8 pretenures what an analysis of a large host allocates, and every dead analysis is copied by the
    // scavenges until the next mark-compact (the young-retention rows of npm run bench measure it).
    assert.ok(flags.includes('--no-allocation-site-pretenuring'), shebang);
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
