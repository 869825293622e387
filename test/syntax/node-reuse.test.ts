/**
 * Nodes copied from the previous parse after an edit (node.ts `Predecessor`): whatever was read of the old parse and
 * whatever the edit was, the nodes of the new parse are the nodes of the wasm tree they stand for — the same types,
 * ranges, flags, field names and children, and the same answer to `descendantForIndex` — and an edit of one binding
 * of a large file reads the children of only the nodes on the path to it from wasm and copies the rest. An editing
 * session keeps the current parse and its predecessor alive, never a chain of older ones.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { Node as RawNode } from 'web-tree-sitter';
import { SourceFile, initSyntax, languageOf, type SyntaxNode } from '../../server/src/syntax/parser';
import { generatedConfiguration } from '../bench/generate';
import { CORPUS, REPO_ROOT } from '../support/engine';

/** A node and its subtree as text, one line per node, from our objects. */
function dumpOurs(node: SyntaxNode, field: string | null, depth: number, out: string[]): void {
  out.push(`${' '.repeat(depth)}${field ?? '-'}:${node.type} ${node.startIndex}-${node.endIndex} n${+node.isNamed} m${+node.isMissing} e${+node.isError} h${+node.hasError}`);
  const children = node.children;
  children.forEach((child, index) => {
    const fieldName = fieldOf(node, child, index);
    dumpOurs(child, fieldName, depth + 1, out);
  });
}

/** The field a child is under, asked the way callers ask (by field name, from the parent). */
function fieldOf(parent: SyntaxNode, child: SyntaxNode, index: number): string | null {
  for (const name of FIELD_NAMES) if (parent.childrenForFieldName(name).includes(child)) return name;
  assert.equal(parent.child(index), child);
  return null;
}

/** Every field name of the grammar (read once the grammar is loaded). */
let FIELD_NAMES: string[] = [];

/** The same from the wasm tree. */
function dumpRaw(node: RawNode, field: string | null, depth: number, out: string[]): void {
  out.push(`${' '.repeat(depth)}${field ?? '-'}:${node.type} ${node.startIndex}-${node.endIndex} n${+node.isNamed} m${+node.isMissing} e${+node.isError} h${+node.hasError}`);
  const cursor = node.walk();
  const fields: (string | null)[] = [];
  if (cursor.gotoFirstChild()) {
    do fields.push(cursor.currentFieldName);
    while (cursor.gotoNextSibling());
  }
  cursor.delete();
  node.children.forEach((child, index) => child && dumpRaw(child, fields[index] ?? null, depth + 1, out));
}

function assertMirrorsWasm(file: SourceFile, offsets: number[]): void {
  assert.ok(file.root && file.tree);
  const ours: string[] = [];
  const theirs: string[] = [];
  dumpOurs(file.root, null, 0, ours);
  dumpRaw(file.tree.rootNode, null, 0, theirs);
  assert.deepEqual(ours, theirs);
  for (const offset of offsets) {
    const at = Math.min(offset, file.text.length);
    for (const end of [at, Math.min(file.text.length, at + 3)]) {
      const our = file.root.descendantForIndex(at, end);
      const raw: RawNode | null = file.tree.rootNode.descendantForIndex(at, end);
      assert.deepEqual([our.type, our.startIndex, our.endIndex], [raw?.type, raw?.startIndex, raw?.endIndex], `descendantForIndex(${at}, ${end})`);
    }
  }
}

/** Reads a part of a parse, as an analysis does: every node, or the nodes of some subtrees only. */
function readSome(node: SyntaxNode, keep: (node: SyntaxNode) => boolean): void {
  if (!keep(node)) return;
  for (const child of node.children) readSome(child, keep);
}

function readToDepth(node: SyntaxNode, depth: number): void {
  if (depth === 0) return;
  for (const child of node.children) readToDepth(child, depth - 1);
}

function bindingOf(node: SyntaxNode): SyntaxNode {
  let current: SyntaxNode | null = node;
  while (current && current.type !== 'binding') current = current.parent;
  assert.ok(current);
  return current;
}

const FRAGMENTS = [' ', '\n', ';', '{', '}', '[', ']', '(', ')', '"', "''", '${', 'x', ' = ', 'a.b', 'let ', ' in ', 'é', '# c\n', '/* ', ' */', 'rec ', 'true', './p.nix', '"s"', '1', 'if ', ' then ', ' else '];

const edit = (length: number) =>
  fc.record({
    at: fc.integer({ min: 0, max: length }),
    removed: fc.integer({ min: 0, max: 12 }),
    inserted: fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 4 }).map((parts) => parts.join('')),
    readAll: fc.boolean(),
    readSeed: fc.integer({ min: 0, max: 1000 }),
  });

