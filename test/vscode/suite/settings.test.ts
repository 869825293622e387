/**
 * `ephemeralRoot.rules.<code>.severity`, set on one workspace folder, takes effect without a restart, and only there.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { codeOf, fileIn, folder, waitForDiagnostics } from './helpers';

const CODE = 'snapshot-hook-not-idempotent';
const KEY = `rules.${CODE}.severity`;

function severityOf(diagnostics: vscode.Diagnostic[]): vscode.DiagnosticSeverity | undefined {
  return diagnostics.find((diagnostic) => codeOf(diagnostic) === CODE)?.severity;
}

suite('settings', () => {
  // Both broken examples have an unguarded snapshot hook (a warning by default).
  const flakeDisko = () => fileIn('broken-flake', 'hosts', 'tern', 'disko.nix');
  const classicDisko = () => fileIn('broken-classic', 'disko.nix');
  const configuration = () => vscode.workspace.getConfiguration('ephemeralRoot', folder('broken-flake').uri);

  suiteTeardown(async () => {
    await configuration().update(KEY, undefined, vscode.ConfigurationTarget.WorkspaceFolder);
    // The folder's .vscode/settings.json is empty again: remove it, so that the folder looks as before.
    const settings = vscode.Uri.joinPath(folder('broken-flake').uri, '.vscode', 'settings.json');
    if (existsSync(settings.fsPath) && Object.keys(JSON.parse(readFileSync(settings.fsPath, 'utf8') || '{}') as object).length === 0) {
      rmSync(path.dirname(settings.fsPath), { recursive: true, force: true });
    }
  });

  test(`${CODE}.severity on the broken-flake folder applies at once, and not to the other folders`, async () => {
    await waitForDiagnostics(flakeDisko(), `${CODE} as a warning`, (items) => severityOf(items) === vscode.DiagnosticSeverity.Warning);
    await waitForDiagnostics(classicDisko(), `${CODE} as a warning`, (items) => severityOf(items) === vscode.DiagnosticSeverity.Warning);

    await configuration().update(KEY, 'error', vscode.ConfigurationTarget.WorkspaceFolder);
    assert.equal(vscode.workspace.getConfiguration('ephemeralRoot', folder('broken-flake').uri).inspect(KEY)?.workspaceFolderValue, 'error');
    await waitForDiagnostics(flakeDisko(), `${CODE} as an error`, (items) => severityOf(items) === vscode.DiagnosticSeverity.Error);

    await configuration().update(KEY, 'off', vscode.ConfigurationTarget.WorkspaceFolder);
    await waitForDiagnostics(flakeDisko(), `${CODE} turned off`, (items) => severityOf(items) === undefined);
    // The folder-level setting is the broken-flake folder's alone.
    assert.equal(severityOf((await waitForDiagnostics(classicDisko(), CODE, (items) => severityOf(items) !== undefined))), vscode.DiagnosticSeverity.Warning);

    await configuration().update(KEY, undefined, vscode.ConfigurationTarget.WorkspaceFolder);
    await waitForDiagnostics(flakeDisko(), `${CODE} back to a warning`, (items) => severityOf(items) === vscode.DiagnosticSeverity.Warning);
  });
});
