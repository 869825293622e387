/**
 * Rename on a real host: the aria host of notthebee/nix-config (../shared/corpus), copied to a temporary folder.
 * Renaming its root dataset, and then its pool, through the language server must leave the host with the findings
 * it had (same codes, files and lines): every place that names them is updated, including the custom zfs-root
 * module's `"rpool/nixos/empty" = "/";` that no rule reads, and nothing else is touched.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TextDocumentEdit, WorkspaceEdit } from 'vscode-languageserver-protocol';
import { CORPUS, analyzeFolder } from '../support/engine';
import { LspClient, uri } from '../support/lsp-client';
import { positionOf } from '../support/positions';

const CASE = path.join(CORPUS, 'notthebee__nix-config__aria');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'rename-corpus-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function apply(edit: WorkspaceEdit): string[] {
  const files: string[] = [];
  for (const change of (edit.documentChanges ?? []) as TextDocumentEdit[]) {
    const file = fileURLToPath(change.textDocument.uri);
    let text = readFileSync(file, 'utf8');
    const starts = [0];
    for (let index = 0; index < text.length; index++) if (text[index] === '\n') starts.push(index + 1);
    const offset = (position: { line: number; character: number }) => starts[position.line] + position.character;
    const edits = (change.edits as { range: { start: { line: number; character: number }; end: { line: number; character: number } }; newText: string }[]).map((item) => ({ start: offset(item.range.start), end: offset(item.range.end), text: item.newText }));
    for (const item of edits.sort((a, b) => b.start - a.start)) text = text.slice(0, item.start) + item.text + text.slice(item.end);
    writeFileSync(file, text);
    files.push(file);
  }
  return files;
}

async function summary(folder: string): Promise<string[]> {
  const { result } = await analyzeFolder(folder);
  return result.findings
    .filter((finding) => finding.host === 'aria' || !finding.host)
    .map((finding) => `${finding.code}@${path.relative(folder, finding.origin.file)}:${lineOf(finding.origin.file, finding.origin.start)}`)
    .sort();
}

function lineOf(file: string, offset: number): number {
  return readFileSync(file, 'utf8').slice(0, offset).split('\n').length;
}

describe('rename on the aria corpus host', { skip: !existsSync(CASE) && 'the shared corpus is not here' }, () => {
  it('renames rpool/nixos/empty and then the pool rpool, keeping the findings', async () => {
    // (A copy named plain `aria` is discovered differently: the disko file then forms a host of its own.)
    const folder = path.join(scratch, 'notthebee-aria');
    cpSync(CASE, folder, { recursive: true });
    const before = await summary(folder);
    assert.ok(before.some((item) => item.startsWith('snapshot-hook-not-idempotent@modules/machines/nixos/aria/disko.nix')), before.join('\n'));
    const disko = path.join(folder, 'modules/machines/nixos/aria/disko.nix');
    const boot = path.join(folder, 'modules/misc/zfs-root/boot.nix');
    const client = new LspClient();
    try {
      await client.initialize(folder);
      const diskoText = readFileSync(disko, 'utf8');
      const edit = (await client.connection.sendRequest('textDocument/rename', { textDocument: { uri: uri(disko) }, position: positionOf(diskoText, '"nixos/empty"', 8), newName: 'nixos/blank' })) as WorkspaceEdit;
      const changed = apply(edit).map((file) => path.relative(folder, file)).sort();
      assert.deepEqual(changed, ['modules/machines/nixos/aria/disko.nix', 'modules/misc/zfs-root/boot.nix']);
      const bootText = readFileSync(boot, 'utf8');
      assert.match(bootText, /"rpool\/nixos\/blank" = "\/";/);
      assert.match(bootText, /zfs rollback -r rpool\/nixos\/blank@start/);
      assert.doesNotMatch(bootText + readFileSync(disko, 'utf8'), /nixos\/empty/);
      assert.deepEqual(await summary(folder), before, 'the same findings after renaming the dataset');
    } finally {
      await client.shutdown();
    }
    // A fresh server on the renamed files: rename the pool.
    const second = new LspClient();
    try {
      await second.initialize(folder);
      const diskoText = readFileSync(disko, 'utf8');
      const edit = (await second.connection.sendRequest('textDocument/rename', { textDocument: { uri: uri(disko) }, position: positionOf(diskoText, 'rpool = {', 1, 1), newName: 'tank' })) as WorkspaceEdit;
      apply(edit);
      const all = readFileSync(disko, 'utf8') + readFileSync(boot, 'utf8');
      assert.match(all, /tank = \{/);
      assert.match(all, /pool = "tank";/);
      assert.match(all, /after = \[ "zfs-import-tank\.service" \]/);
      assert.match(all, /zfs rollback -r tank\/nixos\/blank@start/);
      assert.doesNotMatch(readFileSync(boot, 'utf8'), /rpool/);
      assert.deepEqual(await summary(folder), before, 'the same findings after renaming the pool');
    } finally {
      await second.shutdown();
    }
  });
});
