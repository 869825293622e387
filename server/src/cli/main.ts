/**
 * `ephemeral-root`: the analysis engine on the command line, for people and CI pipelines (DESIGN.md, "CLI contract").
 *
 *   ephemeral-root check [PATH ...] [--format text|json|sarif] [--host NAME] [--release 24.11] [--explain] [--strict] [--eval]
 *
 * Exit code 0: no error-severity finding; 1: some; 2: bad usage, unreadable input, or an internal error in a rule (one
 * line on stderr each; the findings of the other rules are still printed).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Workspace } from '../model/workspace';
import { type AnalysisResult, analyze } from '../rules/engine';
import { initSyntax } from '../syntax/parser';
import { isMainThread } from 'node:worker_threads';
import { type Report, reportOf, toJson, toSarif, toText } from './report';
import { analyseInParts } from './shard';
import { analyzeWithEvaluation } from './evaluate';

const VERSION = '0.1.0';

const USAGE = `Usage: ephemeral-root check [PATH ...] [--format text|json|sarif] [--host NAME] [--release YY.MM] [--explain] [--strict] [--eval]

Cross-checks NixOS ephemeral-root setups on ZFS: disko datasets against fileSystems, neededForBoot and the
initrd rollback unit. PATH is a file or a folder (default: the current folder).

  --format text|json|sarif  output format (default text)
  --host NAME               only the host NAME
  --release YY.MM           nixpkgs release to assume when no flake.lock tells it
  --explain                 also list what could not be decided statically
  --strict                  exit 2 when there is nothing to check (no Nix files, no host)
  --eval                    ask nix for the values the static reading cannot know (cached)
  --help, --version

A PATH inside a flake (or a repository whose root holds a flake.nix or configuration.nix) is analysed from that
root, so that its hosts are complete; only the findings under PATH are reported.`;

class UsageError extends Error {}

interface Options {
  paths: string[];
  format: 'text' | 'json' | 'sarif';
  host?: string;
  release?: string;
  explain: boolean;
  strict: boolean;
  /** `--eval`: the evaluation-backed mode (cli/evaluate.ts). */
  evaluate?: boolean;
}

