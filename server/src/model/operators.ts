/**
 * Nix operators and structural equality over three-valued values: a result is computed only from known operands.
 */
import path from 'node:path';
import { activeBudget, allocate, allocateString } from './budget';
import { concatStrings, interpolationPieces } from './strings';
import { type Origin, type StringValue, type Value, emptyAttrs, known, stringText, unknown } from './values';

export function describeUnknown(value: Value): string {
  if (value.kind === 'unknown') return value.reason;
  if (value.kind === 'symbol') return value.path.join('.');
  if (value.kind === 'string') {
    const piece = value.pieces.find((item) => item.unknown || item.symbol);
    if (piece?.symbol) return piece.symbol.join('.');
    if (piece?.unknown) return piece.unknown.reason;
  }
  return value.kind;
}

/** Why a value could not be computed once the host's budget ran out. */
export function budgetReason(): string {
  return activeBudget().reason ?? 'the analysis budget is exhausted';
}

function numeric(value: Value): value is Extract<Value, { kind: 'int' | 'float' }> {
  return value.kind === 'int' || value.kind === 'float';
}

export function binaryOperation(operator: string, left: Value, right: Value, origin?: Origin): Value {
  switch (operator) {
    case '+': {
      if (numeric(left) && numeric(right)) {
        return { kind: left.kind === 'float' || right.kind === 'float' ? 'float' : 'int', value: left.value + right.value, origin };
      }
      if (left.kind === 'path') {
        const suffix = stringText(right);
        if (suffix === undefined) return unknown(`path concatenated with ${describeUnknown(right)}`, origin);
        return { kind: 'path', path: path.normalize(left.path + suffix), origin };
      }
      if (left.kind === 'string' || (left.kind === 'symbol' && right.kind === 'string')) {
        const leftString: StringValue = left.kind === 'string' ? left : { kind: 'string', pieces: interpolationPieces(left, origin) };
        let rightString: StringValue | undefined;
        if (right.kind === 'string') rightString = right;
        else if (right.kind === 'path' || right.kind === 'symbol' || right.kind === 'unknown') rightString = { kind: 'string', pieces: interpolationPieces(right, origin) };
        if (rightString) {
          if (!allocateString(leftString.pieces) || !allocateString(rightString.pieces)) return unknown(budgetReason(), origin);
          return concatStrings(leftString, rightString, origin);
        }
      }
      return unknown(`${describeUnknown(left)} + ${describeUnknown(right)}`, origin);
    }
    case '-':
    case '*':
    case '/': {
      if (!numeric(left) || !numeric(right)) return unknown(`arithmetic on ${describeUnknown(numeric(left) ? right : left)}`, origin);
      const isFloat = left.kind === 'float' || right.kind === 'float';
      if (operator === '/' && right.value === 0) return unknown('division by zero', origin);
      const result = operator === '-' ? left.value - right.value : operator === '*' ? left.value * right.value : left.value / right.value;
      return { kind: isFloat ? 'float' : 'int', value: isFloat ? result : Math.trunc(result), origin };
    }
    case '++': {
      if (left.kind === 'list' && right.kind === 'list') {
        if (!allocate(left.items.length + right.items.length)) return unknown(budgetReason(), origin);
        return { kind: 'list', items: [...left.items, ...right.items], origin };
      }
      return unknown(`list concatenation with ${describeUnknown(left.kind === 'list' ? right : left)}`, origin);
    }
    case '//': {
      if (left.kind === 'attrs' && right.kind === 'attrs') {
        if (!allocate(left.entries.size + right.entries.size)) return unknown(budgetReason(), origin);
        const merged = emptyAttrs(origin);
        for (const [name, entry] of left.entries) merged.entries.set(name, entry);
        for (const [name, entry] of right.entries) merged.entries.set(name, entry);
        merged.unknownKeys = [...left.unknownKeys, ...right.unknownKeys];
        merged.open = left.open ?? right.open;
        return merged;
      }
      // `lib.mkEnableOption "x" // { default = true; }`: an option is an attribute set in Nix, so `//` overrides the
      // arguments it was declared with (most often its default).
      if (left.kind === 'option' && right.kind === 'attrs') {
        const args = left.args.force();
        if (args.kind === 'attrs') return { kind: 'option', args: known(binaryOperation('//', args, right, origin)), origin: left.origin };
      }
      return unknown(`// with ${describeUnknown(left.kind === 'attrs' ? right : left)}`, origin);
    }
    case '==':
    case '!=': {
      const equal = valuesEqual(left, right);
      if (equal === undefined) return unknown(`comparison with ${describeUnknown(left.kind === 'unknown' || left.kind === 'symbol' ? left : right)}`, origin);
      return { kind: 'bool', value: operator === '==' ? equal : !equal, origin };
    }
    case '<':
    case '<=':
    case '>':
    case '>=': {
      let a: number | string | undefined;
      let b: number | string | undefined;
      if (numeric(left) && numeric(right)) {
        a = left.value;
        b = right.value;
      } else {
        a = stringText(left);
        b = stringText(right);
      }
      if (a === undefined || b === undefined) return unknown('comparison of unknown values', origin);
      const result = operator === '<' ? a < b : operator === '<=' ? a <= b : operator === '>' ? a > b : a >= b;
      return { kind: 'bool', value: result, origin };
    }
    default:
      return unknown(`operator ${operator}`, origin);
  }
}

/** Structural equality; undefined when either side is not fully known. */
export function valuesEqual(left: Value, right: Value, depth = 0): boolean | undefined {
  if (depth > 50) return undefined;
  if (left.kind === 'unknown' || right.kind === 'unknown' || left.kind === 'symbol' || right.kind === 'symbol') return undefined;
  if (numeric(left) && numeric(right)) return left.value === right.value;
  if ((left.kind === 'string' || left.kind === 'path') && (right.kind === 'string' || right.kind === 'path')) {
    if (left.kind !== right.kind) return false;
    const a = stringText(left);
    const b = stringText(right);
    return a === undefined || b === undefined ? undefined : a === b;
  }
  if (left.kind !== right.kind) return false;
  if (left.kind === 'null') return true;
  if (left.kind === 'bool' && right.kind === 'bool') return left.value === right.value;
  if (left.kind === 'list' && right.kind === 'list') {
    if (left.items.length !== right.items.length) return false;
    for (let index = 0; index < left.items.length; index++) {
      const equal = valuesEqual(left.items[index].force(), right.items[index].force(), depth + 1);
      if (equal !== true) return equal;
    }
    return true;
  }
  if (left.kind === 'attrs' && right.kind === 'attrs') {
    if (left.unknownKeys.length || right.unknownKeys.length) return undefined;
    if (left.entries.size !== right.entries.size) return false;
    for (const [name, entry] of left.entries) {
      const other = right.entries.get(name);
      if (!other) return false;
      const equal = valuesEqual(entry.thunk.force(), other.thunk.force(), depth + 1);
      if (equal !== true) return equal;
    }
    return true;
  }
  return undefined;
}
