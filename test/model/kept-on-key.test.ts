/**
 * `KeptOnKey` (kept-on-key.ts): a cache kept as a hidden property of each key, in place of a long-lived `WeakMap`
 * keyed by short-lived objects. It must answer what it was given, per key and per cache, and stay invisible to the
 * code that reads or copies the keys (values are spread, listed and serialised all over the model).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeptOnKey } from '../../server/src/model/kept-on-key';

describe('KeptOnKey', () => {
  it('answers the value set for a key, per key and per cache, and the last one set', () => {
    const first = new KeptOnKey<object, string>('first');
    const second = new KeptOnKey<object, string>('second');
    const one = {};
    const two = {};
    assert.equal(first.get(one), undefined);
    first.set(one, 'a');
    first.set(two, 'b');
    second.set(one, 'c');
    assert.equal(first.get(one), 'a');
    assert.equal(first.get(two), 'b');
    assert.equal(second.get(one), 'c');
    assert.equal(second.get(two), undefined);
    first.set(one, 'd');
    assert.equal(first.get(one), 'd');
  });

  it('leaves no trace in what reads or copies the key', () => {
    const cache = new KeptOnKey<{ kind: string }, number[]>('hidden');
    const key = { kind: 'attrs' };
    cache.set(key, [1, 2]);
    assert.deepEqual(Object.keys(key), ['kind']);
    assert.equal(JSON.stringify(key), '{"kind":"attrs"}');
    assert.deepEqual(key, { kind: 'attrs' });
    // A copy made with a spread is another value: it does not take over the original's cache.
    const copy = { ...key };
    assert.equal(cache.get(copy), undefined);
    assert.deepEqual(cache.get(key), [1, 2]);
  });
});
