/**
 * Diagnostics as VS Code shows them (`vscode.languages.getDiagnostics`): none for the correct seed host, the expected
 * codes for a broken one, with documentation links and related locations across files, also for files not open.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { cliDiagnostics, codeOf, codes, fileIn, fileInfo, folder, lineOf, open, ours, waitForDiagnostics } from './helpers';

const SEVERITY: Record<string, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  information: vscode.DiagnosticSeverity.Information,
  hint: vscode.DiagnosticSeverity.Hint,
};

suite('diagnostics', () => {
  test('the seed example opens with no diagnostics of ours but one note: its machine id is not kept', async () => {
    const files = ['configuration.nix', 'disko.nix', 'flake.nix'].map((name) => fileIn('seed', name));
    for (const uri of files) await open(uri);
    // The seed's rollback is right; what it does not keep is /etc/machine-id (one information finding on the file that
    // defines the ephemeral root). Ask the server, which analyses the folder to answer.
    for (const uri of files) {
      const info = await fileInfo(uri);
      assert.ok(info, `fileInfo for ${uri.fsPath}`);
      assert.deepEqual(info.hosts.map((host) => host.name), ['seed'], `${vscode.workspace.asRelativePath(uri)} belongs to host seed`);
      const notes = uri.fsPath.endsWith('configuration.nix') ? 1 : 0;
      assert.deepEqual(info.counts, { error: 0, warning: 0, information: notes, hint: 0 }, vscode.workspace.asRelativePath(uri));
    }
    // Meanwhile the broken folders have been analysed and published (so the server did run over the workspace).
    await waitForDiagnostics(fileIn('broken-flake', 'hosts', 'tern', 'configuration.nix'), 'diagnostics of the broken host', (diagnostics) => diagnostics.length > 0);
    for (const [uri, diagnostics] of vscode.languages.getDiagnostics()) {
      if (!uri.fsPath.startsWith(folder('seed').uri.fsPath)) continue;
      const expected = uri.fsPath.endsWith('configuration.nix') ? ['machine-id-not-persisted'] : [];
      assert.deepEqual(diagnostics.filter((diagnostic) => diagnostic.source === 'ephemeral-root').map(codeOf), expected, `the diagnostics of ours in ${uri.fsPath}`);
    }
  });

  test('a broken host shows the expected codes', async () => {
    const uri = fileIn('broken-flake', 'hosts', 'tern', 'configuration.nix');
    await open(uri);
    const expected = await cliDiagnostics(folder('broken-flake').uri.fsPath, uri.fsPath);
    // The example's known problems (docs and README talk about them), whatever else the rules find.
    for (const code of ['rollback-snapshot-mismatch', 'rollback-missing-r', 'rollback-not-before-mount', 'import-unit-name-mismatch']) {
      assert.ok(expected.some((diagnostic) => diagnostic.code === code), `the CLI reports ${code} for tern`);
    }
    const diagnostics = await waitForDiagnostics(uri, 'the CLI\'s diagnostics', (items) => items.length === expected.length);
    assert.deepEqual(codes(diagnostics), expected.map((diagnostic) => diagnostic.code).sort());
    assert.deepEqual(
      diagnostics.map((diagnostic) => `${codeOf(diagnostic)}@${diagnostic.range.start.line}:${diagnostic.range.start.character}/${diagnostic.severity}`).sort(),
      expected.map((diagnostic) => `${diagnostic.code}@${diagnostic.range.start.line}:${diagnostic.range.start.character}/${SEVERITY[diagnostic.severity]}`).sort(),
      'same positions and severities as the CLI',
    );

    const mismatch = diagnostics.find((diagnostic) => codeOf(diagnostic) === 'rollback-snapshot-mismatch')!;
    assert.equal(mismatch.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(mismatch.range.start.line, lineOf(uri, 'zfs rollback'));
    const code = mismatch.code as { value: string; target: vscode.Uri };
    assert.match(code.target.toString(), /\/docs\/rules\/rollback-snapshot-mismatch\.md$/, 'the code links to its documentation');
    const related = mismatch.relatedInformation ?? [];
    const disko = fileIn('broken-flake', 'hosts', 'tern', 'disko.nix');
    assert.ok(related.some((item) => item.location.uri.toString() === disko.toString() && item.location.range.start.line === lineOf(disko, 'postCreateHook')), 'related information points at the hook in disko.nix');
  });

  test('files of the host that are not open get their diagnostics too', async () => {
    const disko = fileIn('broken-flake', 'hosts', 'tern', 'disko.nix');
    assert.ok(!vscode.workspace.textDocuments.some((document) => document.uri.toString() === disko.toString()), 'disko.nix is not open');
    const diagnostics = await waitForDiagnostics(disko, 'snapshot-hook-not-idempotent', (items) => items.some((item) => codeOf(item) === 'snapshot-hook-not-idempotent'));
    assert.equal(diagnostics.find((item) => codeOf(item) === 'snapshot-hook-not-idempotent')!.severity, vscode.DiagnosticSeverity.Warning);
    // And the other broken folder of this multi-root workspace is analysed on its own.
    const classic = await waitForDiagnostics(fileIn('broken-classic', 'configuration.nix'), 'broken-classic diagnostics', (items) => items.length > 0);
    assert.ok(codes(classic).includes('hostid-missing'), `broken-classic: ${codes(classic).join(', ')}`);
    assert.equal(ours(fileIn('broken-classic', 'configuration.nix')).length, classic.length);
  });
});
