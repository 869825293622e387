/**
 * Random edit sequences against the real language server over stdio (fast-check): inserts and deletions of bracket
 * soup, `${`, `''`, unicode, CRLF, NUL, very long lines and deep nesting, and now and then a hostile shape (reads
 * outside the folder, exponential values, unbounded recursion, super-linear parses), on copies of the seed and corpus
 * files. After every edit the server must answer a request within the time limit, publish only ranges inside the
 * document it describes, log no error, and still be alive at the end.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { LineIndex } from '../../server/src/syntax/parser';
import { CORPUS, REPO_ROOT } from '../support/engine';
import { LspClient, uri } from '../support/lsp-client';

export interface FuzzOptions {
  seed: number;
  /** Number of edit sequences. */
  runs: number;
  /** Edits per sequence. */
  editsPerRun: number;
  responseLimitMs: number;
  /** The response limit while the document holds a hostile shape (bounded by the host's budget, not by a frame). */
  hostileLimitMs?: number;
  /** Stop once this many edits ran (the remaining sequences are generated but not sent). */
  maxEdits?: number;
  /** Called with a failing sequence, to save it as a regression fixture. */
  onFailure?: (record: { seed: number; file: string; edits: Edit[]; error: string }) => void;
}

export interface Edit {
  /** Position as a fraction of the document (so a sequence replays on any length). */
  at: number;
  /** Characters to delete (fraction of the rest of the document, at most 200). */
  remove: number;
  insert: string;
}

const TOKENS = ['{', '}', '[', ']', '(', ')', '"', "''", '${', '}', ';', '=', ':', '.', ',', '@', 'let ', ' in ', 'with ', 'rec ', 'inherit ', 'lib.mkIf ', 'zfs rollback -r ', 'rpool/x@y', '#', '/*', '*/', '\\'];
const ODD = ['é', '😀', '中文', '\u0000', '\r\n', '\r', '\t', '\u200b', '\ufeff', '\uffff'];

/**
 * Shapes an attacker writes (test/robustness/hostile-cases.ts has them as whole files). Inserted anywhere, most break
 * the syntax around them; where they land in an expression, the host's budget bounds what they cost, which can be
 * the whole budget: a document holding one is held to `hostileLimitMs` instead of the ordinary response limit.
 */
/** The hostile shapes that are long runs of one unit (a parser's worst case, test/robustness/hostile-cases.ts). */
const HOSTILE_RUNS = [
  { unit: '[ {', count: 5000 },
  { unit: '.a', count: 5000 },
];

export const HOSTILE = [
  'builtins.readFile /etc/passwd',
  'builtins.readFile /proc/self/environ',
  '(import /etc/shadow)',
  'builtins.readDir /',
  'builtins.pathExists /root/.ssh/id_rsa',
  '(let d = n: if n == 0 then [ 1 ] else let l = d (n - 1); in l ++ l; in d 30)',
  '(let d = n: if n == 0 then "ab" else let s = d (n - 1); in s + s; in d 40)',
  '((x: x x) (x: x x))',
  '(let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 100000)',
  '(builtins.foldl\' (x: y: x + y) 0 (builtins.genList (i: builtins.foldl\' (x: y: x + y) 0 (builtins.genList (j: j) 1000)) 1000))',
  '(builtins.match "(a*)*b" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")',
  HOSTILE_RUNS[0].unit.repeat(HOSTILE_RUNS[0].count),
  `x${HOSTILE_RUNS[1].unit.repeat(HOSTILE_RUNS[1].count)}`,
];

/**
 * Whether a document holds a hostile shape. A later edit may land inside a long run and split it, or clip its start
 * (seed 217135 left `{[ ` × 4,933 of `[ {` × 5,000 after inserting text one character in): the rest is as costly as
 * the whole, so a run counts while a tenth of it is still there in one piece, in any phase of its unit.
 */
export function holdsHostileShape(text: string): boolean {
  if (HOSTILE.some((shape) => text.includes(shape))) return true;
  return HOSTILE_RUNS.some(({ unit, count }) => {
    for (let phase = 0; phase < unit.length; phase++) {
      const rotated = unit.slice(phase) + unit.slice(0, phase);
      if (text.includes(rotated.repeat(Math.ceil(count / 10)))) return true;
    }
    return false;
  });
}