function sources(): { name: string; text: string }[] {
  const found = [{ name: 'seed configuration.nix', text: readFileSync(path.join(REPO_ROOT, 'examples', 'seed', 'configuration.nix'), 'utf8') }, { name: 'generated 600-line host', text: generatedConfiguration(600) }];
  const aria = path.join(CORPUS, 'notthebee__nix-config__aria', 'machines', 'nixos', 'aria', 'default.nix');
  if (existsSync(aria)) found.push({ name: 'aria default.nix (corpus)', text: readFileSync(aria, 'utf8') });
  return found;
}

/** Every .nix file of the corpus, when it is there. */
function corpusFiles(): string[] {
  if (!existsSync(CORPUS)) return [];
  const found: string[] = [];
  const folders = [CORPUS];
  while (folders.length > 0) {
    const folder = folders.pop() as string;
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) folders.push(full);
      else if (entry.name.endsWith('.nix')) found.push(full);
    }
  }
  return found.sort();
}

/** Every node of a parse, read without recursion (a test file may be nested deeper than the call stack allows). */
function readAllIteratively(root: SyntaxNode): SyntaxNode[] {
  const nodes: SyntaxNode[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop() as SyntaxNode;
    nodes.push(node);
    for (const child of node.children) stack.push(child);
  }
  return nodes;
}

describe('nodes of a fresh parse, built in one cursor walk', () => {
  before(async () => {
    await initSyntax();
    FIELD_NAMES = languageOf().fields.filter((name): name is string => typeof name === 'string');
  });

  it('mirror the wasm tree for every corpus file, read from wasm in one walk', () => {
    const files = corpusFiles();
    for (const file of files.length > 0 ? files : [path.join(REPO_ROOT, 'examples', 'seed', 'configuration.nix')]) {
      const source = SourceFile.fromText(file, readFileSync(file, 'utf8'));
      assertMirrorsWasm(source, [0, Math.floor(source.text.length / 2)]);
      // The root's first `children` built the whole tree: no other node went to wasm for its children.
      assert.equal(source.nodeCounts.readFromWasm, 1, file);
      source.dispose();
    }
  });

  it('mirror the wasm tree for broken text: flags, error marks and field names come out as tree-sitter has them', () => {
    const texts = sources().map((source) => source.text);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: texts.length - 1 }), fc.array(edit(4000), { minLength: 1, maxLength: 6 }), (which, edits) => {
        let text = texts[which];
        for (const step of edits) {
          const at = Math.min(step.at, text.length);
          text = text.slice(0, at) + step.inserted + text.slice(Math.min(text.length, at + step.removed));
        }
        const source = SourceFile.fromText('/p/broken.nix', text);
        assertMirrorsWasm(source, edits.map((step) => step.at));
        source.dispose();
      }),
      { numRuns: 150 },
    );
  });

  it('a file larger than one walk is read level by level at the top and in walks below, and mirrors the wasm tree', () => {
    const text = generatedConfiguration(12000);
    assert.ok(text.length > 256 * 1024, `${text.length} code units`);
    const source = SourceFile.fromText('/p/large.nix', text);
    assertMirrorsWasm(source, [10, Math.floor(text.length / 2), text.length - 5]);
    const { made, readFromWasm } = source.nodeCounts;
    // Read one level at a time, every node would read its children from wasm (about half of them have some).
    assert.ok(readFromWasm > 1 && readFromWasm < made / 20, JSON.stringify(source.nodeCounts));
    source.dispose();
  });

  it('a file nested 50,000 deep is built and found back in wasm without exhausting the stack', () => {
    const depth = 50_000;
    const text = '['.repeat(depth) + ']'.repeat(depth);
    const source = SourceFile.fromText('/p/deep.nix', text);
    const nodes = readAllIteratively(source.root!);
    assert.ok(nodes.length > depth, `${nodes.length} nodes`);
    // The deepest node was made by the walk without its wasm node; asking for a cursor finds that node through its
    // ancestors, in a loop.
    const deepest = source.root!.descendantForIndex(depth - 1, depth + 1);
    const cursor = deepest.rawWalk();
    assert.ok(cursor, 'the wasm node of the deepest list');
    assert.deepEqual([cursor.nodeType, cursor.startIndex, cursor.endIndex], [deepest.type, deepest.startIndex, deepest.endIndex]);
    cursor.delete();
    source.dispose();
  });
});

