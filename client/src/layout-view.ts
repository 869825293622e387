/**
 * The layout view in the explorer: per host, its pools and their datasets with the mount point, erased or
 * persisted, needed for boot and the findings that concern them; its btrfs file systems and their subvolumes with the
 * same marks; its tmpfs root; and "what survives a boot": every persisted path, key, `/var/lib/nixos` and the machine
 * id with what keeps it (a mount, a bind, a link or nothing). A click reveals the declaration. The data is the
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

interface LayoutSubvolume {
  name: string;
  declared: boolean | null;
  location?: LspLocation;
  mountPoints: string[];
  fate: 'erased' | 'persisted' | 'unknown';
  fateReason: string;
  neededForBoot: 'yes' | 'no' | 'unknown' | 'not-mounted';
  snapshotOf?: string;
  verdict: string;
  findings: Counts;
  codes: string[];
}

interface LayoutBtrfs {
  device?: string;
  declared: boolean;
  location?: LspLocation;
  findings: Counts;
  subvolumes: LayoutSubvolume[];
}

interface LayoutTmpfsRoot {
  location?: LspLocation;
  options: string[] | null;
  mode?: string;
  size?: string;
  worldWritable: boolean | null;
  verdict: string;
  findings: Counts;
  codes: string[];
}

interface LayoutSurvivalPath {
  path: string;
  what: string;
  location?: LspLocation;
  keptBy: 'mount' | 'bind' | 'link' | 'nothing' | 'unknown';
  keeper: string;
  survives: 'yes' | 'no' | 'unknown';
  atActivation?: 'yes' | 'no' | 'unknown';
}

interface LayoutSurvival {
  ephemeral: { kind: string; how: string; location?: LspLocation } | null;
  paths: LayoutSurvivalPath[];
}

interface LayoutHost {
  name: string;
  kind: string;
  root: string;
  findings: Counts;
  pools: LayoutPool[];
  /** Absent from servers older than the btrfs/tmpfs view. */
  btrfs?: LayoutBtrfs[];
  tmpfsRoot?: LayoutTmpfsRoot;
  survival?: LayoutSurvival;
}

interface LayoutResult {
  folders: { uri: string; hosts: LayoutHost[] }[];
}

type Node =
  | { kind: 'folder'; folder: vscode.WorkspaceFolder; hosts: LayoutHost[] }
  | { kind: 'host'; host: LayoutHost }
  | { kind: 'pool'; pool: LayoutPool; host: LayoutHost }
  | { kind: 'dataset'; dataset: LayoutDataset; pool: LayoutPool }
  | { kind: 'btrfs'; filesystem: LayoutBtrfs; host: LayoutHost; index: number }
  | { kind: 'subvolume'; subvolume: LayoutSubvolume; host: LayoutHost }
  | { kind: 'tmpfs'; tmpfs: LayoutTmpfsRoot; host: LayoutHost }
  | { kind: 'survival'; survival: LayoutSurvival; host: LayoutHost }
  | { kind: 'survival-path'; item: LayoutSurvivalPath; host: LayoutHost }
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
const KEPT_BY = { mount: 'kept by a mount', bind: 'kept by a bind mount', link: 'kept by a link', nothing: 'kept by nothing', unknown: 'kept by: unknown' } as const;
const SURVIVES = { yes: 'survives a boot', no: 'lost at every boot', unknown: 'survives a boot: unknown' } as const;

