/**
 * "Ephemeral Root: Run disko on a VM image" — the VS Code side only: the host and mode pickers, the settings, the
 * progress notification, the output channel, the diagnostics of Nix errors, the code lens on `disko.devices`. The
 * hosts come from the language server (`ephemeralRoot/vmHosts`); the run itself is client/src/disko-vm/run.ts.
 *
 * The settings a workspace must not choose (`vm.nixArgs`, `vm.nixExecutable`: what runs, with which options) are
 * machine-scoped in package.json and read here from the user's own settings only, whatever VS Code would merge.
 * The tokens of the work folders the extension created live in its global state, outside every workspace.
 */
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { WORK_FILES } from './disko-vm/args';
import { TRUST_MESSAGE, processEnv } from './disko-vm/preconditions';
import { type RunUi, runDiskoVm } from './disko-vm/run';
import { type ImageFormat, MODE_LABELS, type NixDiagnostic, type RunResult, type VmHost, type VmHostsResult, type VmMode, type VmSettings, type VmTarget } from './disko-vm/types';
import type { WorkFolderRegistry } from './disko-vm/work-folder';

export const VM_HOSTS_REQUEST = 'ephemeralRoot/vmHosts';
const RUNNING_CONTEXT = 'ephemeralRoot.diskoVmRunning';

/** Arguments of `ephemeralRoot.runDiskoVm` (from the code lens, other extensions and tests); all optional. */
export interface RunDiskoVmArgs {
  /** A host name (as the model names it: for a flake host its nixosConfigurations attribute). */
  host?: string;
  /** A disko file to run on its own (path or file URI). */
  file?: string;
  /** The document a code lens was on: offers its hosts and the file itself. */
  uri?: string;
  mode?: VmMode;
  /** No confirmation, warnings accepted: for automation. */
  assumeYes?: boolean;
}

function toPath(value: string): string {
  return value.startsWith('file:') ? vscode.Uri.parse(value).fsPath : value;
}

/** The default work folder's name in the extension's storage (older versions used `disko-vm`, without a record). */
const DEFAULT_WORK_FOLDER = 'disko-vm-work';
const REGISTRY_KEY = 'ephemeralRoot.vm.workFolderTokens';

/**
 * A machine-scoped setting from the user's own settings (or its default): a value in the workspace's or a folder's
 * settings is never used, even where VS Code would apply it.
 */
function userSettingOnly<T>(config: vscode.WorkspaceConfiguration, key: string, fallback: T): T {
  const inspected = config.inspect<T>(key);
  return inspected?.globalValue ?? inspected?.defaultValue ?? fallback;
}

/** The extension's storage folders: the work folder may lie there as well as in a workspace folder. */
function storageFolders(context: vscode.ExtensionContext): string[] {
  return [context.storageUri, context.globalStorageUri].filter((uri): uri is vscode.Uri => uri !== undefined).map((uri) => uri.fsPath);
}

/** The work folder tokens, kept in the extension's global state (outside every workspace). */
function globalStateRegistry(context: vscode.ExtensionContext): WorkFolderRegistry {
  const tokens = () => context.globalState.get<Record<string, string>>(REGISTRY_KEY, {});
  return {
    tokenOf: (folder) => tokens()[folder],
    remember: (folder, token) => context.globalState.update(REGISTRY_KEY, { ...tokens(), [folder]: token }),
  };
}

export function readVmSettings(context: vscode.ExtensionContext, scope?: vscode.Uri): VmSettings {
  const config = vscode.workspace.getConfiguration('ephemeralRoot', scope);
  const memory = config.get<number>('vm.memory', 2048);
  const format = config.get<string>('vm.imageFormat', 'raw');
  const nixArgs = userSettingOnly<unknown>(config, 'vm.nixArgs', []);
  const nixExecutable = userSettingOnly<unknown>(config, 'vm.nixExecutable', '');
  const folder = scope ? vscode.workspace.getWorkspaceFolder(scope) : vscode.workspace.workspaceFolders?.[0];
  let workFolder = (config.get<string>('vm.workFolder', '') ?? '').trim();
  if (!workFolder) workFolder = path.join((context.storageUri ?? context.globalStorageUri).fsPath, DEFAULT_WORK_FOLDER);
  workFolder = workFolder.replace(/^~(?=$|\/)/, os.homedir()).replace(/\$\{workspaceFolder\}/g, folder?.uri.fsPath ?? '');
  if (!path.isAbsolute(workFolder) && folder) workFolder = path.join(folder.uri.fsPath, workFolder);
  return {
    memory: Number.isInteger(memory) && memory >= 256 ? memory : 2048,
    imageFormat: (format === 'qcow2' ? 'qcow2' : 'raw') as ImageFormat,
    workFolder,
    nixArgs: Array.isArray(nixArgs) ? nixArgs.filter((item): item is string => typeof item === 'string') : [],
    nixExecutable: typeof nixExecutable === 'string' ? nixExecutable.trim() : '',
  };
}

