/**
 * What must hold before anything runs, checked in this order, each with a message that says what to do:
 * 1. a trusted workspace (the command builds and runs Nix code from it) — else refused;
 * 2. `nix` on PATH — else refused;
 * 3. the nix-command feature, and flakes for a flake host (`nix eval --json --expr 'builtins ? getFlake'`:
 *    `builtins.getFlake` exists exactly when flakes are on) — else refused;
 * 4. `/dev/kvm` — without it QEMU emulates the CPU: a warning (the run may go on, slowly).
 * The environment is injected, so tests can play every case.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { flakesProbeArgs } from './args';

export interface PreconditionEnv {
  isTrusted: boolean;
  /** The full path of an executable found on PATH. */
  which(name: string): string | undefined;
  run(command: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  exists(file: string): boolean;
}

export interface PreconditionResult {
  /** Why the run is refused. */
  error?: string;
  warnings: string[];
  nix?: string;
}

export const TRUST_MESSAGE =
  'Running disko on a VM image builds and runs Nix code from this workspace, so it needs a trusted workspace. Trust the workspace (Manage Workspace Trust) and run the command again.';

export const KVM_WARNING =
  'There is no /dev/kvm: QEMU will emulate the CPU, and the image builder and VM test run 10 to 50 times slower (tens of minutes). Enable KVM (kvm-intel/kvm-amd, access to /dev/kvm) for normal speed.';

export async function checkPreconditions(env: PreconditionEnv, options: { needsFlakes: boolean; nixArgs: string[] }): Promise<PreconditionResult> {
  const warnings: string[] = [];
  if (!env.isTrusted) return { error: TRUST_MESSAGE, warnings };
  const nix = env.which('nix');
  if (!nix) {
    return { error: 'Nix is not installed or not on PATH (no `nix` executable found). Install Nix (https://nixos.org/download) and restart VS Code so that it sees the new PATH.', warnings };
  }
  const probe = await env.run('nix', flakesProbeArgs(options.nixArgs));
  if (probe.code !== 0) {
    if (/nix-command/.test(probe.stderr) && /disabled|experimental/.test(probe.stderr)) {
      return {
        error:
          'The nix-command feature of Nix is not enabled. Enable it with flakes: `nix.settings.experimental-features = [ "nix-command" "flakes" ];` on NixOS, `experimental-features = nix-command flakes` in ~/.config/nix/nix.conf elsewhere, or add `--extra-experimental-features` `nix-command flakes` to the setting ephemeralRoot.vm.nixArgs.',
        warnings,
        nix,
      };
    }
    return { error: `\`nix ${flakesProbeArgs(options.nixArgs).join(' ')}\` failed (exit ${probe.code}): ${probe.stderr.trim().split('\n').pop() ?? ''}`, warnings, nix };
  }
  if (options.needsFlakes && probe.stdout.trim() !== 'true') {
    return {
      error:
        'Flakes are not enabled in Nix, and this host is a flake. Enable them: `nix.settings.experimental-features = [ "nix-command" "flakes" ];` on NixOS, `experimental-features = nix-command flakes` in ~/.config/nix/nix.conf elsewhere, or add `--extra-experimental-features` `nix-command flakes` to the setting ephemeralRoot.vm.nixArgs.',
      warnings,
      nix,
    };
  }
  if (!env.exists('/dev/kvm')) warnings.push(KVM_WARNING);
  return { warnings, nix };
}

/** The real environment (the trust state comes from VS Code). */
export function processEnv(isTrusted: boolean, pathVariable = process.env.PATH ?? ''): PreconditionEnv {
  return {
    isTrusted,
    which(name) {
      for (const dir of pathVariable.split(path.delimiter)) {
        if (!dir) continue;
        const candidate = path.join(dir, name);
        try {
          accessSync(candidate, constants.X_OK);
          return candidate;
        } catch {
          // next
        }
      }
      return undefined;
    },
    run(command, args) {
      return new Promise((resolve) => {
        const child = spawn(command, args, { env: { ...process.env, PATH: pathVariable }, stdio: ['ignore', 'pipe', 'pipe'], shell: false });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.on('error', (error) => {
          clearTimeout(timer);
          resolve({ code: null, stdout, stderr: `${stderr}${error.message}` });
        });
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      });
    },
    exists: existsSync,
  };
}
