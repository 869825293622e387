/**
 * `builtins` and the part of nixpkgs' `lib` that configurations use to build modules, hosts and attribute sets.
 *
 * Each function computes its result when its inputs are known and returns an unknown value otherwise. Module-system
 * properties (`mkIf`, `mkMerge`, `mkOverride`, `mkOrder`) are returned as property values for the module layer.
 * Functions that are not modelled are unknown by name ("lib.foo is not modelled"), never guessed.
 */
import { createHash } from 'node:crypto';
import { RE2JS } from 're2js';
import path from 'node:path';
import { allocate, allocateString } from './budget';
import { binaryOperation, budgetReason, valuesEqual } from './operators';
import { optionTypes } from './option-types';
import { interpolationPieces } from './strings';
import {
  type AttrsValue,
  type CallSite,
  type ListValue,
  type Origin,
  type PrimopValue,
  type StringPiece,
  type StringValue,
  type Thunk,
  type Value,
  LazyThunk,
  attrsOf,
  emptyAttrs,
  known,
  str,
  stringText,
  unknown,
} from './values';

type Impl = (args: Thunk[], call: CallSite) => Value;

function primop(name: string, arity: number, impl: Impl): PrimopValue {
  return { kind: 'primop', name, arity, args: [], impl };
}

const bool = (value: boolean, origin?: Origin): Value => ({ kind: 'bool', value, origin });
const int = (value: number, origin?: Origin): Value => ({ kind: 'int', value, origin });
/**
 * A list a builtin computed. Its cells are charged to the host's budget after the fact (the array exists already);
 * the builtins that could build a large list in one go (`concatLists`) charge before they copy.
 */
const list = (items: Thunk[], origin?: Origin): ListValue => {
  allocate(items.length);
  return { kind: 'list', items, origin };
};

function why(value: Value, what: string, origin?: Origin): Value {
  if (value.kind === 'unknown') return unknown(`${what}: ${value.reason}`, origin ?? value.origin);
  if (value.kind === 'symbol') return unknown(`${what}: value of ${value.path.join('.')}`, origin ?? value.origin);
  return unknown(`${what}: expected another type, got ${value.kind}`, origin);
}

/** Forces a list argument, or returns the unknown value that explains why it is not one. */
function listArg(thunk: Thunk, what: string, origin?: Origin): ListValue | Value {
  const value = thunk.force();
  return value.kind === 'list' ? value : why(value, what, origin);
}

function attrsArg(thunk: Thunk, what: string, origin?: Origin): AttrsValue | Value {
  const value = thunk.force();
  if (value.kind === 'attrs' && value.unknownKeys.length === 0) return value;
  if (value.kind === 'attrs') return unknown(`${what}: a set with computed attribute names`, origin);
  return why(value, what, origin);
}

function isList(value: Value): value is ListValue {
  return value.kind === 'list';
}
function isAttrs(value: Value): value is AttrsValue {
  return value.kind === 'attrs';
}

function textArg(thunk: Thunk): string | undefined {
  return stringText(thunk.force());
}

function sortedNames(attrs: AttrsValue): string[] {
  return [...attrs.entries.keys()].sort();
}

function call(site: CallSite, fn: Value, ...args: Thunk[]): Value {
  let result = fn;
  for (const arg of args) result = site.evaluator.apply(result, arg, site);
  return result;
}

function lazyCall(site: CallSite, fn: Value, ...args: Thunk[]): Thunk {
  return new LazyThunk(() => call(site, fn, ...args), site.origin);
}

function toStringValue(value: Value, origin?: Origin): Value {
  switch (value.kind) {
    case 'string':
      return value;
    case 'int':
    case 'float':
      return str(String(value.value), origin);
    case 'bool':
      return str(value.value ? '1' : '', origin);
    case 'null':
      return str('', origin);
    case 'path':
      return str(value.path, origin);
    case 'list': {
      const parts: StringValue[] = [];
      for (const item of value.items) {
        const part = toStringValue(item.force(), origin);
        if (part.kind !== 'string') return part;
        if (!allocateString(part.pieces)) return unknown(budgetReason(), origin);
        parts.push(part);
      }
      return { kind: 'string', pieces: parts.flatMap((part, index) => (index === 0 ? part.pieces : [{ text: ' ' }, ...part.pieces])), origin };
    }
    default:
      return { kind: 'string', pieces: interpolationPieces(value, origin), origin };
  }
}

function mapList(fnThunk: Thunk, listThunk: Thunk, site: CallSite, what: string): Value {
  const items = listArg(listThunk, what, site.origin);
  if (!isList(items)) return items;
  const fn = fnThunk.force();
  return list(items.items.map((item) => lazyCall(site, fn, item)), site.origin);
}

function filterList(fnThunk: Thunk, listThunk: Thunk, site: CallSite): Value {
  const items = listArg(listThunk, 'filter', site.origin);
  if (!isList(items)) return items;
  const fn = fnThunk.force();
  const kept: Thunk[] = [];
  for (const item of items.items) {
    const keep = call(site, fn, item);
    if (keep.kind !== 'bool') return why(keep, 'filter predicate', site.origin);
    if (keep.value) kept.push(item);
  }
  return list(kept, site.origin);
}

function concatLists(listsThunk: Thunk, site: CallSite, what: string): Value {
  const outer = listArg(listsThunk, what, site.origin);
  if (!isList(outer)) return outer;
  const items: Thunk[] = [];
  for (const inner of outer.items) {
    const value = inner.force();
    if (!isList(value)) return why(value, what, site.origin);
    if (!allocate(value.items.length)) return unknown(budgetReason(), site.origin);
    for (const item of value.items) items.push(item);
  }
  return { kind: 'list', items, origin: site.origin };
}

function foldLeft(fnThunk: Thunk, initial: Thunk, listThunk: Thunk, site: CallSite): Value {
  const items = listArg(listThunk, 'foldl', site.origin);
  if (!isList(items)) return items;
  const fn = fnThunk.force();
  let accumulator = initial;
  for (const item of items.items) {
    const value = call(site, fn, accumulator, item);
    if (value.kind === 'unknown') return value;
    accumulator = known(value);
  }
  return accumulator.force();
}

