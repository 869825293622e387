/**
 * Running `nix eval` for one host: an argument array and `spawn` without a shell, in a process group of its own so
 * that a timeout or a cancellation ends Nix and whatever it started. Nix runs with
 * `--option allow-import-from-derivation false` (nothing is built to evaluate) and `--read-only` (no derivation is
 * even written to the store) where the Nix version has it, in pure evaluation, with its log as internal-json.
 *
 * The outcome is one of: the projection (parsed JSON), Nix's failure to evaluate the user's configuration (its
 * first error, mapped to a workspace file when Nix names one: an information finding, not a fault of ours), or a
 * fault of ours or of the machine (Nix missing, a timeout, output that is not the JSON we asked for), which the CLI
 * reports loudly and the language server logs.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type NixPosition, mapNixFile, nixErrors } from './internal-json';
import { nixString, projectionExpression } from './projection';

export interface NixTool {
  /** The absolute path of `nix` (nix-executable.ts). */
  nix: string;
  /** PATH for Nix: without empty, relative and workspace entries. */
  pathVariable: string;
  /** Extra arguments from the user's settings, put right after the subcommand. */
  extraArgs?: string[];
}

export type RunOutcome =
  | { kind: 'ok'; projection: Record<string, ProjectedPath>; failure?: NixError }
  | ({ kind: 'nix-error' } & NixError)
  | { kind: 'fault'; message: string };

/** Nix's first error, at the first frame that is a workspace file (1-based line and column). */
export interface NixError {
  message: string;
  file?: string;
  line?: number;
  column?: number;
}

export type ProjectedPath = { ok: true; value: unknown } | { ok: true; absent: true } | { ok: false };

/**
 * What Nix evaluates: a flake's `nixosConfigurations` (its flake.nix), or a configuration outside any flake through
 * `<nixpkgs/nixos>` with `NIXOS_CONFIG` (its configuration.nix; this needs `--impure`, to read NIX_PATH and the
 * environment, as nixos-rebuild does).
 */
export type EvalSource = { kind: 'flake'; file: string } | { kind: 'classic'; file: string };

export interface RunOptions {
  source: EvalSource;
  host: string;
  /** Where our expression file is written (the cache folder). */
  workDir: string;
  /** Workspace folders: Nix's error positions are mapped back only into these. */
  roots: string[];
  timeoutMs?: number;
  signal?: AbortSignal;
}

const FEATURES = ['--extra-experimental-features', 'nix-command flakes'];

/** `nix --version` once per executable: whether `nix eval --read-only` exists (Nix 2.4 and later). */
const versions = new Map<string, Promise<string | undefined>>();

export function nixVersion(tool: NixTool): Promise<string | undefined> {
  let known = versions.get(tool.nix);
  if (!known) {
    known = collect(tool, ['--version'], { timeoutMs: 15_000 }).then((result) => /(\d+\.\d+(\.\d+)?)/.exec(result.stdout)?.[1]);
    versions.set(tool.nix, known);
  }
  return known;
}

function atLeast(version: string | undefined, wanted: [number, number]): boolean {
  if (!version) return false;
  const [major, minor] = version.split('.').map(Number);
  return major > wanted[0] || (major === wanted[0] && minor >= wanted[1]);
}

/** The argument array of one evaluation (exported for the tests: no shell word ever comes from the workspace). */
export function evalArguments(source: EvalSource | string, expression: string, readOnly: boolean, extraArgs: string[] = [], host = ''): string[] {
  const from: EvalSource = typeof source === 'string' ? { kind: 'flake', file: path.join(source, 'flake.nix') } : source;
  const common = [...FEATURES, 'eval', ...extraArgs, '--json', ...(readOnly ? ['--read-only'] : []), '--option', 'allow-import-from-derivation', 'false', '--log-format', 'internal-json'];
  if (from.kind === 'classic') {
    // `<nixpkgs/nixos>` reads the configuration from NIXOS_CONFIG (set in the environment, not written into code).
    return [...common, '--impure', '--expr', `{ ${nixString(host)} = import <nixpkgs/nixos> { }; }`, '--apply', expression];
  }
  // The flake as a path (Nix picks git+file inside a repository, so that only tracked files are read), then the
  // output; the host is selected inside the expression, by a string literal.
  return [...common, `${path.resolve(path.dirname(from.file))}#nixosConfigurations`, '--apply', expression];
}

interface Collected {
  code: number | null;
  stdout: string;
  stderr: string;
  error?: Error;
  timedOut: boolean;
  cancelled: boolean;
}

