/**
 * The evaluation-backed mode in the language server (setting `ephemeralRoot.evaluate`: `off`, `onSave`, `onOpen`).
 *
 * Typing never waits for Nix. The static analysis is published as always; then, in the background, Nix evaluates the
 * hosts whose unknowns matter to a rule and whose files were saved (or, with `onOpen`, opened) since, one `nix eval`
 * at a time, each answered from the cache when nothing it reads changed (server/src/evaluation/cache.ts). When an
 * evaluation ends, the folder is analysed again with Nix's values in the static model's unknowns, and published.
 * Progress goes to the client as `ephemeralRoot/evaluation` notifications (the status bar) and into `fileInfo`.
 *
 * It runs only in a trusted workspace: the VS Code client says whether the workspace is trusted
 * (`initializationOptions.workspaceTrusted`, then `ephemeralRoot/workspaceTrusted` when trust is granted); other
 * editors have no such notion, and setting `ephemeralRoot.evaluate` is their user's explicit choice. A fault (no `nix`,
 * a timeout) is logged and shown in the status bar, never a crash; Nix failing on the user's configuration is an
 * `evaluation-failed` note on the host.
 */
import type { Connection } from 'vscode-languageserver';
import type { HostReuse } from '../rules/engine';
import { type AnalysisResult, analyze, createHostReuse } from '../rules/engine';
import type { Workspace } from '../model/workspace';
import { resolveNixExecutable, safePathVariable } from '../evaluation/nix-executable';
import { EvaluationSession } from '../evaluation/session';
import type { Settings } from './settings';

export const EVALUATION_NOTIFICATION = 'ephemeralRoot/evaluation';
export const WORKSPACE_TRUSTED_NOTIFICATION = 'ephemeralRoot/workspaceTrusted';

/** What the status bar shows about the mode for a file's hosts. */
export interface EvaluationInfo {
  mode: Settings['evaluate'];
  state: 'off' | 'untrusted' | 'idle' | 'running' | 'fault';
  /** The host being evaluated, while running. */
  host?: string;
  /** Hosts whose unknowns are filled from Nix. */
  evaluated: string[];
  /** The last fault, one sentence. */
  fault?: string;
}

interface FolderEvaluation {
  session: EvaluationSession;
  /** The `nix` setting the session was made with: a change makes a new session. */
  toolKey: string;
  reuse: HostReuse;
  /** Files opened, saved or changed on disk since their hosts were last considered, and how. */
  pending: Map<string, 'open' | 'save' | 'disk'>;
  controller?: AbortController;
  running?: string;
  fault?: string;
  /** The last static analysis: findings not in it rest on evaluated values. */
  staticResult?: AnalysisResult;
}

export class EvaluationController {
  /** Whether the workspace is trusted (true unless the client says otherwise). */
  trusted = true;
  private readonly folders = new Map<string, FolderEvaluation>();

  constructor(
    private readonly connection: Connection,
    private readonly workspace: Workspace,
    private readonly folderPaths: () => string[],
    private readonly reschedule: (folder: string) => void,
  ) {}

  private folder(folder: string, settings: Settings): FolderEvaluation {
    const toolKey = settings.nixExecutable;
    let state = this.folders.get(folder);
    if (!state || state.toolKey !== toolKey) {
      state?.controller?.abort();
      const roots = this.folderPaths();
      const resolution = resolveNixExecutable({ pathVariable: process.env.PATH ?? '', workspaceFolders: roots, configured: settings.nixExecutable });
      const tool = resolution.nix ? { nix: resolution.nix, pathVariable: safePathVariable(process.env.PATH ?? '', roots) } : { error: resolution.error ?? 'no nix executable' };
      state = { session: new EvaluationSession({ tool }), toolKey, reuse: createHostReuse(), pending: new Map(state?.pending ?? []) };
      this.folders.set(folder, state);
    }
    return state;
  }

  private enabled(settings: Settings): boolean {
    return settings.evaluate !== 'off' && this.trusted;
  }

  /** A file was opened (counts with `onOpen` only), saved, or changed on disk. */
  note(folder: string, file: string, event: 'open' | 'save' | 'disk'): void {
    const state = this.folders.get(folder);
    const pending = state?.pending ?? this.pendingBeforeFirst.get(folder) ?? new Map<string, 'open' | 'save' | 'disk'>();
    if (pending.get(file) !== 'save') pending.set(file, event);
    if (!state) this.pendingBeforeFirst.set(folder, pending);
  }

