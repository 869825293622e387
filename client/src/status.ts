/**
 * The status bar item: which host(s) the active Nix file belongs to, and its counts of findings. Its icon is that of
 * the highest severity found (error, warning, note, or a check mark); a click lists the findings of those hosts
 * across all their files (`ephemeralRoot.showHostFindings`), and opens the one picked.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';

interface FileInfo {
  hosts: { name: string; kind: string; root: string }[];
  counts: { error: number; warning: number; information: number; hint: number };
  /** What stayed unknown on those hosts, by cause (rules are silent about it; `--explain` lists each one). */
  unknowns?: { cause: string; count: number }[];
  /** The evaluation-backed mode (`ephemeralRoot.evaluate`) for those hosts. */
  evaluation?: { mode: string; state: 'off' | 'untrusted' | 'idle' | 'running' | 'fault'; host?: string; evaluated: string[]; fault?: string };
}

/** What the status bar adds about the evaluation-backed mode: a spinner while Nix runs, the state in the tooltip. */
export function evaluationStatus(evaluation: FileInfo['evaluation']): { suffix: string; lines: string[] } {
  if (!evaluation || evaluation.state === 'off') return { suffix: '', lines: [] };
  switch (evaluation.state) {
    case 'running':
      return { suffix: ' $(sync~spin)', lines: ['', `Evaluating \`${evaluation.host}\` with nix in the background…`] };
    case 'fault':
      return { suffix: ' $(circle-slash)', lines: ['', `Evaluation-backed mode: ${evaluation.fault}`] };
    case 'untrusted':
      return { suffix: '', lines: ['', 'Evaluation-backed mode: off in this untrusted workspace.'] };
    default:
      return {
        suffix: '',
        lines: evaluation.evaluated.length > 0 ? ['', `Unknowns filled by nix eval for ${evaluation.evaluated.map((host) => `\`${host}\``).join(', ')} (cached until a file changes).`] : [],
      };
  }
}

/** The tooltip's lines about what could not be decided, largest cause first. */
export function unknownLines(unknowns: FileInfo['unknowns']): string[] {
  const total = (unknowns ?? []).reduce((sum, group) => sum + group.count, 0);
  if (total === 0) return [];
  return ['', `${total} thing(s) could not be decided statically (rules stay silent about them):`, ...(unknowns ?? []).map((group) => `- ${group.cause}: ${group.count}`)];
}

type Counts = FileInfo['counts'];

/** The codicon of the highest severity among the counts: what the status bar shows first. */
export function severityIcon(counts: Counts): string {
  if (counts.error > 0) return '$(error)';
  if (counts.warning > 0) return '$(warning)';
  if (counts.information + counts.hint > 0) return '$(info)';
  return '$(check)';
}

const SEVERITY_ICON: Record<vscode.DiagnosticSeverity, string> = {
  [vscode.DiagnosticSeverity.Error]: '$(error)',
  [vscode.DiagnosticSeverity.Warning]: '$(warning)',
  [vscode.DiagnosticSeverity.Information]: '$(info)',
  [vscode.DiagnosticSeverity.Hint]: '$(lightbulb)',
};

export const SHOW_HOST_FINDINGS = 'ephemeralRoot.showHostFindings';

export class HostStatus implements vscode.Disposable {
  /** The hosts of the active file, as last shown. */
  private hosts: string[] = [];

  private readonly item = vscode.window.createStatusBarItem('ephemeralRoot.status', vscode.StatusBarAlignment.Left, 10);
  private readonly subscriptions: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly client: () => LanguageClient | undefined) {
    this.item.name = 'Ephemeral Root';
    this.item.command = SHOW_HOST_FINDINGS;
    this.subscriptions.push(
      vscode.commands.registerCommand(SHOW_HOST_FINDINGS, () => this.showHostFindings()),
      vscode.window.onDidChangeActiveTextEditor(() => this.refresh()),
      vscode.languages.onDidChangeDiagnostics(() => this.refresh()),
    );
  }

  /** Refreshes when the server reports progress of the evaluation-backed mode (started, host, done). */
  watch(client: LanguageClient): void {
    this.subscriptions.push(client.onNotification('ephemeralRoot/evaluation', () => this.refresh()));
  }

  /** Refreshes soon; bursts of diagnostics changes are coalesced. */
  refresh(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.update(), 100);
  }

  private async update(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const client = this.client();
    if (!editor || editor.document.languageId !== 'nix' || !client?.isRunning()) {
      this.item.hide();
      return;
    }
    try {
      const info = await client.sendRequest<FileInfo | undefined>('ephemeralRoot/fileInfo', { uri: editor.document.uri.toString() });
      if (!info) {
        this.item.hide();
        return;
      }
      const hosts = info.hosts.map((host) => host.name);
      this.hosts = hosts;
      const label = hosts.length === 0 ? 'no host' : hosts.length <= 2 ? hosts.join(', ') : `${hosts.length} hosts`;
      const findings = info.counts.error + info.counts.warning + info.counts.information + info.counts.hint;
      const evaluation = evaluationStatus(info.evaluation);
      this.item.text = `$(server) ${label} ${severityIcon(info.counts)}${findings > 0 ? ` ${findings}` : ''}${evaluation.suffix}`;
      this.item.tooltip = new vscode.MarkdownString(
        [
          `**Ephemeral Root** — ${hosts.length ? `part of ${hosts.map((host) => `\`${host}\``).join(', ')}` : 'not part of a host'}`,
          '',
          `${info.counts.error} error(s), ${info.counts.warning} warning(s), ${info.counts.information + info.counts.hint} note(s) in this file`,
          ...unknownLines(info.unknowns),
          ...evaluation.lines,
        ].join('\n'),
      );
      this.item.show();
    } catch {
      this.item.hide();
    }
  }

  /**
   * Lists our findings in every file that belongs to one of the active file's hosts (the server tells which host a
   * file belongs to), highest severity first; picking one opens it.
   */
  private async showHostFindings(): Promise<void> {
    const client = this.client();
    if (!client?.isRunning()) return;
    const wanted = new Set(this.hosts);
    const items: (vscode.QuickPickItem & { uri: vscode.Uri; range: vscode.Range; severity: vscode.DiagnosticSeverity })[] = [];
    for (const [uri, diagnostics] of vscode.languages.getDiagnostics()) {
      const ours = diagnostics.filter((diagnostic) => diagnostic.source === 'ephemeral-root');
      if (ours.length === 0) continue;
      const info = await client.sendRequest<FileInfo | undefined>('ephemeralRoot/fileInfo', { uri: uri.toString() }).catch(() => undefined);
      const hosts = info?.hosts.map((host) => host.name) ?? [];
      if (wanted.size > 0 ? !hosts.some((host) => wanted.has(host)) : hosts.length > 0) continue;
      for (const diagnostic of ours) {
        items.push({
          label: `${SEVERITY_ICON[diagnostic.severity]} ${diagnostic.message.split('\n')[0]}`,
          description: `${vscode.workspace.asRelativePath(uri)}:${diagnostic.range.start.line + 1}`,
          detail: typeof diagnostic.code === 'object' ? String(diagnostic.code.value) : diagnostic.code !== undefined ? String(diagnostic.code) : undefined,
          uri,
          range: diagnostic.range,
          severity: diagnostic.severity,
        });
      }
    }
    items.sort((a, b) => a.severity - b.severity);
    const title = wanted.size > 0 ? `Findings of ${[...wanted].join(', ')}` : 'Findings of files outside every host';
    if (items.length === 0) {
      void vscode.window.showInformationMessage(`${title}: none.`);
      return;
    }
    const picked = await vscode.window.showQuickPick(items, { title, matchOnDescription: true, matchOnDetail: true });
    if (picked) await vscode.window.showTextDocument(picked.uri, { selection: picked.range });
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.item.dispose();
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}
