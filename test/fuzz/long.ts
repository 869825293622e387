/**
 * `npm run fuzz`: the long fuzz run (100,000 edits by default; FUZZ_EDITS, FUZZ_SEED, FUZZ_LIMIT_MS and
 * FUZZ_HOSTILE_LIMIT_MS change it). A failing
 * sequence is saved under test/fixtures/fuzz/ and replayed by `npm test` from then on.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../support/engine';
import { fuzzServer } from './edit-fuzzer';

async function main(): Promise<void> {
  const totalEdits = Number(process.env.FUZZ_EDITS ?? 100_000);
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
  const editsPerRun = 16;
  const started = Date.now();
  console.log(`fuzz: seed ${seed}, ${totalEdits} edits`);
  const result = await fuzzServer({
    seed,
    // fast-check favours short sequences; enough of them for any mix of lengths, stopped at the requested count.
    runs: totalEdits,
    maxEdits: totalEdits,
    editsPerRun,
    responseLimitMs: Number(process.env.FUZZ_LIMIT_MS ?? 100),
    // A run that looks only for crashes, errors and bad ranges on a busy machine may raise both limits.
    hostileLimitMs: process.env.FUZZ_HOSTILE_LIMIT_MS ? Number(process.env.FUZZ_HOSTILE_LIMIT_MS) : undefined,
    onFailure: (record) => {
      const dir = path.join(REPO_ROOT, 'test', 'fixtures', 'fuzz');
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `seed-${record.seed}-${Date.now()}.json`);
      writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
      console.error(`fuzz: failure saved to ${path.relative(REPO_ROOT, file)}: ${record.error}`);
    },
  });
  console.log(`fuzz: ${result.edits} edits clean in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(`fuzz: ordinary documents: ${summary(result.ordinary)}`);
  console.log(`fuzz: with a hostile shape: ${summary(result.hostile)}`);
  console.log('fuzz: slowest ordinary responses:');
  for (const slow of result.slowest) {
    console.log(`  ${slow.elapsed.toFixed(1)} ms, ${slow.file}, edit ${slow.step + 1} of its sequence, ended ${new Date(slow.endedAt).toISOString()}`);
  }
}

/** p50, p95, p99 and the slowest of a list of response times. */
function summary(times: number[]): string {
  if (times.length === 0) return 'none';
  const sorted = [...times].sort((a, b) => a - b);
  const at = (fraction: number) => sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))].toFixed(1);
  return `${sorted.length} responses, p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, p99 ${at(0.99)} ms, slowest ${sorted[sorted.length - 1].toFixed(1)} ms`;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
