/**
 * A btrfs ephemeral root in the real editor: a host whose rollback unit is wanted by a misspelt target gets the
 * finding, the offered quick fix (the nearest target) and then no finding, and the layout view shows its subvolumes
 * (the root erased, the others persisted) and what survives a boot; a host that gets its btrfs layout from the snippet
 * gets the "blank snapshot unused" note, the offered fix inserts the rollback unit derived from the layout, and the
 * host ends with no finding.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { codeOf, extension, fileIn, folder, open, ours, repoRoot, waitForDiagnostics } from './helpers';

interface TreeSnapshot {
  label: string;
  description?: string;
  icon?: string;
  children: TreeSnapshot[];
}

/** A node of the layout tree with this label, anywhere below `nodes`. */
function find(nodes: TreeSnapshot[], label: string): TreeSnapshot | undefined {
  for (const node of nodes) {
    if (node.label === label) return node;
    const below = find(node.children, label);
    if (below) return below;
  }
  return undefined;
}

async function codeActions(uri: vscode.Uri, range: vscode.Range): Promise<vscode.CodeAction[]> {
  return (await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, range)) ?? [];
}

const example = (name: string, file: string) => readFileSync(path.join(repoRoot(), 'examples', name, file), 'utf8');

/** The persistence every btrfs host here keeps, so that only the btrfs rules speak. */
const PERSISTENCE = `  fileSystems."/persist".neededForBoot = true;
  environment.persistence."/persist" = {
    directories = [ "/var/lib/nixos" ];
    files = [ "/etc/machine-id" ];
  };
`;

