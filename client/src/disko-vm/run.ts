/**
 * One run of "Run disko on a VM image", from the preconditions to the verdict, without VS Code: the editor side
 * passes a `RunUi` (progress, output, dialogs) and a cancellation token. Order:
 *
 *  1. preconditions that start no process (trust, the absolute `nix` outside the workspace, /dev/kvm) — refused
 *     or warned;
 *  2. the work folder (inside the workspace or the extension's storage, ours or new: work-folder.ts) and the plan
 *     (argument arrays, generated files) — every argument checked (safety.ts); nothing is written yet;
 *  3. the confirmation, which names the `nix` to run and every file of the previous run it deletes;
 *  4. only now processes: the nix-command/flakes probe, then the work folder is claimed (the previous run's
 *     recorded files deleted, this run's recorded), then the steps, each a process group; output streamed to the UI
 *     and to `<work>/run.log`, Nix errors collected as diagnostics, the VM test's probe lines read;
 *  5. the images checked with qemu-img, or the verdict; what appeared in the work folder is recorded.
 */
import { createWriteStream, mkdirSync, readFileSync, realpathSync, type WriteStream, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WORK_FILES, planRun, type Plan } from './args';
import { diagnosticFromMessage, parseNixLine } from './internal-json';
import { safePathVariable } from './nix-executable';
import { checkNixFeatures, checkPreconditions, type PreconditionEnv } from './preconditions';
import { type StepProcess, startStep } from './process';
import { SafetyError, checkImageNames, checkImages, checkStep, checkWorkFolder, deviceReason } from './safety';
import type { NixDiagnostic, RunResult, VmMode, VmSettings, VmTarget } from './types';
import { VerdictReader } from './verdict';
import { type WorkFolderRecord, type WorkFolderRegistry, type WorkFolderState, checkWorkFolderPlace, claimWorkFolder, describeRemovals, entriesOf, inspectWorkFolder, recordNewEntries } from './work-folder';

export interface CancelToken {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => unknown): { dispose(): unknown };
}

export interface RunUi {
  /** A new progress stage. */
  stage(name: string, increment?: number): void;
  /** Detail under the current stage (the latest Nix activity). */
  detail?(text: string): void;
  /** A line for the output channel. */
  line(text: string): void;
  /** Asks before anything runs (the detail names the `nix` and the files it deletes); false = cancelled. */
  confirm(message: string, detail: string, shownFiles: string[]): Promise<boolean>;
  /** A warning the user may accept (continue) or not. */
  warn(message: string): Promise<boolean>;
}

export interface RunRequest {
  mode: VmMode;
  target: VmTarget;
  settings: VmSettings;
  extensionRoot: string;
  environment: PreconditionEnv;
  /** The workspace folders: `nix` is never taken from them, and the work folder must lie in one (or in `storageFolders`). */
  workspaceFolders: string[];
  /** The extension's own storage folders, where the work folder may also lie. */
  storageFolders?: string[];
  /** Where the tokens of the work folders this extension created are kept (outside the workspace). */
  registry: WorkFolderRegistry;
  /** Skip the confirmation and accept warnings (automation and tests). */
  assumeYes?: boolean;
  nonce?: string;
  /** Environment of the processes (default: this process's). */
  processEnv?: NodeJS.ProcessEnv;
  qemuImg?: string;
}

function emptyResult(request: RunRequest, status: RunResult['status'], message: string, stages: string[], warnings: string[] = []): RunResult {
  return { status, mode: request.mode, message, stages, warnings, images: [], diagnostics: [], nixFiles: [], commands: [] };
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function humanSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}