describe('nodes copied from the previous parse', () => {
  before(async () => {
    await initSyntax();
    FIELD_NAMES = languageOf().fields.filter((name): name is string => typeof name === 'string');
  });

  for (const { name, text } of sources()) {
    it(`mirror the wasm tree after chains of random edits: ${name}`, () => {
      fc.assert(
        fc.property(fc.array(edit(text.length), { minLength: 1, maxLength: 4 }), (edits) => {
          let file = SourceFile.fromText('/p/file.nix', text);
          const older: SourceFile[] = [];
          for (const step of edits) {
            // Read the current parse in part or whole before the edit: only what was read can be copied.
            let count = step.readSeed;
            readSome(file.root!, () => step.readAll || count++ % 3 !== 0);
            const at = Math.min(step.at, file.text.length);
            const next = file.withChanges([{ start: at, end: Math.min(file.text.length, at + step.removed), text: step.inserted }]);
            older.push(file);
            file = next;
          }
          assertMirrorsWasm(file, edits.map((step) => step.at));
          for (const source of [...older, file]) source.dispose();
        }),
        { numRuns: 60 },
      );
    });
  }

  it('an edit of one binding of a large file reads only the path to it from wasm, and the copies mirror the wasm tree', () => {
    const text = generatedConfiguration(3000);
    const file = SourceFile.fromText('/p/big.nix', text);
    readSome(file.root!, () => true);
    const at = text.indexOf('Generated service 100');
    assert.ok(at > 0);
    const edited = file.withChanges([{ start: at + 18, end: at + 18, text: '7' }]);
    assertMirrorsWasm(edited, [at, at + 19, text.length - 10]);
    // Only the nodes on the path from the root to the edited string read their children from wasm.
    const { made, readFromWasm } = edited.nodeCounts;
    assert.ok(made > 40_000 && readFromWasm < 20, `${readFromWasm} of ${made} nodes read their children from wasm`);
    // A second edit copies from the first edit's parse (its nodes were all read by assertMirrorsWasm).
    const again = edited.withChanges([{ start: 10, end: 10, text: ' ' }]);
    assertMirrorsWasm(again, [0, 11, at + 20]);
    assert.ok(again.nodeCounts.made > 40_000 && again.nodeCounts.readFromWasm < 20, JSON.stringify(again.nodeCounts));
    for (const source of [file, edited, again]) source.dispose();
  });

  it('after both trees are freed, a node still copies the children its predecessor read, and reads nothing from wasm', () => {
    const text = generatedConfiguration(200);
    const file = SourceFile.fromText('/p/small.nix', text);
    readSome(file.root!, () => true);
    const edited = file.withChanges([{ start: text.length - 30, end: text.length - 30, text: ' ' }]);
    // Read the path to a top-level binding while the tree lives; the binding now holds its counterpart.
    const bindings = bindingOf(edited.root!.descendantForIndex(text.indexOf('users.users.user3')));
    const fresh = SourceFile.fromText('/p/small.nix', edited.text);
    const expected: string[] = [];
    dumpOurs(bindingOf(fresh.root!.descendantForIndex(text.indexOf('users.users.user3'))), null, 0, expected);
    edited.dispose();
    file.dispose();
    const after: string[] = [];
    dumpOurs(bindings, null, 0, after);
    assert.deepEqual(after, expected);
    // A node of the freed tree without a counterpart (the root's first token) reads as a leaf.
    assert.equal(SourceFile.fromText('/p/x.nix', '{ a = 1; }').root!.childCount, 1);
    fresh.dispose();
  });

  it('an editing session keeps the current parse and its predecessor alive, not one parse per edit', async () => {
    setFlagsFromString('--expose-gc');
    const collectGarbage = runInNewContext('gc') as () => void;
    const text = generatedConfiguration(400);
    let file = SourceFile.fromText('/p/session.nix', text);
    readSome(file.root!, () => true);
    const versions = [new WeakRef(file.root!)];
    for (let index = 0; index < 4; index++) {
      // Type a space into the header and take it out again; as an analysis does, read the top of each new parse only,
      // so that the nodes below still hold their counterparts in the parse before.
      const next = file.withChanges([index % 2 === 0 ? { start: 10, end: 10, text: ' ' } : { start: 10, end: 11, text: '' }]);
      file.dispose();
      file = next;
      readToDepth(file.root!, 4);
      versions.push(new WeakRef(file.root!));
    }
    // A WeakRef holds its target until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    assert.deepEqual(
      versions.map((version) => version.deref() !== undefined),
      [false, false, false, true, true],
      'parses alive, oldest first',
    );
    assert.deepEqual(file.root!.children.map((child) => child.type), SourceFile.fromText('/p/session.nix', file.text).root!.children.map((child) => child.type));
    file.dispose();
  });
});

