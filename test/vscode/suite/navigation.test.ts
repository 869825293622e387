/**
 * Editor intelligence in a real VS Code, through VS Code's own provider commands (the path the editor takes):
 * hover, go to definition, references, completion, rename (applied across files, checked against the diagnostics,
 * then renamed back), document symbols and code lenses, and the ZFS layout view's data (the extension's exported
 * `layout()`: the tree items as the view shows them; a click reveals the declaration). Works on the seed folder of
 * the test workspace and leaves its files as it found them.
 *
 * With a screenshot directory (EPHEMERAL_ROOT_SCREENSHOT_DIR) a root-level hook, after every suite, photographs the
 * hover and the layout view for the README: docs/images/hover.png and docs/images/layout-view.png, written when
 * missing or with EPHEMERAL_ROOT_UPDATE_SCREENSHOTS=1.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { type DomDump, codes, extension, fileIn, open, ours, repoRoot, sleep, ui, waitForDiagnostics } from './helpers';

interface TreeSnapshot {
  label: string;
  description?: string;
  tooltip?: string;
  icon?: string;
  command?: { command: string; arguments: unknown[] };
  children: TreeSnapshot[];
}

/** The position `shift` characters into the first `needle` of a document. */
function positionOf(document: vscode.TextDocument, needle: string, shift = 0): vscode.Position {
  const index = document.getText().indexOf(needle);
  assert.ok(index >= 0, `${document.uri.fsPath} contains ${needle}`);
  return document.positionAt(index + shift);
}

/** Retries an async probe until it gives something (the server may still be analysing the workspace). */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(200);
  }
}

function hoverText(hovers: vscode.Hover[]): string {
  return hovers.flatMap((hover) => hover.contents.map((content) => (typeof content === 'string' ? content : 'value' in content ? content.value : ''))).join('\n');
}

async function hoverAt(uri: vscode.Uri, position: vscode.Position, expected: RegExp): Promise<string> {
  return eventually(`a hover matching ${expected}`, async () => {
    const text = hoverText((await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, position)) ?? []);
    return expected.test(text) ? text : undefined;
  });
}

function layoutApi(): () => Promise<TreeSnapshot[]> {
  const api = extension().exports as { layout?: () => Promise<TreeSnapshot[]> };
  assert.ok(api.layout, 'the extension exports its layout view data');
  return api.layout;
}

function child(nodes: TreeSnapshot[], label: string): TreeSnapshot {
  const found = nodes.find((node) => node.label === label);
  assert.ok(found, `${label} among ${nodes.map((node) => node.label).join(', ')}`);
  return found;
}

/** Keeps a screenshot of the run for the README, as test/e2e/vscode.e2e.ts does for diagnostics.png. */
function keepScreenshot(name: string): void {
  const dir = process.env.EPHEMERAL_ROOT_SCREENSHOT_DIR;
  if (!dir) return;
  const target = path.join(repoRoot(), 'docs', 'images', `${name}.png`);
  if (existsSync(target) && process.env.EPHEMERAL_ROOT_UPDATE_SCREENSHOTS !== '1') return;
  mkdirSync(path.dirname(target), { recursive: true });
  copyFileSync(path.join(dir, `${name}.png`), target);
}

