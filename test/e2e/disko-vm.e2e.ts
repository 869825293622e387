/**
 * "Run disko on a VM image" in a real VS Code (the harness of test/vscode/README.md), against the stand-in nix:
 *
 * 1. prepares a workspace: copies of examples/seed (flake host `seed`), examples/broken-flake as `tern` (a flake
 *    host with impermanence), `loose/disko.nix` (a disko file alone), examples/btrfs-impermanence as the flake
 *    host `vesper` (a btrfs root) and examples/tmpfs-root as a configuration.nix host (a tmpfs root);
 * 2. runs test/vscode/suite/disko-vm.test.ts with workspace trust off (the folder is trusted) and the launcher's
 *    screenshot/DOM protocol on (progress notification, Problems panel, verdict toast);
 * 3. writes workspace settings for the restricted `ephemeralRoot.vm.*` keys and runs the same file again with
 *    workspace trust on (EPHEMERAL_ROOT_VSCODE_WORKSPACE_TRUST=1): the folder is untrusted, the command refused;
 * 4. checks that the stand-in never got arguments the real CLI would not take, and that no process it started
 *    outlived the runs; keeps the suite's screenshots as docs/images/disko-vm-{progress,error}.png when those are
 *    missing or EPHEMERAL_ROOT_UPDATE_SCREENSHOTS=1.
 * Only this test file runs (a suite folder with just it); each run gets a fresh VS Code profile.
 */
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, runMain, tempWorkspace } from './common';

interface Invocation {
  argv: string[];
  mode: string;
  ok: boolean;
  problem?: string;
}

function invocations(log: string): Invocation[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Invocation);
}

/** pids of processes still running a program of the stand-in store or the stand-in itself. */
function leftovers(marker: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (command.includes(marker)) found.push(`${entry}: ${command.trim()}`);
    } catch {
      // gone
    }
  }
  return found;
}

