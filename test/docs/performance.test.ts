/**
 * docs/performance.md's results table is written by scripts/performance-docs.ts from `npm run bench`: the page keeps
 * the markers the script writes between, and the table has a row, a target and a verdict for every measurement of
 * issue 18.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { END, START, benchSection } from '../../scripts/performance-docs';
import type { BenchFigures } from '../bench/targets';
import { REPO_ROOT } from '../support/engine';

const p = (p50: number, p95: number) => ({ p50, p95, max: p95 * 2, n: 500, load: 1.5 });

describe('docs/performance.md', () => {
  it('holds the markers the bench writes its table between', () => {
    const page = readFileSync(path.join(REPO_ROOT, 'docs', 'performance.md'), 'utf8');
    const start = page.indexOf(START);
    assert.ok(start >= 0 && page.indexOf(END) > start);
  });

  it('lists every measurement of the issue with its target and whether it was met', () => {
    const figures: BenchFigures = {
      date: '2026-12-04T19:00:00Z',
      machine: { cpus: 2, model: 'cpu', memoryGiB: 24, node: 'v20.20.2' },
      loadAtStart: 1,
      loadAtEnd: 2,
      seed: { sameFile: p(2, 4), crossFile: p(3, 12), load: 1 },
      corpus: p(9, 15),
      large: p(500, 900),
      coldStart: p(240, 300),
      memory: { after100: 70, afterMany: 72, edits: 10_000, peak: 79, load: 1 },
      cli1000: { ms: 2500, peakMiB: 320, load: 1, whole: { ms: 9000, peakMiB: 1100 }, sameOutput: true },
      repository: { name: 'repo', files: 95, lines: 7065, ms: 900, nixParseMs: 250, ratio: 3.6, load: 1 },
    };
    const rows = benchSection(figures).split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| measurement'));
    const verdicts = rows.map((row) => row.split(' | ')[3]);
    assert.equal(rows.length, 8);
    assert.deepEqual(verdicts, ['met', 'missed', 'met', 'missed', 'met', 'met', 'missed', 'missed']);
    assert.match(benchSection(figures), /load average \(1 min\) 1\.0 at the start, 2\.0 at the end/);
  });

  it('adds the edits measured again on a warm JIT, each against the target of its host', () => {
    const figures: BenchFigures = {
      machine: { cpus: 2, memoryGiB: 24, node: 'v20.20.2' },
      seed: { sameFile: p(3, 9), crossFile: p(2, 7), warm: { ...p(2, 4.5), after: 1500 } },
      corpus: p(8, 19),
      corpusWarm: { ...p(6, 17), after: 1000 },
    };
    const warmRows = benchSection(figures)
      .split('\n')
      .filter((line) => line.includes('warm JIT'));
    assert.deepEqual(
      warmRows.map((row) => {
        const [measurement, , target, verdict] = row.split(' | ');
        return [measurement.trim(), target, verdict];
      }),
      [
        ['|   seed host again after 1500 edits (warm JIT)', 'p95 ≤ 5 ms', 'met'],
        ['|   largest corpus host again after 1000 edits (warm JIT)', 'p95 ≤ 16 ms', 'missed'],
      ],
    );
  });
});