suite('navigation', () => {
  const configuration = () => fileIn('seed', 'configuration.nix');
  const disko = () => fileIn('seed', 'disko.nix');

  suiteSetup(async function () {
    this.timeout(60_000);
    await extension().activate();
    await open(disko(), false);
    await open(configuration());
  });

  test('hover: a dataset in the rollback script, a fileSystems device, and zfs-import-rpool.service', async () => {
    const document = await open(configuration());
    const rollback = await hoverAt(document.uri, positionOf(document, 'rpool/nixos/empty@start', 8), /Erased on every boot/);
    assert.match(rollback, /\*\*ZFS dataset `rpool\/nixos\/empty`\*\*/);
    assert.match(rollback, /rolled back to `@start` \(the root file system\) by initrd unit `initrd-rollback-root`/);
    assert.match(rollback, /disko: `zfs_fs` `"nixos\/empty"`/);
    const nix = await hoverAt(document.uri, positionOf(document, '"rpool/nixos/nix"', 8), /Persisted/);
    assert.match(nix, /needed for boot: \*\*yes\*\* — `\/nix` is one of the paths NixOS always mounts in stage 1/);
    const unit = await hoverAt(document.uri, positionOf(document, 'zfs-import-rpool.service', 3), /systemd unit/);
    assert.match(unit, /Imports the ZFS pool `rpool`/);
    assert.match(unit, /This host: a root pool: stage 1 imports it/);
  });

  test('definition: from a fileSystems device and from zfs-import-rpool.service into disko.nix', async () => {
    const document = await open(configuration());
    const diskoText = readFileSync(disko().fsPath, 'utf8');
    const keyLine = diskoText.split('\n').findIndex((line) => line.includes('"nixos/nix" = {'));
    const fromDevice = await eventually('a definition', async () => {
      const found = await vscode.commands.executeCommand<(vscode.Location | vscode.LocationLink)[]>('vscode.executeDefinitionProvider', document.uri, positionOf(document, '"rpool/nixos/nix"', 10));
      return found && found.length > 0 ? found : undefined;
    });
    const target = fromDevice[0];
    const uri = 'targetUri' in target ? target.targetUri : target.uri;
    const range = 'targetRange' in target ? target.targetRange : target.range;
    assert.equal(uri.toString(), disko().toString());
    assert.equal(range.start.line, keyLine);
    const fromUnit = await vscode.commands.executeCommand<(vscode.Location | vscode.LocationLink)[]>('vscode.executeDefinitionProvider', document.uri, positionOf(document, 'zfs-import-rpool.service', 2));
    // The zpool (the first `rpool = {` is the partition that holds it).
    const lines = diskoText.split('\n');
    const poolLine = lines.length - 1 - [...lines].reverse().findIndex((line) => /^\s*rpool = \{/.test(line));
    assert.deepEqual(fromUnit.map((item) => ('targetRange' in item ? item.targetRange : item.range).start.line), [poolLine]);
  });

  test('references: every place that names rpool/nixos/empty, in both files', async () => {
    const document = await open(disko());
    const references = await vscode.commands.executeCommand<vscode.Location[]>('vscode.executeReferenceProvider', document.uri, positionOf(document, '"nixos/empty"', 3));
    const places = references.map((location) => `${path.basename(location.uri.fsPath)}:${location.range.start.line}`).sort();
    const line = (file: vscode.Uri, needle: string) => readFileSync(file.fsPath, 'utf8').split('\n').findIndex((text) => text.includes(needle));
    assert.deepEqual(places, [
      `configuration.nix:${line(configuration(), 'device = "rpool/nixos/empty"')}`,
      `configuration.nix:${line(configuration(), 'zfs rollback')}`,
      `disko.nix:${line(disko(), '"nixos/empty" = {')}`,
      `disko.nix:${line(disko(), 'postCreateHook')}`,
      `disko.nix:${line(disko(), 'postCreateHook')}`,
    ].sort());
  });

  test('completion: datasets in a device string, snapshots after @, import units in after', async () => {
    const document = await open(configuration());
    // Ours, not the snippets of the extension that VS Code lists everywhere.
    const labels = async (position: vscode.Position) =>
      (await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', document.uri, position)).items
        .filter((item) => item.kind !== vscode.CompletionItemKind.Snippet)
        .map((item) => (typeof item.label === 'string' ? item.label : item.label.label));
    const devices = await labels(positionOf(document, '"rpool/nixos/nix"', 7));
    for (const name of ['rpool/nixos/nix', 'rpool/nixos/empty', 'bpool/nixos/root']) assert.ok(devices.includes(name), `${name} in ${devices.join(' ')}`);
    assert.deepEqual(await labels(positionOf(document, 'rpool/nixos/empty@start', 'rpool/nixos/empty@'.length)), ['start']);
    const units = await labels(positionOf(document, 'zfs-import-rpool.service', 4));
    for (const name of ['zfs-import-rpool.service', 'zfs-import-bpool.service', 'zfs-import.target', 'sysroot.mount', 'sysroot-nix.mount']) assert.ok(units.includes(name), `${name} in ${units.join(' ')}`);
  });

  test('document symbols and code lenses of disko.nix', async () => {
    const document = await open(disko());
    const symbols = await vscode.commands.executeCommand<vscode.DocumentSymbol[]>('vscode.executeDocumentSymbolProvider', document.uri);
    assert.deepEqual(symbols.map((symbol) => symbol.name), ['bpool', 'rpool']);
    const rpool = symbols[1];
    assert.deepEqual(rpool.children.map((symbol) => symbol.name), ['nixos', 'nixos/empty', 'nixos/var', 'nixos/var/log', 'nixos/var/lib', 'nixos/nix', 'nixos/config']);
    assert.match(rpool.children[1].detail, /^\/ · legacy · erased on every boot$/);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document.uri);
    const titles = lenses.map((lens) => `${document.lineAt(lens.range.start.line).text.trim().split(' ')[0]} ${lens.command?.title}`);
    assert.ok(titles.includes('"nixos/empty" erased on every boot'), titles.join('\n'));
    assert.ok(titles.includes('"nixos/nix" persisted · mounted in stage 1'), titles.join('\n'));
    assert.ok(titles.includes('rpool root pool · imported in stage 1'), titles.join('\n'));
    assert.ok(titles.includes('bpool data pool · imported in stage 2'), titles.join('\n'));
  });

  test('the layout view: hosts, pools and datasets with their verdicts; a click reveals the declaration', async () => {
    const layout = layoutApi();
    const roots = await eventually('the layout tree', async () => {
      const nodes = await layout();
      return nodes.some((node) => node.label === 'seed') ? nodes : undefined;
    });
    const seedHost = child(child(roots, 'seed').children, 'seed');
    const rpool = child(seedHost.children, 'rpool');
    // The pool's count of findings on the host: the seed's one note (its machine id is not kept).
    assert.equal(rpool.description, 'root pool · imported in stage 1 · 1 note');
    const empty = child(rpool.children, 'nixos/empty');
    assert.equal(empty.description, '/ · erased · needed for boot · 1 note');
    assert.equal(empty.icon, 'flame');
    assert.equal(child(rpool.children, 'nixos/nix').description, '/nix · persisted · needed for boot');
    assert.equal(child(child(seedHost.children, 'bpool').children, 'nixos/root').description, '/boot · persisted · not needed for boot');
    // tern (broken-flake) has findings on its root dataset.
    const tern = child(child(roots, 'broken-flake').children, 'tern');
    assert.match(child(child(tern.children, 'zroot').children, 'local/root').description ?? '', /error/);
    // A click: the item's command opens disko.nix at the declaration.
    assert.ok(empty.command);
    await vscode.commands.executeCommand(empty.command.command, ...empty.command.arguments);
    const editor = await eventually('the revealed declaration', async () => (vscode.window.activeTextEditor?.document.uri.toString() === disko().toString() ? vscode.window.activeTextEditor : undefined));
    assert.equal(editor.document.getText(editor.selection), 'nixos/empty');
  });

  test('rename: rpool/nixos/empty across disko.nix and configuration.nix, the same diagnostics, then back', async function () {
    this.timeout(90_000);
    const document = await open(disko());
    const before = { configuration: codes(ours(configuration())), disko: codes(ours(disko())) };
    const originals = new Map([configuration(), disko()].map((uri) => [uri.toString(), readFileSync(uri.fsPath, 'utf8')]));
    const edit = await vscode.commands.executeCommand<vscode.WorkspaceEdit>('vscode.executeDocumentRenameProvider', document.uri, positionOf(document, '"nixos/empty"', 3), 'nixos/blank');
    assert.ok(edit, 'a rename edit');
    const files = edit.entries().map(([uri, edits]) => `${path.basename(uri.fsPath)}:${edits.length}`).sort();
    assert.deepEqual(files, ['configuration.nix:2', 'disko.nix:3']);
    // The layout view refreshes by itself after the edit (its tree data changes, and it tells the view so).
    const api = extension().exports as { onLayoutChanged: vscode.Event<unknown> };
    let refreshed = 0;
    const subscription = api.onLayoutChanged(() => refreshed++);
    assert.ok(await vscode.workspace.applyEdit(edit), 'the rename applies');
    try {
      await eventually('the layout view to refresh', async () => (refreshed > 0 ? true : undefined));
      const rpool = child(child(child(await layoutApi()(), 'seed').children, 'seed').children, 'rpool');
      assert.ok(rpool.children.some((node) => node.label === 'nixos/blank') && !rpool.children.some((node) => node.label === 'nixos/empty'), rpool.children.map((node) => node.label).join(' '));
      const configurationText = (await vscode.workspace.openTextDocument(configuration())).getText();
      assert.match(configurationText, /device = "rpool\/nixos\/blank";/);
      assert.match(configurationText, /zfs rollback -r rpool\/nixos\/blank@start/);
      assert.match(document.getText(), /grep -E '\^rpool\/nixos\/blank@start\$' \|\| zfs snapshot rpool\/nixos\/blank@start/);
      // The server sees the unsaved rename: the hover names the new dataset, and nothing new is reported.
      await hoverAt(document.uri, positionOf(document, '"nixos/blank"', 3), /ZFS dataset `rpool\/nixos\/blank`[\s\S]*Erased on every boot/);
      await waitForDiagnostics(configuration(), 'the same diagnostics after the rename', (diagnostics) => JSON.stringify(codes(diagnostics)) === JSON.stringify(before.configuration));
      assert.deepEqual(codes(ours(disko())), before.disko);
      // Rename back, then the documents hold exactly what is on disk.
      const back = await vscode.commands.executeCommand<vscode.WorkspaceEdit>('vscode.executeDocumentRenameProvider', document.uri, positionOf(document, '"nixos/blank"', 3), 'nixos/empty');
      assert.ok(await vscode.workspace.applyEdit(back), 'the rename back applies');
      for (const [uri, text] of originals) assert.equal((await vscode.workspace.openTextDocument(vscode.Uri.parse(uri))).getText(), text);
    } finally {
      subscription.dispose();
      for (const uri of [configuration(), disko()]) {
        const opened = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: false });
        if (opened.document.isDirty) await vscode.commands.executeCommand('workbench.action.files.revert');
      }
    }
    // A computed name refuses the rename: tern's device is written literally, so it is renamable; prepareRename of a
    // unit name is refused with a message.
    const refused = await vscode.commands.executeCommand<vscode.WorkspaceEdit>('vscode.executeDocumentRenameProvider', configuration(), positionOf(await open(configuration()), 'zfs-import-rpool.service', 2), 'x').then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.match(String(refused), /unit names are not renamed/);
  });
});

