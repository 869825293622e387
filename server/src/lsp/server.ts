/**
 * The language server: a thin adapter between LSP and the analysis engine.
 *
 * Open documents are re-parsed incrementally; after a change the workspace folder holding the file is re-analysed:
 * the hosts that read the changed file are rebuilt and checked again, the others are reused as they were (so an edit
 * in disko.nix re-publishes configuration.nix, open or not, and leaves an unrelated host alone). Diagnostics are
 * published for every file that has findings, and cleared for every file that had some and no longer has.
 * Settings are read per folder and applied without a restart.
 */
import path from 'node:path';
import {
  type CodeAction,
  type Connection,
  type Diagnostic,
  DiagnosticSeverity,
  DidChangeConfigurationNotification,
  DidChangeWatchedFilesNotification,
  ErrorCodes,
  ResponseError,
  type InitializeParams,
  type InitializeResult,
  TextDocumentSyncKind,
} from 'vscode-languageserver';
import { SliceExpired, TimeSlices } from '../model/budget';
import { HostBuilder } from '../model/hosts';
import { groupByCause } from '../model/unknown-causes';
import { Workspace } from '../model/workspace';
import { type AnalysisResult, type HostFinding, type HostReuse, analyze, createHostReuse } from '../rules/engine';
import { type Severity, docsUrl } from '../rules/types';
import { initSyntax } from '../syntax/parser';
import { NO_FILE_CREATION } from '../fixes/registry';
import type { FixOptions } from '../fixes/types';
import type { Analyses, Analysis } from './analysis';
import { FIX_ALL_KIND, FIX_COMMANDS, INSERT_ROLLBACK_KIND, codeActionsFor, executeFixCommand, fixOptionsFor } from './code-actions';
import { codeLensesFor } from './code-lens';
import { completionsFor } from './completion';
import { documentSymbolsFor } from './document-symbols';
import { Documents, pathToUri, uriToPath } from './documents';
import { hoverAt } from './hover';
import { SEMANTIC_TOKENS_LEGEND, semanticTokensFor } from './semantic-tokens';
import { LAYOUT_REQUEST, type LayoutParams, layoutFor } from './layout';
import { IdleCollector } from './idle-collection';
import { definitionAt, referencesAt } from './navigation';
import { notReadable, prepareRenameAt, renameAt } from './rename';
import { DEFAULT_SETTINGS, type Settings, effectiveSeverity, readSettings } from './settings';
import { VM_HOSTS_REQUEST, type VmHostsParams, vmHosts } from './vm-hosts';
import { type EvaluationInfo, EvaluationController, WORKSPACE_TRUSTED_NOTIFICATION } from './evaluation';

/**
 * A rule that failed on a host said nothing about it this time, which does not make what it said before wrong: its
 * previous findings on that host stay published (logged above) instead of vanishing from the editor.
 */
function keepFindingsOfFailedRules(previous: AnalysisResult, current: AnalysisResult): void {
  for (const fault of current.faults) {
    for (const finding of previous.findings) if (finding.code === fault.code && finding.host === fault.host) current.findings.push(finding);
  }
}

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

export const SOURCE = 'ephemeral-root';

/** Data carried on each diagnostic, for code actions and the status bar. */
export interface DiagnosticData {
  hosts: string[];
  fixable: boolean;
}

interface FolderState {
  /** A workspace folder, or a file opened outside every folder (then analysed alone). */
  path: string;
  /** The state of a file outside every workspace folder: its folder is never scanned, and it ends when it closes. */
  alone?: boolean;
  settings?: Settings;
  result?: AnalysisResult;
  /** Documents changed since `result` was computed. */
  stale: boolean;
  published: Set<string>;
  /** The hosts of the last analysis, reused by the next one while nothing they read changed. */
  reuse: HostReuse;
  /** The analysis under way, if any (it runs in time slices). */
  running?: Promise<void>;
  /** Counts the changes scheduled for the folder: an analysis resumed after a slice restarts when it moved. */
  edits: number;
}

