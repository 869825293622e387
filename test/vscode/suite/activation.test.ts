/**
 * The extension in a real VS Code: it activates on Nix files, registers its commands, owns only an id-only `nix`
 * language (no grammar of nix-ide's), and its server answers and survives a restart.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { EXTENSION_ID, codes, extension, fileIn, fileInfo, open, ours, waitFor, waitForDiagnostics } from './helpers';

suite('activation and commands', () => {
  test('the extension activates on a Nix file, which is in the `nix` language', async () => {
    const ext = extension();
    const manifest = ext.packageJSON as { activationEvents: string[]; contributes: { languages: { id: string; configuration?: string }[]; grammars: { language?: string; scopeName: string }[] } };
    assert.ok(manifest.activationEvents.includes('onLanguage:nix'));
    // The `nix` language with a language configuration of ours (brackets, comments, indentation on Enter) and no grammar
    // of its own for `nix` (nix-ide's stays in charge of highlighting where it is installed).
    assert.deepEqual(manifest.contributes.languages.map((language) => [language.id, language.configuration]), [['nix', './language-configuration.json']]);
    assert.ok(manifest.contributes.grammars.every((grammar) => grammar.language === undefined && grammar.scopeName !== 'source.nix'));

    const document = await open(fileIn('broken-flake', 'hosts', 'tern', 'configuration.nix'));
    assert.equal(document.languageId, 'nix');
    await waitFor(`${EXTENSION_ID} to be active`, () => ext.isActive);
  });

  test('its commands exist and run', async () => {
    const registered = await vscode.commands.getCommands(true);
    const manifest = extension().packageJSON as { contributes: { commands: { command: string; category: string }[] } };
    const contributed = manifest.contributes.commands.map((item) => item.command);
    for (const command of ['ephemeralRoot.restartServer', 'ephemeralRoot.showOutput']) assert.ok(contributed.includes(command), `package.json contributes ${command}`);
    // Every command of the manifest is registered by the activated extension, named and categorised as DESIGN.md says.
    for (const item of manifest.contributes.commands) {
      assert.ok(registered.includes(item.command), `command ${item.command} is registered`);
      assert.match(item.command, /^ephemeralRoot\.[a-z][A-Za-z]*$/);
      assert.equal(item.category, 'Ephemeral Root', `category of ${item.command}`);
    }
    await vscode.commands.executeCommand('ephemeralRoot.showOutput');
  });

  test('the server answers ephemeralRoot/fileInfo with the host of a file', async () => {
    const uri = fileIn('broken-flake', 'hosts', 'tern', 'configuration.nix');
    await waitForDiagnostics(uri, 'diagnostics of tern', (diagnostics) => diagnostics.length > 0);
    const info = await fileInfo(uri);
    assert.ok(info, 'fileInfo answered');
    assert.deepEqual(info.hosts.map((host) => host.name), ['tern']);
    assert.equal(info.counts.error + info.counts.warning + info.counts.information + info.counts.hint, ours(uri).length);
  });

  test('Restart Server restarts the server, and diagnostics come back', async () => {
    const uri = fileIn('broken-flake', 'hosts', 'tern', 'configuration.nix');
    const before = codes(await waitForDiagnostics(uri, 'diagnostics of tern', (diagnostics) => diagnostics.length > 0));
    await vscode.commands.executeCommand('ephemeralRoot.restartServer');
    const after = codes(await waitForDiagnostics(uri, 'the same diagnostics after the restart', (diagnostics) => diagnostics.length === before.length));
    assert.deepEqual(after, before);
    assert.ok((await fileInfo(uri))?.hosts.length, 'the new server answers');
  });
});
