/**
 * Reading a tree costs work linear in the input, for hostile shapes too (issue 12). No timing here (speed is measured
 * by `npm run bench`): every call into web-tree-sitter's `Node` and `TreeCursor` is counted while the syntax layer
 * describes the syntax errors of a text and the whole tree is read through `SyntaxNode`, the way the evaluator reads it;
 * doubling the input must at most about double the count. Calls whose cost grows with an index (`fieldNameForChild(i)`
 * and `child(i)` walk the children up to `i` inside tree-sitter) count as `i + 1`, which is what they cost.
 *
 * Also: a text that would keep tree-sitter-nix's lexer busy for minutes (`x.a.a.a…`) is refused before parsing, and
 * 100,000-deep nesting is read without overflowing the JavaScript stack.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Node as RawNode, TreeCursor } from 'web-tree-sitter';
import { superlinearLexingWork } from '../../server/src/syntax/lexing-cost';
import { SourceFile, initSyntax, type SyntaxNode } from '../../server/src/syntax/parser';
import { syntaxProblems } from '../../server/src/syntax/syntax-errors';
import { REPO_ROOT } from '../support/engine';

/** Hostile shapes by name, each a function of a repeat count. */
const SHAPES: Record<string, (count: number) => string> = {
  'ERROR-heavy `[ {` (unclosed)': (count) => '[ {'.repeat(count),
  'unclosed `{a=`': (count) => '{a='.repeat(count),
  'unclosed `(`': (count) => '('.repeat(count),
  'unclosed `[`': (count) => '[ '.repeat(count),
  'nested `let a = …`': (count) => 'let a = '.repeat(count) + '1' + ' in a'.repeat(count),
  'nested parentheses': (count) => '('.repeat(count) + '1' + ')'.repeat(count),
  'nested attribute sets': (count) => '{a='.repeat(count) + '1' + ';}'.repeat(count),
  'bindings without `;`': (count) => '{\n' + 'a = 1\n'.repeat(count) + '}',
  'a mix of stray tokens': (count) => '{ a = ; } ] ) in = '.repeat(count),
  'a long `+` chain': (count) => '{ x = 1' + ' + 1'.repeat(count) + '; }',
  'a long `++` chain': (count) => '{ x = [1]' + ' ++ [1]'.repeat(count) + '; }',
  'many list elements': (count) => '{ x = [' + ' 1'.repeat(count) + ' ]; }',
  'many bindings on one line': (count) => '{' + Array.from({ length: count }, (_, index) => ` a${index} = ${index};`).join('') + ' }',
  'many interpolations': (count) => '{ x = "' + '${a}'.repeat(count) + '"; }',
  'a long select chain (spaced)': (count) => '{ y = x' + ' . a'.repeat(count) + '; }',
};

/** The `Node` and `TreeCursor` members whose cost grows with their index argument. */
const INDEXED = new Set(['fieldNameForChild', 'child', 'namedChild', 'fieldNameForNamedChild']);

let calls = 0;
const restore: (() => void)[] = [];

/** Counts every method call and getter read on a web-tree-sitter prototype (see the header for the weights). */
function instrument(prototype: object): void {
  for (const name of Object.getOwnPropertyNames(prototype)) {
    if (name === 'constructor') continue;
    const descriptor = Object.getOwnPropertyDescriptor(prototype, name);
    if (!descriptor || !descriptor.configurable) continue;
    const replacement: PropertyDescriptor = { ...descriptor };
    if (typeof descriptor.value === 'function') {
      const original = descriptor.value as (...args: unknown[]) => unknown;
      const indexed = INDEXED.has(name);
      replacement.value = function (this: unknown, ...args: unknown[]) {
        calls += indexed && typeof args[0] === 'number' ? args[0] + 1 : 1;
        return original.apply(this, args);
      };
    } else if (descriptor.get) {
      const getter = descriptor.get;
      replacement.get = function (this: unknown) {
        calls++;
        return getter.call(this);
      };
    } else continue;
    Object.defineProperty(prototype, name, replacement);
    restore.push(() => Object.defineProperty(prototype, name, descriptor));
  }
}

/** Reads every node of the tree the way the model layer does: children, field names, named children, parents. */
function readWholeTree(root: SyntaxNode): number {
  let visited = 0;
  const pending: SyntaxNode[] = [root];
  while (pending.length > 0) {
    const node = pending.pop() as SyntaxNode;
    visited++;
    node.childForFieldName('expression');
    node.childrenForFieldName('attr');
    void node.namedChildCount;
    void node.nextSibling;
    // One push per child: spreading an ERROR node's hundreds of thousands of children as arguments overflows the stack.
    for (const child of node.children) pending.push(child);
  }
  return visited;
}

