#!/usr/bin/env node
// Builds grammar/tree-sitter-nix.wasm from the C sources of the pinned `tree-sitter-nix` npm package.
// The result is committed, so a user's `npm install` never needs a compiler; this script is for maintainers
// and for the test that proves the committed wasm still matches the package.
// Usage: node scripts/build-grammar.mjs [--opt Os|O2|O3] [--out FILE]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : fallback;
};
const optimisation = option('--opt', 'Os');
const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const output = path.resolve(option('--out', path.join(repoRoot, 'grammar', 'tree-sitter-nix.wasm')));
const grammarDir = path.dirname(require.resolve('tree-sitter-nix/package.json'));

const emcc = ['/usr/bin/emcc', '/usr/local/bin/emcc'].find((candidate) => existsSync(candidate)) ?? 'emcc';
try {
  execFileSync(
    emcc,
    [
      `-${optimisation}`, '-fPIC', '-s', 'SIDE_MODULE=2', '-s', 'EXPORTED_FUNCTIONS=_tree_sitter_nix',
      '-I', 'src', 'src/parser.c', 'src/scanner.c', '-o', output,
    ],
    { cwd: grammarDir, stdio: 'inherit' },
  );
} catch (error) {
  console.error(`build-grammar: emcc failed (${error.message}). Install Debian's emscripten: apt-get install -y emscripten`);
  process.exit(2);
}
console.log(`build-grammar: wrote ${path.relative(process.cwd(), output)} (-${optimisation})`);
