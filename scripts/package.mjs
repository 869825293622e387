#!/usr/bin/env node
// `npm run package`: a production build and the .vsix (allow-listed by .vscodeignore; dependencies are bundled).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const run = (args) => {
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};
run([path.join(root, 'scripts', 'build.mjs'), '--production']);
const vsce = path.join(path.dirname(require.resolve('@vscode/vsce/package.json')), 'vsce');
run([vsce, 'package', '--no-dependencies', '--out', path.join(root, 'nixos-ephemeral-root.vsix')]);