/** What a host node holds: its pools, btrfs file systems, tmpfs root and survival list. */
function hostChildren(host: LayoutHost): Node[] {
  return [
    ...host.pools.map((pool): Node => ({ kind: 'pool', pool, host })),
    ...(host.btrfs ?? []).map((filesystem, index): Node => ({ kind: 'btrfs', filesystem, host, index })),
    ...(host.tmpfsRoot ? [{ kind: 'tmpfs', tmpfs: host.tmpfsRoot, host } as Node] : []),
    ...(host.survival ? [{ kind: 'survival', survival: host.survival, host } as Node] : []),
  ];
}

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
    if (folders.length === 0) return 'Open a folder to see its layout.';
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
      // No pool, btrfs, tmpfs root or survival list anywhere: the view's welcome text says so.
      if (folders.length === 0) return [];
      if (folders.length === 1) return folders[0].hosts.map((host) => ({ kind: 'host', host }));
      return folders.map((entry) => ({ kind: 'folder', folder: entry.folder, hosts: entry.hosts }));
    }
    switch (node.kind) {
      case 'folder':
        return node.hosts.map((host) => ({ kind: 'host', host }));
      case 'host':
        return hostChildren(node.host);
      case 'pool':
        return node.pool.datasets.map((dataset) => ({ kind: 'dataset', dataset, pool: node.pool }));
      case 'btrfs':
        return node.filesystem.subvolumes.map((subvolume) => ({ kind: 'subvolume', subvolume, host: node.host }));
      case 'survival':
        return node.survival.paths.map((item) => ({ kind: 'survival-path', item, host: node.host }));
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
      case 'btrfs': {
        const { filesystem } = node;
        const label = filesystem.device ?? (filesystem.declared ? 'btrfs' : 'btrfs (not in disko)');
        const item = new vscode.TreeItem(label, filesystem.subvolumes.length > 0 ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
        item.id = `btrfs:${node.host.root}:${node.host.name}:${node.index}`;
        item.iconPath = new vscode.ThemeIcon('database');
        item.description = ['btrfs', plural(filesystem.subvolumes.length, 'subvolume'), filesystem.declared ? undefined : 'not in disko', findingsText(filesystem.findings)].filter(Boolean).join(' · ');
        item.tooltip = new vscode.MarkdownString(`**btrfs${filesystem.device ? ` on \`${filesystem.device}\`` : ''}**${filesystem.declared ? '' : '\n\nSubvolumes the host names that no disko btrfs declares.'}`);
        item.contextValue = 'btrfs';
        item.command = revealCommand(filesystem.location, 'Reveal the btrfs file system');
        return item;
      }
      case 'subvolume': {
        const { subvolume } = node;
        const item = new vscode.TreeItem(subvolume.name, vscode.TreeItemCollapsibleState.None);
        item.id = `subvolume:${node.host.root}:${node.host.name}:${subvolume.name}`;
        item.iconPath = new vscode.ThemeIcon(subvolume.snapshotOf ? 'history' : subvolume.fate === 'erased' ? 'flame' : subvolume.fate === 'persisted' ? 'lock' : 'question');
        const where = subvolume.mountPoints.length > 0 ? subvolume.mountPoints.join(', ') : undefined;
        const fate = subvolume.snapshotOf ? `blank snapshot of ${subvolume.snapshotOf}` : FATE[subvolume.fate];
        const needed = subvolume.snapshotOf ? undefined : NEEDED[subvolume.neededForBoot];
        item.description = [where, fate, needed, subvolume.declared === false ? 'not in disko' : undefined, findingsText(subvolume.findings)].filter(Boolean).join(' · ');
        item.tooltip = new vscode.MarkdownString(
          [`**btrfs subvolume \`${subvolume.name}\`** — ${subvolume.verdict}`, '', `- ${FATE[subvolume.fate]}: ${subvolume.fateReason}`, ...(subvolume.codes.length > 0 ? [`- findings: ${subvolume.codes.join(', ')}`] : [])].join('\n'),
        );
        item.contextValue = 'subvolume';
        item.command = revealCommand(subvolume.location, 'Reveal the subvolume');
        return item;
      }
      case 'tmpfs': {
        const { tmpfs } = node;
        const item = new vscode.TreeItem('/ (tmpfs)', vscode.TreeItemCollapsibleState.None);
        item.id = `tmpfs:${node.host.root}:${node.host.name}`;
        item.iconPath = new vscode.ThemeIcon('flame');
        const mode = tmpfs.options === null ? 'options computed' : tmpfs.mode !== undefined ? `mode=${tmpfs.mode}` : 'no mode= (1777)';
        item.description = ['erased', mode, tmpfs.size, findingsText(tmpfs.findings)].filter(Boolean).join(' · ');
        item.tooltip = new vscode.MarkdownString(
          [`**tmpfs \`/\`** — ${tmpfs.verdict}`, '', `- options: ${tmpfs.options === null ? 'computed' : tmpfs.options.join(', ') || 'none'}`, ...(tmpfs.worldWritable ? ['- group or others may write to `/`'] : []), ...(tmpfs.codes.length > 0 ? [`- findings: ${tmpfs.codes.join(', ')}`] : [])].join('\n'),
        );
        item.contextValue = 'tmpfs';
        item.command = revealCommand(tmpfs.location, 'Reveal the tmpfs root');
        return item;
      }
      case 'survival': {
        const { survival } = node;
        const lost = survival.paths.filter((path) => path.survives === 'no').length;
        const item = new vscode.TreeItem('What survives a boot', survival.paths.length > 0 ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
        item.id = `survival:${node.host.root}:${node.host.name}`;
        item.iconPath = new vscode.ThemeIcon('history');
        item.description = [survival.ephemeral ? `root ${survival.ephemeral.kind}, erased` : 'root erased: unknown', lost > 0 ? `${lost} lost` : undefined].filter(Boolean).join(' · ');
        item.tooltip = new vscode.MarkdownString(survival.ephemeral ? `The root ${survival.ephemeral.how}.` : 'Whether the root is erased at boot is not known.');
        item.contextValue = 'survival';
        item.command = revealCommand(survival.ephemeral?.location, 'Reveal what erases the root');
        return item;
      }
      case 'survival-path': {
        const entry = node.item;
        const item = new vscode.TreeItem(entry.path, vscode.TreeItemCollapsibleState.None);
        item.id = `survival-path:${node.host.root}:${node.host.name}:${entry.path}`;
        item.iconPath = new vscode.ThemeIcon(entry.survives === 'yes' ? 'lock' : entry.survives === 'no' ? 'flame' : 'question');
        item.description = [KEPT_BY[entry.keptBy], SURVIVES[entry.survives], entry.atActivation === 'no' ? 'not there when users are created' : undefined].filter(Boolean).join(' · ');
        item.tooltip = new vscode.MarkdownString(
          [`**\`${entry.path}\`** · ${entry.what}`, '', `- ${KEPT_BY[entry.keptBy]}: ${entry.keeper}`, `- ${SURVIVES[entry.survives]}`, ...(entry.atActivation ? [`- there when activation creates users: ${entry.atActivation}`] : [])].join('\n'),
        );
        item.contextValue = 'survival-path';
        item.command = revealCommand(entry.location, 'Reveal where the path is named');
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
