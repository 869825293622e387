/**
 * The CLI over many hosts, one batch at a time (issue 18). Analysing a tree of a thousand host folders as one
 * analysis kept every host's model, every parse and every evaluated value alive until the report was written (peak
 * RSS 1.2 GiB). When a folder splits into parts that cannot see each other, each part is analysed on its own: a
 * batch of parts gets a fresh workspace, is rendered into a report (ranges read, `fixable` decided) while its models
 * are alive, and is then dropped with its parses. Batches run in worker threads when the machine has more than one
 * core; the reports are put together in the order the whole analysis would have produced them.
 *
 * The split is made only where it cannot change the result, and checked again after the analysis:
 * - the folder holds no Nix file itself, and no flake (a flake's hosts come before every other host, and its
 *   modules may live anywhere below it);
 * - no file names a path outside its own part: every `..` and every absolute path written in a file (in a path or
 *   in a string) that lands in the analysed folder stays inside the file's part, and no file calls `dirOf`;
 * - afterwards: every host is a `configuration.nix` host named after its folder, with no analysis that stopped and
 *   no name taken twice. Fragments (files analysed alone) are named after their path from the analysed folder and
 *   ordered by what refers to them, which a part cannot know: with one of them the whole folder is analysed at once.
 * Anything else is analysed as before, as a whole. `EPHEMERAL_ROOT_CLI_STREAM=off` forces that; a number sets the
 * worker threads (0: batches one after the other in this thread); `EPHEMERAL_ROOT_CLI_BATCH` sets the parts per batch.
 */
import os from 'node:os';
import path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Workspace } from '../model/workspace';
import { analyze } from '../rules/engine';
import { initSyntax } from '../syntax/parser';
import { type Report, reportOf } from './report';

/** What a batch is analysed with: the CLI's options and the folders it may read (its projects). */
export interface BatchOptions {
  host?: string;
  release?: string;
  allow: string[];
}

interface BatchResult {
  report: Report;
  /** False when the batch's result may differ from its part of the whole analysis (see the checks above). */
  exact: boolean;
}

const WORKER_MARK = 'ephemeral-root-cli-batch-worker';
const DEFAULT_BATCH = 16;

/** The stream setting: undefined when the whole folder is to be analysed at once. */
function streamSetting(): { workers: number; batch: number } | undefined {
  const setting = process.env.EPHEMERAL_ROOT_CLI_STREAM;
  if (setting === 'off') return undefined;
  // A fault injected from the n-th run of a rule counts runs in one process: batches in threads would count apart.
  if ((process.env.EPHEMERAL_ROOT_INJECT_FAULT ?? '').includes('@')) return undefined;
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const workers = setting !== undefined && /^\d+$/.test(setting) ? Number(setting) : cores > 1 ? Math.min(cores, 4) : 0;
  const batchSetting = Number(process.env.EPHEMERAL_ROOT_CLI_BATCH);
  const batch = Number.isInteger(batchSetting) && batchSetting > 0 ? batchSetting : DEFAULT_BATCH;
  return { workers, batch };
}

function isUnder(file: string, folder: string): boolean {
  return file === folder || file.startsWith(`${folder}${path.sep}`);
}

/**
 * The parts a folder splits into, in the order of their files, or undefined when it does not split safely. A part
 * is the shallowest folder below `scope` that holds a Nix file itself, with everything below it.
 */
export function independentParts(workspace: Workspace, scope: string): string[] | undefined {
  const files = workspace.listNixFiles(scope);
  const withFiles = new Set(files.map((file) => path.dirname(file)));
  if (withFiles.has(scope)) return undefined;
  const parts = new Map<string, string[]>();
  for (const file of files) {
    if (path.basename(file) === 'flake.nix') return undefined;
    const segments = path.relative(scope, path.dirname(file)).split(path.sep);
    let part = scope;
    for (const segment of segments) {
      part = path.join(part, segment);
      if (withFiles.has(part)) break;
    }
    parts.set(part, [...(parts.get(part) ?? []), file]);
  }
  if (parts.size < 2) return undefined;
  for (const [part, partFiles] of parts) {
    for (const file of partFiles) {
      const text = workspace.readText(file);
      if (text === undefined || namesOutside(text, path.dirname(file), part, scope)) return undefined;
    }
  }
  // Files are sorted, and the files of a part are contiguous in that order: the parts come in the same order.
  return [...parts.keys()];
}

/**
 * Whether a file's text may name a path of the analysed folder outside its part. Read on the raw text, strings and
 * comments included, so it errs towards "yes" (the folder is then analysed whole, which is only slower).
 */
