/**
 * Running one step: `spawn(command, args)` without a shell, in a process group of its own (detached), its output
 * split into lines. Cancelling ends the whole group (`kill(-pgid)`): Nix, the image builder's QEMU and anything
 * else they started. SIGTERM first, SIGKILL after a grace period.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface StepProcess {
  pid: number | undefined;
  /** Resolves when the process has exited and its output is read. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>;
  /** Ends the whole process group; resolves when no member is left (or after the SIGKILL grace). */
  kill(): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Whether a process group has a member that is not a zombie. `kill(-pgid, 0)` alone also counts zombies, which
 * a reparented child stays until init reaps it.
 */
export function processGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
  }
  return false;
}

export interface StartOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  onLine: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Grace between SIGTERM and SIGKILL. */
  killGraceMs?: number;
}

export function startStep(command: string, args: string[], options: StartOptions): StepProcess {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'], shell: false });
  const pid = child.pid;
  const rest = { stdout: '', stderr: '' };
  const reader = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    const lines = (rest[stream] + chunk.toString('utf8')).split(/\r?\n/);
    rest[stream] = lines.pop() ?? '';
    for (const line of lines) options.onLine(line, stream);
  };
  child.stdout!.on('data', reader('stdout'));
  child.stderr!.on('data', reader('stderr'));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    let spawnError: Error | undefined;
    child.on('error', (error) => {
      spawnError = error;
      if (pid === undefined) resolve({ code: null, signal: null, error });
    });
    child.on('close', (code, signal) => {
      for (const stream of ['stdout', 'stderr'] as const) if (rest[stream]) options.onLine(rest[stream], stream);
      resolve({ code, signal, error: spawnError });
    });
  });
  const kill = async () => {
    if (pid === undefined) return;
    const grace = options.killGraceMs ?? 3000;
    if (!processGroupAlive(pid)) return;
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      return;
    }
    for (let waited = 0; waited < grace && processGroupAlive(pid); waited += 50) await sleep(50);
    if (processGroupAlive(pid)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
      for (let waited = 0; waited < 2000 && processGroupAlive(pid); waited += 50) await sleep(50);
    }
  };
  return { pid, done, kill };
}
