/**
 * "Ephemeral Root: Run disko on a VM image" end to end in a real VS Code, against the stand-in nix
 * (test/stand-ins/nix: it checks that it gets exactly the arguments the real CLI takes and replays output shaped like
 * the real tool's; the image script it builds creates the images with real qemu-img).
 *
 * Run by test/e2e/disko-vm.e2e.ts, which prepares a workspace (copies of examples/seed, examples/broken-flake as
 * `tern`, a disko file alone in `loose/`, a btrfs flake host `vesper` and a tmpfs configuration.nix host in
 * `tmpfs-root/`) and starts VS Code twice: with workspace trust off (every folder
 * trusted; env EPHEMERAL_ROOT_DISKO_VM_E2E=trusted) and on (the folder is untrusted: restricted mode;
 * EPHEMERAL_ROOT_DISKO_VM_E2E=untrusted). In any other run of the suite folder these tests skip themselves.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { processGroupAlive } from '../../../client/src/disko-vm/process';
import type { RunResult } from '../../../client/src/disko-vm/types';

const MODE = process.env.EPHEMERAL_ROOT_DISKO_VM_E2E;
const EXTENSION_ID = 'nixos-ephemeral-root.nixos-ephemeral-root';
const STAND_IN_KEYS = ['FAIL', 'ERROR_AT', 'ERROR_MSG', 'HANG', 'PIDFILE', 'VERDICT', 'FLAKES', 'DISKS', 'NIX_ARGS'].map((key) => `EPHEMERAL_ROOT_STANDIN_${key}`);

function root(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'a workspace folder is open');
  return folder.uri.fsPath;
}

const file = (...segments: string[]) => path.join(root(), ...segments);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

interface Invocation {
  argv: string[];
  mode: string;
  ok: boolean;
  problem?: string;
}

function invocations(): Invocation[] {
  const log = process.env.EPHEMERAL_ROOT_STANDIN_LOG;
  assert.ok(log, 'EPHEMERAL_ROOT_STANDIN_LOG is set by the driver');
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Invocation);
}

function assertStandInHappy(): void {
  assert.deepEqual(
    invocations().filter((call) => !call.ok),
    [],
    'the stand-in nix got arguments the real CLI would not take',
  );
}

/** The launcher's screenshot/DOM protocol (test/vscode/README.md); undefined when the driver did not enable it. */
async function ui(name: string, selectors: string[]): Promise<Record<string, { ariaLabel: string | null; text: string }[]> | undefined> {
  const dir = process.env.EPHEMERAL_ROOT_SCREENSHOT_DIR;
  if (!dir) return undefined;
  const base = path.join(dir, name);
  writeFileSync(`${base}.request.tmp`, JSON.stringify(selectors));
  renameSync(`${base}.request.tmp`, `${base}.request`);
  await until(`the launcher to answer ${name}`, () => existsSync(`${base}.done`), 15_000);
  assert.equal(readFileSync(`${base}.done`, 'utf8').trim(), 'ok');
  return JSON.parse(readFileSync(`${base}.json`, 'utf8')) as Record<string, { ariaLabel: string | null; text: string }[]>;
}

const TOASTS = '.notifications-toasts .notification-list-item';
const CENTER = '.notifications-center .notification-list-item';

/**
 * Polls the notifications until one says `text`: the toasts first; when none shows up (a toast can stay hidden in
 * this headless workbench), the notification center, which lists every notification, progress ones included.
 */
async function toastSaying(name: string, text: string): Promise<{ ariaLabel: string | null; text: string } | undefined> {
  if (!process.env.EPHEMERAL_ROOT_SCREENSHOT_DIR) return undefined;
  let seen: string[] = [];
  for (let attempt = 0; attempt < 24; attempt++) {
    const selector = attempt < 8 ? TOASTS : CENTER;
    if (attempt === 8) await vscode.commands.executeCommand('notifications.showList');
    const dom = await ui(`${name}-${attempt}`, [selector]);
    const items = dom?.[selector] ?? [];
    seen = items.map((item) => `${item.ariaLabel ?? ''} | ${item.text}`);
    const found = items.find((item) => `${item.ariaLabel ?? ''} ${item.text}`.includes(text));
    if (found) {
      if (attempt >= 8) await vscode.commands.executeCommand('notifications.hideList');
      return found;
    }
    await sleep(250);
  }
  await vscode.commands.executeCommand('notifications.hideList');
  throw new Error(`no notification saying ${JSON.stringify(text)}; the last notifications: ${JSON.stringify(seen)}`);
}

