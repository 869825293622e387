/**
 * A late `mkIf` condition (late-condition.ts) reads `config` to decide itself. One that a read leaves undecided is not
 * read again while nothing that could change the answer changed: the revision, the state of `config` (readable or
 * not) and the number of conditions decided since. A read made inside another condition's decision is not remembered.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LateCondition } from '../../server/src/model/late-condition';
import type { ConfigReader, Value } from '../../server/src/model/values';

/** A `config` that answers what `answer` says and counts the reads made of it. */
class CountingConfig implements ConfigReader {
  reads = 0;
  state = 1;
  constructor(private readonly answer: () => Value | undefined) {}
  read(): Value | undefined {
    this.reads++;
    return this.answer();
  }
}

const UNKNOWN: Value = { kind: 'unknown', reason: 'a module we cannot read defines it' };
const TRUE: Value = { kind: 'bool', value: true };

function condition(config: ConfigReader, name = 'enable'): LateCondition {
  return new LateCondition({ path: ['config', 'services', name], config });
}

describe('late conditions', () => {
  it('read an undecided option once, however often they are asked', () => {
    const config = new CountingConfig(() => UNKNOWN);
    const late = condition(config);
    for (let index = 0; index < 5; index++) assert.equal(late.value(), undefined);
    assert.equal(config.reads, 1);
  });

  it('read it again once config changes between readable and unreadable', () => {
    const config = new CountingConfig(() => UNKNOWN);
    const late = condition(config);
    late.value();
    config.state++;
    late.value();
    late.value();
    assert.equal(config.reads, 2);
  });

  it('read it again once another condition was decided, which may decide this one', () => {
    const config = new CountingConfig(() => UNKNOWN);
    const late = condition(config);
    late.value();
    assert.equal(condition(new CountingConfig(() => TRUE), 'other').value(), true);
    late.value();
    assert.equal(config.reads, 2);
  });

  it('do not remember a read made while another condition is being decided', () => {
    const inner = new CountingConfig(() => UNKNOWN);
    const nested = condition(inner, 'nested');
    // Deciding `outer` reads `config`, and that read asks `nested` (a definition under it is merged meanwhile).
    const outer = condition(new CountingConfig(() => (nested.value(), UNKNOWN)), 'outer');
    outer.value();
    assert.equal(inner.reads, 1);
    nested.value();
    nested.value();
    assert.equal(inner.reads, 2, 'asked outside any other decision, the nested condition reads once more, then remembers');
  });

  it('stay decided once a read answers a boolean', () => {
    const config = new CountingConfig(() => TRUE);
    const late = condition(config);
    assert.equal(late.value(), true);
    config.state++;
    assert.equal(late.value(), true);
    assert.equal(config.reads, 1);
  });
});