function collect(tool: NixTool, args: string[], options: { cwd?: string; timeoutMs: number; signal?: AbortSignal; env?: NodeJS.ProcessEnv }): Promise<Collected> {
  return new Promise((resolve) => {
    const child = spawn(tool.nix, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env, PATH: tool.pathVariable },
      detached: true,
      shell: false,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let cancelled = false;
    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    const onAbort = () => {
      cancelled = true;
      killGroup();
    };
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    // The output is bounded: a projection is small, and a runaway log must not fill the memory.
    const limit = 64 * 1024 * 1024;
    child.stdout.on('data', (chunk: Buffer) => {
      if (stdout.length < limit) stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < limit) stderr += chunk.toString('utf8');
    });
    let spawnError: Error | undefined;
    child.on('error', (error) => {
      spawnError = error;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ code, stdout, stderr, error: spawnError, timedOut, cancelled });
    });
  });
}

/**
 * Evaluates one host's projection. When some paths failed (their `tryEval` caught an error), Nix is asked once more
 * for the first of them without `tryEval`, to learn its error message and place: the values of the other paths are
 * kept, and the error becomes the host's one `evaluation-failed` note.
 */
export async function runEvaluation(tool: NixTool, options: RunOptions): Promise<RunOutcome> {
  const outcome = await runOnce(tool, options);
  if (outcome.kind !== 'ok') return outcome;
  const failed = Object.entries(outcome.projection).find(([, result]) => result && !result.ok);
  if (!failed) return outcome;
  const again = await runOnce(tool, options, failed[0].split('.'));
  const failure: NixError = again.kind === 'nix-error' ? again : { message: `the value of ${failed[0]} could not be evaluated` };
  if (Object.values(outcome.projection).every((result) => !result.ok || 'absent' in result)) return { kind: 'nix-error', ...failure };
  return { ...outcome, failure };
}

async function runOnce(tool: NixTool, options: RunOptions, strictPath?: string[]): Promise<RunOutcome> {
  const expression = projectionExpression(options.host, strictPath);
  mkdirSync(options.workDir, { recursive: true, mode: 0o700 });
  // The expression is kept beside the cache, as a record of exactly what was asked of Nix.
  if (!strictPath) writeFileSync(path.join(options.workDir, 'projection.nix'), expression, { mode: 0o600 });
  const readOnly = atLeast(await nixVersion(tool), [2, 4]);
  if (!existsSync(options.source.file)) return { kind: 'fault', message: `${options.source.file} does not exist` };
  // A flake is named by its path in a flake reference, where `#`, `?` and `%` have a meaning of their own: such a
  // path is refused rather than read as another reference.
  if (options.source.kind === 'flake' && /[#?%]/.test(path.resolve(path.dirname(options.source.file)))) {
    return { kind: 'fault', message: `the flake's folder ${path.dirname(options.source.file)} holds '#', '?' or '%', which Nix would read as part of a flake reference` };
  }
  const args = evalArguments(options.source, expression, readOnly, tool.extraArgs, options.host);
  const env = options.source.kind === 'classic' ? { NIXOS_CONFIG: options.source.file } : undefined;
  const result = await collect(tool, args, { cwd: path.dirname(options.source.file), timeoutMs: options.timeoutMs ?? 120_000, signal: options.signal, env });
  if (result.error) return { kind: 'fault', message: `could not run ${tool.nix}: ${result.error.message}` };
  if (result.cancelled) return { kind: 'fault', message: 'cancelled' };
  if (result.timedOut) return { kind: 'fault', message: `nix eval of host '${options.host}' did not finish within ${Math.round((options.timeoutMs ?? 120_000) / 1000)} s and was stopped` };
  if (result.code !== 0) {
    const errors = nixErrors(result.stderr.split(/\r?\n/));
    if (errors.length === 0) return { kind: 'fault', message: `nix eval exited with ${result.code} without an error message: ${result.stderr.trim().split('\n').slice(-1)[0] ?? ''}` };
    const first = errors[0];
    const frames: NixPosition[] = [first.position, ...first.trace];
    const placed = frames.map((frame) => ({ frame, file: mapNixFile(frame.file, options.roots) })).find((item) => item.file && item.frame.line);
    const message = (first.raw.trim() || first.text.replace(/^error:\s*/, '')).split('\n')[0];
    return { kind: 'nix-error', message, file: placed?.file, line: placed?.frame.line, column: placed?.frame.column };
  }
  try {
    const projection = JSON.parse(result.stdout) as Record<string, ProjectedPath>;
    if (typeof projection !== 'object' || projection === null || Array.isArray(projection)) throw new Error('not an object');
    return { kind: 'ok', projection };
  } catch (error) {
    return { kind: 'fault', message: `nix eval printed something that is not the projection's JSON (${error instanceof Error ? error.message : String(error)})` };
  }
}