function run(args: Record<string, unknown>): Thenable<RunResult> {
  return vscode.commands.executeCommand<RunResult>('ephemeralRoot.runDiskoVm', { assumeYes: true, ...args });
}

async function setVm(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('ephemeralRoot').update(`vm.${key}`, value, vscode.ConfigurationTarget.Global);
}

suite('Run disko on a VM image (trusted workspace, stand-in nix)', () => {
  let work: string;
  let standInNix: string;

  suiteSetup(async function () {
    if (MODE !== 'trusted') this.skip();
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension);
    await extension.activate();
    assert.equal(vscode.workspace.isTrusted, true);
    // The server's login shell resets PATH; the extension spawns `nix` from this process's PATH.
    process.env.PATH = `${path.join(extension.extensionPath, 'test', 'stand-ins')}${path.delimiter}${process.env.PATH ?? ''}`;
    standInNix = path.join(extension.extensionPath, 'test', 'stand-ins', 'nix');
    // The work folder must lie inside the workspace folder (or the extension's storage); the command creates it.
    work = path.join(root(), 'vm-work');
    await setVm('workFolder', work);
    await setVm('memory', 1536);
    await setVm('nixArgs', []);
    await setVm('imageFormat', 'raw');
  });

  setup(async () => {
    for (const key of STAND_IN_KEYS) delete process.env[key];
    // Earlier toasts would hide the ones a test looks for.
    await vscode.commands.executeCommand('notifications.clearAll');
  });

  test('the code lens sits on disko.devices and runs the command for the layout\'s host', async () => {
    const disko = vscode.Uri.file(file('seed', 'disko.nix'));
    await vscode.window.showTextDocument(disko);
    const lenses = await until('the code lens of seed/disko.nix', async () => {
      const found = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', disko);
      const ours = found?.filter((lens) => lens.command?.command === 'ephemeralRoot.runDiskoVm');
      return ours && ours.length > 0 ? ours : undefined;
    });
    assert.equal(lenses.length, 1);
    assert.equal(lenses[0].range.start.line, 3);
    assert.equal(lenses[0].command!.title, '$(play) Run disko on a VM image');
    const [args] = lenses[0].command!.arguments as [{ uri: string }];
    assert.equal(vscode.Uri.parse(args.uri).fsPath, disko.fsPath);
    // The lens' own arguments, plus a mode: the layout's only host is taken without a picker.
    const result = await run({ ...args, mode: 'images' });
    assert.equal(result.status, 'ok', result.message);
    assert.equal(result.commands[0].args.at(-1), '.#nixosConfigurations.seed.config.system.build.diskoImagesScript');
  });

  test('format images of a flake host: stages, exact commands, real images in the work folder, log kept', async () => {
    process.env.EPHEMERAL_ROOT_STANDIN_DISKS = 'main:2G';
    const result = await run({ host: 'seed', mode: 'images' });
    assert.equal(result.status, 'ok', result.message);
    assert.deepEqual(result.stages, ['Checking preconditions', 'Building the image script', 'Formatting the images', 'Checking the images']);
    assert.equal(result.workFolder, work);
    assert.deepEqual(
      result.commands.map((command) => [command.command, command.args, command.cwd]),
      [
        [standInNix, ['build', '-L', '--log-format', 'internal-json', '--out-link', path.join(work, 'images-script'), '.#nixosConfigurations.seed.config.system.build.diskoImagesScript'], file('seed')],
        [path.join(work, 'images-script'), ['--build-memory', '1536'], work],
      ],
    );
    assert.deepEqual(result.images.map((image) => [image.file, image.format, image.virtualSize]), [[path.join(work, 'main.raw'), 'raw', 2 * 1024 ** 3]]);
    assert.match(readFileSync(path.join(work, 'run.log'), 'utf8'), /^\+ qemu-img create -f raw/m);
    assert.match(result.message, /^Formatted 1 image\(s\) in .*: main\.raw \(raw, 2 GiB\)\.$/);
    await toastSaying('images-done', 'Formatted 1 image(s)');
    // The toast's "Open Work Folder" runs this: the last run's log opens.
    assert.equal(await vscode.commands.executeCommand('ephemeralRoot.openDiskoVmWorkFolder'), work);
    await until('run.log in the editor', () => vscode.window.activeTextEditor?.document.uri.fsPath === path.join(work, 'run.log'));
    assertStandInHappy();
  });

  test('qcow2 images, a standalone disko file and the interactive VM', async () => {
    await setVm('imageFormat', 'qcow2');
    try {
      const qcow2 = await run({ host: 'seed', mode: 'images' });
      assert.equal(qcow2.status, 'ok', qcow2.message);
      assert.deepEqual(qcow2.images.map((image) => [path.basename(image.file), image.format]), [['main.qcow2', 'qcow2']]);
    } finally {
      await setVm('imageFormat', 'raw');
    }
    const standalone = await run({ file: file('loose', 'disko.nix') });
    assert.equal(standalone.status, 'ok', standalone.message);
    assert.equal(standalone.mode, 'standalone');
    assert.equal(standalone.nixFiles[0], path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'nix', 'standalone-disko-image.nix'));
    const vm = await run({ host: 'seed', mode: 'vm' });
    assert.equal(vm.status, 'ok', vm.message);
    assert.deepEqual(vm.commands[0].args, ['run', '-L', '--log-format', 'internal-json', '.#nixosConfigurations.seed.config.system.build.vmWithDisko']);
    assertStandInHappy();
  });

  test('cancel: the progress notification shows the stage with a Cancel button, and cancelling ends the process group', async () => {
    const pidFile = path.join(process.env.EPHEMERAL_ROOT_DISKO_VM_WORK ?? path.dirname(root()), 'hang.json');
    process.env.EPHEMERAL_ROOT_STANDIN_HANG = '1';
    process.env.EPHEMERAL_ROOT_STANDIN_PIDFILE = pidFile;
    const running = run({ host: 'seed', mode: 'images' });
    // Whatever fails below, the run must not outlive this test.
    const stop = () => vscode.commands.executeCommand('ephemeralRoot.cancelDiskoVm').then(() => running);
    try {
      await cancelWhileRunning(pidFile, running);
    } finally {
      await stop();
    }
  });

  async function cancelWhileRunning(pidFile: string, running: Thenable<RunResult>): Promise<void> {
    await until('the stand-in to hang', () => existsSync(pidFile));
    const pids = JSON.parse(readFileSync(pidFile, 'utf8')) as { pgid: number; child: number };
    assert.ok(processGroupAlive(pids.pgid));
    const toast = await toastSaying('progress', 'Building the image script');
    if (toast) {
      const label = `${toast.ariaLabel ?? ''} ${toast.text}`;
      assert.match(label, /Ephemeral Root: Format images \(seed\)/);
      assert.match(label, /Cancel/);
      await ui('disko-vm-progress', []); // the screenshot of docs/disko-vm.md
    }
    assert.equal(await vscode.commands.executeCommand('ephemeralRoot.cancelDiskoVm'), true);
    const result = await running;
    assert.equal(result.status, 'cancelled');
    assert.deepEqual(result.stages, ['Checking preconditions', 'Building the image script']);
    assert.equal(processGroupAlive(pids.pgid), false, 'no process of the group is left');
    assert.equal(await vscode.commands.executeCommand('ephemeralRoot.cancelDiskoVm'), false, 'nothing left to cancel');
  }

  test('a Nix evaluation error becomes a diagnostic on the right file and line', async () => {
    // A mistake Nix reports when it evaluates the layout (the stand-in replays the error real Nix gives for it).
    const disko = file('seed', 'disko.nix');
    const original = readFileSync(disko, 'utf8');
    writeFileSync(disko, original.replace('mountpoint = "/";', 'mountpoint = rootMount;'));
    const lines = readFileSync(disko, 'utf8').split('\n');
    const line = lines.findIndex((text) => text.includes('mountpoint = rootMount;'));
    const column = lines[line].indexOf('rootMount');
    process.env.EPHEMERAL_ROOT_STANDIN_FAIL = 'eval';
    process.env.EPHEMERAL_ROOT_STANDIN_ERROR_AT = `disko.nix:${line + 1}:${column + 1}`;
    process.env.EPHEMERAL_ROOT_STANDIN_ERROR_MSG = "undefined variable 'rootMount'";
    const result = await run({ host: 'seed', mode: 'images' });
    assert.equal(result.status, 'failed');
    const diagnostics = vscode.languages.getDiagnostics(vscode.Uri.file(disko)).filter((diagnostic) => diagnostic.source === 'nix');
    assert.equal(diagnostics.length, 1);
    assert.equal(diagnostics[0].message, "undefined variable 'rootMount'");
    assert.equal(diagnostics[0].severity, vscode.DiagnosticSeverity.Error);
    assert.deepEqual([diagnostics[0].range.start.line, diagnostics[0].range.start.character, diagnostics[0].range.end.character], [line, column, column + 'rootMount'.length]);
    assert.equal(diagnostics[0].code, 'disko-vm');
    await vscode.commands.executeCommand('workbench.actions.view.problems');
    if (process.env.EPHEMERAL_ROOT_SCREENSHOT_DIR) {
      const rows = '.markers-panel .monaco-list-row';
      const dom = await until('the Problems panel row', async () => {
        const found = await ui(`problems-${Date.now()}`, [rows]);
        return found?.[rows].some((row) => (row.ariaLabel ?? '').includes('rootMount')) ? found : undefined;
      });
      assert.ok(dom[rows].some((row) => /Error: undefined variable 'rootMount' at line \d+/.test(row.ariaLabel ?? '')));
      await vscode.window.showTextDocument(vscode.Uri.file(disko), { selection: new vscode.Range(line, column, line, column) });
      await sleep(500);
      await ui('disko-vm-error', []);
    }
    // Fixed, the next run starts clean.
    writeFileSync(disko, original);
    delete process.env.EPHEMERAL_ROOT_STANDIN_FAIL;
    assert.equal((await run({ host: 'seed', mode: 'images' })).status, 'ok');
    assert.deepEqual(vscode.languages.getDiagnostics(vscode.Uri.file(disko)).filter((diagnostic) => diagnostic.source === 'nix'), []);
  });

  test('prove the ephemeral root: the verdict as a notification, also when it fails', async () => {
    const proved = await run({ host: 'tern', mode: 'prove' });
    assert.equal(proved.status, 'ok', proved.message);
    assert.equal(proved.message, 'Ephemeral root proved: / erased after a reboot; /boot, /nix, /persist, /var/lib/nixos, /var/log kept.');
    await toastSaying('proved', 'Ephemeral root proved');
    assert.match(readFileSync(path.join(work, 'prove-ephemeral-root.nix'), 'utf8'), /disko\.tests\.extraChecks = ''/);
    process.env.EPHEMERAL_ROOT_STANDIN_VERDICT = 'fail';
    const failed = await run({ host: 'tern', mode: 'prove' });
    assert.equal(failed.status, 'failed');
    assert.equal(failed.message, 'Ephemeral root NOT proved: /var/log lost the probe (not persisted).');
    await toastSaying('not-proved', 'NOT proved');
    assertStandInHappy();
  });

  test('a btrfs host and a tmpfs host: the four modes, and the rollback proved', async function () {
    this.timeout(120_000);
    const lines = (result: RunResult) => readFileSync(result.log!, 'utf8');
    const images = await run({ host: 'vesper', mode: 'images' });
    assert.equal(images.status, 'ok', images.message);
    assert.equal(images.commands[0].args.at(-1), '.#nixosConfigurations.vesper.config.system.build.diskoImagesScript');
    assert.match(lines(images), /^\+ mkfs\.btrfs \/dev\/mapper\/crypted -f$/m);
    assert.match(lines(images), /^Create a readonly snapshot of '\/tmp\/btrfs-top\/root' in '\/tmp\/btrfs-top\/root-blank'$/m);
    const standalone = await run({ host: 'vesper', mode: 'standalone' });
    assert.equal(standalone.status, 'ok', standalone.message);
    assert.deepEqual(standalone.commands[0].args.slice(-3), ['--arg', 'zfs', 'false']);
    assert.equal((await run({ host: 'vesper', mode: 'vm' })).status, 'ok');
    const proved = await run({ host: 'vesper', mode: 'prove' });
    assert.equal(proved.status, 'ok', proved.message);
    assert.equal(proved.message, 'Ephemeral root proved: / erased after a reboot; /boot, /etc/ssh, /nix, /persist, /var/lib/nixos, /var/log kept. Skipped (not a directory on the booted host): /etc/machine-id.');
    assert.match(lines(proved), /rollback-root\[171\]: Delete subvolume 'root'/);
    await toastSaying('proved-btrfs', 'Ephemeral root proved');

    const tmpfsImages = await run({ host: 'tmpfs-root', mode: 'images' });
    assert.equal(tmpfsImages.status, 'ok', tmpfsImages.message);
    assert.deepEqual(tmpfsImages.commands[0].args.slice(-5), ['<nixpkgs/nixos>', '--argstr', 'configuration', file('tmpfs-root', 'configuration.nix'), 'config.system.build.diskoImagesScript']);
    assert.match(lines(tmpfsImages), /^\+ mount -t tmpfs none \/mnt -o defaults,size=25%,mode=755$/m);
    assert.equal((await run({ host: 'tmpfs-root', mode: 'standalone' })).status, 'ok');
    assert.equal((await run({ host: 'tmpfs-root', mode: 'vm' })).status, 'ok');
    const tmpfsProved = await run({ host: 'tmpfs-root', mode: 'prove' });
    assert.equal(tmpfsProved.status, 'ok', tmpfsProved.message);
    assert.match(tmpfsProved.message, /^Ephemeral root proved: \/ erased after a reboot; /);
    assertStandInHappy();
  });

  test('refuses a work folder outside the workspace: its files stay', async () => {
    const outside = path.join(process.env.EPHEMERAL_ROOT_DISKO_VM_WORK ?? path.dirname(root()), 'outside-work');
    mkdirSync(outside, { recursive: true });
    writeFileSync(path.join(outside, 'keep.raw'), 'the user\'s\n');
    try {
      await setVm('workFolder', outside);
      const result = await run({ host: 'seed', mode: 'images' });
      assert.equal(result.status, 'refused');
      assert.match(result.message, /outside the workspace folder/);
      assert.equal(readFileSync(path.join(outside, 'keep.raw'), 'utf8'), 'the user\'s\n');
    } finally {
      await setVm('workFolder', work);
    }
  });

  test('refuses /dev targets: a work folder under /dev, a /dev argument', async () => {
    const builds = () => invocations().filter((call) => call.mode !== 'flakes-probe').length;
    const before = builds();
    try {
      await setVm('workFolder', '/dev/sda');
      const device = await run({ host: 'seed', mode: 'images' });
      assert.equal(device.status, 'refused');
      assert.match(device.message, /^Refused: the work folder .*\/dev/);
      await setVm('workFolder', work);
      await setVm('nixArgs', ['--store', '/dev/sdb']);
      const argument = await run({ host: 'seed', mode: 'images' });
      assert.equal(argument.status, 'refused');
      assert.match(argument.message, /^Refused: ephemeralRoot\.vm\.nixArgs: \/dev\/sdb resolves to \/dev\/sdb, under \/dev/);
    } finally {
      await setVm('workFolder', work);
      await setVm('nixArgs', []);
    }
    assert.equal(builds(), before, 'nothing was built or formatted');
  });

  test('preconditions: flakes off, and no nix on PATH', async () => {
    process.env.EPHEMERAL_ROOT_STANDIN_FLAKES = 'off';
    const flakes = await run({ host: 'seed', mode: 'images' });
    assert.equal(flakes.status, 'refused');
    assert.match(flakes.message, /Flakes are not enabled/);
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const none = await run({ host: 'seed', mode: 'images' });
      assert.equal(none.status, 'refused');
      assert.match(none.message, /Nix is not installed or not on PATH/);
    } finally {
      process.env.PATH = saved;
    }
  });
});

