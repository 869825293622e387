/**
 * Cross-file analysis while editing: an unsaved edit in disko.nix re-checks configuration.nix, undo clears the finding,
 * and files changed on disk behind the editor's back (not open) are re-checked through the file watcher.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { codeOf, fileIn, lineOf, open, ours, waitForDiagnostics } from './helpers';

const MISMATCH = 'rollback-snapshot-mismatch';
const has = (code: string) => (diagnostics: vscode.Diagnostic[]) => diagnostics.some((diagnostic) => codeOf(diagnostic) === code);
const lacks = (code: string) => (diagnostics: vscode.Diagnostic[]) => !diagnostics.some((diagnostic) => codeOf(diagnostic) === code);

suite('editing', () => {
  test('renaming the snapshot in disko.nix (unsaved) flags the rollback line of configuration.nix; undo clears it', async () => {
    const configuration = fileIn('seed', 'configuration.nix');
    const disko = fileIn('seed', 'disko.nix');
    await open(configuration);
    const document = await open(disko);
    assert.equal(vscode.window.activeTextEditor?.document.uri.toString(), disko.toString());
    // The seed's one note (its machine id is not kept) is there before the edit and after the undo.
    const seedCodes = () => ours(configuration).map(codeOf);
    await waitForDiagnostics(configuration, 'the seed as bundled', (diagnostics) => diagnostics.some((diagnostic) => codeOf(diagnostic) === 'machine-id-not-persisted'));
    assert.deepEqual(seedCodes(), ['machine-id-not-persisted']);

    // The snapshot that the hook creates: the last `@start` on the postCreateHook line.
    const line = lineOf(disko, 'postCreateHook');
    const column = document.lineAt(line).text.lastIndexOf('@start') + 1;
    assert.ok(column > 0);
    const edit = new vscode.WorkspaceEdit();
    edit.replace(disko, new vscode.Range(line, column, line, column + 'start'.length), 'empty');
    assert.ok(await vscode.workspace.applyEdit(edit), 'the edit applies');
    assert.ok(document.isDirty, 'disko.nix is edited, not saved');
    assert.equal(readFileSync(disko.fsPath, 'utf8').includes('@empty'), false, 'nothing was written to disk');

    const flagged = await waitForDiagnostics(configuration, `${MISMATCH} in configuration.nix`, has(MISMATCH));
    const mismatch = flagged.find((diagnostic) => codeOf(diagnostic) === MISMATCH)!;
    assert.equal(mismatch.range.start.line, lineOf(configuration, 'zfs rollback'), 'on the rollback line');
    assert.match(mismatch.message, /rpool\/nixos\/empty@start/);
    assert.equal(mismatch.relatedInformation?.[0]?.location.uri.toString(), disko.toString(), 'related: the hook in disko.nix');

    // Undo, as the user would (Ctrl+Z in disko.nix).
    await vscode.window.showTextDocument(document);
    await vscode.commands.executeCommand('undo');
    await waitForDiagnostics(configuration, `${MISMATCH} cleared`, lacks(MISMATCH));
    assert.equal(document.isDirty, false, 'undo restores the saved text');
    assert.deepEqual(seedCodes(), ['machine-id-not-persisted']);
  });

  test('a file changed on disk (not open) is re-checked', async () => {
    // tern's disko.nix is never opened in this suite: only the file watcher can tell the server.
    const configuration = fileIn('broken-flake', 'hosts', 'tern', 'configuration.nix');
    const disko = fileIn('broken-flake', 'hosts', 'tern', 'disko.nix');
    assert.ok(!vscode.workspace.textDocuments.some((document) => document.uri.toString() === disko.toString()), 'disko.nix is not open');
    await waitForDiagnostics(configuration, MISMATCH, has(MISMATCH));
    const original = readFileSync(disko.fsPath, 'utf8');
    assert.ok(original.includes('zroot/local/root@empty'));
    try {
      // The hook now creates the snapshot that the rollback names (the way `git checkout` would change it).
      writeFileSync(disko.fsPath, original.replace('zroot/local/root@empty', 'zroot/local/root@blank'));
      await waitForDiagnostics(configuration, `${MISMATCH} gone after the change on disk`, lacks(MISMATCH));
    } finally {
      writeFileSync(disko.fsPath, original);
    }
    await waitForDiagnostics(configuration, `${MISMATCH} back after restoring the file`, has(MISMATCH));

    // A new file with a syntax error, created on disk, is checked; deleting it clears its diagnostics.
    const extra = fileIn('broken-flake', 'hosts', 'tern', 'extra.nix');
    try {
      writeFileSync(extra.fsPath, '{ networking.domain = "example.org" }\n');
      await waitForDiagnostics(extra, 'syntax-error in a new file', has('syntax-error'));
    } finally {
      rmSync(extra.fsPath, { force: true });
    }
    await waitForDiagnostics(extra, 'no diagnostics for the deleted file', (diagnostics) => diagnostics.length === 0);
  });
});
