/**
 * `npm run bench`, the evaluation-backed mode: `ephemeral-root check --eval` on a test repository evaluated by the
 * real Nix 2.8 against the stand-in nixpkgs (test/stand-ins/nixos-eval), first run (empty cache: Nix evaluates the
 * host) and cached run (nothing changed: no Nix). Wall time and peak RSS of the whole command (GNU time's maximum
 * resident set size of the CLI and what it started, Nix included), median of BENCH_EVAL_RUNS (default 5) runs each,
 * beside the same command without `--eval` (the whole process: Node's start-up is most of it).
 * Prints a table and writes the figures as JSON (argument 1 or out/bench-evaluation.json).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { prepare } from '../evaluation/support';
import { REPO_ROOT } from '../support/engine';

const RUNS = Number(process.env.BENCH_EVAL_RUNS ?? 5);
const CLI = path.join(REPO_ROOT, 'dist/cli.js');

interface Sample {
  seconds: number;
  peakMiB: number;
  evalCalls: number;
}

function run(cwd: string, env: NodeJS.ProcessEnv, before: () => number, after: () => number, flags = ['--eval']): Sample {
  const calls = before();
  const result = spawnSync('/usr/bin/time', ['-f', 'BENCH %e %M', process.execPath, CLI, 'check', '.', ...flags, '--format', 'json'], { cwd, env, encoding: 'utf8' });
  const match = /BENCH ([\d.]+) (\d+)/.exec(result.stderr);
  if (!match || (result.status !== 0 && result.status !== 1)) throw new Error(`check --eval failed (${result.status}): ${result.stderr}`);
  return { seconds: Number(match[1]), peakMiB: Number(match[2]) / 1024, evalCalls: after() - calls };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function main(): void {
  execFileSync('/usr/bin/time', ['--version'], { stdio: 'ignore' });
  const prepared = prepare('custom-option/trigger');
  try {
    const first: Sample[] = [];
    const cached: Sample[] = [];
    const plain: Sample[] = [];
    for (let index = 0; index < RUNS; index++) {
      const none = () => 0;
      plain.push(run(prepared.repo, prepared.env, none, none, []));
      rmSync(prepared.cache, { recursive: true, force: true });
      const count = () => prepared.evalCalls().length;
      first.push(run(prepared.repo, prepared.env, count, count));
      cached.push(run(prepared.repo, prepared.env, count, count));
    }
    if (first.some((sample) => sample.evalCalls !== 1) || cached.some((sample) => sample.evalCalls !== 0)) throw new Error('the first run must call nix eval once, the cached run never');
    const figures = {
      runs: RUNS,
      first: { seconds: median(first.map((sample) => sample.seconds)), peakMiB: median(first.map((sample) => sample.peakMiB)) },
      static: { seconds: median(plain.map((sample) => sample.seconds)), peakMiB: median(plain.map((sample) => sample.peakMiB)) },
      cached: { seconds: median(cached.map((sample) => sample.seconds)), peakMiB: median(cached.map((sample) => sample.peakMiB)) },
    };
    const out = process.argv[2] ?? path.join(REPO_ROOT, 'out', 'bench-evaluation.json');
    writeFileSync(out, `${JSON.stringify(figures, null, 2)}\n`);
    process.stdout.write(
      [
        '',
        `evaluation-backed mode (check --eval, stand-in nixpkgs, real Nix; median of ${RUNS})`,
        '| run | wall time | peak RSS |',
        '|---|---|---|',
        `| static only (no --eval) | ${figures.static.seconds.toFixed(2)} s | ${figures.static.peakMiB.toFixed(0)} MiB |`,
        `| first (nix eval) | ${figures.first.seconds.toFixed(2)} s | ${figures.first.peakMiB.toFixed(0)} MiB |`,
        `| cached (no nix) | ${figures.cached.seconds.toFixed(2)} s | ${figures.cached.peakMiB.toFixed(0)} MiB |`,
        `figures: ${out}`,
        '',
      ].join('\n'),
    );
  } finally {
    rmSync(prepared.scratch, { recursive: true, force: true });
  }
}

main();
