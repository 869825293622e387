/**
 * The table of issue 18: every measurement of `npm run bench` against its target, from the figures load.ts writes to
 * out/bench.json. load.ts prints it; scripts/performance-docs.ts writes it into docs/performance.md.
 */

interface Percentiles {
  p50: number;
  p95: number;
  max: number;
  n: number;
  load?: number;
}

export interface BenchFigures {
  date?: string;
  machine: { cpus: number; model?: string; memoryGiB: number; node: string };
  loadAtStart?: number;
  loadAtEnd?: number;
  seed?: { sameFile: Percentiles; crossFile: Percentiles; paced?: Percentiles & { paceMs?: number }; warm?: Percentiles & { after?: number }; load?: number };
  corpus?: Percentiles;
  /** The same edits typed at a person's pace (one every `paceMs`), with the server idle in between. */
  corpusPaced?: Percentiles & { paceMs?: number };
  /** The same edits back to back again, after the paced ones: the server's code optimised by then. */
  corpusWarm?: Percentiles & { after?: number };
  large?: Percentiles;
  coldStart?: Percentiles;
  memory?: { after100: number; afterMany: number; edits: number; peak: number; load?: number };
  cli1000?: { ms: number; peakMiB: number; load?: number; whole?: { ms: number; peakMiB: number; load?: number }; sameOutput?: boolean };
  repository?: { name: string; files: number; lines: number; ms: number; nixParseMs: number; ratio: number; load?: number };
}

export interface TargetRow {
  measurement: string;
  result: string;
  target: string;
  met: boolean | undefined;
  load: string;
}

const ms = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`);
const loadText = (value: number | undefined) => (value === undefined ? '' : value.toFixed(1));

export function targetRows(figures: BenchFigures): TargetRow[] {
  const rows: TargetRow[] = [];
  const percentileRow = (measurement: string, p: Percentiles | undefined, limit: number, load?: number) =>
    rows.push({
      measurement,
      result: p ? `p50 ${ms(p.p50)}, p95 ${ms(p.p95)}, max ${ms(p.max)} (n=${p.n})` : 'not measured',
      target: `p95 ≤ ${limit} ms`,
      met: p ? p.p95 <= limit : undefined,
      load: loadText(p?.load ?? load),
    });
  percentileRow('seed host, edit → diagnostics', figures.seed?.sameFile, 5, figures.seed?.load);
  percentileRow('seed host, disko.nix edit → configuration.nix', figures.seed?.crossFile, 10, figures.seed?.load);
  percentileRow('largest corpus host (aria-2025-01, 66 files), edit → diagnostics', figures.corpus, 16);
  // Informative: the targets hold for edits back to back from the server's start; at a typing pace the server collects
  // garbage in between, and after some thousand edits V8 has optimised what an edit runs.
  if (figures.seed?.warm) percentileRow(`  seed host again after ${figures.seed.warm.after ?? 1500} edits (warm JIT)`, figures.seed.warm, 5, figures.seed.load);
  if (figures.corpusWarm) percentileRow(`  largest corpus host again after ${figures.corpusWarm.after ?? 1000} edits (warm JIT)`, figures.corpusWarm, 16);
  if (figures.seed?.paced) percentileRow(`  seed host at a typing pace (an edit every ${figures.seed.paced.paceMs ?? 40} ms)`, figures.seed.paced, 5, figures.seed.load);
  if (figures.corpusPaced) percentileRow(`  largest corpus host at a typing pace (an edit every ${figures.corpusPaced.paceMs ?? 40} ms)`, figures.corpusPaced, 16);
  percentileRow('generated 20,000-line host, edit → diagnostics', figures.large, 30);
  const cold = figures.coldStart;
  rows.push({
    measurement: 'cold start: spawn + initialize + open → first diagnostics',
    result: cold ? `p50 ${ms(cold.p50)}, p95 ${ms(cold.p95)}, max ${ms(cold.max)} (n=${cold.n})` : 'not measured',
    target: 'p50 ≤ 250 ms',
    met: cold ? cold.p50 <= 250 : undefined,
    load: loadText(cold?.load),
  });
  const memory = figures.memory;
  rows.push({
    measurement: `server peak RSS over ${memory?.edits ?? 10_000} edits`,
    result: memory ? `${memory.peak.toFixed(0)} MiB (RSS ${memory.after100.toFixed(0)} MiB after 100 edits, ${memory.afterMany.toFixed(0)} MiB after ${memory.edits})` : 'not measured',
    target: '≤ 80 MiB',
    met: memory ? memory.peak <= 80 : undefined,
    load: loadText(memory?.load),
  });
  const cli = figures.cli1000;
  rows.push({
    measurement: 'CLI over 1,000 hosts, whole process',
    result: cli
      ? `${ms(cli.ms)}, peak RSS ${cli.peakMiB.toFixed(0)} MiB${cli.whole ? ` (analysed whole: ${ms(cli.whole.ms)}, ${cli.whole.peakMiB.toFixed(0)} MiB${cli.sameOutput === false ? ', OUTPUT DIFFERS' : ', same output'})` : ''}`
      : 'not measured',
    target: '≤ 3 s, ≤ 300 MiB',
    met: cli ? cli.ms <= 3000 && cli.peakMiB <= 300 : undefined,
    load: loadText(cli?.load),
  });
  const repository = figures.repository;
  rows.push({
    measurement: repository ? `CLI on the largest corpus repository (${repository.name}: ${repository.files} files, ${repository.lines} lines), whole process` : 'CLI on the largest corpus repository',
    result: repository ? `${ms(repository.ms)} = ${repository.ratio.toFixed(1)}× \`nix-instantiate --parse\` of the same files (${ms(repository.nixParseMs)})` : 'not measured',
    target: '≤ 3×',
    met: repository ? repository.ratio <= 3 : undefined,
    load: loadText(repository?.load),
  });
  return rows;
}

const verdict = (met: boolean | undefined) => (met === undefined ? '—' : met ? 'met' : 'missed');

/** The rows as a Markdown table (the console and docs/performance.md show the same text). */
export function targetTable(figures: BenchFigures): string {
  const lines = ['| measurement | result | target | | load |', '|---|---|---|---|---|'];
  for (const row of targetRows(figures)) lines.push(`| ${row.measurement} | ${row.result} | ${row.target} | ${verdict(row.met)} | ${row.load} |`);
  return lines.join('\n');
}