function parseArguments(argv: string[]): Options | 'help' | 'version' {
  const options: Options = { paths: [], format: 'text', explain: false, strict: false };
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
      case '--strict':
        options.strict = true;
        break;
      case '--eval':
        options.evaluate = true;
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

/**
 * The root a path must be analysed from for its hosts to be complete, when that is a folder above it: the nearest
 * folder above that holds a `flake.nix` that builds NixOS hosts (the path is part of that flake), or the repository
 * root (`.git`) when it holds a `configuration.nix`. Climbing stops at the repository root. Undefined when the path's
 * own folder is the root (it holds a `flake.nix` or `.git`) or nothing above holds the host, so that a folder of
 * examples in a repository is still analysed on its own.
 */
function enclosingHostRoot(target: string): string | undefined {
  const start = statSync(target).isDirectory() ? target : path.dirname(target);
  const has = (folder: string, name: string) => existsSync(path.join(folder, name));
  if (has(start, 'flake.nix') || has(start, '.git')) return undefined;
  for (let folder = path.dirname(start); ; folder = path.dirname(folder)) {
    if (has(folder, 'flake.nix') && definesHosts(path.join(folder, 'flake.nix'))) return folder;
    if (has(folder, '.git')) return has(folder, 'configuration.nix') ? folder : undefined;
    if (path.dirname(folder) === folder) return undefined;
  }
}

/**
 * Whether a flake above the path builds NixOS hosts at all: a flake that only packages a tool (this repository's
 * own, for one) has nothing the path could be part of, and analysing from there would read the whole repository.
 */
function definesHosts(flakeFile: string): boolean {
  try {
    if (statSync(flakeFile).size > 1024 * 1024) return true;
    return /nixosConfigurations|nixosSystem/.test(readFileSync(flakeFile, 'utf8'));
  } catch {
    return false;
  }
}

/** Whether `file` is `scope` itself or lies under the folder `scope`. */
function isUnder(file: string, scope: string): boolean {
  return file === scope || file.startsWith(`${scope}${path.sep}`);
}

/** The analysis narrowed to the files under `scopes`: hosts that read one of them, and the findings and notes there. */
function narrowTo(result: AnalysisResult, scopes: string[]): AnalysisResult {
  const inScope = (file: string | undefined) => file !== undefined && scopes.some((scope) => isUnder(file, scope));
  return {
    hosts: result.hosts.filter((host) => host.files.some(inScope)),
    files: result.files.filter(inScope),
    findings: result.findings.filter((finding) => inScope(finding.origin.file)),
    unknowns: result.unknowns.filter((unknown) => inScope(unknown.note.origin?.file)),
    faults: result.faults,
  };
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
  // One run reads each file once: the disk is taken as it was when a file was first read (no stat per import).
  workspace.watched = true;
  // A path inside a flake is analysed from the flake's root: analysed alone, a host folder loses what the flake
  // adds (its other modules, the disko layout imported beside it), and its findings would be silently incomplete.
  const roots = paths.map((item) => enclosingHostRoot(item));
  const scopes = paths.map((item, index) => roots[index] ?? item);
  for (const [index, root] of roots.entries()) {
    if (root === undefined) continue;
    const kind = existsSync(path.join(root, 'flake.nix')) ? 'flake' : 'repository';
    process.stderr.write(`ephemeral-root: '${options.paths[index]}' is inside the ${kind} at '${path.relative(cwd, root) || '.'}': analysed from there, reporting only findings under '${options.paths[index]}'\n`);
  }
  // The analysis reads only inside the project of each path given (confinement.ts).
  const allowed = scopes.map((item) => projectRoot(item, cwd));
  for (const root of allowed) workspace.policy.allow(root);
  // A single folder that splits into parts that cannot see each other is analysed part by part (shard.ts); the
  // report is the one the whole analysis makes, with each part's models dropped once it is rendered.
  let result: Report | undefined;
  let evaluationFaults: string[] = [];
  if (!options.evaluate && scopes.length === 1 && roots[0] === undefined && statSync(scopes[0]).isDirectory()) {
    result = await analyseInParts(workspace, scopes[0], { host: options.host, release: options.release, allow: allowed });
  }
  if (!result) {
    const analysisOptions = { host: options.host, release: options.release };
    let analysed;
    if (options.evaluate) ({ result: analysed, faults: evaluationFaults } = await analyzeWithEvaluation(workspace, [...new Set(scopes)], analysisOptions, allowed));
    else analysed = analyze(workspace, [...new Set(scopes)], analysisOptions);
    result = reportOf(roots.some((root) => root !== undefined) ? narrowTo(analysed, paths) : analysed, workspace);
  }
  if (options.host && result.hosts.length === 0) {
    process.stderr.write(`ephemeral-root: no host named '${options.host}' under ${options.paths.join(', ')}\n`);
    return 2;
  }

  let output: string;
  if (options.format === 'json') output = `${JSON.stringify(toJson(result, cwd), null, 2)}\n`;
  else if (options.format === 'sarif') output = `${JSON.stringify(toSarif(result, cwd, VERSION), null, 2)}\n`;
  else output = toText(result, cwd, options.explain);
  await new Promise<void>((resolve) => process.stdout.write(output, () => resolve()));
  // Nothing to check is said, never passed off as a clean result.
  const where = options.paths.map((item) => `'${item}'`).join(', ');
  let nothingChecked = false;
  if (result.files.length === 0) {
    process.stderr.write(`ephemeral-root: no Nix files under ${where}: nothing was checked\n`);
    nothingChecked = true;
  } else if (result.hosts.length === 0) {
    process.stderr.write(`ephemeral-root: no host found under ${where} (no flake nixosConfigurations, configuration.nix or disko layout): only the files' syntax was checked\n`);
    nothingChecked = true;
  }
  // A rule that failed may have hidden an error: the run is not a pass, whatever the other rules found (exit 2).
  for (const fault of result.faults) process.stderr.write(`ephemeral-root: internal error in rule ${fault.code} on host ${fault.host}: ${fault.error.split('\n')[0]}\n`);
  // A fault of the evaluated path (no nix, a timeout, output we cannot read) is no pass either.
  for (const fault of evaluationFaults) process.stderr.write(`ephemeral-root: ${fault}\n`);
  if (result.faults.length > 0 || evaluationFaults.length > 0) return 2;
  if (nothingChecked && options.strict) return 2;
  return result.findings.some((finding) => finding.severity === 'error') ? 1 : 0;
}

// A batch worker thread (shard.ts) loads this same file: it runs the batches it is sent, not the command line.
if (require.main === module && isMainThread) {
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