/** A command line to show (and copy into a shell): arguments quoted where a shell would split or expand them. */
export function shellLine(argv: string[]): string {
  return argv.map((arg) => (/^[\w@%+=:,./#-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export async function runDiskoVm(request: RunRequest, ui: RunUi, token: CancelToken): Promise<RunResult> {
  const stages: string[] = [];
  const stage = (name: string, increment?: number) => {
    stages.push(name);
    ui.stage(name, increment);
  };

  // 1. Preconditions that start no process.
  stage('Checking preconditions');
  const needsFlakes = request.mode !== 'standalone' && request.target.kind === 'host' && request.target.host.kind === 'flake';
  // The user's nix arguments reach the feature probe too: check them before anything runs.
  if (request.environment.isTrusted) {
    for (const argument of request.settings.nixArgs) {
      const reason = deviceReason(argument, process.cwd());
      if (reason) {
        const message = `Refused: ephemeralRoot.vm.nixArgs: ${reason}. This command only ever formats image files in its work folder.`;
        ui.line(message);
        return emptyResult(request, 'refused', message, stages);
      }
    }
  }
  const pre = checkPreconditions(request.environment, { workspaceFolders: request.workspaceFolders, configuredNix: request.settings.nixExecutable });
  if (pre.error || !pre.nix) {
    const error = pre.error ?? 'No nix executable was found.';
    ui.line(`Refused: ${error}`);
    return emptyResult(request, 'refused', error, stages, pre.warnings);
  }
  const nix = pre.nix;
  for (const skipped of pre.skipped ?? []) ui.line(`Looking for nix: ${skipped}.`);
  for (const warning of pre.warnings) {
    ui.line(`Warning: ${warning}`);
    if (!request.assumeYes && !(await ui.warn(warning))) return emptyResult(request, 'cancelled', 'Cancelled after the warning.', stages, pre.warnings);
  }

  // 2. Work folder, plan, safety: read only, nothing is written yet.
  let plan: Plan;
  let work: string;
  let folderState: WorkFolderState;
  try {
    work = checkWorkFolder(request.settings.workFolder);
    work = checkWorkFolderPlace(work, [...request.workspaceFolders, ...(request.storageFolders ?? [])]);
    const settings: VmSettings = { ...request.settings, workFolder: work };
    plan = planRun({ mode: request.mode, target: request.target, settings, extensionRoot: request.extensionRoot, nix, nonce: request.nonce ?? `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}` });
    checkImageNames(plan.expectedImages.map((name) => name.slice(0, name.lastIndexOf('.'))));
    for (const step of plan.steps) checkStep(step);
    folderState = inspectWorkFolder(work, request.registry, plan.creates, plan.unknownImages);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    ui.line(message);
    return emptyResult(request, error instanceof SafetyError ? 'refused' : 'failed', message, stages, pre.warnings);
  }

  // 3. Confirmation: what runs (the nix found), where, and what of the previous run is deleted.
  const detail = `${plan.confirm.detail}\n\n${describeRemovals(folderState)}\n\nNix: ${nix}`;
  if (!request.assumeYes && !(await ui.confirm(plan.confirm.message, detail, plan.shownFiles))) {
    return { ...emptyResult(request, 'cancelled', 'Not confirmed.', stages, pre.warnings), workFolder: work };
  }

  // 4. The first process: the feature probe, by the absolute path, before anything in the work folder changes.
  const featureProblem = await checkNixFeatures(request.environment, nix, { needsFlakes, nixArgs: request.settings.nixArgs, cwd: '/', workspaceFolders: request.workspaceFolders });
  if (featureProblem) {
    ui.line(`Refused: ${featureProblem}`);
    return emptyResult(request, 'refused', featureProblem, stages, pre.warnings);
  }
  let record: WorkFolderRecord;
  try {
    record = await claimWorkFolder(folderState, request.registry, plan.creates);
    if (plan.creates.some((entry) => entry.name === WORK_FILES.vmTmp)) mkdirSync(path.join(work, WORK_FILES.vmTmp), { recursive: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    ui.line(message);
    return emptyResult(request, error instanceof SafetyError ? 'refused' : 'failed', message, stages, pre.warnings);
  }
  // What is in the folder now is the user's or recorded: what appears from here on, the run's processes made.
  const before = entriesOf(work);
  const logFile = path.join(work, WORK_FILES.log);
  const log: WriteStream = createWriteStream(logFile, { flags: 'w' });
  const writeLog = (text: string) => log.write(`${text}\n`);
  const result: RunResult = {
    ...emptyResult(request, 'ok', '', stages, pre.warnings),
    workFolder: work,
    log: logFile,
    nixFiles: [...plan.shownFiles, ...plan.files.map((file) => file.path)],
  };
  const say = (text: string) => {
    ui.line(text);
    writeLog(text);
  };
  say(`${plan.title} — work folder ${work}`);
  for (const warning of pre.warnings) writeLog(`Warning: ${warning}`);
  for (const file of plan.files) {
    writeFileSync(file.path, file.text);
    say(`Wrote ${file.path}`);
  }
  for (const file of plan.shownFiles) say(`Using ${file}`);

  const verdict = new VerdictReader();
  const diagnostics = new Map<string, NixDiagnostic>();
  const errors: string[] = [];
  let running: StepProcess | undefined;
  let cancelled = token.isCancellationRequested;
  const subscription = token.onCancellationRequested(() => {
    cancelled = true;
    void running?.kill();
  });
  try {
    const increment = 100 / (plan.steps.length + 1);
    for (const step of plan.steps) {
      if (cancelled) break;
      stage(step.stage, increment);
      if (step.formatsImages) {
        // The executable is the out-link the build step left in the work folder: check it again, resolved.
        const real = realpathSync(step.command);
        checkStep({ ...step, command: real });
      }
      result.commands.push({ command: step.command, args: step.args, cwd: step.cwd });
      const envPrefix = Object.entries(step.env ?? {}).map(([name, value]) => `${name}=${shellLine([value])} `).join('');
      say(`$ ${envPrefix}${shellLine([step.command, ...step.args])}   (in ${step.cwd})`);
      const baseEnv = request.processEnv ?? process.env;
      running = startStep(step.command, step.args, {
        cwd: step.cwd,
        // What Nix and the image script start is not looked up in the workspace either.
        env: { ...baseEnv, PATH: safePathVariable(request.environment.pathVariable, request.workspaceFolders), ...step.env },
        onLine: (raw) => {
          writeLog(raw);
          const event = step.internalJson ? parseNixLine(raw) : { kind: 'plain' as const, text: raw };
          switch (event.kind) {
            case 'plain':
            case 'log':
              ui.line(event.text);
              verdict.read(event.text);
              break;
            case 'activity':
              ui.line(event.text);
              ui.detail?.(event.text);
              break;
            case 'phase':
              ui.detail?.(event.phase);
              break;
            case 'msg': {
              ui.line(event.text);
              if (event.level === 0) errors.push(event.raw.split('\n')[0]);
              const diagnostic = diagnosticFromMessage(event, plan.sourceRoots, readText);
              if (diagnostic) diagnostics.set(`${diagnostic.file}:${diagnostic.range.start.line}:${diagnostic.range.start.character}:${diagnostic.message}`, diagnostic);
              break;
            }
            default:
              break;
          }
        },
      });
      if (cancelled) void running.kill();
      const exit = await running.done;
      running = undefined;
      if (cancelled) break;
      if (exit.error || exit.code !== 0) {
        const why = exit.error ? exit.error.message : exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
        result.status = 'failed';
        result.message = `${step.stage} failed (${why})${errors.length ? `: ${errors[errors.length - 1]}` : ''}`;
        break;
      }
      if (step.formatsImages) {
        stage('Checking the images');
        const checked = checkImages(work, plan.expectedImages, request.settings.imageFormat, request.qemuImg, before);
        result.images = checked.images;
        for (const image of checked.images) say(`Image ${path.basename(image.file)}: ${image.format}, ${humanSize(image.virtualSize)}`);
        if (checked.problems.length > 0) {
          result.status = 'failed';
          result.message = `The images are not as expected: ${checked.problems.join('; ')}`;
          break;
        }
      }
    }
  } finally {
    subscription.dispose();
    recordNewEntries(work, record, before);
  }

  result.diagnostics = [...diagnostics.values()];
  result.verdict = plan.mode === 'prove' ? verdict.verdict() : undefined;
  if (cancelled) {
    result.status = 'cancelled';
    result.message = 'Cancelled: the process group was ended.';
  } else if (result.status === 'ok') {
    if (plan.mode === 'prove') {
      if (!result.verdict) {
        result.status = 'failed';
        result.message = 'The VM test passed but printed no verdict.';
      } else {
        result.status = result.verdict.ok ? 'ok' : 'failed';
        result.message = result.verdict.summary;
      }
    } else if (plan.mode === 'vm') {
      result.message = 'The VM has stopped.';
    } else {
      result.message = `Formatted ${result.images.length} image(s) in ${work}: ${result.images.map((image) => `${path.basename(image.file)} (${image.format}, ${humanSize(image.virtualSize)})`).join(', ')}.`;
    }
  } else if (plan.mode === 'prove' && result.verdict) {
    result.message = result.verdict.summary;
  }
  say(`${result.status.toUpperCase()}: ${result.message}`);
  await new Promise<void>((resolve) => log.end(resolve));
  return result;
}