/** The counted web-tree-sitter work of parsing `text`, describing its syntax errors and reading its whole tree. */
function workFor(text: string): number {
  const file = SourceFile.fromText('/hostile/configuration.nix', text);
  calls = 0;
  syntaxProblems(file);
  const root = file.root;
  assert.ok(root, 'the text is parsed');
  readWholeTree(root);
  const counted = calls;
  file.dispose();
  return counted;
}

describe('syntax layer work is linear in the input', () => {
  before(async () => {
    await initSyntax();
    instrument(RawNode.prototype);
    instrument(TreeCursor.prototype);
  });
  after(() => {
    for (const undo of restore.splice(0)) undo();
  });

  for (const [name, make] of Object.entries(SHAPES)) {
    it(`${name}: twice the input costs at most 2.5 times the work`, () => {
      const small = workFor(make(1500));
      const large = workFor(make(3000));
      assert.ok(small > 0, 'the work is counted');
      const ratio = large / small;
      assert.ok(ratio <= 2.5, `work grew ${ratio.toFixed(2)}× for twice the input (${small} → ${large} counted calls)`);
    });
  }
});

describe('lexing beyond linear', () => {
  before(() => initSyntax());

  it('a select chain of 6,000 names is refused before parsing, not parsed for seconds', () => {
    const file = SourceFile.fromText('/hostile/configuration.nix', '{ y = x' + '.a'.repeat(6000) + '; }');
    assert.equal(file.unreadable, 'too-complex');
    assert.equal(file.tree, undefined);
  });

  it('so is a tight `+` chain, and an edit that makes one', () => {
    assert.equal(SourceFile.fromText('/hostile/a.nix', '{ y = 1' + '+1'.repeat(6000) + '; }').unreadable, 'too-complex');
    const ordinary = SourceFile.fromText('/hostile/b.nix', '{ y = 1; }');
    assert.ok(ordinary.tree);
    const edited = ordinary.withChanges([{ start: 7, end: 7, text: '+1'.repeat(6000) }]);
    assert.equal(edited.unreadable, 'too-complex');
    ordinary.dispose();
  });

  it('the same characters in a string, a comment or spaced out cost nothing extra', () => {
    const run = 'a.'.repeat(20_000);
    assert.equal(superlinearLexingWork(`{ x = "${run}"; }`), 0);
    assert.equal(superlinearLexingWork(`{ x = ''${run}''; }`), 0);
    assert.equal(superlinearLexingWork(`# ${run}\n{ }`), 0);
    assert.equal(superlinearLexingWork(`/* ${run} */ { }`), 0);
    assert.equal(superlinearLexingWork('{ y = x' + ' . a'.repeat(20_000) + '; }'), 0);
    // Inside an interpolation the run is code again.
    assert.ok(superlinearLexingWork(`"\${${run}a}"`) > 0);
  });

  it('ordinary configurations cost nothing extra', () => {
    for (const file of ['examples/seed/configuration.nix', 'examples/seed/disko.nix']) {
      const text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
      assert.equal(superlinearLexingWork(text), 0, file);
      assert.equal(SourceFile.fromText(file, text).unreadable, undefined, file);
    }
  });
});

describe('deep nesting', () => {
  before(() => initSyntax());

  // Each shape nests at least 100,000 deep; kept to a few, because each is a large parse.
  for (const [name, text] of [
    ['100,000 parentheses', '('.repeat(100_000) + '1' + ')'.repeat(100_000)],
    ['a `+` chain of 100,000', '{ x = 1' + ' + 1'.repeat(100_000) + '; }'],
    ['34,000 nested attribute sets', '{a='.repeat(34_000) + '1' + ';}'.repeat(34_000)],
    ['100,000 nested lets without `;`', 'let a = '.repeat(100_000) + '1' + ' in a'.repeat(100_000)],
    ['50,000 bindings without `;`', '{\n' + 'a = 1\n'.repeat(50_000) + '}'],
  ] as const) {
    it(`${name}: the errors are described and the tree is read without overflowing the stack`, () => {
      const file = SourceFile.fromText('/hostile/configuration.nix', text);
      assert.ok(file.root);
      assert.equal(syntaxProblems(file).length > 0, file.root.hasError);
      // The project's own cursor, which keeps its path on the heap, measures the depth.
      const cursor = file.root.walk();
      let steps = 0;
      let depth = 0;
      let deepest = 0;
      walk: for (;;) {
        steps++;
        if (cursor.gotoFirstChild()) {
          deepest = Math.max(deepest, ++depth);
          continue;
        }
        while (!cursor.gotoNextSibling()) {
          if (!cursor.gotoParent()) break walk;
          depth--;
        }
      }
      cursor.delete();
      assert.ok(steps > 100_000 && deepest >= 100_000, `${steps} steps, depth ${deepest}`);
      file.dispose();
    });
  }
});