export const editArbitrary: fc.Arbitrary<Edit> = fc.record({
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  remove: fc.double({ min: 0, max: 1, noNaN: true }),
  // Weights out of 200: a hostile shape in about one edit in two hundred (each may cost its host's whole budget).
  insert: fc.oneof(
    { weight: 75, arbitrary: fc.array(fc.constantFrom(...TOKENS), { maxLength: 6 }).map((parts) => parts.join('')) },
    { weight: 30, arbitrary: fc.array(fc.constantFrom(...ODD), { maxLength: 3 }).map((parts) => parts.join('')) },
    { weight: 30, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 16, arbitrary: fc.integer({ min: 1000, max: 20_000 }).map((length) => 'x'.repeat(length)) },
    { weight: 16, arbitrary: fc.integer({ min: 50, max: 800 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)) },
    { weight: 16, arbitrary: fc.integer({ min: 50, max: 400 }).map((depth) => '{ a = '.repeat(depth)) },
    { weight: 16, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: fc.constantFrom(...HOSTILE) },
  ),
});

/** A host that spends its whole budget (about a quarter of a second of evaluation) answers well within this. */
const HOSTILE_LIMIT_MS = 3000;

/** The files the fuzzer edits: the seed host's and, when present, the largest corpus host's. */
export function fuzzTargets(): { folder: string; file: string }[] {
  const targets = [
    { folder: path.join(REPO_ROOT, 'examples', 'seed'), file: 'disko.nix' },
    { folder: path.join(REPO_ROOT, 'examples', 'seed'), file: 'configuration.nix' },
  ];
  const aria = path.join(CORPUS, 'notthebee__nix-config__aria-2025-01');
  // FUZZ_TARGETS=seed limits a run to the seed host (for example to hold it to a tighter response limit).
  if (existsSync(aria) && process.env.FUZZ_TARGETS !== 'seed') targets.push({ folder: aria, file: 'machines/nixos/aria/filesystems/default.nix' });
  return targets;
}

/** Where an edit lands, kept off the inside of surrogate pairs (an editor never splits a character). */
export function offsets(text: string, edit: Edit): { start: number; end: number } {
  let start = Math.floor(edit.at * text.length);
  if (start > 0 && start < text.length && /[\udc00-\udfff]/.test(text[start])) start--;
  let end = start + Math.min(200, Math.floor(edit.remove * (text.length - start)));
  if (end > start && end < text.length && /[\udc00-\udfff]/.test(text[end])) end++;
  return { start, end: Math.min(end, text.length) };
}

/** What a fuzz run measured: response times of edits with an ordinary document and with a hostile shape in it. */
export interface FuzzResult {
  edits: number;
  /** Response times (ms) of edits whose document held no hostile shape, in the order they were measured. */
  ordinary: number[];
  /** Response times (ms) of edits whose document held a hostile shape (bounded by the host's budget). */
  hostile: number[];
  /** The slowest responses to ordinary documents, slowest first, with where and when they happened. */
  slowest: SlowResponse[];
}

/** One slow response: what was edited, how far into its sequence, and when it ended (epoch ms, to line up with logs). */
export interface SlowResponse {
  elapsed: number;
  file: string;
  step: number;
  endedAt: number;
}

/** How many of the slowest ordinary responses a run keeps. */
const SLOWEST_KEPT = 8;