function toDiagnostic(item: NixDiagnostic): vscode.Diagnostic {
  const range = (r: NixDiagnostic['range']) => new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
  const diagnostic = new vscode.Diagnostic(range(item.range), item.message, item.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
  diagnostic.source = 'nix';
  diagnostic.code = 'disko-vm';
  diagnostic.relatedInformation = item.related.map((related) => new vscode.DiagnosticRelatedInformation(new vscode.Location(vscode.Uri.file(related.file), range(related.range)), related.message));
  return diagnostic;
}

interface HostPick extends vscode.QuickPickItem {
  target: VmTarget;
}

class DiskoVmFeature implements vscode.CodeLensProvider, vscode.Disposable {
  readonly diagnostics = vscode.languages.createDiagnosticCollection('ephemeralRoot.diskoVm');
  private current: vscode.CancellationTokenSource | undefined;
  private lastWorkFolder: string | undefined;
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensesChanged.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly output: vscode.OutputChannel,
    private readonly client: () => LanguageClient | undefined,
  ) {}

  private async hosts(uri?: string): Promise<VmHostsResult> {
    const client = this.client();
    if (!client?.isRunning()) throw new Error('The Ephemeral Root language server is not running.');
    const folders = (vscode.workspace.workspaceFolders ?? []).map((folder) => folder.uri.toString());
    return client.sendRequest<VmHostsResult>(VM_HOSTS_REQUEST, { folders, uri });
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    if (document.uri.scheme !== 'file' || !/\bdisko\b/.test(document.getText()) || !this.client()?.isRunning()) return [];
    try {
      const { lenses } = await this.hosts(document.uri.toString());
      return lenses.map((lens) => {
        const range = new vscode.Range(lens.range.start.line, lens.range.start.character, lens.range.end.line, lens.range.end.character);
        const args: RunDiskoVmArgs = { uri: document.uri.toString() };
        return new vscode.CodeLens(range, {
          title: '$(play) Run disko on a VM image',
          tooltip: `Format VM images of this layout, boot it, or prove its ephemeral root (${lens.hosts.join(', ')})`,
          command: 'ephemeralRoot.runDiskoVm',
          arguments: [args],
        });
      });
    } catch {
      return [];
    }
  }

  refreshLenses(): void {
    this.lensesChanged.fire();
  }

  /** Picks the target: from the arguments when they say, else a quick pick of hosts and disko files. */
  private async pickTarget(args: RunDiskoVmArgs): Promise<{ target: VmTarget; hosts: VmHost[] } | undefined> {
    const { hosts } = await this.hosts(args.uri);
    const byFile = (file: string) => hosts.find((host) => host.diskoFiles.includes(file));
    if (args.file) {
      const file = toPath(args.file);
      return { target: { kind: 'file', file, host: byFile(file) }, hosts };
    }
    if (args.host) {
      const host = hosts.find((candidate) => candidate.name === args.host);
      if (!host) throw new Error(`No host named ${args.host} with a disko layout in this workspace (hosts: ${hosts.map((candidate) => candidate.name).join(', ') || 'none'}).`);
      return { target: host.kind === 'disko-only' ? { kind: 'file', file: host.diskoFiles[0] ?? host.root, host } : { kind: 'host', host }, hosts };
    }
    const lensFile = args.uri ? toPath(args.uri) : undefined;
    const items: HostPick[] = [];
    const relative = (file: string) => vscode.workspace.asRelativePath(file);
    // A mode given with the lens' file narrows the choice: a host's mode needs a host, standalone needs the file.
    const wantHosts = args.mode !== 'standalone';
    const wantFiles = args.mode === undefined || args.mode === 'standalone';
    for (const host of hosts) {
      if (!wantHosts || host.kind === 'disko-only') continue;
      if (lensFile && !host.diskoFiles.includes(lensFile)) continue;
      items.push({
        label: `$(server) ${host.name}`,
        description: host.flake ? `flake host · nixosConfigurations.${host.flake.attribute}` : 'configuration.nix host',
        detail: `${relative(host.flake ? path.join(host.flake.dir, 'flake.nix') : host.root)} · ${host.disks.length} disk(s): ${host.disks.map((disk) => disk.imageName).join(', ') || '?'}`,
        target: { kind: 'host', host },
      });
    }
    const files = new Set<string>();
    for (const host of hosts) for (const file of host.diskoFiles) if (!lensFile || file === lensFile) files.add(file);
    if (lensFile && files.size === 0) files.add(lensFile);
    for (const file of wantFiles ? [...files].sort() : []) {
      items.push({ label: `$(file) ${path.basename(file)}`, description: 'standalone disko file (no flake)', detail: relative(file), target: { kind: 'file', file, host: byFile(file) } });
    }
    if (items.length === 0) throw new Error('No host with a disko layout (disko.devices) in this workspace.');
    const picked = items.length === 1 ? items[0] : await vscode.window.showQuickPick(items, { title: 'Run disko on a VM image', placeHolder: 'Host (flake or configuration.nix) or disko file', matchOnDescription: true, matchOnDetail: true });
    return picked ? { target: picked.target, hosts } : undefined;
  }

  private async pickMode(target: VmTarget): Promise<VmMode | undefined> {
    if (target.kind === 'file') return 'standalone';
    const host = target.host;
    const items: (vscode.QuickPickItem & { mode: VmMode })[] = [
      { mode: 'images', label: MODE_LABELS.images, description: 'diskoImagesScript --build-memory', detail: `One image per disk in the work folder (${host.disks.map((disk) => disk.imageName).join(', ')})` },
      { mode: 'vm', label: MODE_LABELS.vm, description: 'nix run … vmWithDisko', detail: 'Boot the host in QEMU on fresh disko images' },
      { mode: 'prove', label: MODE_LABELS.prove, description: 'NixOS VM test', detail: `Write to ${host.ephemeral.join(', ')} and ${host.persisted.length} persisted path(s), reboot, check what is left` },
    ];
    if (host.diskoFiles[0]) items.push({ mode: 'standalone', label: MODE_LABELS.standalone, description: path.basename(host.diskoFiles[0]), detail: 'The layout alone in a minimal NixOS system (nix/standalone-disko-image.nix)' });
    const picked = await vscode.window.showQuickPick(items, { title: `Run disko on a VM image: ${host.name}`, placeHolder: 'What to run' });
    return picked?.mode;
  }

  async run(args: RunDiskoVmArgs = {}): Promise<RunResult> {
    const refused = (mode: VmMode, message: string): RunResult => ({ status: 'refused', mode, message, stages: ['Checking preconditions'], warnings: [], images: [], diagnostics: [], nixFiles: [], commands: [] });
    const mode0 = args.mode ?? 'images';
    if (!vscode.workspace.isTrusted) {
      // The gate comes first: nothing is asked of the server and nothing runs in an untrusted workspace.
      this.output.appendLine(`Refused: ${TRUST_MESSAGE}`);
      void vscode.window.showErrorMessage(TRUST_MESSAGE, 'Manage Workspace Trust').then((choice) => {
        if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
      });
      return refused(mode0, TRUST_MESSAGE);
    }
    if (this.current) {
      const message = 'A disko VM run is already in progress; cancel it first (Ephemeral Root: Cancel disko VM Run).';
      void vscode.window.showWarningMessage(message);
      return refused(mode0, message);
    }
    let picked: { target: VmTarget; hosts: VmHost[] } | undefined;
    try {
      picked = await this.pickTarget(args);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      void vscode.window.showErrorMessage(message);
      return { ...refused(mode0, message), status: 'failed' };
    }
    if (!picked) return { ...refused(mode0, 'No host picked.'), status: 'cancelled', stages: [] };
    const mode = args.mode ?? (await this.pickMode(picked.target));
    if (!mode) return { ...refused(mode0, 'No mode picked.'), status: 'cancelled', stages: [] };
    const target = picked.target;
    const scopeFile = target.kind === 'file' ? target.file : target.host.root;
    const settings = readVmSettings(this.context, vscode.Uri.file(scopeFile));

    const source = new vscode.CancellationTokenSource();
    this.current = source;
    void vscode.commands.executeCommand('setContext', RUNNING_CONTEXT, true);
    this.diagnostics.clear();
    this.output.show(true);
    const name = target.kind === 'file' ? path.basename(target.file) : target.host.name;
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Ephemeral Root: ${MODE_LABELS[mode]} (${name})`, cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => source.cancel());
          let stage = '';
          let lastDetail = 0;
          const ui: RunUi = {
            stage: (text, increment) => {
              stage = text;
              progress.report({ message: text, increment });
            },
            detail: (text) => {
              const now = Date.now();
              if (now - lastDetail < 250) return;
              lastDetail = now;
              progress.report({ message: `${stage} — ${text.length > 80 ? `${text.slice(0, 77)}…` : text}` });
            },
            line: (text) => this.output.appendLine(text),
            confirm: async (message, detail, shownFiles) => {
              for (const file of shownFiles) {
                await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true, preserveFocus: true, viewColumn: vscode.ViewColumn.Beside });
              }
              return (await vscode.window.showWarningMessage(message, { modal: true, detail }, 'Run')) === 'Run';
            },
            warn: async (message) => (await vscode.window.showWarningMessage(message, { modal: true }, 'Continue')) === 'Continue',
          };
          return runDiskoVm(
            {
              mode,
              target,
              settings,
              extensionRoot: this.context.extensionPath,
              environment: processEnv(vscode.workspace.isTrusted),
              workspaceFolders: (vscode.workspace.workspaceFolders ?? []).filter((folder) => folder.uri.scheme === 'file').map((folder) => folder.uri.fsPath),
              storageFolders: storageFolders(this.context),
              registry: globalStateRegistry(this.context),
              assumeYes: args.assumeYes,
            },
            ui,
            source.token,
          );
        },
      );
      this.report(result);
      return result;
    } finally {
      this.current = undefined;
      source.dispose();
      void vscode.commands.executeCommand('setContext', RUNNING_CONTEXT, false);
    }
  }

  private report(result: RunResult): void {
    if (result.workFolder) this.lastWorkFolder = result.workFolder;
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const item of result.diagnostics) {
      const list = byFile.get(item.file) ?? [];
      list.push(toDiagnostic(item));
      byFile.set(item.file, list);
    }
    for (const [file, list] of byFile) this.diagnostics.set(vscode.Uri.file(file), list);
    const buttons = result.workFolder && result.status !== 'refused' ? ['Open Work Folder', 'Show Output'] : ['Show Output'];
    const show = result.status === 'ok' ? vscode.window.showInformationMessage : result.status === 'cancelled' ? vscode.window.showWarningMessage : vscode.window.showErrorMessage;
    const text = result.diagnostics.length > 0 ? `${result.message} (${result.diagnostics.length} error(s) shown in the Problems panel)` : result.message;
    void show(text, ...buttons).then((choice) => {
      if (choice === 'Open Work Folder') void this.openWorkFolder();
      else if (choice === 'Show Output') this.output.show(true);
    });
  }

  cancel(): boolean {
    if (!this.current) return false;
    this.current.cancel();
    return true;
  }

  async openWorkFolder(): Promise<string> {
    const folder = this.lastWorkFolder ?? readVmSettings(this.context, vscode.workspace.workspaceFolders?.[0]?.uri).workFolder;
    const log = vscode.Uri.file(path.join(folder, WORK_FILES.log));
    try {
      await vscode.workspace.fs.stat(log);
      await vscode.window.showTextDocument(log, { preview: true });
    } catch {
      void vscode.window.showInformationMessage(`The work folder ${folder} holds no run yet.`);
      return folder;
    }
    if (!vscode.env.remoteName) await vscode.commands.executeCommand('revealFileInOS', log).then(undefined, () => undefined);
    return folder;
  }

  dispose(): void {
    this.current?.cancel();
    this.diagnostics.dispose();
    this.lensesChanged.dispose();
  }
}

/** Registers the command, its cancel and work-folder commands, and the code lens. */
export function registerDiskoVm(context: vscode.ExtensionContext, output: vscode.OutputChannel, client: () => LanguageClient | undefined): { refreshLenses(): void } {
  const feature = new DiskoVmFeature(context, output, client);
  context.subscriptions.push(
    feature,
    vscode.commands.registerCommand('ephemeralRoot.runDiskoVm', (args?: RunDiskoVmArgs) => feature.run(args ?? {})),
    vscode.commands.registerCommand('ephemeralRoot.cancelDiskoVm', () => feature.cancel()),
    vscode.commands.registerCommand('ephemeralRoot.openDiskoVmWorkFolder', () => feature.openWorkFolder()),
    vscode.languages.registerCodeLensProvider({ language: 'nix', scheme: 'file' }, feature),
  );
  return { refreshLenses: () => feature.refreshLenses() };
}
