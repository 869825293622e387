/**
 * `npm run bench`: how fast the analysis is. A benchmark, not a test: it prints figures and asserts nothing.
 *
 * - analysis of the seed host (parse + model + all rules), warm, median of many runs;
 * - the same for a generated 20,000-line host;
 * - tree-sitter's parse of the 20,000-line file against `nix-instantiate --parse` of it, in the same run, as a ratio.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Workspace } from '../../server/src/model/workspace';
import { analyze } from '../../server/src/rules/engine';
import { SourceFile, initSyntax, parseText } from '../../server/src/syntax/parser';
import { REPO_ROOT } from '../support/engine';
import { GENERATED_DISKO, generatedConfiguration } from './generate';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time(runs: number, action: () => void): { median: number; min: number; max: number } {
  const samples: number[] = [];
  for (let index = 0; index < runs; index++) {
    const start = performance.now();
    action();
    samples.push(performance.now() - start);
  }
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples) };
}

const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

async function main(): Promise<void> {
  await initSyntax();
  const rows: [string, string][] = [];
  const seed = path.join(REPO_ROOT, 'examples', 'seed');
  // A fresh workspace each run: parse, evaluate and run every rule, as a cold CLI invocation does after start-up.
  const seedTime = time(30, () => analyze(new Workspace(), [seed]));
  rows.push(['seed host: parse + model + rules (fresh workspace)', `${fmt(seedTime.median)} (min ${fmt(seedTime.min)}, max ${fmt(seedTime.max)})`]);
  const seedWorkspace = new Workspace();
  analyze(seedWorkspace, [seed]);
  const seedWarm = time(30, () => analyze(seedWorkspace, [seed]));
  rows.push(['seed host: model + rules (files already parsed)', fmt(seedWarm.median)]);

  const folder = mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  try {
    const text = generatedConfiguration(20_000);
    const big = path.join(folder, 'configuration.nix');
    writeFileSync(big, text);
    writeFileSync(path.join(folder, 'disko.nix'), GENERATED_DISKO);
    const lines = text.split('\n').length - 1;
    const bigTime = time(10, () => analyze(new Workspace(), [folder]));
    rows.push([`generated host, ${lines} lines / ${(text.length / 1024).toFixed(0)} KB: parse + model + rules`, `${fmt(bigTime.median)} (min ${fmt(bigTime.min)})`]);
    const findings = analyze(new Workspace(), [folder]).findings.length;
    rows.push(['  findings on the generated host (expected 0)', String(findings)]);

    const parse = time(10, () => parseText(readFileSync(big, 'utf8')).delete());
    rows.push(['tree-sitter parse of the generated file', fmt(parse.median)]);
    const source = SourceFile.fromText(big, text);
    const edited = time(20, () => source.withChanges([{ start: 100, end: 100, text: ' ' }]).dispose());
    rows.push(['incremental re-parse after a one-character edit', fmt(edited.median)]);
    let nixTime: number | undefined;
    try {
      execFileSync('nix-instantiate', ['--parse', big], { stdio: 'ignore' });
      nixTime = time(10, () => execFileSync('nix-instantiate', ['--parse', big], { stdio: 'ignore' })).median;
      rows.push(['nix-instantiate --parse of the same file (whole process)', fmt(nixTime)]);
      rows.push(['ratio: our parse / nix-instantiate --parse', (parse.median / nixTime).toFixed(2)]);
    } catch {
      rows.push(['nix-instantiate --parse', 'not available (apt-get install nix-bin)']);
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  const width = Math.max(...rows.map(([label]) => label.length));
  console.log(`ephemeral-root bench — node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}`);
  for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value}`);
}

void main();
