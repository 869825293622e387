/**
 * Helpers of the extension-host suite (test/vscode/suite/*.test.ts). These run inside a real VS Code extension host
 * (see test/vscode/README.md), on the temporary multi-root workspace that test/e2e/vscode.e2e.ts prepares: copies of
 * examples/seed, examples/broken-flake and examples/broken-classic, one workspace folder each.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';

export const EXTENSION_ID = 'nixos-ephemeral-root.nixos-ephemeral-root';
export const SOURCE = 'ephemeral-root';
export const TIMEOUT_MS = 20_000;

export function extension(): vscode.Extension<unknown> {
  const found = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(found, `extension ${EXTENSION_ID} is loaded`);
  return found;
}

/** The repository (the extension under development). */
export function repoRoot(): string {
  return extension().extensionPath;
}

/** A workspace folder by name (seed, broken-flake, broken-classic). */
export function folder(name: string): vscode.WorkspaceFolder {
  const found = vscode.workspace.workspaceFolders?.find((item) => item.name === name);
  assert.ok(found, `workspace folder ${name} (folders: ${(vscode.workspace.workspaceFolders ?? []).map((item) => item.name).join(', ')})`);
  return found;
}

export function fileIn(folderName: string, ...segments: string[]): vscode.Uri {
  return vscode.Uri.joinPath(folder(folderName).uri, ...segments);
}

/** Our diagnostics of a file (other extensions may add theirs). */
export function ours(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((diagnostic) => diagnostic.source === SOURCE);
}

export function codeOf(diagnostic: vscode.Diagnostic): string {
  const code = diagnostic.code;
  return typeof code === 'object' ? String(code.value) : String(code);
}

export function codes(diagnostics: vscode.Diagnostic[]): string[] {
  return diagnostics.map(codeOf).sort();
}

/**
 * Polls `probe` until it returns something other than undefined/false: right away, on every diagnostics change and
 * every 100 ms. Fails after `timeoutMs` with `what` and the last state `describe` gives.
 */
export async function waitFor<T>(what: string, probe: () => T | undefined | false, describe: () => unknown = () => undefined, timeoutMs = TIMEOUT_MS): Promise<T> {
  const first = probe();
  if (first !== undefined && first !== false) return first;
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = (error: Error | undefined, value?: T) => {
      if (done) return;
      done = true;
      clearInterval(interval);
      clearTimeout(timer);
      subscription.dispose();
      if (error) reject(error);
      else resolve(value as T);
    };
    const check = () => {
      try {
        const value = probe();
        if (value !== undefined && value !== false) finish(undefined, value);
      } catch (error) {
        finish(error instanceof Error ? error : new Error(String(error)));
      }
    };
    const subscription = vscode.languages.onDidChangeDiagnostics(check);
    const interval = setInterval(check, 100);
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last state: ${JSON.stringify(describe())}`)), timeoutMs);
  });
}

/** Waits until our diagnostics of `uri` satisfy `test`, and returns them. */
export function waitForDiagnostics(uri: vscode.Uri, what: string, test: (diagnostics: vscode.Diagnostic[]) => boolean, timeoutMs = TIMEOUT_MS): Promise<vscode.Diagnostic[]> {
  return waitFor(
    `${what} (${vscode.workspace.asRelativePath(uri)})`,
    () => {
      const diagnostics = ours(uri);
      return test(diagnostics) ? diagnostics : undefined;
    },
    () => ours(uri).map((diagnostic) => `${codeOf(diagnostic)}@${diagnostic.range.start.line}:${diagnostic.range.start.character}/${diagnostic.severity}`),
    timeoutMs,
  );
}

export async function open(uri: vscode.Uri, show = true): Promise<vscode.TextDocument> {
  const document = await vscode.workspace.openTextDocument(uri);
  if (show) await vscode.window.showTextDocument(document, { preview: false });
  return document;
}

/** The 0-based line of the first line of a file that contains `needle`. */
export function lineOf(uri: vscode.Uri, needle: string): number {
  const line = readFileSync(uri.fsPath, 'utf8').split('\n').findIndex((text) => text.includes(needle));
  assert.ok(line >= 0, `${uri.fsPath} contains ${needle}`);
  return line;
}

export interface CliDiagnostic {
  file: string;
  code: string;
  severity: 'error' | 'warning' | 'information' | 'hint';
  range: { start: { line: number; character: number } };
}

/** What `ephemeral-root check --format json` reports for one file of a folder: the same engine, as a reference. */
export async function cliDiagnostics(folderPath: string, file: string): Promise<CliDiagnostic[]> {
  const cli = path.join(repoRoot(), 'bin', 'ephemeral-root.js');
  // Asynchronous: a synchronous child process would block the extension host (VS Code then calls it unresponsive).
  // ELECTRON_RUN_AS_NODE: in desktop VS Code the extension host's execPath is Electron.
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [cli, 'check', '.', '--format', 'json'], { cwd: folderPath, encoding: 'utf8', timeout: 60_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } }, (error, out, err) => {
      // Exit code 1 means "error-severity findings", which is what a broken host has.
      if (error && error.code !== 1) reject(new Error(`ephemeral-root check failed (${error.code ?? error.signal}): ${err}`));
      else resolve(out);
    });
  });
  const relative = path.relative(folderPath, file);
  return (JSON.parse(stdout) as { diagnostics: CliDiagnostic[] }).diagnostics.filter((diagnostic) => diagnostic.file === relative);
}

/** The custom request of the server, through the client the extension exports. */
export async function fileInfo(uri: vscode.Uri): Promise<{ hosts: { name: string }[]; counts: Record<string, number> } | undefined> {
  const api = extension().exports as { client(): { sendRequest<T>(method: string, params: unknown): Promise<T> } | undefined };
  const client = api.client();
  assert.ok(client, 'the extension exports its language client');
  return client.sendRequest('ephemeralRoot/fileInfo', { uri: uri.toString() });
}

export type DomDump = Record<string, { ariaLabel: string | null; text: string; className: string }[]>;

/**
 * The launcher's screenshot/DOM protocol (test/vscode/README.md): a screenshot `<name>.png` and, with selectors, the
 * matching elements. Undefined when the run has no screenshot directory (EPHEMERAL_ROOT_SCREENSHOT_DIR).
 */
export async function ui(name: string, selectors?: string[], timeoutMs = 30_000): Promise<DomDump | undefined> {
  const dir = process.env.EPHEMERAL_ROOT_SCREENSHOT_DIR;
  if (!dir) return undefined;
  const base = path.join(dir, name);
  for (const suffix of ['.done', '.json', '.png']) rmSync(base + suffix, { force: true });
  writeFileSync(`${base}.request.tmp`, selectors ? JSON.stringify(selectors) : '');
  renameSync(`${base}.request.tmp`, `${base}.request`);
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(`${base}.done`)) {
    if (Date.now() > deadline) throw new Error(`no answer to the screenshot request ${name} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const status = readFileSync(`${base}.done`, 'utf8').trim();
  assert.equal(status, 'ok', `screenshot request ${name}: ${status}`);
  return selectors ? (JSON.parse(readFileSync(`${base}.json`, 'utf8')) as DomDump) : undefined;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
