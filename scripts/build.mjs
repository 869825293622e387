#!/usr/bin/env node
// Bundles the CLI, the language server and the VS Code client with esbuild, and copies the two wasm files
// (tree-sitter's runtime and the Nix grammar) next to the bundles, where the syntax layer looks for them.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
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

/**
 * web-tree-sitter loads two built-in modules with `import()`. A script that V8 restores from a code cache (the one
 * bin/ephemeral-root-ls.js keeps) has no dynamic-import callback on Node 20, so those calls would fail there: the
 * bundle loads the two with its own `require`, which is what they resolve to anyway.
 */
const withoutDynamicImport = {
  name: 'without-dynamic-import',
  setup(builder) {
    builder.onLoad({ filter: /web-tree-sitter[\\/]tree-sitter\.c?js$/ }, async (args) => {
      const source = readFileSync(args.path, 'utf8');
      const replaced = source.replace(/await import\(("fs\/promises"|"module")\)/g, (_match, name) => `__nodeRequire(${name})`);
      if ((replaced.match(/__nodeRequire\(/g) ?? []).length !== 2) throw new Error(`${args.path}: expected two import() calls to replace`);
      return { contents: replaced, loader: 'js', resolveDir: path.dirname(args.path) };
    });
  },
};

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
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href; const __nodeRequire = require;" },
  plugins: [withoutDynamicImport],
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
});

copyFileSync(path.join(root, 'grammar', 'tree-sitter-nix.wasm'), path.join(dist, 'tree-sitter-nix.wasm'));
copyFileSync(path.join(path.dirname(require.resolve('web-tree-sitter')), 'tree-sitter.wasm'), path.join(dist, 'tree-sitter.wasm'));
console.log(`build: ${entries.map((entry) => `dist/${entry.out}.js`).join(', ')} and the wasm files`);
