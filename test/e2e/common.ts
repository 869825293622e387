/**
 * Helpers of the end-to-end drivers (test/e2e/*.e2e.ts). Each driver is a plain Node program, run by
 * scripts/run-tests.mjs as its own process: exit code 0 = passed, anything else = failed.
 */
import { spawn, spawnSync } from 'node:child_process';
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

/** Runs headless Neovim on a Lua script in its own process group (the server it starts goes with it on a hang). */
export async function runNvim(cwd: string, script: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Its own process group, so that the server it started goes too if anything hangs.
    const child = spawn('nvim', ['--headless', '--clean', '-n', '-i', 'NONE', '-u', 'NONE', '-c', `luafile ${script}`], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', () => undefined);
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
      reject(new Error(`nvim did not finish within ${timeoutMs} ms; stderr: ${stderr.trim()}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}
