/**
 * Writes the results table of docs/performance.md from the figures of the last `npm run bench` (out/bench.json, or
 * the file given as argument 1): the text between the two `bench-table` markers is replaced, the rest of the page
 * (what the profiles showed, what was tried) is written by hand.
 *
 *   node out/scripts/performance-docs.js [out/bench.json]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type BenchFigures, targetTable } from '../test/bench/targets';

const ROOT = path.resolve(__dirname, '..', '..');
const PAGE = path.join(ROOT, 'docs', 'performance.md');
export const START = '<!-- bench-table:start (written by scripts/performance-docs.ts from npm run bench) -->';
export const END = '<!-- bench-table:end -->';

/** The generated part of the page for a set of figures. */
export function benchSection(figures: BenchFigures): string {
  const machine = `${figures.machine.cpus} × ${figures.machine.model ?? 'cpu'}, ${figures.machine.memoryGiB} GiB, Node ${figures.machine.node}`;
  const loads = figures.loadAtStart !== undefined && figures.loadAtEnd !== undefined ? `; load average (1 min) ${figures.loadAtStart.toFixed(1)} at the start, ${figures.loadAtEnd.toFixed(1)} at the end` : '';
  return [
    START,
    `One \`npm run bench\` run, ${figures.date ?? 'date unknown'} (${machine}${loads}). The last column is the load average when the measurement ended.`,
    '',
    targetTable(figures),
    END,
  ].join('\n');
}

function main(): void {
  const source = process.argv[2] ?? path.join(ROOT, 'out', 'bench.json');
  const figures = JSON.parse(readFileSync(source, 'utf8')) as BenchFigures;
  const page = readFileSync(PAGE, 'utf8');
  const start = page.indexOf(START);
  const end = page.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${path.relative(ROOT, PAGE)} has no bench-table markers`);
  writeFileSync(PAGE, `${page.slice(0, start)}${benchSection(figures)}${page.slice(end + END.length)}`);
  console.log(`${path.relative(process.cwd(), PAGE)}: results table written from ${path.relative(process.cwd(), source)}`);
}

if (require.main === module) main();
