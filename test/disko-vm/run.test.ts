/**
 * Whole runs without VS Code, against the stand-in nix (test/stand-ins/nix, which checks its arguments and fails
 * loudly on anything the real CLI would not get) on copies of the examples: every mode, the Nix error that becomes a
 * diagnostic, cancel, the verdict, and the refusals (trust, /dev) that run nothing.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { processEnv } from '../../client/src/disko-vm/preconditions';
import { processGroupAlive } from '../../client/src/disko-vm/process';
import { type CancelToken, type RunUi, runDiskoVm, shellLine } from '../../client/src/disko-vm/run';
import type { RunResult, VmHost, VmMode, VmSettings, VmTarget } from '../../client/src/disko-vm/types';
import { VerdictReader } from '../../client/src/disko-vm/verdict';
import { memoryRegistry } from '../../client/src/disko-vm/work-folder';
import { REPO_ROOT, STAND_IN_NIX, configurationHost, flakeHost, invocations, lineOf, scratch, settings, standInEnv } from './support';

const space = scratch('disko-vm-run-');
after(() => space.cleanup());
// The scratch folder plays the workspace folder (the work folder lies inside it); one registry, as in one VS Code.
const registry = memoryRegistry();

const seed = flakeHost(space.seed);
const tern: VmHost = flakeHost(space.tern, 'tern', {
  root: path.join(space.tern, 'hosts', 'tern', 'configuration.nix'),
  diskoFiles: [path.join(space.tern, 'hosts', 'tern', 'disko.nix')],
  persisted: ['/boot', '/nix', '/persist', '/var/lib/nixos', '/var/log'],
});

let saved: NodeJS.ProcessEnv | undefined;
afterEach(() => {
  if (saved) process.env = saved;
  saved = undefined;
});

function useStandIn(extra: Record<string, string> = {}): void {
  saved = process.env;
  process.env = standInEnv(space.root, extra);
}

function recorder(): RunUi & { stages: string[]; lines: string[] } {
  const stages: string[] = [];
  const lines: string[] = [];
  return { stages, lines, stage: (name) => stages.push(name), line: (text) => lines.push(text), confirm: async () => true, warn: async () => true };
}

const never: CancelToken = { isCancellationRequested: false, onCancellationRequested: () => ({ dispose: () => undefined }) };

async function run(mode: VmMode, target: VmTarget, overrides: Partial<VmSettings> = {}, options: { trusted?: boolean; token?: CancelToken; ui?: RunUi } = {}): Promise<RunResult> {
  return runDiskoVm(
    {
      mode,
      target,
      settings: settings(space.work, overrides),
      extensionRoot: REPO_ROOT,
      environment: processEnv(options.trusted ?? true),
      workspaceFolders: [space.root],
      registry,
      assumeYes: true,
      nonce: 'test',
    },
    options.ui ?? recorder(),
    options.token ?? never,
  );
}

function assertStandInHappy(): void {
  const bad = invocations(space.root).filter((call) => !call.ok);
  assert.deepEqual(bad, [], 'the stand-in nix got arguments the real CLI would not');
}

describe('runs against the stand-in nix', () => {
  it('format images of a flake host: stages, exact commands, real images, the log kept', async () => {
    useStandIn({ EPHEMERAL_ROOT_STANDIN_DISKS: 'main:2G', EPHEMERAL_ROOT_STANDIN_NIX_ARGS: JSON.stringify(['--option', 'cores', '2']) });
    const ui = recorder();
    const result = await run('images', { kind: 'host', host: seed }, { nixArgs: ['--option', 'cores', '2'], memory: 1536 }, { ui });
    assert.equal(result.status, 'ok', result.message);
    assert.deepEqual(result.stages, ['Checking preconditions', 'Building the image script', 'Formatting the images', 'Checking the images']);
    assert.deepEqual(ui.stages, result.stages);
    assert.deepEqual(result.images.map((image) => [path.basename(image.file), image.format, image.virtualSize]), [['main.raw', 'raw', 2 * 1024 ** 3]]);
    assert.equal(path.dirname(result.images[0].file), result.workFolder);
    assert.deepEqual(result.commands[1], { command: path.join(result.workFolder!, 'images-script'), args: ['--build-memory', '1536'], cwd: result.workFolder });
    assert.ok(ui.lines.some((line) => line.startsWith("building '/nix/store/")), 'Nix activities are streamed');
    assert.ok(ui.lines.some((line) => line.startsWith("Formatting '") && line.includes('main.raw')), 'the image script output is streamed');
    const log = readFileSync(result.log!, 'utf8');
    assert.match(log, /^@nix \{"action":"start"/m, 'the log keeps the raw internal-json');
    assert.match(log, /^OK: Formatted 1 image\(s\)/m);
    assert.deepEqual(invocations(space.root).map((call) => call.mode), ['flakes-probe', 'images']);
    assertStandInHappy();
  });

  it('a configuration.nix host (no flake): <nixpkgs/nixos> with --argstr configuration, flakes not needed', async () => {
    useStandIn({ EPHEMERAL_ROOT_STANDIN_FLAKES: 'off' });
    const classic = configurationHost(space.classic);
    const result = await run('images', { kind: 'host', host: classic });
    assert.equal(result.status, 'ok', result.message);
    assert.deepEqual(result.commands[0], {
      command: STAND_IN_NIX,
      args: ['build', '-L', '--log-format', 'internal-json', '--out-link', path.join(result.workFolder!, 'images-script'), '--file', '<nixpkgs/nixos>', '--argstr', 'configuration', classic.root, 'config.system.build.diskoImagesScript'],
      cwd: space.classic,
    });
    const vm = await run('vm', { kind: 'host', host: classic });
    assert.equal(vm.status, 'ok', vm.message);
    assert.deepEqual(invocations(space.root).slice(-3).map((call) => call.mode), ['images-configuration', 'flakes-probe', 'vm-configuration']);
    assertStandInHappy();
  });

  it('qcow2 images from the generated images.nix', async () => {
    useStandIn();
    const result = await run('images', { kind: 'host', host: seed }, { imageFormat: 'qcow2' });
    assert.equal(result.status, 'ok', result.message);
    assert.deepEqual(result.images.map((image) => [path.basename(image.file), image.format]), [['main.qcow2', 'qcow2']]);
    assert.deepEqual(result.nixFiles, [path.join(result.workFolder!, 'images.nix')]);
    assertStandInHappy();
  });

  it('a standalone disko file through nix/standalone-disko-image.nix', async () => {
    useStandIn();
    const result = await run('standalone', { kind: 'file', file: space.loose });
    assert.equal(result.status, 'ok', result.message);
    assert.deepEqual(result.nixFiles, [path.join(REPO_ROOT, 'nix', 'standalone-disko-image.nix')]);
    assert.equal(result.images.length, 1);
    assert.equal(invocations(space.root).at(-1)!.mode, 'standalone');
    assertStandInHappy();
  });

  it('the interactive VM: nix run with TMPDIR in the work folder and QEMU_OPTS', async () => {
    useStandIn();
    const ui = recorder();
    const result = await run('vm', { kind: 'host', host: seed }, { memory: 4096 }, { ui });
    assert.equal(result.status, 'ok', result.message);
    const call = invocations(space.root).at(-1)!;
    assert.equal(call.mode, 'vm');
    assert.deepEqual(call.env, { TMPDIR: path.join(result.workFolder!, 'vm-tmp'), QEMU_OPTS: '-m 4096' });
    assert.ok(ui.lines.some((line) => line.includes('Welcome to NixOS')), 'the VM console is streamed');
    assert.ok(ui.lines.some((line) => line.startsWith(`$ TMPDIR=${path.join(result.workFolder!, 'vm-tmp')} QEMU_OPTS='-m 4096' ${STAND_IN_NIX} run`)));
    assertStandInHappy();
  });

  it('prove the ephemeral root: the generated VM test and its verdict', async () => {
    useStandIn();
    const result = await run('prove', { kind: 'host', host: tern });
    assert.equal(result.status, 'ok', result.message);
    assert.equal(result.message, 'Ephemeral root proved: / erased after a reboot; /boot, /nix, /persist, /var/lib/nixos, /var/log kept.');
    assert.equal(result.verdict?.ok, true);
    assert.equal(result.verdict?.probes.length, 6);
    assert.ok(existsSync(path.join(result.workFolder!, 'prove-ephemeral-root.nix')));
    assert.ok(readlinkSync(path.join(result.workFolder!, 'prove-result')).includes('vm-test-run-tern-disko'));
    assertStandInHappy();
  });

  it('prove: a persisted path that loses its probe fails the verdict', async () => {
    useStandIn({ EPHEMERAL_ROOT_STANDIN_VERDICT: 'fail' });
    const result = await run('prove', { kind: 'host', host: tern });
    assert.equal(result.status, 'failed');
    assert.equal(result.message, 'Ephemeral root NOT proved: /var/log lost the probe (not persisted).');
    assert.equal(result.verdict?.ok, false);
    assertStandInHappy();
  });

  it('a Nix evaluation error becomes a diagnostic on the workspace file and line', async () => {
    const disko = path.join(space.seed, 'disko.nix');
    const line = lineOf(disko, 'mountpoint = "/";');
    const column = readFileSync(disko, 'utf8').split('\n')[line - 1].indexOf('mountpoint') + 1;
    useStandIn({ EPHEMERAL_ROOT_STANDIN_FAIL: 'eval', EPHEMERAL_ROOT_STANDIN_ERROR_AT: `disko.nix:${line}:${column}`, EPHEMERAL_ROOT_STANDIN_ERROR_MSG: "The option `disko.devices.zpool.rpool.datasets.\"nixos/empty\".mountpoint' is used but not defined." });
    const result = await run('images', { kind: 'host', host: seed });
    assert.equal(result.status, 'failed');
    assert.match(result.message, /^Building the image script failed \(exit code 1\): The option/);
    assert.equal(result.diagnostics.length, 1);
    const [diagnostic] = result.diagnostics;
    assert.equal(diagnostic.file, disko);
    assert.deepEqual(diagnostic.range, { start: { line: line - 1, character: column - 1 }, end: { line: line - 1, character: column - 1 + 'mountpoint'.length } });
    assert.equal(diagnostic.severity, 'error');
    assert.deepEqual(diagnostic.related.map((item) => item.message), ["while evaluating the attribute 'disko.devices'"]);
    assert.deepEqual(result.images, []);
    assertStandInHappy();
  });

  it('cancel ends the whole process group and the run reports it', async () => {
    const pidFile = path.join(space.root, 'hang.json');
    useStandIn({ EPHEMERAL_ROOT_STANDIN_HANG: '1', EPHEMERAL_ROOT_STANDIN_PIDFILE: pidFile });
    const listeners: (() => unknown)[] = [];
    const token = { isCancellationRequested: false, onCancellationRequested: (listener: () => unknown) => (listeners.push(listener), { dispose: () => undefined }) };
    const running = run('images', { kind: 'host', host: seed }, {}, { token });
    const deadline = Date.now() + 15_000;
    while (!existsSync(pidFile)) {
      if (Date.now() > deadline) throw new Error('the stand-in did not start');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const pids = JSON.parse(readFileSync(pidFile, 'utf8')) as { pgid: number; child: number };
    token.isCancellationRequested = true;
    for (const listener of listeners) listener();
    const result = await running;
    assert.equal(result.status, 'cancelled');
    assert.equal(result.message, 'Cancelled: the process group was ended.');
    assert.equal(processGroupAlive(pids.pgid), false);
    assert.deepEqual(result.stages, ['Checking preconditions', 'Building the image script']);
  });

  it('refuses an untrusted workspace (injected trust state) and runs nothing', async () => {
    useStandIn();
    const before = invocations(space.root).length;
    const result = await run('images', { kind: 'host', host: seed }, {}, { trusted: false });
    assert.equal(result.status, 'refused');
    assert.match(result.message, /needs a trusted workspace/);
    assert.equal(invocations(space.root).length, before);
  });

  it('refuses a /dev work folder or a /dev argument before any build', async () => {
    useStandIn();
    for (const overrides of [{ workFolder: '/dev/sda' }, { workFolder: '/dev/shm/er' }, { nixArgs: ['--store', '/dev/sdb'] }] as Partial<VmSettings>[]) {
      const before = invocations(space.root).filter((call) => call.mode !== 'flakes-probe').length;
      const result = await run('images', { kind: 'host', host: seed }, overrides);
      assert.equal(result.status, 'refused', JSON.stringify(overrides));
      assert.match(result.message, /^Refused: .*\/dev/);
      assert.equal(invocations(space.root).filter((call) => call.mode !== 'flakes-probe').length, before, 'nothing was built');
    }
    // A /dev argument among the user's nix arguments does not even reach the feature probe.
    const before = invocations(space.root).length;
    const argument = await run('images', { kind: 'host', host: seed }, { nixArgs: ['--option', 'store', 'file=/dev/sdc'] });
    assert.match(argument.message, /^Refused: ephemeralRoot\.vm\.nixArgs: file=\/dev\/sdc resolves to \/dev\/sdc, under \/dev/);
    assert.equal(invocations(space.root).length, before, 'nix was not called at all');
    const badName = await run('images', { kind: 'host', host: { ...seed, disks: [{ name: 'main', imageName: '../../escape' }] } });
    assert.equal(badName.status, 'refused');
    assert.match(badName.message, /would not be a file in the work folder/);
  });

  it('refuses when flakes are off for a flake host, with the fix in the message', async () => {
    useStandIn({ EPHEMERAL_ROOT_STANDIN_FLAKES: 'off' });
    const result = await run('images', { kind: 'host', host: seed });
    assert.equal(result.status, 'refused');
    assert.match(result.message, /Flakes are not enabled/);
  });
});

describe('pieces', () => {
  it('the verdict reader takes the last report of each path', () => {
    const reader = new VerdictReader();
    reader.read('vm-test-run-x> EPHEMERAL-ROOT-PROBE {"expect": "kept", "ok": true, "path": "/home", "reason": "not a directory on the booted host", "result": "skipped"}');
    reader.read('EPHEMERAL-ROOT-PROBE {"expect": "erased", "ok": false, "path": "/", "result": "kept"}');
    reader.read('EPHEMERAL-ROOT-PROBE {"expect": "kept", "ok": true, "path": "/persist", "result": "kept"}');
    assert.equal(reader.verdict(), undefined);
    reader.read('EPHEMERAL-ROOT-VERDICT {"failed": ["/"], "ok": false}');
    assert.equal(reader.verdict()!.summary, 'Ephemeral root NOT proved: / still held the probe after the reboot (not erased). Skipped (not a directory on the booted host): /home.');
  });

  it('shellLine quotes what a shell would split or expand', () => {
    assert.equal(shellLine(['nix', 'build', '.#a.b', '<nixpkgs/nixos>', "it's", 'a b']), `nix build .#a.b '<nixpkgs/nixos>' 'it'\\''s' 'a b'`);
  });
});
