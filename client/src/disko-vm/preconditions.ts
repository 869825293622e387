/**
 * What must hold before the command builds anything, with a message that says what to do. Nothing runs before the
 * user has confirmed, so the checks come in two parts:
 *
 * Before the confirmation (no process is started):
 * 1. a trusted workspace (the command builds and runs Nix code from it) — else refused;
 * 2. a `nix` executable outside the workspace (nix-executable.ts: the setting ephemeralRoot.vm.nixExecutable, or
 *    PATH without empty, relative and workspace entries) — else refused;
 * 3. `/dev/kvm` — without it QEMU emulates the CPU: a warning (the run may go on, slowly).
 * After the confirmation, as the first process of the run:
 * 4. the nix-command feature, and flakes for a flake host (`nix eval --json --expr 'builtins ? getFlake'`:
 *    `builtins.getFlake` exists exactly when flakes are on), run by the absolute path found in 2 — else refused.
 * The environment is injected, so tests can play every case.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { flakesProbeArgs } from './args';
import { resolveNixExecutable, safePathVariable } from './nix-executable';

export interface PreconditionEnv {
  isTrusted: boolean;
  /** The PATH `nix` is looked up in (the extension host's). */
  pathVariable: string;
  /** Runs an executable (an absolute path) with a PATH without workspace entries. */
  run(command: string, args: string[], options: { cwd: string; workspaceFolders: string[] }): Promise<{ code: number | null; stdout: string; stderr: string }>;
  exists(file: string): boolean;
}

export interface PreconditionResult {
  /** Why the run is refused. */
  error?: string;
  warnings: string[];
  /** The absolute path of the `nix` to run. */
  nix?: string;
  /** PATH candidates passed over while looking for `nix` (for the output channel). */
  skipped?: string[];
}

export const TRUST_MESSAGE =
  'Running disko on a VM image builds and runs Nix code from this workspace, so it needs a trusted workspace. Trust the workspace (Manage Workspace Trust) and run the command again.';

export const KVM_WARNING =
  'There is no /dev/kvm: QEMU will emulate the CPU, and the image builder and VM test run 10 to 50 times slower (tens of minutes). Enable KVM (kvm-intel/kvm-amd, access to /dev/kvm) for normal speed.';

const FEATURE_FIX =
  '`nix.settings.experimental-features = [ "nix-command" "flakes" ];` on NixOS, `experimental-features = nix-command flakes` in ~/.config/nix/nix.conf elsewhere, or add `--extra-experimental-features` `nix-command flakes` to the setting ephemeralRoot.vm.nixArgs (user settings).';

/** The checks that start no process: trust, the `nix` to run, /dev/kvm. */
export function checkPreconditions(env: PreconditionEnv, options: { workspaceFolders: string[]; configuredNix?: string }): PreconditionResult {
  const warnings: string[] = [];
  if (!env.isTrusted) return { error: TRUST_MESSAGE, warnings };
  const found = resolveNixExecutable({ pathVariable: env.pathVariable, workspaceFolders: options.workspaceFolders, configured: options.configuredNix });
  if (!found.nix) return { error: found.error, warnings, skipped: found.skipped };
  if (!env.exists('/dev/kvm')) warnings.push(KVM_WARNING);
  return { warnings, nix: found.nix, skipped: found.skipped };
}

/** The feature probe, run after the confirmation by the absolute `nix`: undefined when the run may go on, else why not. */
export async function checkNixFeatures(env: PreconditionEnv, nix: string, options: { needsFlakes: boolean; nixArgs: string[]; cwd: string; workspaceFolders: string[] }): Promise<string | undefined> {
  const args = flakesProbeArgs(options.nixArgs);
  const probe = await env.run(nix, args, { cwd: options.cwd, workspaceFolders: options.workspaceFolders });
  if (probe.code !== 0) {
    if (/nix-command/.test(probe.stderr) && /disabled|experimental/.test(probe.stderr)) return `The nix-command feature of Nix is not enabled. Enable it with flakes: ${FEATURE_FIX}`;
    return `\`${nix} ${args.join(' ')}\` failed (exit ${probe.code}): ${probe.stderr.trim().split('\n').pop() ?? ''}`;
  }
  if (options.needsFlakes && probe.stdout.trim() !== 'true') return `Flakes are not enabled in Nix, and this host is a flake. Enable them: ${FEATURE_FIX}`;
  return undefined;
}

/** The real environment (the trust state comes from VS Code). */
export function processEnv(isTrusted: boolean, pathVariable = process.env.PATH ?? ''): PreconditionEnv {
  return {
    isTrusted,
    pathVariable,
    run(command, args, options) {
      return new Promise((resolve) => {
        const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, PATH: safePathVariable(pathVariable, options.workspaceFolders) }, stdio: ['ignore', 'pipe', 'pipe'], shell: false });
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
