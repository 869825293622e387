/**
 * The committed grammar wasm must be the grammar of the pinned tree-sitter-nix package: same named node types and
 * fields as the package's src/node-types.json. Rebuild with `npm run grammar` when the package changes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { initSyntax, parseText } from '../../server/src/syntax/parser';
import { syntaxProblems } from '../../server/src/syntax/syntax-errors';
import { SourceFile } from '../../server/src/syntax/parser';

interface NodeType {
  type: string;
  named: boolean;
  fields?: Record<string, unknown>;
  children?: unknown;
  subtypes?: unknown;
}

describe('grammar', () => {
  it('the committed wasm has the node types and fields of the tree-sitter-nix package', async () => {
    const language = await initSyntax();
    const packageDir = path.dirname(require.resolve('tree-sitter-nix/package.json'));
    const nodeTypes = JSON.parse(readFileSync(path.join(packageDir, 'src', 'node-types.json'), 'utf8')) as NodeType[];
    const expectedNamed = new Set(nodeTypes.filter((type) => type.named && !type.subtypes).map((type) => type.type));
    // The keyword-extraction `word` rule is a named symbol of the language that never appears in trees, so
    // node-types.json omits it; grammar.json names it.
    const grammar = JSON.parse(readFileSync(path.join(packageDir, 'src', 'grammar.json'), 'utf8')) as { word?: string };
    if (grammar.word) expectedNamed.add(grammar.word);
    const expectedFields = new Set(nodeTypes.flatMap((type) => Object.keys(type.fields ?? {})));
    const actualNamed = new Set<string>();
    for (let id = 0; id < language.nodeTypeCount; id++) {
      const name = language.nodeTypeForId(id);
      if (name && language.nodeTypeIsNamed(id) && language.nodeTypeIsVisible(id) && name !== 'ERROR') actualNamed.add(name);
    }
    const actualFields = new Set<string>();
    for (let id = 1; id <= language.fieldCount; id++) {
      const name = language.fieldNameForId(id);
      if (name) actualFields.add(name);
    }
    assert.deepEqual([...actualNamed].sort(), [...expectedNamed].sort());
    assert.deepEqual([...actualFields].sort(), [...expectedFields].sort());
  });

  it('parses a module and reports no error for a trailing comma in formals', async () => {
    await initSyntax();
    for (const text of ['{ a, b, }: a', '{\n  pkgs,\n}:\npkgs', '{ config, lib, ... }: { }']) {
      assert.deepEqual(syntaxProblems(SourceFile.fromText('/x.nix', text)), [], text);
    }
  });

  it('reports a real error with what was expected', async () => {
    await initSyntax();
    const problems = syntaxProblems(SourceFile.fromText('/x.nix', '{ a = 1 }'));
    assert.equal(problems.length, 1);
    assert.match(problems[0].message, /expected `;`/);
    assert.equal(parseText('{ a = 1; }').rootNode.hasError, false);
  });

  it('a node of a freed parse reads as a leaf, never from freed memory', async () => {
    await initSyntax();
    // A fresh parse builds its whole tree at the first read; freed, it still answers from what it built.
    const fresh = SourceFile.fromText('/x.nix', '{ a = { b = 1; }; c = [ 1 2 ]; }');
    const built = fresh.expression!;
    fresh.dispose();
    assert.deepEqual(built.namedChildren.map((child) => child.type), ['binding_set']);
    // After an edit, nodes are read one level at a time (copied from the previous parse where they can be).
    const original = SourceFile.fromText('/x.nix', '{ a = { b = 1; }; c = [ 1 2 ]; }');
    assert.ok(original.root);
    const file = original.withChanges([{ start: 1, end: 1, text: ' ' }]);
    original.dispose();
    const attrs = file.expression!;
    assert.equal(attrs.type, 'attrset_expression');
    file.dispose();
    // Its children were never read while the tree was alive: now there are none to read.
    assert.deepEqual(attrs.children, []);
    assert.equal(attrs.childForFieldName('binding'), null);
    assert.equal(attrs.descendantForIndex(3), attrs);
    assert.equal(attrs.text, '{  a = { b = 1; }; c = [ 1 2 ]; }');
  });
});