/** A time slice of analysis: short enough that a request arriving meanwhile is answered at once. */
const SLICE_MS = 20;

export interface FileInfo {
  hosts: { name: string; kind: string; root: string }[];
  counts: { error: number; warning: number; information: number; hint: number };
  /** What stayed unknown on the file's hosts, counted by cause (the status bar's tooltip; `--explain` lists them). */
  unknowns: { cause: string; count: number }[];
  /** The evaluation-backed mode for the file's hosts (the status bar). */
  evaluation?: EvaluationInfo;
}

export class EphemeralRootServer implements Analyses {
  readonly workspace = new Workspace();
  readonly documents = new Documents(this.workspace);
  private readonly folders = new Map<string, FolderState>();
  private readonly pending = new Set<string>();
  private flushScheduled = false;
  /** Collects the young generation once the analyses of a burst of edits are published (idle-collection.ts). */
  private readonly idle = new IdleCollector(() => this.flushScheduled || this.pending.size > 0 || [...this.folders.values()].some((state) => state.running !== undefined));
  private configurationSupport = false;
  private workspaceFoldersSupport = false;
  private watchSupport = false;
  /** What the client can apply: whether a fix may create a module file (a WorkspaceEdit with a CreateFile operation). */
  private fixOptions: FixOptions = NO_FILE_CREATION;
  /** Called after each publish; tests and the benchmark use it. */
  onPublished?: (folder: string) => void;

  /** The evaluation-backed mode (`ephemeralRoot.evaluate`). */
  readonly evaluation: EvaluationController;

  constructor(readonly connection: Connection) {
    this.evaluation = new EvaluationController(
      connection,
      this.workspace,
      () => [...this.folders.values()].filter((state) => !state.alone).map((state) => state.path),
      (folder) => this.schedule(folder),
    );
  }

