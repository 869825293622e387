/**
 * The "ZFS Layout" view in the explorer: per host, its pools and their datasets with the mount point, erased or
 * persisted, needed for boot and the findings that concern them. A click reveals the declaration. The data is the
 * server's `ephemeralRoot/layout` answer (no analysis here); the tree refreshes when diagnostics are published,
 * i.e. after every re-analysis.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';

export const LAYOUT_VIEW = 'ephemeralRoot.layout';
export const LAYOUT_REQUEST = 'ephemeralRoot/layout';

interface Counts {
  error: number;
  warning: number;
  information: number;
  hint: number;
}

interface LspLocation {
  uri: string;
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
}

interface LayoutDataset {
  name: string;
  fullName: string;
  declared: boolean | null;
  location?: LspLocation;
  mountPoints: string[];
  zfsMountpoint: string;
  fate: 'erased' | 'persisted' | 'unknown';
  fateReason: string;
  neededForBoot: 'yes' | 'no' | 'unknown' | 'not-mounted';
  neededForBootReason: string;
  stage: string;
  verdict: string;
  findings: Counts;
  codes: string[];
}

interface LayoutPool {
  name: string;
  declared: boolean | null;
  location?: LspLocation;
  imported: 'stage1' | 'stage2' | 'none' | 'unknown';
  importReason: string;
  findings: Counts;
  datasets: LayoutDataset[];
}

interface LayoutHost {
  name: string;
  kind: string;
  root: string;
  findings: Counts;
  pools: LayoutPool[];
}

interface LayoutResult {
  folders: { uri: string; hosts: LayoutHost[] }[];
}

type Node =
  | { kind: 'folder'; folder: vscode.WorkspaceFolder; hosts: LayoutHost[] }
  | { kind: 'host'; host: LayoutHost }
  | { kind: 'pool'; pool: LayoutPool; host: LayoutHost }
  | { kind: 'dataset'; dataset: LayoutDataset; pool: LayoutPool }
  | { kind: 'message'; text: string };

/** What the tree shows, as plain data (for tests and the exported API). */
export interface TreeSnapshot {
  label: string;
  description?: string;
  tooltip?: string;
  icon?: string;
  command?: { command: string; arguments: unknown[] };
  children: TreeSnapshot[];
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function findingsText(counts: Counts): string | undefined {
  const parts = [counts.error && plural(counts.error, 'error'), counts.warning && plural(counts.warning, 'warning'), counts.information + counts.hint && plural(counts.information + counts.hint, 'note')].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : undefined;
}

function revealCommand(location: LspLocation | undefined, title: string): vscode.Command | undefined {
  if (!location) return undefined;
  const { start, end } = location.range;
  const selection = new vscode.Range(start.line, start.character, end.line, end.character);
  return { title, command: 'vscode.open', arguments: [vscode.Uri.parse(location.uri), { selection, preview: false } satisfies vscode.TextDocumentShowOptions] };
}

const IMPORTED = { stage1: 'root pool · imported in stage 1', stage2: 'data pool · imported in stage 2', none: 'never imported', unknown: 'import stage unknown' } as const;
const NEEDED = { yes: 'needed for boot', no: 'not needed for boot', unknown: 'needed for boot: unknown', 'not-mounted': 'not mounted' } as const;
const FATE = { erased: 'erased', persisted: 'persisted', unknown: 'erased or persisted: unknown' } as const;

export class LayoutView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  readonly view: vscode.TreeView<Node>;

  constructor(private readonly client: () => LanguageClient | undefined) {
    this.view = vscode.window.createTreeView(LAYOUT_VIEW, { treeDataProvider: this, showCollapseAll: true });
    this.subscriptions.push(
      this.view,
      this.changed,
      // The server publishes diagnostics after every analysis: the layout may have changed with it.
      vscode.languages.onDidChangeDiagnostics(() => this.refresh()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.refresh()),
    );
  }