async function main(): Promise<void> {
  const codeServer = process.env.EPHEMERAL_ROOT_CODE_SERVER_DIR || path.join(REPO_ROOT, '.vscode-test', 'code-server');
  const serverMain = path.join(codeServer, 'node_modules', 'code-server', 'lib', 'vscode', 'out', 'server-main.js');
  if (process.env.EPHEMERAL_ROOT_DESKTOP_VSCODE !== '1' && !existsSync(serverMain)) throw new Error(`the VS Code server is not installed (${serverMain} missing): run scripts/install-code-server.sh`);
  const compiled = path.join(REPO_ROOT, 'out', 'test', 'vscode', 'suite', 'disko-vm.test.js');
  for (const built of ['dist/extension.js', 'dist/server.js', compiled]) {
    if (!existsSync(path.isAbsolute(built) ? built : path.join(REPO_ROOT, built))) throw new Error(`${built} missing: run node scripts/build.mjs && npx tsc -p .`);
  }

  const workspace = tempWorkspace('ephemeral-root-disko-vm-', []);
  try {
    const root = path.join(workspace.root, 'ws');
    mkdirSync(root);
    cpSync(path.join(REPO_ROOT, 'examples', 'seed'), path.join(root, 'seed'), { recursive: true });
    cpSync(path.join(REPO_ROOT, 'examples', 'broken-flake'), path.join(root, 'tern'), { recursive: true });
    mkdirSync(path.join(root, 'loose'));
    cpSync(path.join(REPO_ROOT, 'examples', 'seed', 'disko.nix'), path.join(root, 'loose', 'disko.nix'));
    cpSync(path.join(REPO_ROOT, 'examples', 'btrfs-impermanence'), path.join(root, 'vesper'), { recursive: true });
    writeFileSync(
      path.join(root, 'vesper', 'flake.nix'),
      [
        '{',
        '  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";',
        '  inputs.disko.url = "github:nix-community/disko";',
        '  inputs.impermanence.url = "github:nix-community/impermanence";',
        '  outputs = { nixpkgs, disko, impermanence, ... }: {',
        '    nixosConfigurations.vesper = nixpkgs.lib.nixosSystem {',
        '      system = "x86_64-linux";',
        '      modules = [ disko.nixosModules.disko impermanence.nixosModules.impermanence ./configuration.nix ];',
        '    };',
        '  };',
        '}',
        '',
      ].join('\n'),
    );
    cpSync(path.join(REPO_ROOT, 'examples', 'tmpfs-root'), path.join(root, 'tmpfs-root'), { recursive: true });
    // Only this suite file: a folder holding a link to it (mocha-runner runs every *.test.js of a folder).
    const suite = path.join(workspace.root, 'suite');
    mkdirSync(suite);
    symlinkSync(compiled, path.join(suite, 'disko-vm.test.js'));
    const shots = path.join(workspace.root, 'screenshots');
    mkdirSync(shots);
    const store = path.join(workspace.root, 'stand-in-store');

    const { runVSCodeTests } = require(path.join(REPO_ROOT, 'test', 'vscode', 'runTests.js')) as {
      runVSCodeTests(options: { extensionDevelopmentPath: string; extensionTestsPath: string; workspacePath?: string; launchArgs?: string[]; extensionTestsEnv?: Record<string, string> }): Promise<number>;
    };
    const launch = async (label: string, trusted: boolean, log: string) => {
      const started = Date.now();
      try {
        await runVSCodeTests({
          extensionDevelopmentPath: REPO_ROOT,
          extensionTestsPath: suite,
          workspacePath: root,
          launchArgs: [`--user-data-dir=${path.join(workspace.root, `user-data-${label}`)}`, `--extensions-dir=${path.join(workspace.root, `extensions-${label}`)}`],
          extensionTestsEnv: {
            EPHEMERAL_ROOT_DISKO_VM_E2E: label,
            EPHEMERAL_ROOT_DISKO_VM_WORK: workspace.root,
            EPHEMERAL_ROOT_STANDIN_LOG: log,
            EPHEMERAL_ROOT_STANDIN_STORE: store,
            EPHEMERAL_ROOT_SCREENSHOT_DIR: shots,
            ...(trusted ? {} : { EPHEMERAL_ROOT_VSCODE_WORKSPACE_TRUST: '1' }),
          },
        });
      } catch (error) {
        throw new Error(`the ${label} VS Code run failed (${error instanceof Error ? error.message : String(error)}); see the output above`);
      }
      console.log(`disko-vm: ${label} run passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    };

    const trustedLog = path.join(workspace.root, 'stand-in-trusted.log');
    await launch('trusted', true, trustedLog);
    // The screenshots of docs/disko-vm.md: kept when missing, or refreshed on request.
    for (const name of ['disko-vm-progress', 'disko-vm-error']) {
      const shot = path.join(shots, `${name}.png`);
      const kept = path.join(REPO_ROOT, 'docs', 'images', `${name}.png`);
      assert.ok(existsSync(shot), `the suite took the screenshot ${name}`);
      if (!existsSync(kept) || process.env.EPHEMERAL_ROOT_UPDATE_SCREENSHOTS === '1') {
        mkdirSync(path.dirname(kept), { recursive: true });
        copyFileSync(shot, kept);
      }
    }
    const calls = invocations(trustedLog);
    assert.deepEqual(calls.filter((call) => !call.ok), [], 'the stand-in nix got arguments the real CLI would not take');
    for (const mode of ['flakes-probe', 'images', 'images-qcow2', 'standalone', 'vm', 'prove', 'images-configuration', 'vm-configuration']) assert.ok(calls.some((call) => call.mode === mode), `the trusted run ran ${mode}`);

    // Restricted mode: the workspace's own values of restricted settings must not count.
    mkdirSync(path.join(root, '.vscode'), { recursive: true });
    writeFileSync(path.join(root, '.vscode', 'settings.json'), `${JSON.stringify({ 'ephemeralRoot.vm.nixArgs': ['--store', '/tmp/from-the-workspace'], 'ephemeralRoot.vm.memory': 4096 }, null, 2)}\n`);
    const untrustedLog = path.join(workspace.root, 'stand-in-untrusted.log');
    await launch('untrusted', false, untrustedLog);
    assert.deepEqual(invocations(untrustedLog), [], 'nothing ran in the untrusted workspace');

    const left = leftovers(store);
    assert.deepEqual(left, [], 'a process of the stand-in outlived the runs');
    const standIn = leftovers(path.join(REPO_ROOT, 'test', 'stand-ins', 'nix'));
    assert.deepEqual(standIn, [], 'a stand-in nix outlived the runs');
  } finally {
    if (process.env.EPHEMERAL_ROOT_VSCODE_KEEP_TMP === '1') console.log(`disko-vm: kept ${workspace.root}`);
    else workspace.cleanup();
  }
}

runMain('disko-vm (VS Code)', main);