  private readonly pendingBeforeFirst = new Map<string, Map<string, 'open' | 'save' | 'disk'>>();

  /** The analysis to publish: the static one, or the one with Nix's values where the mode has some. */
  refine(folder: string, settings: Settings, release: string | undefined, staticResult: AnalysisResult): AnalysisResult {
    if (!this.enabled(settings)) {
      this.folders.get(folder)?.controller?.abort();
      return staticResult;
    }
    const state = this.folder(folder, settings);
    for (const [file, event] of this.pendingBeforeFirst.get(folder) ?? []) state.pending.set(file, event);
    this.pendingBeforeFirst.delete(folder);
    state.staticResult = staticResult;
    const session = state.session;
    if (!staticResult.hosts.some((host) => session.wants(host) && session.resultFor(host))) return staticResult;
    session.beginAnalysis();
    const refined = analyze(this.workspace, [folder], { release, refine: session.refine, refineKey: session.stamp, reuse: state.reuse });
    for (const item of session.disagreements) {
      this.connection.console.warn(`evaluation: the static reading and Nix disagree on host ${item.host} at ${item.path}: static ${item.static}, Nix ${item.evaluated} (a bug of ours; the static value is kept)`);
    }
    for (const fault of refined.faults) this.connection.console.error(`rule ${fault.code} failed on host ${fault.host} (evaluated) and was skipped: ${fault.error}`);
    return { ...refined, findings: session.mark(refined.findings, staticResult.findings) };
  }

  /** After a publication: starts Nix in the background for the hosts that want it, if none runs. */
  afterPublish(folder: string, settings: Settings): void {
    if (!this.enabled(settings)) return;
    const state = this.folders.get(folder);
    if (!state?.staticResult || state.controller || state.pending.size === 0) return;
    const session = state.session;
    const counts = (file: string) => {
      const event = state.pending.get(file);
      return event !== undefined && (event !== 'open' || settings.evaluate === 'onOpen');
    };
    const touched = state.staticResult.hosts.filter((host) => session.wants(host) && host.files.some(counts));
    state.pending.clear();
    const hosts = touched.filter((host) => !session.isCurrent(host));
    if (hosts.length === 0) return;
    const controller = new AbortController();
    state.controller = controller;
    state.fault = undefined;
    const notify = () => void this.connection.sendNotification(EVALUATION_NOTIFICATION, { folder, running: state.running, fault: state.fault }).catch(() => undefined);
    void session
      .evaluate(hosts, {
        signal: controller.signal,
        onHost: (host) => {
          state.running = host;
          notify();
        },
      })
      .then(
        (report) => {
          for (const fault of report.faults) this.connection.console.error(`evaluation of host ${fault.host} failed: ${fault.message}`);
          if (report.faults.length > 0) state.fault = `evaluation of host ${report.faults[0].host} failed: ${report.faults[0].message}`;
        },
        (error: unknown) => {
          state.fault = `evaluation failed: ${error instanceof Error ? error.message : String(error)}`;
          this.connection.console.error(state.fault);
        },
      )
      .finally(() => {
        if (state.controller === controller) state.controller = undefined;
        state.running = undefined;
        notify();
        if (!controller.signal.aborted) this.reschedule(folder);
      });
  }

  info(folder: string, settings: Settings, hosts: string[]): EvaluationInfo {
    const base = { mode: settings.evaluate, evaluated: [] as string[] };
    if (settings.evaluate === 'off') return { ...base, state: 'off' };
    if (!this.trusted) return { ...base, state: 'untrusted' };
    const state = this.folders.get(folder);
    const evaluated = hosts.filter((host) => state?.staticResult?.hosts.some((model) => model.name === host && state.session.resultFor(model)));
    if (state?.running) return { ...base, evaluated, state: 'running', host: state.running };
    if (state?.fault) return { ...base, evaluated, state: 'fault', fault: state.fault };
    return { ...base, evaluated, state: 'idle' };
  }

  dispose(): void {
    for (const state of this.folders.values()) state.controller?.abort();
  }
}
