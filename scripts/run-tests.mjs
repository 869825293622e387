#!/usr/bin/env node
// Runs the test suites in order: unit and engine tests (node:test), then the real-editor suites.
// `--unit` runs only the first group (fast, for development).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const unitOnly = process.argv.includes('--unit');

function find(dir, pattern) {
  const found = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) found.push(...find(full, pattern));
    else if (pattern.test(entry)) found.push(full);
  }
  return found.sort();
}

function run(label, command, args, options = {}) {
  console.log(`\n=== ${label}`);
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options });
  if (result.status !== 0) {
    console.error(`\n${label} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status || 1);
  }
}

const unitTests = find(path.join(root, 'out', 'test'), /\.test\.js$/).filter((file) => !file.includes(`${path.sep}vscode${path.sep}`) && !file.includes(`${path.sep}e2e${path.sep}`));
run('unit and engine tests', process.execPath, ['--test', '--test-reporter=spec', ...unitTests]);
if (unitOnly) process.exit(0);
for (const suite of find(path.join(root, 'out', 'test', 'e2e'), /\.e2e\.js$/)) {
  run(`end-to-end: ${path.basename(suite)}`, process.execPath, [suite]);
}
