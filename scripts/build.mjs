#!/usr/bin/env node
// Bundles the CLI, the language server and the VS Code client with esbuild, and copies the two wasm files
// (tree-sitter's runtime and the Nix grammar) next to the bundles, where the syntax layer looks for them.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const production = process.argv.includes('--production');
const dist = path.join(root, 'dist');
mkdirSync(dist, { recursive: true });

const entries = [
  { in: 'server/src/cli/main.ts', out: 'cli' },
  { in: 'server/src/lsp/main.ts', out: 'server' },
  { in: 'client/src/extension.ts', out: 'extension' },
].filter((entry) => existsSync(path.join(root, entry.in)));

await build({
  absWorkingDir: root,
  entryPoints: entries.map((entry) => ({ in: entry.in, out: entry.out })),
  outdir: dist,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
  // web-tree-sitter's CommonJS build still reads import.meta.url to find its files; give it the bundle's own URL.
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
});

copyFileSync(path.join(root, 'grammar', 'tree-sitter-nix.wasm'), path.join(dist, 'tree-sitter-nix.wasm'));
copyFileSync(path.join(path.dirname(require.resolve('web-tree-sitter')), 'tree-sitter.wasm'), path.join(dist, 'tree-sitter.wasm'));
console.log(`build: ${entries.map((entry) => `dist/${entry.out}.js`).join(', ')} and the wasm files`);
