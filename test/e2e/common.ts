/**
 * Helpers of the end-to-end drivers (test/e2e/*.e2e.ts). Each driver is a plain Node program, run by
 * scripts/run-tests.mjs as its own process: exit code 0 = passed, anything else = failed.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** out/test/e2e/x.js → the repository root. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

export interface CliDiagnostic {
  file: string;
  host: string;
  code: string;
  severity: 'error' | 'warning' | 'information' | 'hint';
  message: string;
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
}

/** A temporary copy of some examples (never the repository's own files), removed by `cleanup`. */
export function tempWorkspace(prefix: string, examples: string[]): { root: string; cleanup: () => void } {
  const root = mkdtempSync(path.join(os.tmpdir(), prefix));
  for (const example of examples) cpSync(path.join(REPO_ROOT, 'examples', example), path.join(root, example), { recursive: true });
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }) };
}

/** What the CLI reports for one file (the same engine as the language server): the expectation of the editor tests. */
export function cliDiagnostics(folder: string, file: string): CliDiagnostic[] {
  const run = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'ephemeral-root.js'), 'check', '.', '--format', 'json'], { cwd: folder, encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0 && run.status !== 1) throw new Error(`ephemeral-root check failed (${run.status ?? run.signal}): ${run.stderr.trim()}`);
  const report = JSON.parse(run.stdout) as { diagnostics: CliDiagnostic[] };
  const relative = path.relative(folder, file);
  return report.diagnostics.filter((diagnostic) => diagnostic.file === relative);
}

/** `code@line:character` keys, sorted, for comparing diagnostics from different clients. */
export function keys(items: { code: string; line: number; character: number }[]): string[] {
  return items.map((item) => `${item.code}@${item.line}:${item.character}`).sort();
}

/** Runs a driver's main(): prints the failure on one line (plus the stack when verbose) and sets the exit code. */
export function runMain(name: string, main: () => Promise<void>): void {
  const started = Date.now();
  main().then(
    () => {
      console.log(`${name}: passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      process.exit(0);
    },
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      console.error(`${name}: FAILED after ${((Date.now() - started) / 1000).toFixed(1)} s: ${message}`);
      if (process.env.EPHEMERAL_ROOT_E2E_VERBOSE === '1' && error instanceof Error) console.error(error.stack);
      process.exit(1);
    },
  );
}