export async function fuzzServer(options: FuzzOptions): Promise<FuzzResult> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'fuzz-'));
  const client = new LspClient();
  const errors: string[] = [];
  client.connection.onNotification('window/logMessage', (message: { type: number; message: string }) => {
    if (message.type === 1) errors.push(message.message);
  });
  let total = 0;
  const ordinary: number[] = [];
  const hostile: number[] = [];
  const slowest: SlowResponse[] = [];
  try {
    const workspaces = fuzzTargets().map((target, index) => {
      const folder = path.join(scratch, `w${index}`);
      cpSync(target.folder, folder, { recursive: true });
      return { folder, file: path.join(folder, target.file) };
    });
    // One workspace folder per target, as an editor with these folders open would have: an edit re-analyses its own
    // folder only. Each target is opened once before measuring, so the first, cold analysis is not counted.
    await client.initialize(workspaces.map((workspace) => workspace.folder));
    for (const workspace of workspaces) {
      client.open(workspace.file, readFileSync(workspace.file, 'utf8'));
      await client.connection.sendRequest('ephemeralRoot/fileInfo', { uri: uri(workspace.file) });
      void client.connection.sendNotification('textDocument/didClose', { textDocument: { uri: uri(workspace.file) } });
    }
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...workspaces), fc.array(editArbitrary, { minLength: 1, maxLength: options.editsPerRun }), async (target, edits) => {
        if (options.maxEdits !== undefined && total >= options.maxEdits) return;
        await runSequence(client, target, edits, options, errors, (elapsed, withHostileShape, step) => {
          (withHostileShape ? hostile : ordinary).push(elapsed);
          total++;
          if (!withHostileShape && (slowest.length < SLOWEST_KEPT || elapsed > slowest[slowest.length - 1].elapsed)) {
            slowest.push({ elapsed, file: path.relative(scratch, target.file), step, endedAt: performance.timeOrigin + performance.now() });
            slowest.sort((a, b) => b.elapsed - a.elapsed);
            slowest.length = Math.min(slowest.length, SLOWEST_KEPT);
          }
        });
      }),
      { seed: options.seed, numRuns: options.runs, endOnFailure: true },
    );
    if (client.process.exitCode !== null) throw new Error('the server is not alive at the end');
  } finally {
    await client.shutdown();
    rmSync(scratch, { recursive: true, force: true });
  }
  return { edits: total, ordinary, hostile, slowest };
}

/** Replays one edit sequence on one file through the server, checking every response. */
export async function runSequence(
  client: LspClient,
  target: { folder: string; file: string },
  edits: Edit[],
  options: Pick<FuzzOptions, 'responseLimitMs' | 'hostileLimitMs' | 'onFailure' | 'seed'>,
  errors: string[],
  measured: (elapsed: number, withHostileShape: boolean, step: number) => void,
): Promise<void> {
  let version = Date.now();
  const original = readFileSync(target.file, 'utf8');
  let text = original;
  client.open(target.file, text, ++version);
  try {
    // Opening the document is analysed before the first edit, as in an editor (a person does not type within the
    // first millisecond): the measured time is an edit's, not the open's and the edit's together.
    await client.connection.sendRequest('ephemeralRoot/fileInfo', { uri: uri(target.file) });
    for (const [step, edit] of edits.entries()) {
      const { start, end } = offsets(text, edit);
      const lines = new LineIndex(text);
      const range = { start: lines.position(start), end: lines.position(end) };
      text = text.slice(0, start) + edit.insert + text.slice(end);
      client.change(target.file, ++version, [{ range, text: edit.insert }]);
      const started = performance.now();
      await client.connection.sendRequest('ephemeralRoot/fileInfo', { uri: uri(target.file) });
      const elapsed = performance.now() - started;
      const hostile = holdsHostileShape(text);
      measured(elapsed, hostile, step);
      const limit = hostile ? (options.hostileLimitMs ?? HOSTILE_LIMIT_MS) : options.responseLimitMs;
      if (elapsed > limit) throw new Error(`a response took ${elapsed.toFixed(0)} ms${hostile ? ' (with a hostile shape in the document)' : ''}`);
      if (errors.length > 0) throw new Error(`the server logged an error: ${errors[0].slice(0, 400)}`);
      // What was published for this file describes a text it had: every range must lie inside the current one
      // once the server caught up; check the latest publication against the current text.
      const current = new LineIndex(text);
      for (const diagnostic of client.latest(uri(target.file))) {
        for (const position of [diagnostic.range.start, diagnostic.range.end]) {
          if (position.line >= current.lineCount) throw new Error(`a diagnostic range ends on line ${position.line} of a ${current.lineCount}-line document`);
        }
      }
    }
    if (client.process.exitCode !== null) throw new Error('the server exited');
  } catch (error) {
    options.onFailure?.({ seed: options.seed, file: path.relative(target.folder, target.file), edits, error: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    void client.connection.sendNotification('textDocument/didClose', { textDocument: { uri: uri(target.file) } });
    writeFileSync(target.file, original);
    client.forgetHistory();
  }
}
