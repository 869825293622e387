/**
 * A step runs without a shell in a process group of its own; cancelling ends the whole group (the stand-in nix
 * and the `sleep` it started), and output arrives as lines.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { processGroupAlive, startStep } from '../../client/src/disko-vm/process';
import { STAND_INS, standInEnv } from './support';

const dir = mkdtempSync(path.join(os.tmpdir(), 'disko-vm-process-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie is not alive.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function until(what: string, probe: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('running a step', () => {
  it('splits output into lines and reports the exit code; arguments reach the program as given, no shell', async () => {
    const lines: string[] = [];
    const step = startStep(process.execPath, ['-e', 'console.log(JSON.stringify(process.argv.slice(1))); process.stderr.write("a\\nb"); process.exit(3)', '$(touch /tmp/x)', 'a b;c', '*'], {
      cwd: dir,
      env: process.env,
      onLine: (line) => lines.push(line),
    });
    const exit = await step.done;
    assert.equal(exit.code, 3);
    assert.deepEqual(lines.sort(), ['["$(touch /tmp/x)","a b;c","*"]', 'a', 'b'].sort());
  });

  it('a missing executable is an error, not a crash', async () => {
    const step = startStep(path.join(dir, 'no-such-program'), [], { cwd: dir, env: process.env, onLine: () => undefined });
    const exit = await step.done;
    assert.equal(exit.error && (exit.error as NodeJS.ErrnoException).code, 'ENOENT');
  });

  it('cancelling ends the whole process group: the stand-in nix and the child it started', async () => {
    const pidFile = path.join(dir, 'pids.json');
    const env = standInEnv(dir, { EPHEMERAL_ROOT_STANDIN_HANG: '1', EPHEMERAL_ROOT_STANDIN_PIDFILE: pidFile });
    const lines: string[] = [];
    const step = startStep(path.join(STAND_INS, 'nix'), ['build', '-L', '--log-format', 'internal-json', '--out-link', path.join(dir, 'link'), '.#nixosConfigurations.seed.config.system.build.diskoImagesScript'], {
      cwd: path.join(__dirname, '..', '..', '..', 'examples', 'seed'),
      env,
      onLine: (line) => lines.push(line),
    });
    await until('the stand-in to start its child', () => existsSync(pidFile));
    const pids = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number; pgid: number; child: number };
    assert.equal(pids.pgid, step.pid, 'the step leads its own process group');
    assert.ok(alive(pids.child) && processGroupAlive(pids.pgid));
    await step.kill();
    const exit = await step.done;
    assert.equal(exit.signal, 'SIGTERM');
    assert.equal(processGroupAlive(pids.pgid), false, 'no member of the group is left');
    await until('the child to be gone', () => !alive(pids.child), 5000);
    assert.ok(lines.some((line) => line.includes('building the system closure')));
  });
});
