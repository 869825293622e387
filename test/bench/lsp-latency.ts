/**
 * Latency of the language server as an editor sees it, measured through the real LSP over stdio
 * (`ephemeral-root-ls --stdio`, driven by test/support/lsp-client.ts). A benchmark, not a test: it prints figures.
 *
 *   node scripts/build.mjs && npx tsc -p . && node out/test/bench/lsp-latency.js [runs]
 *
 * Each figure is the median of `runs` samples (default 50), from sending the notification to receiving the
 * `textDocument/publishDiagnostics` that answers it (time stamped when the client has read it):
 * - open → first diagnostics: `didOpen` of a broken host's configuration.nix in a running server (the file is closed
 *   again between samples, and the server's re-publication after the close is awaited);
 * - cold open: a new server process per sample: spawn + initialize + didOpen → first diagnostics of the file;
 * - edit in disko.nix → configuration.nix re-published: alternately renames the snapshot that disko's hook creates and
 *   renames it back (incremental `didChange` of 5 characters), awaiting the publication for configuration.nix that
 *   shows (or clears) rollback-snapshot-mismatch;
 * - the same two for a generated host of 20,000 lines (test/bench/generate.ts).
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { REPO_ROOT } from '../support/engine';
import { LspClient, uri } from '../support/lsp-client';
import { GENERATED_DISKO, generatedConfiguration } from './generate';

const RUNS = Number(process.argv[2] ?? 50);
const MISMATCH = 'rollback-snapshot-mismatch';

interface Stats {
  median: number;
  p90: number;
  min: number;
  max: number;
  n: number;
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), p90: at(0.9), min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}

const fmt = (s: Stats) => `median ${s.median.toFixed(1)} ms  (p90 ${s.p90.toFixed(1)}, min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)}, n=${s.n})`;

function copy(example: string, into: string): string {
  const folder = path.join(into, example);
  cpSync(path.join(REPO_ROOT, 'examples', example), folder, { recursive: true });
  return folder;
}

function closeDocument(client: LspClient, file: string): void {
  void client.connection.sendNotification('textDocument/didClose', { textDocument: { uri: uri(file) } });
}

/** Waits until the server has been quiet for `ms` (no publication), so that one sample does not see the last one's. */
async function settle(client: LspClient, ms = 150): Promise<void> {
  let count = -1;
  while (count !== client.published.length) {
    count = client.published.length;
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
}

/** didOpen → first publication for the file, in a running server. */
async function openLatency(folder: string, file: string, runs: number): Promise<Stats> {
  const client = new LspClient();
  try {
    await client.initialize(folder);
    await settle(client);
    const text = readFileSync(file, 'utf8');
    const samples: number[] = [];
    for (let index = 0; index < runs; index++) {
      const published = client.next(uri(file));
      const sent = performance.now();
      client.open(file, text, 1);
      samples.push((await published).at - sent);
      closeDocument(client, file);
      await settle(client, 50);
    }
    return stats(samples);
  } finally {
    await client.shutdown();
  }
}

/** New server per sample: spawn + initialize + didOpen → first publication for the file; also from didOpen alone. */
async function coldOpenLatency(folder: string, file: string, runs: number): Promise<{ fromSpawn: Stats; fromOpen: Stats }> {
  const text = readFileSync(file, 'utf8');
  const fromSpawn: number[] = [];
  const fromOpen: number[] = [];
  for (let index = 0; index < runs; index++) {
    const spawned = performance.now();
    const client = new LspClient();
    try {
      await client.initialize(folder);
      const published = client.next(uri(file), () => true, 60_000);
      const sent = performance.now();
      client.open(file, text, 1);
      const item = await published;
      fromSpawn.push(item.at - spawned);
      fromOpen.push(item.at - sent);
    } finally {
      await client.shutdown();
    }
  }
  return { fromSpawn: stats(fromSpawn), fromOpen: stats(fromOpen) };
}

/**
 * Opens configuration.nix and disko.nix, then alternately renames the snapshot created on the `hookLine` of disko.nix
 * (the last `@<from>` on it) to `@<to>` and back; each sample is didChange → the publication for configuration.nix.
 */
async function editLatency(folder: string, configuration: string, disko: string, from: string, to: string, runs: number): Promise<{ all: Stats; appear: Stats; clear: Stats }> {
  const client = new LspClient();
  try {
    await client.initialize(folder);
    const diskoText = readFileSync(disko, 'utf8');
    client.open(configuration, readFileSync(configuration, 'utf8'));
    client.open(disko, diskoText);
    await settle(client);
    if (client.latest(uri(configuration)).some((item) => item.code === MISMATCH)) throw new Error(`${configuration} already has ${MISMATCH}`);
    const lines = diskoText.split('\n');
    const line = lines.findIndex((text) => text.includes('postCreateHook'));
    const character = lines[line].lastIndexOf(`@${from}`) + 1;
    if (line < 0 || character <= 0 || from.length !== to.length) throw new Error(`no postCreateHook with @${from} in ${disko}`);
    const range = { start: { line, character }, end: { line, character: character + from.length } };
    const appear: number[] = [];
    const clear: number[] = [];
    let version = 1;
    for (let index = 0; index < runs; index++) {
      const renaming = index % 2 === 0;
      const published = client.next(uri(configuration), (diagnostics) => diagnostics.some((item) => item.code === MISMATCH) === renaming);
      const sent = performance.now();
      client.change(disko, ++version, [{ range, text: renaming ? to : from }]);
      (renaming ? appear : clear).push((await published).at - sent);
      await settle(client, 30);
    }
    return { all: stats([...appear, ...clear]), appear: stats(appear), clear: stats(clear) };
  } finally {
    await client.shutdown();
  }
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'lsp-latency-'));
  const rows: [string, string][] = [];
  const started = performance.now();
  try {
    const broken = copy('broken-flake', scratch);
    const tern = path.join(broken, 'hosts', 'tern', 'configuration.nix');
    rows.push(['open → first diagnostics (broken-flake tern, running server)', fmt(await openLatency(broken, tern, RUNS))]);
    const cold = await coldOpenLatency(broken, tern, RUNS);
    rows.push(['cold: spawn + initialize + open → first diagnostics', fmt(cold.fromSpawn)]);
    rows.push(['cold: of which didOpen → first diagnostics', fmt(cold.fromOpen)]);

    const seed = copy('seed', scratch);
    const seedEdit = await editLatency(seed, path.join(seed, 'configuration.nix'), path.join(seed, 'disko.nix'), 'start', 'empty', RUNS);
    rows.push(['edit disko.nix → configuration.nix re-published (seed)', fmt(seedEdit.all)]);
    rows.push(['  mismatch appears', fmt(seedEdit.appear)]);
    rows.push(['  mismatch clears', fmt(seedEdit.clear)]);

    const big = path.join(scratch, 'generated');
    mkdirSync(big);
    const text = generatedConfiguration(20_000);
    writeFileSync(path.join(big, 'configuration.nix'), text);
    writeFileSync(path.join(big, 'disko.nix'), GENERATED_DISKO);
    const label = `generated host, ${text.split('\n').length - 1} lines`;
    // The generated host is correct, and a file without findings gets no publication: open it with the snapshot renamed.
    const bigBroken = path.join(scratch, 'generated-broken');
    mkdirSync(bigBroken);
    writeFileSync(path.join(bigBroken, 'configuration.nix'), text);
    writeFileSync(path.join(bigBroken, 'disko.nix'), GENERATED_DISKO.replace(/@blank";/, '@blonk";'));
    rows.push([`open → first diagnostics (${label})`, fmt(await openLatency(bigBroken, path.join(bigBroken, 'configuration.nix'), RUNS))]);
    const bigEdit = await editLatency(big, path.join(big, 'configuration.nix'), path.join(big, 'disko.nix'), 'blank', 'blonk', RUNS);
    rows.push([`edit disko.nix → configuration.nix re-published (${label})`, fmt(bigEdit.all)]);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const width = Math.max(...rows.map(([label]) => label.length));
  console.log(`ephemeral-root-ls latency over stdio — node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load ${os.loadavg().map((value) => value.toFixed(1)).join(' ')}`);
  for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value}`);
  console.log(`(${RUNS} samples each; ${((performance.now() - started) / 1000).toFixed(1)} s in all)`);
}

void main().catch((error: unknown) => {
  console.error(`lsp-latency: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
