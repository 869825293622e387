/**
 * `npm run bench`, part two: the language server under load, driven over stdio as an editor drives it, and the CLI
 * over a large tree. A benchmark, not a test: it prints a table and writes the figures as JSON (argument 1 or
 * out/bench.json).
 *
 * - edit → published diagnostics, p50/p95/max over N edits (default 500), for the seed host, the largest corpus host
 *   (when ../shared/corpus is there) and a generated 20,000-line host; and for an edit in disko.nix → the diagnostics
 *   of configuration.nix;
 * - cold start: spawn + initialize + open → first diagnostics;
 * - peak RSS of the server (VmHWM) and its RSS after 100 and after 10,000 edits;
 * - the CLI over a generated tree of 1,000 hosts.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CORPUS, REPO_ROOT } from '../support/engine';
import { LspClient, uri } from '../support/lsp-client';
import { GENERATED_DISKO, generatedConfiguration } from './generate';

const EDITS = Number(process.env.BENCH_EDITS ?? 500);
const MEMORY_EDITS = Number(process.env.BENCH_MEMORY_EDITS ?? 10_000);

interface Percentiles {
  p50: number;
  p95: number;
  max: number;
  n: number;
}

function percentiles(samples: number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1], n: sorted.length };
}

function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

/**
 * Types and deletes a space at a fixed place, `count` times, timing each edit until the server publishes the
 * diagnostics of `watched` that answer it (the publication of that document version, or of the other file).
 */
async function editLatency(client: LspClient, edited: string, watched: string, count: number, line: number): Promise<number[]> {
  const samples: number[] = [];
  let version = 1000;
  for (let index = 0; index < count; index++) {
    const insert = index % 2 === 0;
    const before = client.published.length;
    const started = performance.now();
    client.change(edited, ++version, [{ range: { start: { line, character: 0 }, end: { line, character: insert ? 0 : 1 } }, text: insert ? ' ' : '' }]);
    // The server publishes every file of the folder it re-analysed; wait for the watched file's publication.
    for (;;) {
      const next = client.published.slice(before).find((item) => item.uri === uri(watched));
      if (next) {
        samples.push(next.at - started);
        break;
      }
      await new Promise((resolve) => setImmediate(resolve));
      if (performance.now() - started > 60_000) throw new Error(`no publication for ${watched} within 60 s`);
    }
  }
  return samples;
}

async function withServer<T>(folder: string, action: (client: LspClient) => Promise<T>): Promise<T> {
  const client = new LspClient();
  try {
    await client.initialize(folder);
    return await action(client);
  } finally {
    await client.shutdown();
  }
}