function namesOutside(text: string, folder: string, part: string, scope: string): boolean {
  if (/\bdirOf\b/.test(text)) return true;
  const token = /[\w.+\-~/]*/y;
  const tokenAt = (index: number): string => {
    let start = index;
    while (start > 0 && /[\w.+\-~/]/.test(text[start - 1])) start--;
    token.lastIndex = start;
    return token.exec(text)?.[0] ?? '';
  };
  for (const match of text.matchAll(/(?<!\.)\.\.(?!\.)/g)) {
    const written = tokenAt(match.index);
    if (!/^\.\.?\//.test(written)) return true;
    if (!isUnder(path.resolve(folder, written), part)) return true;
  }
  for (const match of text.matchAll(/(?<![\w.+\-~/])\/[\w.+-]+(?:\/[\w.+-]*)*/g)) {
    const target = path.resolve(match[0]);
    if (isUnder(target, scope) && !isUnder(target, part)) return true;
    // A folder above the analysed one, joined with a string, could reach into another part. The root and folders
    // right below it ("/home", "/tmp", "/var" in a path such as "/home/alice") are left out: written as such they
    // are the system's, not a way into this folder.
    if (isUnder(scope, target) && target.split(path.sep).length > 2) return true;
  }
  return false;
}

/** Analyses one batch of parts in a fresh workspace, renders it, and frees its parses. */
export async function analyseBatch(parts: string[], options: BatchOptions): Promise<BatchResult> {
  await initSyntax();
  const workspace = new Workspace();
  // One run of the CLI reads each file once: nothing changes the disk under it that it should see half-way.
  workspace.watched = true;
  for (const root of options.allow) workspace.policy.allow(root);
  const result = analyze(workspace, parts, { host: options.host, release: options.release });
  const report = reportOf(result, workspace);
  const exact =
    result.unknowns.every((item) => result.hosts.some((host) => host.name === item.host)) &&
    result.hosts.every((host) => host.kind === 'nixos' && path.basename(host.root) === 'configuration.nix' && host.name === path.basename(path.dirname(host.root)));
  const read = new Set(result.files);
  for (const host of result.hosts) for (const file of host.files) read.add(file);
  for (const file of read) workspace.invalidate(file);
  return { report, exact };
}

/**
 * The report of a folder analysed part by part, or undefined when the folder does not split (or a check after the
 * analysis says the parts' result could differ from the whole's): the caller then analyses it whole.
 */
export async function analyseInParts(workspace: Workspace, scope: string, options: BatchOptions): Promise<Report | undefined> {
  const setting = streamSetting();
  if (!setting) return undefined;
  const parts = independentParts(workspace, scope);
  if (!parts || parts.length <= setting.batch) return undefined;
  const batches: string[][] = [];
  for (let index = 0; index < parts.length; index += setting.batch) batches.push(parts.slice(index, index + setting.batch));
  const results = setting.workers > 0 ? await inWorkers(batches, options, Math.min(setting.workers, batches.length)) : await inSequence(batches, options);
  if (!results.every((result) => result.exact)) return undefined;
  const merged: Report = { hosts: [], files: [], findings: [], unknowns: [], faults: [] };
  for (const { report } of results) {
    merged.hosts.push(...report.hosts);
    merged.files.push(...report.files);
    merged.findings.push(...report.findings);
    merged.unknowns.push(...report.unknowns);
    merged.faults.push(...report.faults);
  }
  // A name taken in two parts would have been made unique by the whole analysis.
  if (new Set(merged.hosts.map((host) => host.name)).size !== merged.hosts.length) return undefined;
  merged.files.sort();
  return merged;
}

async function inSequence(batches: string[][], options: BatchOptions): Promise<BatchResult[]> {
  const results: BatchResult[] = [];
  for (const batch of batches) results.push(await analyseBatch(batch, options));
  return results;
}

/** Runs the batches on `count` worker threads, each taking the next batch when done; results in batch order. */
function inWorkers(batches: string[][], options: BatchOptions, count: number): Promise<BatchResult[]> {
  return new Promise((resolve, reject) => {
    const results: BatchResult[] = new Array(batches.length);
    let next = 0;
    let done = 0;
    const workers: Worker[] = [];
    let failed = false;
    const retired = new Set<Worker>();
    const retire = (worker: Worker) => {
      retired.add(worker);
      void worker.terminate();
    };
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      for (const worker of workers) retire(worker);
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const feed = (worker: Worker) => {
      if (next >= batches.length) {
        retire(worker);
        return;
      }
      const index = next++;
      worker.postMessage({ index, parts: batches[index] });
    };
    for (let index = 0; index < count; index++) {
      // This very module's file: in the bundle that is dist/cli.js, which starts the worker loop in a worker thread.
      // A small young generation: a batch makes many short-lived values, and each thread's heap adds to the RSS.
      const worker = new Worker(__filename, { workerData: { [WORKER_MARK]: true, options }, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
      workers.push(worker);
      worker.on('message', (message: { index: number; result?: BatchResult; error?: string }) => {
        if (message.error !== undefined) return fail(new Error(message.error));
        results[message.index] = message.result!;
        done++;
        if (done === batches.length) {
          for (const each of workers) retire(each);
          resolve(results);
        } else feed(worker);
      });
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (code !== 0 && !retired.has(worker)) fail(new Error(`a worker thread stopped with exit code ${code}`));
      });
      feed(worker);
    }
  });
}

/** Whether this thread is a batch worker started by `inWorkers`. */
function isBatchWorker(): boolean {
  return !isMainThread && Boolean((workerData as Record<string, unknown> | null)?.[WORKER_MARK]);
}

/** The worker thread's loop: analyses each batch it is sent and answers with its report. */
function runBatchWorker(): void {
  const options = (workerData as { options: BatchOptions }).options;
  parentPort!.on('message', (message: { index: number; parts: string[] }) => {
    analyseBatch(message.parts, options).then(
      (result) => parentPort!.postMessage({ index: message.index, result }),
      (error: unknown) => parentPort!.postMessage({ index: message.index, error: error instanceof Error ? error.message : String(error) }),
    );
  });
}

// In the bundle this module shares dist/cli.js with the command line, which is the file a worker thread is started on.
if (isBatchWorker()) runBatchWorker();
