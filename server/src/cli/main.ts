/**
 * `ephemeral-root`: the analysis engine on the command line, for people and CI pipelines (DESIGN.md, "CLI contract").
 *
 *   ephemeral-root check [PATH ...] [--format text|json|sarif] [--host NAME] [--release 24.11] [--explain]
 *
 * Exit code 0: no error-severity finding; 1: some; 2: bad usage, unreadable input, or an internal error in a rule (one
 * line on stderr each; the findings of the other rules are still printed).
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { Workspace } from '../model/workspace';
import { analyze } from '../rules/engine';
import { initSyntax } from '../syntax/parser';
import { toJson, toSarif, toText } from './report';

const VERSION = '0.1.0';

const USAGE = `Usage: ephemeral-root check [PATH ...] [--format text|json|sarif] [--host NAME] [--release YY.MM] [--explain]

Cross-checks NixOS ephemeral-root setups on ZFS: disko datasets against fileSystems, neededForBoot and the
initrd rollback unit. PATH is a file or a folder (default: the current folder).

  --format text|json|sarif  output format (default text)
  --host NAME               only the host NAME
  --release YY.MM           nixpkgs release to assume when no flake.lock tells it
  --explain                 also list what could not be decided statically
  --help, --version`;

class UsageError extends Error {}

interface Options {
  paths: string[];
  format: 'text' | 'json' | 'sarif';
  host?: string;
  release?: string;
  explain: boolean;
}

function parseArguments(argv: string[]): Options | 'help' | 'version' {
  const options: Options = { paths: [], format: 'text', explain: false };
  const args = [...argv];
  const command = args.shift();
  if (command === '--help' || command === '-h' || command === 'help') return 'help';
  if (command === '--version' || command === '-V') return 'version';
  if (command !== 'check') throw new UsageError(command ? `unknown command '${command}' (try: ephemeral-root check)` : 'missing command (try: ephemeral-root check .)');
  while (args.length > 0) {
    const arg = args.shift()!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const next = inline ?? args.shift();
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--format': {
        const format = value();
        if (format !== 'text' && format !== 'json' && format !== 'sarif') throw new UsageError(`unknown format '${format}' (text, json or sarif)`);
        options.format = format;
        break;
      }
      case '--host':
        options.host = value();
        break;
      case '--release': {
        const release = value();
        if (!/^\d{2}\.(05|11)$/.test(release)) throw new UsageError(`--release takes a NixOS release such as 24.11, not '${release}'`);
        options.release = release;
        break;
      }
      case '--explain':
        options.explain = true;
        break;
      case '--help':
      case '-h':
        return 'help';
      default:
        if (flag.startsWith('-')) throw new UsageError(`unknown option '${flag}'`);
        options.paths.push(arg);
    }
  }
  if (options.paths.length === 0) options.paths.push('.');
  return options;
}

/**
 * The folder whose files a path given on the command line may read: the path itself when it is a folder holding a
 * `flake.nix` or `.git` (or the folder around a file), else the nearest folder above it that holds one, climbing no
 * higher than the current folder, so that a path inside a repository reads that repository and nothing around it.
 */
function projectRoot(target: string, cwd: string): string {
  const start = statSync(target).isDirectory() ? target : path.dirname(target);
  const isProject = (folder: string) => existsSync(path.join(folder, 'flake.nix')) || existsSync(path.join(folder, '.git'));
  const top = path.resolve(cwd);
  for (let folder = start; folder === top || folder.startsWith(`${top}${path.sep}`); folder = path.dirname(folder)) {
    if (isProject(folder)) return folder;
    if (folder === top) break;
  }
  return start;
}

export async function main(argv: string[], cwd = process.cwd()): Promise<number> {
  let options: ReturnType<typeof parseArguments>;
  try {
    options = parseArguments(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`ephemeral-root: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (options === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const paths = options.paths.map((item) => path.resolve(cwd, item));
  for (const [index, item] of paths.entries()) {
    if (!existsSync(item)) {
      process.stderr.write(`ephemeral-root: cannot read '${options.paths[index]}': no such file or directory\n`);
      return 2;
    }
  }
  await initSyntax();
  const workspace = new Workspace();
  // The analysis reads only inside the project of each path given (confinement.ts).
  for (const item of paths) workspace.policy.allow(projectRoot(item, cwd));
  const result = analyze(workspace, paths, { host: options.host, release: options.release });
  if (options.host && result.hosts.length === 0) {
    process.stderr.write(`ephemeral-root: no host named '${options.host}' under ${options.paths.join(', ')}\n`);
    return 2;
  }

  let output: string;
  if (options.format === 'json') output = `${JSON.stringify(toJson(result, workspace, cwd), null, 2)}\n`;
  else if (options.format === 'sarif') output = `${JSON.stringify(toSarif(result, workspace, cwd, VERSION), null, 2)}\n`;
  else output = toText(result, workspace, cwd, options.explain);
  await new Promise<void>((resolve) => process.stdout.write(output, () => resolve()));
  // A rule that failed may have hidden an error: the run is not a pass, whatever the other rules found (exit 2).
  for (const fault of result.faults) process.stderr.write(`ephemeral-root: internal error in rule ${fault.code} on host ${fault.host}: ${fault.error.split('\n')[0]}\n`);
  if (result.faults.length > 0) return 2;
  return result.findings.some((finding) => finding.severity === 'error') ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`ephemeral-root: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 2;
    },
  );
}