suite('btrfs ephemeral root: quick fixes, a snippet and the layout view', () => {
  const made: string[] = [];

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });

  function host(name: string, files: Record<string, string>): Record<string, vscode.Uri> {
    // A classic host (no flake around it) in its own folder of the broken-classic workspace folder.
    const dir = path.join(folder('broken-classic').uri.fsPath, name);
    mkdirSync(dir, { recursive: true });
    made.push(dir);
    const uris: Record<string, vscode.Uri> = {};
    for (const [file, text] of Object.entries(files)) {
      writeFileSync(path.join(dir, file), text);
      uris[file] = fileIn('broken-classic', name, file);
    }
    return uris;
  }

  test('a rollback wanted by a misspelt target: the finding, the nearest-target fix, then no finding; the layout view', async function () {
    this.timeout(120_000);
    const configurationText = example('btrfs-impermanence', 'configuration.nix').replace('wantedBy = [ "initrd.target" ];', 'wantedBy = [ "intitrd.target" ];');
    assert.match(configurationText, /intitrd\.target/);
    const { 'configuration.nix': configuration, 'disko.nix': disko } = host('wren', { 'configuration.nix': configurationText, 'disko.nix': example('btrfs-impermanence', 'disko.nix') });
    await open(disko);
    await open(configuration);
    const [typo] = await waitForDiagnostics(configuration, 'wantedby-unknown-target on wren', (diagnostics) => diagnostics.map(codeOf).join() === 'wantedby-unknown-target');
    assert.equal(typo.severity, vscode.DiagnosticSeverity.Error);
    const actions = await codeActions(configuration, typo.range);
    const fix = actions.find((action) => action.title === 'Use initrd.target');
    assert.ok(fix?.edit, `the fix is offered: ${actions.map((action) => action.title).join(' | ')}`);
    assert.equal(fix.isPreferred, true);
    assert.ok(await vscode.workspace.applyEdit(fix.edit), 'the edit applies');
    await vscode.workspace.saveAll(false);
    assert.match(readFileSync(configuration.fsPath, 'utf8'), /wantedBy = \[ "initrd\.target" \];/);
    await waitForDiagnostics(configuration, 'no finding on configuration.nix', (diagnostics) => diagnostics.length === 0);
    assert.deepEqual(ours(disko), []);

    // The layout view: the btrfs file system of wren with its subvolumes, and what survives a boot.
    const layout = (extension().exports as { layout: () => Promise<TreeSnapshot[]> }).layout;
    let wren: TreeSnapshot | undefined;
    for (let attempt = 0; attempt < 100 && !wren; attempt++) {
      const found = find(await layout(), 'wren');
      if (found && found.children.length > 0) wren = found;
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(wren, 'wren is in the layout view');
    const btrfs = find(wren.children, '/dev/mapper/crypted');
    assert.ok(btrfs, JSON.stringify(wren.children.map((node) => node.label)));
    assert.match(btrfs.description ?? '', /^btrfs · 5 subvolumes/);
    const root = find(btrfs.children, 'root')!;
    assert.equal(root.description, '/ · erased · needed for boot');
    assert.equal(root.icon, 'flame');
    assert.equal(find(btrfs.children, 'persist')?.description, '/persist · persisted · needed for boot');
    assert.equal(find(btrfs.children, 'root-blank')?.description, 'blank snapshot of root');
    const survival = find(wren.children, 'What survives a boot')!;
    assert.equal(survival.description, 'root btrfs, erased');
    assert.match(find(survival.children, '/var/lib/nixos')?.description ?? '', /^kept by a bind mount · survives a boot/);
  });

  test('the btrfs layout from the snippet, then the offered rollback insert: no finding', async function () {
    this.timeout(120_000);
    const { 'configuration.nix': configuration, 'disko.nix': disko } = host('finch', {
      'configuration.nix': `{ ... }:
{
  imports = [ ./disko.nix ];
  boot.loader.systemd-boot.enable = true;
  boot.initrd.systemd.enable = true;
${PERSISTENCE}}
`,
      'disko.nix': `{
  disko.devices.disk.main = {
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
      };
    };
  };
}
`,
    });
    await open(configuration);
    const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(disko), { preview: false });
    const anchor = editor.document.getText().indexOf('        ESP = {');
    assert.ok(anchor > 0);
    const snippets = JSON.parse(readFileSync(path.join(repoRoot(), 'snippets', 'nix.json'), 'utf8')) as Record<string, { body: string[] }>;
    const body = snippets['btrfs: ephemeral root layout (disko)'].body.join('\n');
    // The tab stops keep the snippet's defaults: a LUKS container `crypted`, the blank snapshot `root-blank`.
    const inserted = await editor.insertSnippet(new vscode.SnippetString(`${body}\n`), editor.document.positionAt(anchor));
    assert.ok(inserted, 'the snippet is inserted');
    await vscode.commands.executeCommand('leaveSnippet');
    await editor.document.save();
    assert.match(readFileSync(disko.fsPath, 'utf8'), /btrfs subvolume show \/tmp\/btrfs-top\/root-blank >\/dev\/null 2>&1 \|\| btrfs subvolume snapshot -r \/tmp\/btrfs-top\/root \/tmp\/btrfs-top\/root-blank/);

    const [unused] = await waitForDiagnostics(disko, 'blank-snapshot-unused after the snippet', (diagnostics) => diagnostics.some((diagnostic) => codeOf(diagnostic) === 'blank-snapshot-unused'));
    const finding = ours(disko).find((diagnostic) => codeOf(diagnostic) === 'blank-snapshot-unused') ?? unused;
    const actions = await codeActions(disko, finding.range);
    const insert = actions.find((action) => action.title.startsWith('Insert the btrfs rollback service'));
    assert.ok(insert?.edit, `the rollback insert is offered: ${actions.map((action) => action.title).join(' | ')}`);
    assert.ok(await vscode.workspace.applyEdit(insert.edit), 'the edit applies');
    await vscode.workspace.saveAll(false);
    const text = readFileSync(configuration.fsPath, 'utf8');
    assert.match(text, /boot\.initrd\.systemd\.services\.rollback-root = \{/);
    assert.match(text, /after = \[ "dev-mapper-crypted\.device" \];/);
    assert.match(text, /btrfs subvolume snapshot \/btrfs_tmp\/root-blank \/btrfs_tmp\/root/);
    await waitForDiagnostics(disko, 'no finding on disko.nix', (diagnostics) => diagnostics.length === 0);
    await waitForDiagnostics(configuration, 'no finding on configuration.nix', (diagnostics) => diagnostics.length === 0);
  });
});
