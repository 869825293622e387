#!/usr/bin/env node
// The Quick start's first command: runs the checker on the bundled examples and prints what it finds.
// examples/seed is a correct host (no findings); examples/broken-* are hosts with typical mistakes.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const cli = path.join(root, 'bin', 'ephemeral-root.js');
const run = (args) => spawnSync(process.execPath, [cli, 'check', ...args], { cwd: root, encoding: 'utf8' });

for (const example of ['examples/seed', 'examples/broken-flake', 'examples/broken-classic']) {
  console.log(`\n$ ephemeral-root check ${example}`);
  const result = run([example]);
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  // Exit code 1 means "errors found", which is the point of the broken examples; 2 means the tool failed.
  if (result.status === 2 || result.status === null) process.exit(2);
  if (example === 'examples/seed' && result.status !== 0) {
    console.error('demo: the seed example should have no error findings');
    process.exit(1);
  }
}
console.log('\nMachine-readable output for CI: ephemeral-root check . --format json (or --format sarif)');
