/** Runs the built `ephemeral-root` command as a user would, with a time limit. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './engine';

export const CLI = path.join(REPO_ROOT, 'bin', 'ephemeral-root.js');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
  signal: NodeJS.Signals | null;
}

export function runCli(args: string[], cwd = REPO_ROOT, timeoutMs = 60_000): CliRun {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, signal: result.signal };
}
