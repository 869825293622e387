/**
 * Quick fixes and snippets in the real editor: the rollback quick fix through `vscode.executeCodeActionProvider` and
 * `workspace.applyEdit` turns a host without a rollback into one with no findings; a snippet inserted with
 * `insertSnippet` followed by the offered fix gives a persisted dataset with no findings. Also takes the quick-fix
 * menu screenshot for the README when the screenshot protocol is on.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { codeOf, fileIn, folder, open, ours, repoRoot, sleep, ui, waitForDiagnostics } from './helpers';

const DISKO = `{
  disko.devices = {
    disk.main = {
      type = "disk";
      device = "/dev/vda";
      content = {
        type = "gpt";
        partitions = {
          ESP = {
            size = "512M";
            type = "EF00";
            content = { type = "filesystem"; format = "vfat"; mountpoint = "/boot"; };
          };
          zfs = {
            size = "100%";
            content = { type = "zfs"; pool = "rpool"; };
          };
        };
      };
    };
    zpool.rpool = {
      type = "zpool";
      rootFsOptions.canmount = "off";
      datasets = {
        local = {
          type = "zfs_fs";
          options.mountpoint = "none";
        };
        "local/root" = {
          type = "zfs_fs";
          options.mountpoint = "legacy";
          mountpoint = "/";
          postCreateHook = "zfs list -t snapshot -H -o name | grep -qxF 'rpool/local/root@blank' || zfs snapshot rpool/local/root@blank";
        };
        "local/nix" = {
          type = "zfs_fs";
          options.mountpoint = "legacy";
          mountpoint = "/nix";
        };
      };
    };
  };
}
`;

const CONFIGURATION = `{ pkgs, ... }:
{
  imports = [ ./disko.nix ];

  networking.hostName = "plover";
  networking.hostId = "5c3a9e01";
  environment.etc."machine-id".text = "5c3a9e015c3a9e015c3a9e015c3a9e01\n";
  environment.systemPackages = [ pkgs.git ];
}
`;

async function codeActions(uri: vscode.Uri, range: vscode.Range): Promise<vscode.CodeAction[]> {
  return (await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, range)) ?? [];
}

suite('quick fixes and snippets', () => {
  let host: string;
  let disko: vscode.Uri;
  let configuration: vscode.Uri;

  suiteSetup(() => {
    // A classic host (no flake around it) in its own folder of the broken-classic workspace folder.
    host = path.join(folder('broken-classic').uri.fsPath, 'plover');
    mkdirSync(host, { recursive: true });
    writeFileSync(path.join(host, 'disko.nix'), DISKO);
    writeFileSync(path.join(host, 'configuration.nix'), CONFIGURATION);
    disko = fileIn('broken-classic', 'plover', 'disko.nix');
    configuration = fileIn('broken-classic', 'plover', 'configuration.nix');
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    rmSync(host, { recursive: true, force: true });
  });

  test('Insert the rollback service: a host without a rollback ends with no findings', async function () {
    this.timeout(120_000);
    await open(configuration);
    await open(disko);
    const [unused] = await waitForDiagnostics(disko, 'blank-snapshot-unused on the new host', (diagnostics) => diagnostics.some((diagnostic) => codeOf(diagnostic) === 'blank-snapshot-unused'));
    const finding = ours(disko).find((diagnostic) => codeOf(diagnostic) === 'blank-snapshot-unused') ?? unused;
    const actions = await codeActions(disko, finding.range);
    const insert = actions.find((action) => action.title.startsWith('Insert the rollback service'));
    assert.ok(insert?.edit, `the quick fix is offered: ${actions.map((action) => action.title).join(' | ')}`);
    assert.equal(insert.isPreferred, true);
    if (process.env.EPHEMERAL_ROOT_SCREENSHOT_DIR) {
      const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(disko), { preview: false });
      editor.selection = new vscode.Selection(finding.range.start, finding.range.start);
      editor.revealRange(finding.range, vscode.TextEditorRevealType.InCenter);
      await vscode.commands.executeCommand('editor.action.quickFix');
      await sleep(1500);
      await ui('quick-fix', ['.action-widget .monaco-list-row']);
      await vscode.commands.executeCommand('hideCodeActionWidget');
    }
    assert.ok(await vscode.workspace.applyEdit(insert.edit), 'the edit applies');
    await vscode.workspace.saveAll(false);
    const text = readFileSync(configuration.fsPath, 'utf8');
    assert.match(text, /boot\.initrd\.systemd\.services\.rollback-root = \{/);
    assert.match(text, /script = "zfs rollback -r rpool\/local\/root@blank";/);
    await waitForDiagnostics(disko, 'no finding on disko.nix', (diagnostics) => diagnostics.length === 0);
    // The root is now rolled back, and the host keeps nothing: the survival rules say what it loses (the next test
    // adds the persistence).
    await waitForDiagnostics(configuration, 'only var-lib-nixos-not-persisted on configuration.nix', (diagnostics) => diagnostics.map(codeOf).join() === 'var-lib-nixos-not-persisted');
  });

  test('a persisted dataset from the snippet, then the offered fix: no findings', async function () {
    this.timeout(120_000);
    // Persistence on /persist: the dataset the snippet adds must be mounted in stage 1.
    const configurationEditor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(configuration), { preview: false });
    const networking = configurationEditor.document.getText().indexOf('  networking.hostName');
    await configurationEditor.edit((builder) => builder.insert(configurationEditor.document.positionAt(networking), '  environment.persistence."/persist".directories = [ "/var/lib/nixos" ];\n'));
    await configurationEditor.document.save();

    const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(disko), { preview: false });
    const anchor = editor.document.getText().indexOf('        "local/nix" = {');
    assert.ok(anchor > 0);
    const snippets = JSON.parse(readFileSync(path.join(repoRoot(), 'snippets', 'nix.json'), 'utf8')) as Record<string, { body: string[] }>;
    const body = snippets['ZFS: persisted dataset (disko)'].body.join('\n');
    // The tab stops are filled by the snippet's own defaults: local/persist mounted at /persist.
    const inserted = await editor.insertSnippet(new vscode.SnippetString(`${body}\n`), editor.document.positionAt(anchor));
    assert.ok(inserted, 'the snippet is inserted');
    await vscode.commands.executeCommand('leaveSnippet');
    await editor.document.save();
    assert.match(readFileSync(disko.fsPath, 'utf8'), /"local\/persist" = \{\n\s+type = "zfs_fs";\n\s+options\.mountpoint = "legacy";\n\s+mountpoint = "\/persist";/);

    const [persist] = await waitForDiagnostics(configuration, 'persist-not-needed-for-boot', (diagnostics) => diagnostics.some((diagnostic) => codeOf(diagnostic) === 'persist-not-needed-for-boot'));
    const finding = ours(configuration).find((diagnostic) => codeOf(diagnostic) === 'persist-not-needed-for-boot') ?? persist;
    const actions = await codeActions(configuration, finding.range);
    const fix = actions.find((action) => action.isPreferred && action.edit);
    assert.ok(fix?.edit, `a preferred fix is offered: ${actions.map((action) => action.title).join(' | ')}`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    await vscode.workspace.saveAll(false);
    assert.match(readFileSync(configuration.fsPath, 'utf8'), /fileSystems\."\/persist"\.neededForBoot = true;/);
    await waitForDiagnostics(configuration, 'no finding on configuration.nix', (diagnostics) => diagnostics.length === 0);
    await waitForDiagnostics(disko, 'no finding on disko.nix', (diagnostics) => diagnostics.length === 0);
  });
});

suite('editing Nix: indentation', () => {
  test('Enter after `{` indents the new line, and a snippet inserted there lands at that indentation', async function () {
    this.timeout(60_000);
    const scratch = path.join(folder('broken-classic').uri.fsPath, 'indentation');
    mkdirSync(scratch, { recursive: true });
    const file = path.join(scratch, 'disko.nix');
    writeFileSync(file, '{\n  disko.devices.zpool.rpool.datasets = {\n  };\n}\n');
    try {
      const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(file), { preview: false });
      const end = editor.document.lineAt(1).range.end;
      editor.selection = new vscode.Selection(end, end);
      // As the user types Enter: the language configuration's indentation rules apply.
      await vscode.commands.executeCommand('type', { text: '\n' });
      const typed = editor.document.lineAt(2).text;
      const opened = editor.document.lineAt(1).firstNonWhitespaceCharacterIndex;
      assert.ok(typed.length > opened && /^\s+$/.test(typed), `the new line is indented past its '{' line: ${JSON.stringify(typed)}`);
      const snippets = JSON.parse(readFileSync(path.join(repoRoot(), 'snippets', 'nix.json'), 'utf8')) as Record<string, { body: string[] }>;
      const body = snippets['ZFS: persisted dataset (disko)'].body.join('\n');
      assert.ok(await editor.insertSnippet(new vscode.SnippetString(body)), 'the snippet is inserted');
      await vscode.commands.executeCommand('leaveSnippet');
      const lines = editor.document.getText().split('\n');
      const first = lines.findIndex((line) => line.includes('"local/persist"'));
      assert.ok(first > 0, editor.document.getText());
      const indentOf = (line: string) => line.length - line.trimStart().length;
      assert.equal(indentOf(lines[first]), typed.length, 'the snippet starts at the indentation Enter gave');
      assert.ok(indentOf(lines[first + 1]) > indentOf(lines[first]), `its body is indented below it:\n${lines.slice(first, first + 4).join('\n')}`);
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