/**
 * The pictures for the README. A root-level hook: it runs after every suite of every file, so that what it changes
 * in the window for the picture (views moved, widened, expanded) never shows in another suite's picture.
 */
suiteTeardown('screenshots of the hover and the layout view', async function () {
  if (!process.env.EPHEMERAL_ROOT_SCREENSHOT_DIR) return;
  this.timeout(120_000);
  const configuration = fileIn('seed', 'configuration.nix');
  const disko = fileIn('seed', 'disko.nix');
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  await vscode.commands.executeCommand('workbench.action.closePanel');
  await vscode.commands.executeCommand('notifications.clearAll');
  const document = await open(configuration);
  const editor = vscode.window.activeTextEditor!;
  const position = positionOf(document, 'rpool/nixos/empty@start', 8);
  editor.selection = new vscode.Selection(position, position);
  editor.revealRange(new vscode.Range(position, position), vscode.TextEditorRevealType.InCenter);
  await hoverAt(document.uri, position, /Erased on every boot/);
  let dom: DomDump | undefined;
  const shown = (value: DomDump | undefined) => (value?.['.monaco-hover-content'] ?? []).some((item) => /Erased on every boot/.test(item.text));
  for (let attempt = 0; attempt < 20 && !shown(dom); attempt++) {
    await vscode.commands.executeCommand('editor.action.showHover');
    await sleep(700);
    dom = await ui(`hover-probe-${attempt}`, ['.monaco-hover-content']);
  }
  assert.ok(shown(dom), `the hover is on the page: ${JSON.stringify(dom)}`);
  await ui('hover');
  keepScreenshot('hover');

  // The layout view in the explorer (the file tree hidden to give it room), with disko.nix and its lenses beside it.
  await vscode.commands.executeCommand('editor.action.hideHover');
  const diskoDocument = await open(disko);
  const datasets = diskoDocument.positionAt(diskoDocument.getText().lastIndexOf('rpool = {'));
  vscode.window.activeTextEditor!.revealRange(new vscode.Range(datasets, datasets), vscode.TextEditorRevealType.AtTop);
  // The file tree goes to the Search container for the picture (the explorer's Folders view cannot be hidden).
  await vscode.commands.executeCommand('vscode.moveViews', { viewIds: ['workbench.explorer.fileView'], destinationId: 'workbench.view.search' });
  await vscode.commands.executeCommand('workbench.view.explorer');
  await vscode.commands.executeCommand('ephemeralRoot.layout.focus');
  // Wide enough for the descriptions: the editor gives up width (in the headless page the resize commands act on
  // the editor, the focused part, whatever view has the keyboard focus).
  await open(disko);
  for (let step = 0; step < 4; step++) await vscode.commands.executeCommand('workbench.action.decreaseViewWidth');
  const rowsShown = (value: DomDump | undefined) => (value?.['.monaco-list-row'] ?? []).some((item) => /nixos\/empty/.test(item.ariaLabel ?? item.text));
  for (let attempt = 0; attempt < 30 && !rowsShown(dom); attempt++) {
    await sleep(500);
    dom = await ui(`layout-probe-${attempt}`, ['.monaco-list-row']);
  }
  try {
    assert.ok(rowsShown(dom), 'the layout view shows the datasets');
    await ui('layout-view');
    keepScreenshot('layout-view');
  } finally {
    await vscode.commands.executeCommand('vscode.moveViews', { viewIds: ['workbench.explorer.fileView'], destinationId: 'workbench.view.explorer' });
  }
});
