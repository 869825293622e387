/**
 * The status bar item: which host(s) the active Nix file belongs to, and its counts of findings.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';

interface FileInfo {
  hosts: { name: string; kind: string; root: string }[];
  counts: { error: number; warning: number; information: number; hint: number };
}

export class HostStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('ephemeralRoot.status', vscode.StatusBarAlignment.Left, 10);
  private readonly subscriptions: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly client: () => LanguageClient | undefined) {
    this.item.name = 'Ephemeral Root';
    this.item.command = 'ephemeralRoot.showOutput';
    this.subscriptions.push(
      vscode.window.onDidChangeActiveTextEditor(() => this.refresh()),
      vscode.languages.onDidChangeDiagnostics(() => this.refresh()),
    );
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
      const label = hosts.length === 0 ? 'no host' : hosts.length <= 2 ? hosts.join(', ') : `${hosts.length} hosts`;
      const problems = info.counts.error + info.counts.warning;
      this.item.text = `$(server) ${label}${problems > 0 ? ` $(warning) ${problems}` : ' $(check)'}`;
      this.item.tooltip = new vscode.MarkdownString(
        [
          `**Ephemeral Root** — ${hosts.length ? `part of ${hosts.map((host) => `\`${host}\``).join(', ')}` : 'not part of a host'}`,
          '',
          `${info.counts.error} error(s), ${info.counts.warning} warning(s), ${info.counts.information + info.counts.hint} note(s) in this file`,
        ].join('\n'),
      );
      this.item.show();
    } catch {
      this.item.hide();
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.item.dispose();
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}