  start(): void {
    const { connection } = this;
    connection.onInitialize((params) => this.initialize(params));
    connection.onInitialized(() => {
      if (this.configurationSupport) void connection.client.register(DidChangeConfigurationNotification.type, { section: 'ephemeralRoot' });
      if (this.watchSupport) {
        // With the client watching the files for us, the disk is read only when it reports a change.
        void connection.client
          .register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*.nix' }, { globPattern: '**/flake.lock' }] })
          .then(() => {
            this.workspace.watched = true;
          })
          .catch(() => undefined);
      }
      if (this.workspaceFoldersSupport) {
        connection.workspace.onDidChangeWorkspaceFolders((event) => {
          for (const removed of event.removed) {
            const folderPath = uriToPath(removed.uri);
            const state = folderPath ? this.folders.get(folderPath) : undefined;
            if (state) for (const uri of state.published) void connection.sendDiagnostics({ uri, diagnostics: [] });
            if (folderPath) this.folders.delete(folderPath);
          }
          for (const added of event.added) this.addFolder(uriToPath(added.uri));
          this.scheduleAll();
        });
      }
      this.scheduleAll();
    });
    connection.onDidOpenTextDocument(({ textDocument }) => {
      const document = this.documents.opened(textDocument.uri, textDocument.version, textDocument.text);
      if (!document) return;
      const folder = this.folderOf(document.path);
      this.evaluation.note(folder, document.path, 'open');
      this.schedule(folder);
    });
    connection.onDidSaveTextDocument(({ textDocument }) => {
      const filePath = uriToPath(textDocument.uri);
      if (!filePath) return;
      const folder = this.folderOf(filePath);
      this.evaluation.note(folder, filePath, 'save');
      this.schedule(folder);
    });
    connection.onNotification(WORKSPACE_TRUSTED_NOTIFICATION, () => {
      this.evaluation.trusted = true;
      for (const document of this.documents.all()) this.evaluation.note(this.folderOf(document.path), document.path, 'open');
      this.scheduleAll();
    });
    connection.onShutdown(() => this.evaluation.dispose());
    connection.onDidChangeTextDocument(({ textDocument, contentChanges }) => {
      const document = this.documents.changed(textDocument.uri, textDocument.version ?? 0, contentChanges);
      if (document) this.schedule(this.folderOf(document.path));
    });
    connection.onDidCloseTextDocument(({ textDocument }) => {
      const document = this.documents.closed(textDocument.uri);
      // The saved text on disk is what counts now (a file analysed alone is no longer analysed at all).
      if (document && !this.dropAlone(document.path)) this.schedule(this.folderOf(document.path));
    });
    connection.onDidChangeWatchedFiles(({ changes }) => {
      for (const change of changes) {
        const filePath = uriToPath(change.uri);
        if (!filePath) continue;
        this.workspace.invalidate(filePath);
        const folder = this.folderOf(filePath);
        this.evaluation.note(folder, filePath, 'disk');
        this.schedule(folder);
      }
    });
    connection.onDidChangeConfiguration(() => {
      for (const folder of this.folders.values()) folder.settings = undefined;
      // The evaluation-backed mode just turned on (or its nix changed) considers the files already open.
      for (const document of this.documents.all()) this.evaluation.note(this.folderOf(document.path), document.path, 'open');
      this.scheduleAll();
    });
    const logError = (message: string) => connection.console.error(message);
    connection.onCodeAction((params) =>
      this.guard<CodeAction[]>('codeAction', () => this.onFile(params.textDocument.uri, () => [], (analysis, file) => codeActionsFor(analysis, file, params, { fixOptions: this.fixOptions, logError }))),
    );
    connection.onCompletion((params) => this.guard('completion', () => this.onFile(params.textDocument.uri, () => [], (analysis, file) => completionsFor(analysis, file, params))));
    connection.onExecuteCommand((params) => this.guard('executeCommand', () => executeFixCommand(params, (uri) => connection.window.showDocument({ uri, external: true }))));
    connection.onRequest('ephemeralRoot/fileInfo', (params: { uri: string }) => this.guard('fileInfo', () => this.fileInfo(params.uri)));
    connection.onHover((params) => this.guard('hover', () => this.onFile(params.textDocument.uri, () => null, (analysis, file) => hoverAt(analysis, file, params))));
    connection.languages.semanticTokens.on((params) =>
      this.guard('semanticTokens', () => {
        const file = uriToPath(params.textDocument.uri);
        const source = file ? this.workspace.source(file) : undefined;
        return { data: source ? semanticTokensFor(source) : [] };
      }),
    );
    connection.onDefinition((params) => this.guard('definition', () => this.onFile(params.textDocument.uri, () => [], (analysis, file) => definitionAt(analysis, file, params))));
    connection.onReferences((params) => this.guard('references', () => this.onFile(params.textDocument.uri, () => [], (analysis, file) => referencesAt(analysis, file, params))));
    connection.onPrepareRename((params) => this.guard('prepareRename', () => this.onFile(params.textDocument.uri, notReadable, (analysis, file) => prepareRenameAt(analysis, file, params))));
    connection.onRenameRequest((params) => this.guard('rename', () => this.onFile(params.textDocument.uri, notReadable, (analysis, file) => renameAt(analysis, file, params))));
    connection.onDocumentSymbol((params) => this.guard('documentSymbol', () => this.onFile(params.textDocument.uri, () => [], (analysis, file) => documentSymbolsFor(analysis, file))));
    connection.onCodeLens((params) => this.guard('codeLens', () => this.onFile(params.textDocument.uri, () => [], (analysis, file) => codeLensesFor(analysis, file))));
    connection.onRequest(LAYOUT_REQUEST, (params: LayoutParams) => this.guard('layout', () => layoutFor(this, { folders: params?.folders ?? [...this.folders.keys()].map(pathToUri) })));
    connection.onRequest(VM_HOSTS_REQUEST, (params: VmHostsParams) => this.guard('vmHosts', () => vmHosts(this, params ?? {})));
    connection.listen();
  }

