/**
 * `npm run bench`: how fast the analysis is. A benchmark, not a test: it prints figures and asserts nothing.
 *
 * - analysis of the seed host (parse + model + all rules), warm, median of many runs;
 * - the same for a generated 20,000-line host;
 * - tree-sitter's parse of the 20,000-line file against `nix-instantiate --parse` of it, in the same run, as a ratio;
 * - what a scavenge keeps after back-to-back edits of the seed host (young-retention.ts).
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
  rows.push(...hostileShapes());
  rows.push(...youngRetention());
  const width = Math.max(...rows.map(([label]) => label.length));
  console.log(`ephemeral-root bench — node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}`);
  for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value}`);
}

/**
 * What a scavenge keeps after back-to-back edits (young-retention.ts), for the seed and the largest corpus host, with
 * allocation-site pretenuring off as the server runs and with V8's default. Each in a process of its own: it needs `gc`
 * and semi-spaces that hold all the edits' allocations.
 */
function youngRetention(): [string, string][] {
  const script = path.join(__dirname, 'young-retention.js');
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
  const measure = (host: string, pretenuring: boolean): string | undefined => {
    const flags = ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64', ...(pretenuring ? [] : ['--no-allocation-site-pretenuring'])];
    const output = execFileSync(process.execPath, [...flags, script, host], { encoding: 'utf8' }).trim();
    if (!output) return undefined;
    const kept = JSON.parse(output.split('\n').pop() ?? '{}') as { after1: number; after9: number };
    return `${mib(kept.after1)} / ${mib(kept.after9)}`;
  };
  const rows: [string, string][] = [];
  for (const host of ['seed', 'aria']) {
    const server = measure(host, false);
    if (server === undefined) continue;
    rows.push([
      `${host === 'seed' ? 'seed host' : 'largest corpus host (aria-2025-01)'}: young generation kept by a scavenge after 1 / 9 back-to-back edits`,
      `${server} as the server runs (pretenuring off), ${measure(host, true)} with V8's pretenuring (only the last analysis is alive)`,
    ]);
  }
  return rows;
}

/**
 * Hostile shapes (issue 12): parse + model + rules of one file per shape, at two sizes, once each. Linear work shows as
 * a ratio near 2 between the sizes; a ratio near 4 is quadratic. A text the parser refuses (`too-complex`) says so.
 */
const HOSTILE_SHAPES: Record<string, (count: number) => string> = {
  'unclosed `[ {`': (count) => '[ {'.repeat(count),
  'select chain `x.a.a…`': (count) => '{ y = x' + '.a'.repeat(count) + '; }',
  'nested `(((…)))`': (count) => '('.repeat(count) + '1' + ')'.repeat(count),
  'nested `[[[…]]]`': (count) => '['.repeat(count) + ']'.repeat(count),
  'nested `{a={a=…}}`': (count) => '{a='.repeat(count) + '1' + ';}'.repeat(count),
  'nested `let a = let a = …`': (count) => 'let a = '.repeat(count) + '1' + '; in a'.repeat(count),
  'unclosed `{a={a=…`': (count) => '{a='.repeat(count),
  '`++` chain': (count) => '{ x = [1]' + ' ++ [1]'.repeat(count) + '; }',
  '`+` chain': (count) => '{ x = 1' + ' + 1'.repeat(count) + '; }',
  'bindings, one per line': (count) => '{\n' + Array.from({ length: count }, (_, index) => `  a${index} = ${index};\n`).join('') + '}\n',
  'bindings on one line': (count) => '{' + Array.from({ length: count }, (_, index) => ` a${index} = ${index};`).join('') + ' }',
  'list elements': (count) => '{ x = [' + ' 1'.repeat(count) + ' ]; }',
  'a string of 25 × n characters': (count) => '{ x = "' + 'a'.repeat(count * 25) + '"; }',
  'interpolations': (count) => '{ x = "' + '${a}'.repeat(count) + '"; }',
  'bindings without `;`': (count) => '{\n' + 'a = 1\n'.repeat(count) + '}',
  'stray tokens': (count) => '{ a = ; } ] ) in = '.repeat(count),
  '`[` opened on one line, closed on the next': (count) => '{ a = ' + '['.repeat(count) + '\n]'.repeat(count) + ';',
};

function hostileShapes(): [string, string][] {
  const rows: [string, string][] = [['hostile shapes (n = 10,000 and 20,000; parse + model + rules)', '']];
  const folder = mkdtempSync(path.join(os.tmpdir(), 'bench-hostile-'));
  try {
    for (const [name, make] of Object.entries(HOSTILE_SHAPES)) {
      const cells: string[] = [];
      const medians: number[] = [];
      let refused = false;
      for (const count of [10_000, 20_000]) {
        const text = make(count);
        writeFileSync(path.join(folder, 'configuration.nix'), text);
        medians.push(time(1, () => analyze(new Workspace(), [folder])).median);
        const probe = SourceFile.fromText('configuration.nix', text);
        refused ||= probe.unreadable === 'too-complex';
        probe.dispose();
        cells.push(`${fmt(medians[medians.length - 1])} (${(text.length / 1024).toFixed(0)} KB)`);
      }
      const ratio = (medians[1] / medians[0]).toFixed(1);
      rows.push([`  ${name}`, `${cells.join(' → ')}, ratio ${ratio}${refused ? ', refused as too complex' : ''}`]);
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  return rows;
}

void main();