function listToAttrs(listThunk: Thunk, site: CallSite): Value {
  const items = listArg(listThunk, 'listToAttrs', site.origin);
  if (!isList(items)) return items;
  const attrs = emptyAttrs(site.origin);
  for (const item of items.items) {
    const pair = item.force();
    if (!isAttrs(pair)) return why(pair, 'listToAttrs element', site.origin);
    const name = pair.entries.get('name');
    const value = pair.entries.get('value');
    if (!name || !value) return unknown('listToAttrs element without name/value', site.origin);
    const nameText = stringText(name.thunk.force());
    if (nameText === undefined) {
      attrs.unknownKeys.push({ reason: unknown('listToAttrs with a computed name', site.origin), thunk: value.thunk, keyOrigin: name.thunk.origin });
      continue;
    }
    // The first occurrence wins, as in Nix.
    if (!attrs.entries.has(nameText)) attrs.entries.set(nameText, { thunk: value.thunk, keyOrigin: name.thunk.origin });
  }
  return attrs;
}

function mapAttrs(fnThunk: Thunk, attrsThunk: Thunk, site: CallSite): Value {
  const attrs = attrsArg(attrsThunk, 'mapAttrs', site.origin);
  if (!isAttrs(attrs)) return attrs;
  const fn = fnThunk.force();
  const result = emptyAttrs(site.origin);
  for (const [name, entry] of attrs.entries) {
    result.entries.set(name, { thunk: lazyCall(site, fn, known(str(name, entry.keyOrigin)), entry.thunk), keyOrigin: entry.keyOrigin });
  }
  return result;
}

function mapAttrsToList(fnThunk: Thunk, attrsThunk: Thunk, site: CallSite): Value {
  const attrs = attrsArg(attrsThunk, 'mapAttrsToList', site.origin);
  if (!isAttrs(attrs)) return attrs;
  const fn = fnThunk.force();
  return list(
    sortedNames(attrs).map((name) => {
      const entry = attrs.entries.get(name)!;
      return lazyCall(site, fn, known(str(name, entry.keyOrigin)), entry.thunk);
    }),
    site.origin,
  );
}

function filterAttrs(fnThunk: Thunk, attrsThunk: Thunk, site: CallSite): Value {
  const attrs = attrsArg(attrsThunk, 'filterAttrs', site.origin);
  if (!isAttrs(attrs)) return attrs;
  const fn = fnThunk.force();
  const result = emptyAttrs(site.origin);
  for (const [name, entry] of attrs.entries) {
    const keep = call(site, fn, known(str(name)), entry.thunk);
    if (keep.kind !== 'bool') return why(keep, 'filterAttrs predicate', site.origin);
    if (keep.value) result.entries.set(name, entry);
  }
  return result;
}

function genAttrs(namesThunk: Thunk, fnThunk: Thunk, site: CallSite): Value {
  const names = listArg(namesThunk, 'genAttrs', site.origin);
  if (!isList(names)) return names;
  const fn = fnThunk.force();
  const result = emptyAttrs(site.origin);
  for (const item of names.items) {
    const name = stringText(item.force());
    if (name === undefined) return unknown('genAttrs with a computed name', site.origin);
    result.entries.set(name, { thunk: lazyCall(site, fn, item), keyOrigin: item.origin });
  }
  return result;
}

function recursiveUpdate(leftThunk: Thunk, rightThunk: Thunk, origin?: Origin, depth = 0): Value {
  const left = leftThunk.force();
  const right = rightThunk.force();
  if (!isAttrs(left) || !isAttrs(right) || depth > 40) return binaryOperation('//', left, right, origin);
  const result = emptyAttrs(origin);
  for (const [name, entry] of left.entries) result.entries.set(name, entry);
  for (const [name, entry] of right.entries) {
    const existing = result.entries.get(name);
    if (!existing) {
      result.entries.set(name, entry);
      continue;
    }
    const merged = new LazyThunk(() => {
      const a = existing.thunk.force();
      const b = entry.thunk.force();
      return isAttrs(a) && isAttrs(b) ? recursiveUpdate(existing.thunk, entry.thunk, origin, depth + 1) : b;
    }, entry.thunk.origin);
    result.entries.set(name, { thunk: merged, keyOrigin: entry.keyOrigin });
  }
  result.unknownKeys = [...left.unknownKeys, ...right.unknownKeys];
  return result;
}

function attrByPath(pathThunk: Thunk, fallback: Thunk | undefined, attrsThunk: Thunk, site: CallSite): Value {
  const names = listArg(pathThunk, 'attrByPath', site.origin);
  if (!isList(names)) return names;
  let current = attrsThunk.force();
  for (const item of names.items) {
    const name = stringText(item.force());
    if (name === undefined) return unknown('attrByPath with a computed name', site.origin);
    if (!isAttrs(current)) return current.kind === 'unknown' ? current : fallback ? fallback.force() : unknown('attrByPath on a non-set', site.origin);
    const entry = current.entries.get(name);
    if (!entry) {
      if (current.unknownKeys.length > 0 || current.open) return unknown(`attrByPath: ${name} in a set with unknown names`, site.origin);
      return fallback ? fallback.force() : unknown(`attribute ${name} missing`, site.origin);
    }
    current = entry.thunk.force();
  }
  return current;
}

function setAttrByPath(pathThunk: Thunk, valueThunk: Thunk, site: CallSite): Value {
  const names = listArg(pathThunk, 'setAttrByPath', site.origin);
  if (!isList(names)) return names;
  let result: Thunk = valueThunk;
  for (let index = names.items.length - 1; index >= 0; index--) {
    const name = stringText(names.items[index].force());
    if (name === undefined) return unknown('setAttrByPath with a computed name', site.origin);
    const attrs = emptyAttrs(site.origin);
    attrs.entries.set(name, { thunk: result });
    result = known(attrs);
  }
  return result.force();
}

function conditional(condition: Thunk, whenTrue: () => Value, whenFalse: () => Value, what: string, origin?: Origin): Value {
  const value = condition.force();
  if (value.kind === 'bool') return value.value ? whenTrue() : whenFalse();
  return why(value, `${what} condition`, origin);
}

