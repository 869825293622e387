#!/usr/bin/env node
// Runs every test group: the unit and engine tests (node:test, one process), then each end-to-end suite (one
// process each). A failing group never stops the others, so one run tells which groups pass and which fail. At the
// end one summary table is printed (group, passed, failed, time) and the exit code is 1 when any group failed.
//
// `--unit` runs only the first group (fast, for development). EPHEMERAL_ROOT_TEST_OUT points the runner at another
// compiled test folder (default: out/test); its own test uses that to run it on suites it controls.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const testOut = path.resolve(process.env.EPHEMERAL_ROOT_TEST_OUT ?? path.join(root, 'out', 'test'));
const unitOnly = process.argv.includes('--unit');

function find(dir, pattern) {
  if (!existsSync(dir)) return [];
  const found = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) found.push(...find(full, pattern));
    else if (pattern.test(entry)) found.push(full);
  }
  return found.sort();
}

/** Counts from a TAP report's closing lines ("# pass 12", "# fail 1"). */
function tapCounts(file) {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  return { passed: count('pass'), failed: count('fail') + count('cancelled') };
}

const results = [];

function runGroup(name, command, args, countsOf) {
  console.log(`\n=== ${name}`);
  const started = Date.now();
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root });
  const seconds = (Date.now() - started) / 1000;
  const ok = result.status === 0;
  let { passed, failed } = countsOf(ok);
  // A crash that left no report still counts as a failure of the group.
  if (!ok && failed === 0) failed = 1;
  results.push({ name, passed, failed, seconds, ok });
  if (!ok) console.error(`\n${name} failed (exit ${result.status ?? result.signal})`);
}

const e2eFolder = `${path.sep}e2e${path.sep}`;
const vscodeFolder = `${path.sep}vscode${path.sep}`;
const unitTests = find(testOut, /\.test\.js$/).filter((file) => !file.includes(vscodeFolder) && !file.includes(e2eFolder));
const reports = mkdtempSync(path.join(os.tmpdir(), 'ephemeral-root-tests-'));
const tap = path.join(reports, 'unit.tap');
runGroup(
  'unit and engine tests',
  process.execPath,
  ['--test', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...unitTests],
  () => tapCounts(tap),
);
rmSync(reports, { recursive: true, force: true });

if (!unitOnly) {
  // Each end-to-end suite is one program: exit code 0 is one passed suite, anything else one failed suite.
  for (const suite of find(path.join(testOut, 'e2e'), /\.e2e\.js$/)) {
    runGroup(`end-to-end: ${path.basename(suite, '.js')}`, process.execPath, [suite], (ok) => ({ passed: ok ? 1 : 0, failed: ok ? 0 : 1 }));
  }
}

const rows = [['group', 'passed', 'failed', 'time'], ...results.map((row) => [row.name, String(row.passed), String(row.failed), `${row.seconds.toFixed(1)} s`])];
const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
const line = (row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
console.log('\n=== summary (unit group: tests; end-to-end groups: suites)');
console.log(line(rows[0]));
console.log(widths.map((width) => '-'.repeat(width)).join('  '));
for (const row of rows.slice(1)) console.log(line(row));
const failedGroups = results.filter((row) => !row.ok);
console.log(failedGroups.length === 0 ? `\nall ${results.length} group(s) passed` : `\n${failedGroups.length} of ${results.length} group(s) failed: ${failedGroups.map((row) => row.name).join(', ')}`);
// The plain closing line CI reads: tests of the unit group and suites of the end-to-end groups, added up.
const total = (key) => results.reduce((sum, row) => sum + row[key], 0);
console.log(`total: ${total('passed')} passed, ${total('failed')} failed`);
process.exit(failedGroups.length === 0 ? 0 : 1);