/** A file that always has a finding, so every analysis publishes it (a space at line start changes nothing). */
function brokenCopy(scratch: string, name: string, source: string): string {
  const folder = path.join(scratch, name);
  cpSync(source, folder, { recursive: true });
  return folder;
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'bench-load-'));
  const rows: [string, string][] = [];
  const json: Record<string, unknown> = { machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version }, edits: EDITS };
  const fmt = (p: Percentiles) => `p50 ${p.p50.toFixed(1)} ms, p95 ${p.p95.toFixed(1)} ms, max ${p.max.toFixed(1)} ms (n=${p.n})`;
  try {
    // The seed host with a planted mistake, so configuration.nix is published on every analysis.
    const seed = brokenCopy(scratch, 'seed', path.join(REPO_ROOT, 'examples', 'seed'));
    const configuration = path.join(seed, 'configuration.nix');
    writeFileSync(configuration, readFileSync(configuration, 'utf8').replace('empty@start"', 'empty@blank"'));
    const disko = path.join(seed, 'disko.nix');
    await withServer(seed, async (client) => {
      const published = client.next(uri(configuration));
      client.open(configuration, readFileSync(configuration, 'utf8'));
      client.open(disko, readFileSync(disko, 'utf8'));
      await published;
      const sameFile = percentiles(await editLatency(client, configuration, configuration, EDITS, 1));
      rows.push(['seed host: edit → diagnostics', fmt(sameFile)]);
      const crossFile = percentiles(await editLatency(client, disko, configuration, EDITS, 1));
      rows.push(['seed host: edit in disko.nix → configuration.nix', fmt(crossFile)]);
      json.seed = { sameFile, crossFile };
    });

    const corpusHost = path.join(CORPUS, 'notthebee__nix-config__aria-2025-01');
    if (existsSync(corpusHost)) {
      const folder = brokenCopy(scratch, 'corpus', corpusHost);
      const file = path.join(folder, 'machines', 'nixos', 'aria', 'filesystems', 'default.nix');
      await withServer(folder, async (client) => {
        const published = client.next(uri(file));
        client.open(file, readFileSync(file, 'utf8'));
        await published;
        const result = percentiles(await editLatency(client, file, file, EDITS, 1));
        rows.push(['largest corpus host (aria-2025-01, 66 files): edit → diagnostics', fmt(result)]);
        json.corpus = result;
      });
    }

    const big = path.join(scratch, 'big');
    mkdirSync(big);
    const bigConfiguration = path.join(big, 'configuration.nix');
    writeFileSync(bigConfiguration, generatedConfiguration(20_000).replace('@blank";', '@empty";'));
    writeFileSync(path.join(big, 'disko.nix'), GENERATED_DISKO);
    await withServer(big, async (client) => {
      const published = client.next(uri(bigConfiguration), () => true, 120_000);
      client.open(bigConfiguration, readFileSync(bigConfiguration, 'utf8'));
      await published;
      const result = percentiles(await editLatency(client, bigConfiguration, bigConfiguration, Math.min(EDITS, 50), 1));
      rows.push(['generated 20,000-line host: edit → diagnostics', fmt(result)]);
      json.large = result;
    });

    // Cold start: a new server for every sample.
    const cold: number[] = [];
    for (let index = 0; index < 10; index++) {
      const started = performance.now();
      await withServer(seed, async (client) => {
        const published = client.next(uri(configuration));
        client.open(configuration, readFileSync(configuration, 'utf8'));
        await published;
        cold.push(performance.now() - started);
      });
    }
    const coldStart = percentiles(cold);
    rows.push(['cold start: spawn + initialize + open → first diagnostics', fmt(coldStart)]);
    json.coldStart = coldStart;

    // Memory: RSS after 100 edits and after MEMORY_EDITS edits, and the peak.
    await withServer(seed, async (client) => {
      const published = client.next(uri(configuration));
      client.open(configuration, readFileSync(configuration, 'utf8'));
      await published;
      await editLatency(client, configuration, configuration, 100, 1);
      const after100 = memoryOf(client.process.pid!);
      await editLatency(client, configuration, configuration, MEMORY_EDITS - 100, 1);
      const afterMany = memoryOf(client.process.pid!);
      rows.push(['server RSS after 100 edits', `${after100.rss.toFixed(1)} MiB`]);
      rows.push([`server RSS after ${MEMORY_EDITS} edits`, `${afterMany.rss.toFixed(1)} MiB (${(((afterMany.rss - after100.rss) / after100.rss) * 100).toFixed(1)} %)`]);
      rows.push(['server peak RSS (VmHWM)', `${afterMany.peak.toFixed(1)} MiB`]);
      json.memory = { after100: after100.rss, afterMany: afterMany.rss, edits: MEMORY_EDITS, peak: afterMany.peak };
    });

    // The CLI over 1,000 hosts: one folder per host with a configuration and a disko file.
    const tree = path.join(scratch, 'tree');
    const diskoText = GENERATED_DISKO;
    const configurationText = readFileSync(path.join(REPO_ROOT, 'examples', 'seed', 'configuration.nix'), 'utf8').replace('{ lib, pkgs, ... }:\n{', '{ lib, pkgs, ... }:\n{\n  imports = [ ./disko.nix ];');
    for (let index = 0; index < 1000; index++) {
      const host = path.join(tree, `host${String(index).padStart(4, '0')}`);
      mkdirSync(host, { recursive: true });
      writeFileSync(path.join(host, 'configuration.nix'), configurationText);
      writeFileSync(path.join(host, 'disko.nix'), diskoText);
    }
    const started = performance.now();
    try {
      execFileSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'ephemeral-root.js'), 'check', tree, '--format', 'json'], { maxBuffer: 512 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      // Exit code 1 only means findings.
    }
    const cli = performance.now() - started;
    rows.push(['CLI over 1,000 hosts (2,000 files), whole process', `${(cli / 1000).toFixed(2)} s`]);
    json.cli1000 = cli;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const width = Math.max(...rows.map(([label]) => label.length));
  console.log(`ephemeral-root bench (language server and CLI) — node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}`);
  for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value}`);
  const out = process.argv[2] ?? path.join(REPO_ROOT, 'out', 'bench.json');
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`figures written to ${path.relative(process.cwd(), out)}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
