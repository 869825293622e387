/**
 * A minimal LSP client over stdio for tests and the benchmark: starts `ephemeral-root-ls --stdio` as an editor would
 * and records every published diagnostic with the time it arrived.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import {
  type Diagnostic,
  type MessageConnection,
  type PublishDiagnosticsParams,
  StreamMessageReader,
  StreamMessageWriter,
  createProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import { REPO_ROOT } from './engine';

export interface Published {
  uri: string;
  diagnostics: Diagnostic[];
  at: number;
  /** The document version the diagnostics were computed for, when the server says. */
  version?: number;
}

export class LspClient {
  readonly process: ChildProcess;
  readonly connection: MessageConnection;
  readonly published: Published[] = [];
  private waiters: { test: (item: Published) => boolean; resolve: (item: Published) => void }[] = [];
  settings: Record<string, unknown> = {};
  stderr = '';

  constructor(args: string[] = ['--stdio']) {
    // Executed as an editor would run the installed command, so the flags on its first line apply.
    this.process = spawn(path.join(REPO_ROOT, 'bin', 'ephemeral-root-ls.js'), args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.process.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    // The server may exit while a message is still being written (after `exit`); that is not an error here.
    this.process.stdin!.on('error', () => undefined);
    this.connection = createProtocolConnection(messageReader(this.process.stdout!), new StreamMessageWriter(this.process.stdin!)) as unknown as MessageConnection;
    this.connection.onNotification('textDocument/publishDiagnostics', (params: PublishDiagnosticsParams) => {
      const item: Published = { uri: params.uri, diagnostics: params.diagnostics, at: performance.now(), version: params.version };
      this.published.push(item);
      this.latestByUri.set(item.uri, item.diagnostics);
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.test(item)) return true;
        waiter.resolve(item);
        return false;
      });
    });
    this.connection.onRequest('workspace/configuration', (params: { items: { section?: string }[] }) => params.items.map((item) => (item.section ? (this.settings[item.section] ?? null) : null)));
    this.connection.onRequest('client/registerCapability', () => null);
    this.connection.onRequest('window/showDocument', () => ({ success: true }));
    this.connection.onNotification('window/logMessage', () => undefined);
    this.connection.listen();
  }

  /** Initializes with one workspace folder, or several (a multi-root workspace). */
  async initialize(folder: string | string[]): Promise<void> {
    const folders = Array.isArray(folder) ? folder : [folder];
    await this.connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: uri(folders[0]),
      workspaceFolders: folders.map((item) => ({ uri: uri(item), name: path.basename(item) })),
      capabilities: {
        workspace: { configuration: true, workspaceFolders: true, didChangeConfiguration: { dynamicRegistration: true }, didChangeWatchedFiles: { dynamicRegistration: true } },
        textDocument: { publishDiagnostics: { relatedInformation: true } },
      },
    });
    await this.connection.sendNotification('initialized', {});
  }

  /** The next publication for `fileUri` (after now) that satisfies `test`. */
  next(fileUri: string, test: (diagnostics: Diagnostic[]) => boolean = () => true, timeoutMs = 20_000): Promise<Published> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching diagnostics for ${fileUri} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        test: (item) => item.uri === fileUri && test(item.diagnostics),
        resolve: (item) => {
          clearTimeout(timer);
          resolve(item);
        },
      });
    });
  }

  private readonly latestByUri = new Map<string, Diagnostic[]>();

  /** The latest diagnostics published for a file. */
  latest(fileUri: string): Diagnostic[] {
    return this.latestByUri.get(fileUri) ?? [];
  }

  /**
   * Forgets the history of publications (the latest per file stays): a long run (the fuzzer's 100,000 edits) would
   * otherwise hold every publication, and this process's own garbage collection pauses would count as the server's
   * response time.
   */
  forgetHistory(): void {
    this.published.length = 0;
    this.stderr = this.stderr.slice(-10_000);
  }

  open(filePath: string, text: string, version = 1): void {
    void this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri: uri(filePath), languageId: 'nix', version, text } });
  }

  change(filePath: string, version: number, changes: { range?: { start: { line: number; character: number }; end: { line: number; character: number } }; text: string }[]): void {
    void this.connection.sendNotification('textDocument/didChange', { textDocument: { uri: uri(filePath), version }, contentChanges: changes });
  }

  async shutdown(): Promise<void> {
    const exited = new Promise<void>((resolve) => {
      if (this.process.exitCode !== null) resolve();
      else this.process.once('exit', () => resolve());
    });
    try {
      await Promise.race([this.connection.sendRequest('shutdown'), new Promise((resolve) => setTimeout(resolve, 2000))]);
      await this.connection.sendNotification('exit');
    } catch {
      // The server may already be gone.
    }
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000))]);
    this.connection.dispose();
    if (this.process.exitCode === null) this.process.kill();
  }
}

/**
 * A reader of the server's messages that never arms vscode-jsonrpc's partial-message timer. That timer re-arms itself
 * for as long as a message stays incomplete, and disposing the reader does not stop it: a server killed in the middle
 * of a message (the 20,000-line host's at the end of its benchmark) kept `npm run bench` alive after its last figure
 * was written. Nothing here listens for partial-message events.
 */
export function messageReader(readable: NodeJS.ReadableStream): StreamMessageReader {
  const reader = new StreamMessageReader(readable);
  reader.partialMessageTimeout = 0;
  return reader;
}

export function uri(filePath: string): string {
  return pathToFileURL(filePath).toString();
}
