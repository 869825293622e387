/**
 * The layers of DESIGN.md, read from the sources' import statements: each folder of server/src imports only the
 * folders above it, and inside the language server no feature imports the server (features take an `Analysis`,
 * server/src/lsp/analysis.ts; only main.ts, which starts the server, may name it).
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../support/engine';

const SOURCES = path.join(REPO_ROOT, 'server', 'src');

/** Each folder and the folders it may import; the adapters (lsp, cli) sit on the evaluation-backed mode too. */
const MAY_IMPORT: Record<string, string[]> = {
  syntax: [],
  model: ['syntax'],
  rules: ['syntax', 'model'],
  fixes: ['syntax', 'model', 'rules'],
  evaluation: ['syntax', 'model', 'rules'],
  lsp: ['syntax', 'model', 'rules', 'fixes', 'evaluation'],
  cli: ['syntax', 'model', 'rules', 'fixes', 'evaluation'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The files a source imports, as absolute paths without extension (relative imports only). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)[^;]*?from '(\.[^']+)';/gms)].map((match) => path.resolve(path.dirname(file), match[1]));
}

describe('layers', () => {
  const files = sourceFiles(SOURCES);

  it('finds the sources and their imports', () => {
    assert.ok(files.length > 100, `only ${files.length} sources under ${SOURCES}`);
    assert.ok(importsOf(path.join(SOURCES, 'lsp', 'server.ts')).includes(path.join(SOURCES, 'lsp', 'hover')));
  });

  it('each folder imports only the folders above it', () => {
    const wrong: string[] = [];
    for (const file of files) {
      const layer = path.relative(SOURCES, file).split(path.sep)[0];
      const allowed = MAY_IMPORT[layer];
      assert.ok(allowed, `${path.relative(SOURCES, file)} lies in a folder DESIGN.md does not name`);
      for (const target of importsOf(file)) {
        const targetLayer = path.relative(SOURCES, target).split(path.sep)[0];
        if (targetLayer !== layer && !allowed.includes(targetLayer)) wrong.push(`${path.relative(SOURCES, file)} imports ${path.relative(SOURCES, target)}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('no language feature imports the server: only main.ts starts it', () => {
    const server = path.join(SOURCES, 'lsp', 'server');
    const importers = files.filter((file) => importsOf(file).includes(server)).map((file) => path.relative(SOURCES, file));
    assert.deepEqual(importers, [path.join('lsp', 'main.ts')]);
  });
});