  private async initialize(params: InitializeParams): Promise<InitializeResult> {
    // Documents are parsed as they open, so the grammar must be loaded before the first notification is handled.
    await initSyntax();
    this.configurationSupport = params.capabilities.workspace?.configuration === true;
    this.workspaceFoldersSupport = params.capabilities.workspace?.workspaceFolders === true;
    this.watchSupport = params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
    // The VS Code client says whether the workspace is trusted; other editors have no such notion (evaluation.ts).
    this.evaluation.trusted = (params.initializationOptions as { workspaceTrusted?: unknown } | undefined)?.workspaceTrusted !== false;
    this.fixOptions = fixOptionsFor(params.capabilities);
    for (const folder of params.workspaceFolders ?? []) this.addFolder(uriToPath(folder.uri));
    if (this.folders.size === 0 && params.rootUri) this.addFolder(uriToPath(params.rootUri));
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        codeActionProvider: { codeActionKinds: ['quickfix', FIX_ALL_KIND, INSERT_ROLLBACK_KIND], resolveProvider: false },
        executeCommandProvider: { commands: FIX_COMMANDS },
        completionProvider: { triggerCharacters: ['"', '@'], resolveProvider: false },
        hoverProvider: true,
        // Highlighting from the tree-sitter tree; the client asks only when no other extension has a Nix grammar.
        semanticTokensProvider: { legend: SEMANTIC_TOKENS_LEGEND, full: true },
        definitionProvider: true,
        referencesProvider: true,
        renameProvider: { prepareProvider: true },
        documentSymbolProvider: true,
        codeLensProvider: { resolveProvider: false },
        workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
      },
      serverInfo: { name: 'ephemeral-root-ls', version: '0.1.0' },
    };
  }

  private addFolder(folderPath: string | undefined, alone = false): FolderState | undefined {
    if (!folderPath) return undefined;
    let state = this.folders.get(folderPath);
    if (!state) {
      state = { path: folderPath, alone, stale: true, published: new Set(), reuse: createHostReuse(), edits: 0 };
      this.folders.set(folderPath, state);
      // What the analysis may read (confinement.ts): a workspace folder whole; for a file alone, the folder around it.
      this.workspace.allowScope(folderPath);
    }
    return state;
  }

  /**
   * The workspace folder holding a file. A file outside every folder (opened from `/`, or at the root of a nixpkgs
   * checkout) is analysed alone, with what it imports: scanning the folder around it could mean the whole machine.
   */
  folderOf(filePath: string): string {
    let best: string | undefined;
    for (const [folder, state] of this.folders) {
      if (state.alone) continue;
      if ((filePath === folder || filePath.startsWith(`${folder}${path.sep}`)) && (!best || folder.length > best.length)) best = folder;
    }
    return best ?? this.addFolder(filePath, true)!.path;
  }

  /**
   * Runs a feature on the analysis of the folder that holds a request's document, or answers `missing()` for a
   * document that is no file this server reads (another scheme, or a file it cannot read). Once the analysis is there
   * the feature runs without yielding, so it reads the texts the analysis was made from.
   */
  private async onFile<T>(uri: string, missing: () => T, feature: (analysis: Analysis, filePath: string) => T): Promise<T> {
    const filePath = uriToPath(uri);
    if (!filePath || !this.workspace.source(filePath)) return missing();
    return feature(await this.analysisOf(this.folderOf(filePath)), filePath);
  }

  /** The current analysis of a folder as the features read it. */
  async analysisOf(folder: string): Promise<Analysis> {
    const { result, settings } = await this.analysis(folder);
    return { folder, result, settings, workspace: this.workspace, documentVersion: (uri) => this.documents.get(uri)?.version ?? null };
  }

  /** Forgets a file analysed alone once its editor closes, with the diagnostics published for it. */
  private dropAlone(filePath: string): boolean {
    const state = this.folders.get(filePath);
    if (!state?.alone) return false;
    for (const uri of state.published) void this.connection.sendDiagnostics({ uri, diagnostics: [] });
    this.folders.delete(filePath);
    this.pending.delete(filePath);
    return true;
  }

  schedule(folder: string): void {
    const state = this.folders.get(folder);
    if (state) {
      state.stale = true;
      state.edits++;
    }
    this.pending.add(folder);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Coalesce a burst of changes (several didChange notifications in one read) into one analysis.
    setImmediate(() => void this.flush());
  }

  private scheduleAll(): void {
    for (const folder of this.folders.keys()) this.schedule(folder);
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const folders = [...this.pending];
    this.pending.clear();
    for (const folder of folders) {
      try {
        await this.publish(folder);
      } catch (error) {
        this.connection.console.error(`analysis of ${folder} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      }
    }
    this.idle.workDone();
  }

  async settingsFor(folder: FolderState): Promise<Settings> {
    if (folder.settings) return folder.settings;
    let settings = DEFAULT_SETTINGS;
    if (this.configurationSupport) {
      try {
        const [section, nix] = await this.connection.workspace.getConfiguration([
          { scopeUri: pathToUri(folder.path), section: 'ephemeralRoot' },
          { scopeUri: pathToUri(folder.path), section: 'nix' },
        ]);
        settings = readSettings(section, nix);
      } catch {
        settings = DEFAULT_SETTINGS;
      }
    }
    folder.settings = settings;
    return settings;
  }

  /** The current analysis of a folder, recomputed first when documents changed since. */
  private async analysis(folderPath: string): Promise<{ state: FolderState; result: AnalysisResult; settings: Settings }> {
    const state = this.addFolder(folderPath)!;
    const settings = await this.settingsFor(state);
    if (!state.result || state.stale) {
      // One analysis of a folder at a time: a request that needs it while it runs waits for the same run.
      state.running ??= this.analyzeInSlices(state, settings).finally(() => {
        state.running = undefined;
      });
      await state.running;
    }
    return { state, result: state.result!, settings };
  }

  /**
   * Analyses a folder in time slices. Evaluation stops when a slice is over (`SliceExpired`); the server then answers
   * whatever requests arrived meanwhile — a hover on another folder, `shutdown` — and resumes: the same evaluator keeps
   * every value finished so far, the hosts finished in earlier slices are reused as they are, and each host spends
   * one budget across all its slices (budget.ts, `TimeSlices`). An edit that arrives meanwhile starts the analysis
   * afresh on the new text.
   */
  private async analyzeInSlices(state: FolderState, settings: Settings): Promise<void> {
    const release = settings.nixpkgsRelease || undefined;
    let edits = -1;
    let slices: TimeSlices | undefined;
    let builder: HostBuilder | undefined;
    for (;;) {
      if (edits !== state.edits) {
        edits = state.edits;
        slices = new TimeSlices(SLICE_MS);
        builder = new HostBuilder(this.workspace, { release }, state.reuse.values);
      }
      slices!.next();
      state.stale = false;
      const previous = state.result;
      try {
        const result = analyze(this.workspace, [state.path], { release, reuse: state.reuse, slices, builder });
        for (const fault of result.faults) this.connection.console.error(`rule ${fault.code} failed on host ${fault.host} and was skipped: ${fault.error}`);
        if (previous) keepFindingsOfFailedRules(previous, result);
        state.result = this.evaluation.refine(state.path, settings, release, result);
        return;
      } catch (error) {
        if (!(error instanceof SliceExpired)) throw error;
        state.stale = true;
      }
      // A timer, not setImmediate: the connection dispatches the requests it read with setImmediate too, and a full
      // turn of the event loop lets them run (and their answers go out) before the next slice starts.
      await new Promise<void>((resolve) => setTimeout(resolve, 1));
    }
  }

  private async publish(folderPath: string): Promise<void> {
    const { state, result, settings } = await this.analysis(folderPath);
    const byUri = new Map<string, Diagnostic[]>();
    for (const diagnostic of this.diagnostics(result.findings, settings)) {
      const list = byUri.get(diagnostic.uri) ?? [];
      list.push(diagnostic.diagnostic);
      byUri.set(diagnostic.uri, list);
    }
    const sends: Promise<void>[] = [];
    for (const uri of state.published) if (!byUri.has(uri)) sends.push(this.connection.sendDiagnostics({ uri, diagnostics: [] }));
    for (const [uri, diagnostics] of byUri) sends.push(this.connection.sendDiagnostics({ uri, diagnostics, version: this.documents.get(uri)?.version }));
    state.published = new Set(byUri.keys());
    await Promise.all(sends);
    this.onPublished?.(folderPath);
    this.evaluation.afterPublish(folderPath, settings);
  }

  /** Findings as LSP diagnostics: the same finding on several hosts is published once, naming every host. */
  diagnostics(findings: HostFinding[], settings: Settings): { uri: string; diagnostic: Diagnostic; finding: HostFinding }[] {
    const merged = new Map<string, { uri: string; diagnostic: Diagnostic; finding: HostFinding }>();
    for (const finding of findings) {
      const severity = effectiveSeverity(settings, finding.code, finding.severity);
      if (!severity) continue;
      const uri = pathToUri(finding.origin.file);
      const range = this.workspace.range(finding.origin);
      const key = `${uri}:${finding.origin.start}:${finding.origin.end}:${finding.code}:${finding.message}`;
      const existing = merged.get(key);
      if (existing) {
        const data = existing.diagnostic.data as DiagnosticData;
        if (finding.host && !data.hosts.includes(finding.host)) data.hosts.push(finding.host);
        continue;
      }
      const data: DiagnosticData = { hosts: finding.host ? [finding.host] : [], fixable: false };
      merged.set(key, {
        uri,
        finding,
        diagnostic: {
          range,
          severity: SEVERITY[severity],
          code: finding.code,
          codeDescription: { href: docsUrl(finding.code) },
          source: SOURCE,
          message: finding.message,
          relatedInformation: finding.related.map((item) => ({ location: { uri: pathToUri(item.origin.file), range: this.workspace.range(item.origin) }, message: item.message })),
          data,
        },
      });
    }
    return [...merged.values()];
  }

  async fileInfo(uri: string): Promise<FileInfo | undefined> {
    const filePath = uriToPath(uri);
    if (!filePath) return undefined;
    const { result, settings } = await this.analysis(this.folderOf(filePath));
    const hosts = result.hosts.filter((host) => host.files.includes(filePath));
    const counts = { error: 0, warning: 0, information: 0, hint: 0 };
    for (const { finding, diagnostic } of this.diagnostics(result.findings, settings)) {
      if (finding.origin.file !== filePath) continue;
      const severity = Object.entries(SEVERITY).find(([, value]) => value === diagnostic.severity)?.[0] as Severity;
      counts[severity]++;
    }
    const names = new Set(hosts.map((host) => host.name));
    const unknowns = groupByCause(
      result.unknowns.filter((item) => names.has(item.host)),
      (item) => item.note.what,
    ).map((group) => ({ cause: group.cause, count: group.items.length }));
    const evaluation = this.evaluation.info(this.folderOf(filePath), settings, [...names]);
    return { hosts: hosts.map((host) => ({ name: host.name, kind: host.kind, root: host.root })), counts, unknowns, evaluation };
  }

  /** Runs a handler; an exception is logged and answered with an LSP error: one bad request never kills the server. */
  async guard<T>(what: string, handler: () => T | Promise<T>): Promise<T> {
    try {
      return await handler();
    } catch (error) {
      // A refusal the handler answers on purpose (a rename that cannot apply) reaches the client as it is.
      if (error instanceof ResponseError) throw error;
      this.connection.console.error(`${what} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      throw new ResponseError(ErrorCodes.InternalError, `${what} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