function stringFunction(name: string, arity: number, compute: (...texts: string[]) => Value): PrimopValue {
  return primop(name, arity, (args, site) => {
    const texts: string[] = [];
    for (const arg of args) {
      const text = textArg(arg);
      if (text === undefined) return why(arg.force(), name, site.origin);
      texts.push(text);
    }
    return compute(...texts);
  });
}

function compareVersions(a: string, b: string): number {
  const split = (version: string) => version.split(/[.-]/).map((part) => (/^\d+$/.test(part) ? Number(part) : part));
  const left = split(a);
  const right = split(b);
  for (let index = 0; index < Math.max(left.length, right.length); index++) {
    const x = left[index] ?? 0;
    const y = right[index] ?? 0;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x < y ? -1 : 1;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

/** Converts parsed JSON into a Nix value. */
function fromJson(value: unknown, origin?: Origin): Value {
  if (value === null) return { kind: 'null', origin };
  if (typeof value === 'boolean') return bool(value, origin);
  if (typeof value === 'number') return Number.isInteger(value) ? int(value, origin) : { kind: 'float', value, origin };
  if (typeof value === 'string') return str(value, origin);
  if (Array.isArray(value)) return list(value.map((item) => known(fromJson(item, origin))), origin);
  const attrs = emptyAttrs(origin);
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) attrs.entries.set(key, { thunk: known(fromJson(item, origin)) });
  return attrs;
}

function typeOf(value: Value): string | undefined {
  switch (value.kind) {
    case 'int':
    case 'float':
    case 'bool':
    case 'string':
    case 'path':
    case 'list':
    case 'null':
      return value.kind;
    case 'attrs':
    case 'nixosSystem':
    case 'option':
      return 'set';
    case 'lambda':
    case 'primop':
      return 'lambda';
    default:
      return undefined;
  }
}

function typeTest(name: string, test: (value: Value) => boolean): PrimopValue {
  return primop(name, 1, ([thunk], site) => {
    const value = thunk.force();
    if (value.kind === 'unknown' || value.kind === 'symbol' || value.kind === 'mkIf' || value.kind === 'mkMerge') return why(value, name, site.origin);
    return bool(test(value), site.origin);
  });
}

const override = (name: string, priority: number) =>
  primop(name, 1, ([content], site) => ({ kind: 'mkOverride', priority, content, origin: site.origin }));
const order = (name: string, priority: number) =>
  primop(name, 1, ([content], site) => ({ kind: 'mkOrder', priority, content, origin: site.origin }));

/** Functions shared by `builtins` and `lib` (lib re-exports most builtins under the same names). */
function sharedFunctions(): Record<string, PrimopValue> {
  return {
    map: primop('map', 2, ([fn, items], site) => mapList(fn, items, site, 'map')),
    filter: primop('filter', 2, ([fn, items], site) => filterList(fn, items, site)),
    "foldl'": primop("foldl'", 3, ([fn, initial, items], site) => foldLeft(fn, initial, items, site)),
    concatLists: primop('concatLists', 1, ([items], site) => concatLists(items, site, 'concatLists')),
    concatMap: primop('concatMap', 2, ([fn, items], site) => {
      const mapped = mapList(fn, items, site, 'concatMap');
      return isList(mapped) ? concatLists(known(mapped), site, 'concatMap') : mapped;
    }),
    concatStringsSep: primop('concatStringsSep', 2, ([separator, items], site) => {
      const sep = textArg(separator);
      const values = listArg(items, 'concatStringsSep', site.origin);
      if (sep === undefined) return why(separator.force(), 'concatStringsSep', site.origin);
      if (!isList(values)) return values;
      const pieces: StringPiece[] = [];
      for (const [index, item] of values.items.entries()) {
        const piece = toStringValue(item.force(), site.origin);
        const own = piece.kind === 'string' ? piece.pieces : [{ text: '', unknown: unknown('concatStringsSep element', site.origin) }];
        if (!allocateString(own)) return unknown(budgetReason(), site.origin);
        if (index > 0) pieces.push({ text: sep });
        for (const part of own) pieces.push(part);
      }
      return { kind: 'string', pieces, origin: site.origin };
    }),
    attrNames: primop('attrNames', 1, ([attrs], site) => {
      const value = attrsArg(attrs, 'attrNames', site.origin);
      if (!isAttrs(value)) return value;
      return list(sortedNames(value).map((name) => known(str(name, value.entries.get(name)?.keyOrigin))), site.origin);
    }),
    attrValues: primop('attrValues', 1, ([attrs], site) => {
      const value = attrsArg(attrs, 'attrValues', site.origin);
      if (!isAttrs(value)) return value;
      return list(sortedNames(value).map((name) => value.entries.get(name)!.thunk), site.origin);
    }),
    hasAttr: primop('hasAttr', 2, ([name, attrs], site) => {
      const text = textArg(name);
      const value = attrs.force();
      if (text === undefined || !isAttrs(value)) return unknown('hasAttr on unknown values', site.origin);
      if (value.entries.has(text)) return bool(true, site.origin);
      return value.unknownKeys.length || value.open ? unknown('hasAttr on a set with unknown names', site.origin) : bool(false, site.origin);
    }),
    getAttr: primop('getAttr', 2, ([name, attrs], site) => {
      const text = textArg(name);
      const value = attrs.force();
      if (text === undefined) return unknown('getAttr with a computed name', site.origin);
      return site.evaluator instanceof Object && isAttrs(value) && value.entries.has(text)
        ? value.entries.get(text)!.thunk.force()
        : unknown(`getAttr ${text}`, site.origin);
    }),
    listToAttrs: primop('listToAttrs', 1, ([items], site) => listToAttrs(items, site)),
    mapAttrs: primop('mapAttrs', 2, ([fn, attrs], site) => mapAttrs(fn, attrs, site)),
    removeAttrs: primop('removeAttrs', 2, ([attrs, names], site) => {
      const value = attrs.force();
      const removed = listArg(names, 'removeAttrs', site.origin);
      if (!isAttrs(value)) return why(value, 'removeAttrs', site.origin);
      if (!isList(removed)) return removed;
      const result = emptyAttrs(value.origin);
      const drop = new Set(removed.items.map((item) => textArg(item)));
      for (const [name, entry] of value.entries) if (!drop.has(name)) result.entries.set(name, entry);
      result.unknownKeys = value.unknownKeys;
      return result;
    }),
    intersectAttrs: primop('intersectAttrs', 2, ([left, right], site) => {
      const a = attrsArg(left, 'intersectAttrs', site.origin);
      const b = attrsArg(right, 'intersectAttrs', site.origin);
      if (!isAttrs(a)) return a;
      if (!isAttrs(b)) return b;
      const result = emptyAttrs(site.origin);
      for (const [name, entry] of b.entries) if (a.entries.has(name)) result.entries.set(name, entry);
      return result;
    }),
    catAttrs: primop('catAttrs', 2, ([name, items], site) => {
      const text = textArg(name);
      const values = listArg(items, 'catAttrs', site.origin);
      if (text === undefined) return unknown('catAttrs with a computed name', site.origin);
      if (!isList(values)) return values;
      const result: Thunk[] = [];
      for (const item of values.items) {
        const value = item.force();
        if (!isAttrs(value)) return why(value, 'catAttrs', site.origin);
        const entry = value.entries.get(text);
        if (entry) result.push(entry.thunk);
      }
      return list(result, site.origin);
    }),
    head: primop('head', 1, ([items], site) => {
      const value = listArg(items, 'head', site.origin);
      if (!isList(value)) return value;
      return value.items[0]?.force() ?? unknown('head of an empty list', site.origin);
    }),
    tail: primop('tail', 1, ([items], site) => {
      const value = listArg(items, 'tail', site.origin);
      return isList(value) ? list(value.items.slice(1), site.origin) : value;
    }),
    elemAt: primop('elemAt', 2, ([items, index], site) => {
      const value = listArg(items, 'elemAt', site.origin);
      const position = index.force();
      if (!isList(value)) return value;
      if (position.kind !== 'int') return why(position, 'elemAt', site.origin);
      return value.items[position.value]?.force() ?? unknown('elemAt out of range', site.origin);
    }),
    length: primop('length', 1, ([items], site) => {
      const value = listArg(items, 'length', site.origin);
      return isList(value) ? int(value.items.length, site.origin) : value;
    }),
    elem: primop('elem', 2, ([needle, items], site) => {
      const value = listArg(items, 'elem', site.origin);
      if (!isList(value)) return value;
      const target = needle.force();
      let uncertain = false;
      for (const item of value.items) {
        const equal = valuesEqual(target, item.force());
        if (equal === true) return bool(true, site.origin);
        if (equal === undefined) uncertain = true;
      }
      return uncertain ? unknown('elem over unknown values', site.origin) : bool(false, site.origin);
    }),
    all: primop('all', 2, ([fn, items], site) => {
      const value = listArg(items, 'all', site.origin);
      if (!isList(value)) return value;
      const predicate = fn.force();
      for (const item of value.items) {
        const result = call(site, predicate, item);
        if (result.kind !== 'bool') return why(result, 'all', site.origin);
        if (!result.value) return bool(false, site.origin);
      }
      return bool(true, site.origin);
    }),
    any: primop('any', 2, ([fn, items], site) => {
      const value = listArg(items, 'any', site.origin);
      if (!isList(value)) return value;
      const predicate = fn.force();
      for (const item of value.items) {
        const result = call(site, predicate, item);
        if (result.kind !== 'bool') return why(result, 'any', site.origin);
        if (result.value) return bool(true, site.origin);
      }
      return bool(false, site.origin);
    }),
    genList: primop('genList', 2, ([fn, count], site) => {
      const n = count.force();
      if (n.kind !== 'int' || n.value > 10_000) return why(n, 'genList', site.origin);
      const generator = fn.force();
      return list(Array.from({ length: n.value }, (_, index) => lazyCall(site, generator, known(int(index)))), site.origin);
    }),
    toString: primop('toString', 1, ([value], site) => toStringValue(value.force(), site.origin)),
    baseNameOf: stringFunction('baseNameOf', 1, (text) => str(path.posix.basename(text))),
    dirOf: primop('dirOf', 1, ([value], site) => {
      const forced = value.force();
      if (forced.kind === 'path') return { kind: 'path', path: path.dirname(forced.path), origin: site.origin };
      const text = stringText(forced);
      return text === undefined ? why(forced, 'dirOf', site.origin) : str(path.posix.dirname(text), site.origin);
    }),
    substring: primop('substring', 3, ([start, length, text], site) => {
      const from = start.force();
      const count = length.force();
      const value = textArg(text);
      if (from.kind !== 'int' || count.kind !== 'int' || value === undefined) return unknown('substring of unknown values', site.origin);
      return str(value.substr(from.value, count.value < 0 ? undefined : count.value), site.origin);
    }),
    stringLength: stringFunction('stringLength', 1, (text) => int(text.length)),
    replaceStrings: primop('replaceStrings', 3, ([from, to, text], site) => {
      const sources = listArg(from, 'replaceStrings', site.origin);
      const targets = listArg(to, 'replaceStrings', site.origin);
      const input = textArg(text);
      if (!isList(sources) || !isList(targets) || input === undefined) return unknown('replaceStrings on unknown values', site.origin);
      const pairs = sources.items.map((item, index) => [textArg(item), textArg(targets.items[index])] as const);
      if (pairs.some(([a, b]) => a === undefined || b === undefined)) return unknown('replaceStrings on unknown values', site.origin);
      let output = '';
      for (let index = 0; index < input.length; ) {
        const match = pairs.find(([a]) => input.startsWith(a as string, index));
        if (match && (match[0] as string).length > 0) {
          output += match[1];
          index += (match[0] as string).length;
        } else {
          output += input[index];
          index++;
        }
      }
      return str(output, site.origin);
    }),
    hashString: primop('hashString', 2, ([algorithm, text], site) => {
      const name = textArg(algorithm);
      const value = textArg(text);
      if (name === undefined || value === undefined || !['md5', 'sha1', 'sha256', 'sha512'].includes(name)) return unknown('hashString of unknown values', site.origin);
      return str(createHash(name).update(value).digest('hex'), site.origin);
    }),
    match: primop('match', 2, ([regex, text], site) => {
      const pattern = textArg(regex);
      const value = textArg(text);
      if (pattern === undefined || value === undefined) return unknown('match on unknown values', site.origin);
      // RE2's engine runs in time linear in the text: a hostile pattern such as `(a*)*b` cannot hang the analysis, as
      // it would with JavaScript's backtracking RegExp. Nix reads POSIX extended expressions, which RE2 accepts.
      let matcher;
      try {
        matcher = RE2JS.compile(pattern, RE2JS.DOTALL).matcher(value);
      } catch {
        return unknown('match with a regular expression we cannot run', site.origin);
      }
      if (!matcher.matches()) return { kind: 'null', origin: site.origin };
      const groups: Thunk[] = [];
      for (let index = 1; index <= matcher.groupCount(); index++) {
        const group = matcher.group(index);
        groups.push(known(group === null ? { kind: 'null' } : str(group)));
      }
      return list(groups, site.origin);
    }),
    compareVersions: stringFunction('compareVersions', 2, (a, b) => int(compareVersions(a, b))),
    isAttrs: typeTest('isAttrs', (value) => value.kind === 'attrs'),
    isList: typeTest('isList', (value) => value.kind === 'list'),
    isString: typeTest('isString', (value) => value.kind === 'string'),
    isBool: typeTest('isBool', (value) => value.kind === 'bool'),
    isInt: typeTest('isInt', (value) => value.kind === 'int'),
    isPath: typeTest('isPath', (value) => value.kind === 'path'),
    isFunction: typeTest('isFunction', (value) => value.kind === 'lambda' || value.kind === 'primop'),
    isNull: typeTest('isNull', (value) => value.kind === 'null'),
    typeOf: primop('typeOf', 1, ([value], site) => {
      const type = typeOf(value.force());
      return type ? str(type, site.origin) : why(value.force(), 'typeOf', site.origin);
    }),
    seq: primop('seq', 2, ([, second]) => second.force()),
    deepSeq: primop('deepSeq', 2, ([, second]) => second.force()),
    trace: primop('trace', 2, ([, second]) => second.force()),
    lessThan: primop('lessThan', 2, ([a, b], site) => binaryOperation('<', a.force(), b.force(), site.origin)),
    add: primop('add', 2, ([a, b], site) => binaryOperation('+', a.force(), b.force(), site.origin)),
    sub: primop('sub', 2, ([a, b], site) => binaryOperation('-', a.force(), b.force(), site.origin)),
    mul: primop('mul', 2, ([a, b], site) => binaryOperation('*', a.force(), b.force(), site.origin)),
    div: primop('div', 2, ([a, b], site) => binaryOperation('/', a.force(), b.force(), site.origin)),
    functionArgs: primop('functionArgs', 1, ([fn], site) => {
      const value = fn.force();
      if (value.kind !== 'lambda') return why(value, 'functionArgs', site.origin);
      const result = emptyAttrs(site.origin);
      const formals = value.node.childForFieldName('formals');
      for (const formal of formals?.childrenForFieldName('formal') ?? []) {
        const name = formal?.childForFieldName('name');
        if (name && !name.isMissing) result.entries.set(name.text, { thunk: known(bool(formal?.childForFieldName('default') !== null)) });
      }
      return result;
    }),
  };
}

function readDirValue(dir: Thunk, site: CallSite): Value {
  const value = dir.force();
  const dirPath = value.kind === 'path' ? value.path : undefined;
  if (!dirPath) return why(value, 'readDir', site.origin);
  const entries = site.evaluator.readDir(dirPath);
  if (typeof entries === 'string') return unknown(`readDir: ${entries}`, site.origin);
  const result = emptyAttrs(site.origin);
  for (const [name, type] of entries) result.entries.set(name, { thunk: known(str(type)) });
  return result;
}

function readFileValue(file: Thunk, site: CallSite, trim: boolean): Value {
  const value = file.force();
  const filePath = value.kind === 'path' ? value.path : undefined;
  if (!filePath) return why(value, 'readFile', site.origin);
  const text = site.evaluator.readText(filePath);
  if (typeof text !== 'string') return unknown(`readFile: ${text.refused}`, site.origin);
  return str(trim ? text.replace(/\n+$/, '') : text, site.origin);
}

/** A source tree fetched from the network, named by its URL (never downloaded). */
function fetchedSource(fetcher: string, source: Thunk, origin?: Origin): Value {
  const value = source.force();
  const url = stringText(value) ?? (value.kind === 'attrs' ? stringText(value.entries.get('url')?.thunk.force() ?? { kind: 'null' }) : undefined);
  return url ? { kind: 'symbol', path: [fetcher, url], origin } : unknown(`${fetcher} of a computed URL`, origin);
}

function builtinsSet(shared: Record<string, PrimopValue>, importFn: PrimopValue): AttrsValue {
  const impure = (name: string) => primop(name, 1, (_args, site) => unknown(`${name} is not evaluated by a static analysis`, site.origin));
  return attrsOf({
    ...shared,
    import: importFn,
    readDir: primop('readDir', 1, ([dir], site) => readDirValue(dir, site)),
    pathExists: primop('pathExists', 1, ([target], site) => {
      const value = target.force();
      if (value.kind !== 'path') return why(value, 'pathExists', site.origin);
      const exists = site.evaluator.pathExists(value.path);
      return typeof exists === 'string' ? unknown(`pathExists: ${exists}`, site.origin) : bool(exists, site.origin);
    }),
    readFile: primop('readFile', 1, ([file], site) => readFileValue(file, site, false)),
    fromJSON: primop('fromJSON', 1, ([text], site) => {
      const value = textArg(text);
      if (value === undefined) return unknown('fromJSON of an unknown string', site.origin);
      try {
        return fromJson(JSON.parse(value), site.origin);
      } catch {
        return unknown('fromJSON of invalid JSON', site.origin);
      }
    }),
    getEnv: impure('getEnv'),
    getFlake: impure('getFlake'),
    fetchTarball: primop('fetchTarball', 1, ([source], site) => fetchedSource('fetchTarball', source, site.origin)),
    fetchGit: primop('fetchGit', 1, ([source], site) => fetchedSource('fetchGit', source, site.origin)),
    fetchurl: impure('fetchurl'),
    fetchTree: impure('fetchTree'),
    tryEval: impure('tryEval'),
    toJSON: impure('toJSON'),
    toFile: impure('toFile'),
    currentSystem: unknown('builtins.currentSystem is not known statically'),
    storeDir: str('/nix/store'),
  });
}

/** The `lib` attribute set: what modules and flakes use, including the module-system properties. */
function libSet(shared: Record<string, PrimopValue>): AttrsValue {
  const fns: Record<string, PrimopValue> = {
    ...shared,
    mkIf: primop('mkIf', 2, ([condition, content], site) => ({ kind: 'mkIf', condition, content, origin: site.origin })),
    mkMerge: primop('mkMerge', 1, ([contents], site) => ({ kind: 'mkMerge', contents, origin: site.origin })),
    mkOverride: primop('mkOverride', 2, ([priority, content], site) => {
      const value = priority.force();
      if (value.kind !== 'int') return why(value, 'mkOverride priority', site.origin);
      return { kind: 'mkOverride', priority: value.value, content, origin: site.origin };
    }),
    mkForce: override('mkForce', 50),
    mkDefault: override('mkDefault', 1000),
    mkOptionDefault: override('mkOptionDefault', 1500),
    mkVMOverride: override('mkVMOverride', 10),
    mkImageMediaOverride: override('mkImageMediaOverride', 60),
    mkOrder: primop('mkOrder', 2, ([priority, content], site) => {
      const value = priority.force();
      if (value.kind !== 'int') return why(value, 'mkOrder priority', site.origin);
      return { kind: 'mkOrder', priority: value.value, content, origin: site.origin };
    }),
    mkBefore: order('mkBefore', 500),
    mkAfter: order('mkAfter', 1500),
    mkOption: primop('mkOption', 1, ([args], site) => ({ kind: 'option', args, origin: site.origin })),
    mkEnableOption: primop('mkEnableOption', 1, (_args, site) => ({ kind: 'option', args: known(attrsOf({ default: bool(false) })), origin: site.origin })),
    mkPackageOption: primop('mkPackageOption', 3, (_args, site) => ({ kind: 'option', args: known(emptyAttrs()), origin: site.origin })),
    nixosSystem: primop('nixosSystem', 1, ([args], site) => ({ kind: 'nixosSystem', args, origin: site.origin })),
    optional: primop('optional', 2, ([condition, item], site) =>
      conditional(condition, () => list([item], site.origin), () => list([], site.origin), 'optional', site.origin),
    ),
    optionals: primop('optionals', 2, ([condition, items], site) =>
      conditional(condition, () => items.force(), () => list([], site.origin), 'optionals', site.origin),
    ),
    optionalString: primop('optionalString', 2, ([condition, text], site) =>
      conditional(condition, () => text.force(), () => str('', site.origin), 'optionalString', site.origin),
    ),
    optionalAttrs: primop('optionalAttrs', 2, ([condition, attrs], site) => {
      const value = condition.force();
      if (value.kind === 'bool') return value.value ? attrs.force() : emptyAttrs(site.origin);
      // Inside a module this behaves like mkIf; anywhere else the result is as unknown as the condition.
      return { kind: 'mkIf', condition, content: attrs, origin: site.origin };
    }),
    mapAttrsToList: primop('mapAttrsToList', 2, ([fn, attrs], site) => mapAttrsToList(fn, attrs, site)),
    "mapAttrs'": primop("mapAttrs'", 2, ([fn, attrs], site) => {
      const pairs = mapAttrsToList(fn, attrs, site);
      return isList(pairs) ? listToAttrs(known(pairs), site) : pairs;
    }),
    filterAttrs: primop('filterAttrs', 2, ([fn, attrs], site) => filterAttrs(fn, attrs, site)),
    nameValuePair: primop('nameValuePair', 2, ([name, value], site) => {
      const attrs = emptyAttrs(site.origin);
      attrs.entries.set('name', { thunk: name });
      attrs.entries.set('value', { thunk: value });
      return attrs;
    }),
    genAttrs: primop('genAttrs', 2, ([names, fn], site) => genAttrs(names, fn, site)),
    foldl: primop('foldl', 3, ([fn, initial, items], site) => foldLeft(fn, initial, items, site)),
    foldr: primop('foldr', 3, ([fn, initial, items], site) => {
      const value = listArg(items, 'foldr', site.origin);
      if (!isList(value)) return value;
      const operator = fn.force();
      let accumulator: Thunk = initial;
      for (let index = value.items.length - 1; index >= 0; index--) {
        const result = call(site, operator, value.items[index], accumulator);
        if (result.kind === 'unknown') return result;
        accumulator = known(result);
      }
      return accumulator.force();
    }),
    recursiveUpdate: primop('recursiveUpdate', 2, ([left, right], site) => recursiveUpdate(left, right, site.origin)),
    mergeAttrsList: primop('mergeAttrsList', 1, ([items], site) => {
      const value = listArg(items, 'mergeAttrsList', site.origin);
      if (!isList(value)) return value;
      let result: Value = emptyAttrs(site.origin);
      for (const item of value.items) result = binaryOperation('//', result, item.force(), site.origin);
      return result;
    }),
    flatten: primop('flatten', 1, ([items], site) => {
      const flat: Thunk[] = [];
      const visit = (thunk: Thunk, depth: number): Value | undefined => {
        const value = thunk.force();
        if (!isList(value)) {
          if (value.kind === 'unknown') return value;
          flat.push(thunk);
          return undefined;
        }
        if (depth > 50) return unknown('flatten: too deep', site.origin);
        for (const item of value.items) {
          const problem = visit(item, depth + 1);
          if (problem) return problem;
        }
        return undefined;
      };
      return visit(items, 0) ?? list(flat, site.origin);
    }),
    last: primop('last', 1, ([items], site) => {
      const value = listArg(items, 'last', site.origin);
      if (!isList(value)) return value;
      return value.items[value.items.length - 1]?.force() ?? unknown('last of an empty list', site.origin);
    }),
    singleton: primop('singleton', 1, ([item], site) => list([item], site.origin)),
    toList: primop('toList', 1, ([item], site) => {
      const value = item.force();
      return isList(value) ? value : list([item], site.origin);
    }),
    unique: primop('unique', 1, ([items], site) => {
      const value = listArg(items, 'unique', site.origin);
      if (!isList(value)) return value;
      const kept: Thunk[] = [];
      for (const item of value.items) {
        const forced = item.force();
        let duplicate = false;
        for (const other of kept) {
          const equal = valuesEqual(forced, other.force());
          if (equal === undefined) return unknown('unique over unknown values', site.origin);
          if (equal) duplicate = true;
        }
        if (!duplicate) kept.push(item);
      }
      return list(kept, site.origin);
    }),
    range: primop('range', 2, ([from, to], site) => {
      const a = from.force();
      const b = to.force();
      if (a.kind !== 'int' || b.kind !== 'int' || b.value - a.value > 10_000) return unknown('range of unknown bounds', site.origin);
      const items: Thunk[] = [];
      for (let index = a.value; index <= b.value; index++) items.push(known(int(index)));
      return list(items, site.origin);
    }),
    id: primop('id', 1, ([value]) => value.force()),
    const: primop('const', 2, ([value]) => value.force()),
    flip: primop('flip', 3, ([fn, a, b], site) => call(site, fn.force(), b, a)),
    pipe: primop('pipe', 2, ([value, fns], site) => {
      const functions = listArg(fns, 'pipe', site.origin);
      if (!isList(functions)) return functions;
      let result: Thunk = value;
      for (const fn of functions.items) result = known(call(site, fn.force(), result));
      return result.force();
    }),
    forEach: primop('forEach', 2, ([items, fn], site) => mapList(fn, items, site, 'forEach')),
    fix: primop('fix', 1, ([fn], site) => {
      const self: Thunk = new LazyThunk(() => call(site, fn.force(), self), site.origin);
      return self.force();
    }),
    attrByPath: primop('attrByPath', 3, ([names, fallback, attrs], site) => attrByPath(names, fallback, attrs, site)),
    getAttrFromPath: primop('getAttrFromPath', 2, ([names, attrs], site) => attrByPath(names, undefined, attrs, site)),
    setAttrByPath: primop('setAttrByPath', 2, ([names, value], site) => setAttrByPath(names, value, site)),
    hasPrefix: stringFunction('hasPrefix', 2, (prefix, text) => bool(text.startsWith(prefix))),
    hasSuffix: stringFunction('hasSuffix', 2, (suffix, text) => bool(text.endsWith(suffix))),
    hasInfix: stringFunction('hasInfix', 2, (infix, text) => bool(text.includes(infix))),
    removePrefix: stringFunction('removePrefix', 2, (prefix, text) => str(text.startsWith(prefix) ? text.slice(prefix.length) : text)),
    removeSuffix: stringFunction('removeSuffix', 2, (suffix, text) => str(suffix && text.endsWith(suffix) ? text.slice(0, -suffix.length) : text)),
    toLower: stringFunction('toLower', 1, (text) => str(text.toLowerCase())),
    toUpper: stringFunction('toUpper', 1, (text) => str(text.toUpperCase())),
    splitString: stringFunction('splitString', 2, (separator, text) => list(text.split(separator).map((part) => known(str(part))))),
    concatStrings: primop('concatStrings', 1, ([items], site) => call(site, shared.concatStringsSep, known(str('')), items)),
    concatMapStrings: primop('concatMapStrings', 2, ([fn, items], site) => {
      const mapped = mapList(fn, items, site, 'concatMapStrings');
      return isList(mapped) ? call(site, shared.concatStringsSep, known(str('')), known(mapped)) : mapped;
    }),
    concatMapStringsSep: primop('concatMapStringsSep', 3, ([separator, fn, items], site) => {
      const mapped = mapList(fn, items, site, 'concatMapStringsSep');
      return isList(mapped) ? call(site, shared.concatStringsSep, separator, known(mapped)) : mapped;
    }),
    concatLines: primop('concatLines', 1, ([items], site) => {
      const value = listArg(items, 'concatLines', site.origin);
      if (!isList(value)) return value;
      const withNewlines = list(value.items.map((item) => known(binaryOperation('+', item.force(), str('\n'), site.origin))), site.origin);
      return call(site, shared.concatStringsSep, known(str('')), known(withNewlines));
    }),
    escapeShellArg: stringFunction('escapeShellArg', 1, (text) => str(/^[\w,./:=@+-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`)),
    fileContents: primop('fileContents', 1, ([file], site) => readFileValue(file, site, true)),
    readFile: primop('readFile', 1, ([file], site) => readFileValue(file, site, false)),
    versionAtLeast: stringFunction('versionAtLeast', 2, (a, b) => bool(compareVersions(a, b) >= 0)),
    versionOlder: stringFunction('versionOlder', 2, (a, b) => bool(compareVersions(a, b) < 0)),
    warn: primop('warn', 2, ([, value]) => value.force()),
    warnIf: primop('warnIf', 3, ([, , value]) => value.force()),
    throwIf: primop('throwIf', 3, ([, , value]) => value.force()),
    throwIfNot: primop('throwIfNot', 3, ([, , value]) => value.force()),
    assertMsg: primop('assertMsg', 2, (_args, site) => bool(true, site.origin)),
    makeOverridable: primop('makeOverridable', 1, ([fn]) => fn.force()),
    mkRenamedOptionModule: primop('mkRenamedOptionModule', 2, (_args, site) => emptyAttrs(site.origin)),
    mkRemovedOptionModule: primop('mkRemovedOptionModule', 2, (_args, site) => emptyAttrs(site.origin)),
    mkAliasOptionModule: primop('mkAliasOptionModule', 2, (_args, site) => emptyAttrs(site.origin)),
    mkChangedOptionModule: primop('mkChangedOptionModule', 3, (_args, site) => emptyAttrs(site.origin)),
  };
  const root = attrsOf(fns);
  root.entries.set('types', { thunk: known(optionTypes(primop, known(root))) });
  root.entries.set('path', { thunk: known(libPath()) });
  root.entries.set('maintainers', { thunk: known({ kind: 'symbol', path: ['lib', 'maintainers'] }) });
  root.entries.set('licenses', { thunk: known({ kind: 'symbol', path: ['lib', 'licenses'] }) });
  root.entries.set('platforms', { thunk: known({ kind: 'symbol', path: ['lib', 'platforms'] }) });
  // Sub-namespaces expose the same functions: `lib.attrsets.mapAttrs`, `lib.strings.hasPrefix`, `lib.modules.mkIf`, …
  for (const namespace of ['attrsets', 'lists', 'strings', 'modules', 'options', 'trivial', 'fixedPoints', 'versions']) {
    root.entries.set(namespace, { thunk: known(attrsOf(fns)) });
  }
  // Anything else in lib is a function we do not model: its result is unknown, by name.
  root.open = unknown('a lib function that is not modelled');
  return withExtend(root);
}

/**
 * `lib.path`: `append`, which repositories use for helpers such as `relativeToRoot = lib.path.append ../.;`. As in
 * nixpkgs, the subpath must be relative and free of `..` (nixpkgs throws otherwise; here the result is unknown), so
 * the result stays below the base path. The rest of `lib.path` is not modelled.
 */
function libPath(): AttrsValue {
  const namespace = attrsOf({
    append: primop('append', 2, ([base, subpath], site) => {
      const root = base.force();
      const text = textArg(subpath);
      if (root.kind !== 'path') return why(root, 'lib.path.append', site.origin);
      if (text === undefined) return why(subpath.force(), 'lib.path.append', site.origin);
      const parts = text.split('/').filter((part) => part !== '' && part !== '.');
      if (text.startsWith('/') || parts.includes('..')) return unknown(`lib.path.append with the subpath "${text}" (nixpkgs rejects it)`, site.origin);
      return { kind: 'path', path: path.join(root.path, ...parts), origin: site.origin };
    }),
  });
  namespace.open = unknown('a lib.path function that is not modelled');
  return namespace;
}

/**
 * `lib.extend (final: prev: { my = import ./lib { lib = final; }; })`: nixpkgs' fixed point of the library with an
 * overlay, so a repository's own helpers (`lib.my.mkHost`) are evaluated like any other function. `final` is the
 * extended library itself, read lazily; used before it exists (a strict overlay), it is unknown.
 */
function withExtend(lib: AttrsValue): AttrsValue {
  lib.entries.set('extend', {
    thunk: known(
      primop('extend', 1, ([overlay], site) => {
        let extended: AttrsValue | undefined;
        const final = new LazyThunk(() => extended ?? unknown('lib.extend: the extended library used while it is being built', site.origin));
        const added = call(site, overlay.force(), final, known(lib));
        if (added.kind !== 'attrs') return why(added, 'lib.extend overlay', site.origin);
        const merged = binaryOperation('//', lib, added, site.origin);
        if (merged.kind !== 'attrs') return merged;
        extended = withExtend(merged);
        return extended;
      }),
    ),
  });
  return lib;
}

const inputLibraries = new Map<string, AttrsValue>();

/** A copy of `lib` whose `nixosSystem` records the flake input it came from (one per input, shared). */
export function libraryForInput(lib: AttrsValue, input: string): AttrsValue {
  const cached = inputLibraries.get(input);
  if (cached) return cached;
  const created = createLibraryForInput(lib, input);
  inputLibraries.set(input, created);
  return created;
}

function createLibraryForInput(lib: AttrsValue, input: string): AttrsValue {
  const copy = emptyAttrs(lib.origin);
  for (const [name, entry] of lib.entries) copy.entries.set(name, entry);
  copy.open = lib.open;
  copy.entries.set('nixosSystem', {
    thunk: known(primop('nixosSystem', 1, ([args], site) => ({ kind: 'nixosSystem', args, input, origin: site.origin }))),
  });
  return withExtend(copy);
}

let sharedGlobals: Map<string, Thunk> | undefined;

/**
 * The global scope of every file. Builtins and lib are stateless (they reach the workspace only through the
 * evaluator of each call), so one instance serves every evaluator of the process.
 */
export function globalScope(): Map<string, Thunk> {
  sharedGlobals ??= createGlobalScope();
  return sharedGlobals;
}

function createGlobalScope(): Map<string, Thunk> {
  const shared = sharedFunctions();
  const importFn = primop('import', 1, ([target], site) => {
    const value = target.force();
    // The argument's place, not the call's, is where a missing file is reported (import-not-found).
    const pathSite = { ...site, origin: target.origin ?? site.origin };
    if (value.kind === 'path') return site.evaluator.importFile(value.path, pathSite);
    if (value.kind === 'string') {
      const text = stringText(value);
      if (text !== undefined && text.startsWith('/') && !value.pieces.some((piece) => piece.symbol)) return site.evaluator.importFile(text, pathSite);
      return unknown(`import of ${text === undefined ? 'a computed path' : text.replace(/\/nix\/store\/0+-/, '')}`, site.origin);
    }
    if (value.kind === 'symbol') return { kind: 'symbol', path: [...value.path, '<imported>'], origin: site.origin };
    return why(value, 'import', site.origin);
  });
  const lib = libSet(shared);
  const builtins = builtinsSet(shared, importFn);
  const scope = new Map<string, Thunk>();
  const globals: Record<string, Value> = {
    true: bool(true),
    false: bool(false),
    null: { kind: 'null' },
    builtins,
    import: importFn,
    map: shared.map,
    toString: shared['toString'] as PrimopValue,
    baseNameOf: shared.baseNameOf,
    dirOf: shared.dirOf,
    isNull: shared.isNull,
    removeAttrs: shared.removeAttrs,
    throw: primop('throw', 1, ([message], site) => unknown(`throw ${textArg(message) ?? ''}`.trim(), site.origin)),
    abort: primop('abort', 1, ([message], site) => unknown(`abort ${textArg(message) ?? ''}`.trim(), site.origin)),
    derivation: primop('derivation', 1, (_args, site) => ({ kind: 'symbol', path: ['derivation'], origin: site.origin })),
    // A fetched source tree is not read, but its URL is kept: `"${fetchTarball "…/disko/…"}/module.nix"` is disko's module.
    fetchTarball: primop('fetchTarball', 1, ([source], site) => fetchedSource('fetchTarball', source, site.origin)),
    __lib: lib,
  };
  for (const [name, value] of Object.entries(globals)) scope.set(name, known(value));
  return scope;
}