  /** Refreshes soon; bursts (one publication per file) are coalesced. */
  refresh(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.changed.fire(undefined), 250);
  }

  private async fetch(): Promise<LayoutResult | string> {
    const client = this.client();
    if (!client?.isRunning()) return 'The language server is not running.';
    const folders = (vscode.workspace.workspaceFolders ?? []).map((folder) => folder.uri.toString());
    if (folders.length === 0) return 'Open a folder to see its ZFS layout.';
    try {
      return await client.sendRequest<LayoutResult>(LAYOUT_REQUEST, { folders });
    } catch (error) {
      return `The layout could not be read: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (!node) {
      const result = await this.fetch();
      if (typeof result === 'string') return [{ kind: 'message', text: result }];
      const folders = result.folders
        .map((entry) => ({ folder: vscode.workspace.getWorkspaceFolder(vscode.Uri.parse(entry.uri)), hosts: entry.hosts }))
        .filter((entry): entry is { folder: vscode.WorkspaceFolder; hosts: LayoutHost[] } => entry.folder !== undefined && entry.hosts.length > 0);
      // No ZFS anywhere: the view's welcome text says so.
      if (folders.length === 0) return [];
      if (folders.length === 1) return folders[0].hosts.map((host) => ({ kind: 'host', host }));
      return folders.map((entry) => ({ kind: 'folder', folder: entry.folder, hosts: entry.hosts }));
    }
    switch (node.kind) {
      case 'folder':
        return node.hosts.map((host) => ({ kind: 'host', host }));
      case 'host':
        return node.host.pools.map((pool) => ({ kind: 'pool', pool, host: node.host }));
      case 'pool':
        return node.pool.datasets.map((dataset) => ({ kind: 'dataset', dataset, pool: node.pool }));
      default:
        return [];
    }
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case 'message': {
        const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon('info');
        return item;
      }
      case 'folder': {
        const item = new vscode.TreeItem(node.folder.name, vscode.TreeItemCollapsibleState.Expanded);
        item.iconPath = vscode.ThemeIcon.Folder;
        item.description = plural(node.hosts.length, 'host');
        return item;
      }
      case 'host': {
        const { host } = node;
        const item = new vscode.TreeItem(host.name, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `host:${host.root}:${host.name}`;
        item.iconPath = new vscode.ThemeIcon('server');
        item.description = findingsText(host.findings) ?? 'no problems';
        item.tooltip = new vscode.MarkdownString(`**${host.name}** (${host.kind === 'nixos' ? 'NixOS host' : host.kind === 'disko-only' ? 'disko layout on its own' : 'a file on its own'})\n\n${vscode.Uri.parse(host.root).fsPath}`);
        item.contextValue = 'host';
        item.command = revealCommand({ uri: host.root, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } }, 'Open the host');
        return item;
      }
      case 'pool': {
        const { pool } = node;
        const item = new vscode.TreeItem(pool.name, pool.datasets.length > 0 ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
        item.id = `pool:${node.host.root}:${node.host.name}:${pool.name}`;
        item.iconPath = new vscode.ThemeIcon('database');
        const findings = findingsText(pool.findings);
        item.description = [IMPORTED[pool.imported], pool.declared === false ? 'not in disko' : undefined, findings].filter(Boolean).join(' · ');
        item.tooltip = new vscode.MarkdownString(`**Pool \`${pool.name}\`**\n\n${pool.importReason}`);
        item.contextValue = 'pool';
        item.command = revealCommand(pool.location, 'Reveal the pool');
        return item;
      }
      case 'dataset': {
        const { dataset } = node;
        const item = new vscode.TreeItem(dataset.name, vscode.TreeItemCollapsibleState.None);
        item.id = `dataset:${node.pool.name}:${dataset.fullName}:${dataset.location?.uri ?? ''}`;
        item.iconPath = new vscode.ThemeIcon(dataset.fate === 'erased' ? 'flame' : dataset.fate === 'persisted' ? 'lock' : 'question');
        const where = dataset.mountPoints.length > 0 ? dataset.mountPoints.join(', ') : dataset.zfsMountpoint === 'none' || dataset.zfsMountpoint === 'legacy' ? `(${dataset.zfsMountpoint})` : dataset.zfsMountpoint;
        const findings = findingsText(dataset.findings);
        item.description = [where, FATE[dataset.fate], NEEDED[dataset.neededForBoot], dataset.declared === false ? 'not in disko' : undefined, findings].filter(Boolean).join(' · ');
        item.tooltip = new vscode.MarkdownString(
          [
            `**\`${dataset.fullName}\`** — ${dataset.verdict}`,
            '',
            `- ${FATE[dataset.fate]}: ${dataset.fateReason}`,
            `- ${NEEDED[dataset.neededForBoot]}: ${dataset.neededForBootReason}`,
            `- ZFS mountpoint property: ${dataset.zfsMountpoint}`,
            ...(dataset.codes.length > 0 ? [`- findings: ${dataset.codes.join(', ')}`] : []),
          ].join('\n'),
        );
        item.contextValue = 'dataset';
        item.command = revealCommand(dataset.location, 'Reveal the dataset');
        return item;
      }
    }
  }

  /** The whole tree as the view shows it. */
  async snapshot(node?: Node): Promise<TreeSnapshot[]> {
    const children = await this.getChildren(node);
    return Promise.all(
      children.map(async (child) => {
        const item = this.getTreeItem(child);
        const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
        const tooltip = item.tooltip instanceof vscode.MarkdownString ? item.tooltip.value : item.tooltip;
        return {
          label,
          description: typeof item.description === 'string' ? item.description : undefined,
          tooltip,
          icon: item.iconPath instanceof vscode.ThemeIcon ? item.iconPath.id : undefined,
          command: item.command ? { command: item.command.command, arguments: item.command.arguments ?? [] } : undefined,
          children: await this.snapshot(child),
        };
      }),
    );
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}