suite('Run disko on a VM image (untrusted workspace)', () => {
  suiteSetup(async function () {
    if (MODE !== 'untrusted') this.skip();
    await vscode.extensions.getExtension(EXTENSION_ID)!.activate();
  });

  test('is refused in restricted mode, and runs nothing', async () => {
    assert.equal(vscode.workspace.isTrusted, false, 'the harness opened the folder untrusted');
    const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
    process.env.PATH = `${path.join(extension.extensionPath, 'test', 'stand-ins')}${path.delimiter}${process.env.PATH ?? ''}`;
    const result = await run({ host: 'seed', mode: 'images' });
    assert.equal(result.status, 'refused');
    assert.match(result.message, /needs a trusted workspace/);
    assert.deepEqual(invocations(), [], 'the stand-in nix was never called');
    await toastSaying('untrusted', 'needs a trusted workspace');
  });

  test('ignores the workspace\'s own values of the restricted settings (capabilities.untrustedWorkspaces.restrictedConfigurations)', () => {
    const settings = JSON.parse(readFileSync(file('.vscode', 'settings.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(settings['ephemeralRoot.vm.nixArgs'], ['--store', '/tmp/from-the-workspace'], 'the workspace sets it');
    assert.deepEqual(vscode.workspace.getConfiguration('ephemeralRoot').get('vm.nixArgs'), [], 'restricted mode ignores it');
    assert.equal(vscode.workspace.getConfiguration('ephemeralRoot').get('vm.memory'), 2048);
  });
});
