/**
 * A cache kept on its key objects, for keys that live shorter than the cache.
 *
 * A `WeakMap` that lives for the whole session, keyed by objects of one analysis (a module's value, a definition, a
 * function value of an edited file), frees an entry once its key is gone, but only at a mark-compact: V8's scavenges
 * keep the values of such entries alive (measured on Node 20: a long-lived `WeakMap` given a fresh key and a 1 KB value
 * per call keeps all 50 values of 50 calls through a scavenge, and a full collection frees them). Those values are
 * whole analyses (a module's expanded configuration, a module applied to its arguments), so every scavenge copied
 * every dead analysis since the last mark-compact and promoted them, which filled the old generation
 * (docs/performance.md, "Scavenges kept analyses that were already dead"). Kept as a property of the key instead, the
 * value goes when its key goes, at the next scavenge.
 *
 * The property is keyed by a symbol of each cache and not enumerable: it is invisible to `Object.keys`, to JSON and
 * to the spreads that copy values (a copy does not take over the original's cache).
 */
export class KeptOnKey<K extends object, V> {
  private readonly slot: symbol;

  constructor(description: string) {
    this.slot = Symbol(description);
  }

  get(key: K): V | undefined {
    return (key as Record<symbol, V | undefined>)[this.slot];
  }

  set(key: K, value: V): void {
    Object.defineProperty(key, this.slot, { value, writable: true, configurable: true, enumerable: false });
  }
}
