/**
 * How fixes reach an LSP client (server/src/lsp/code-actions.ts): a fix that creates a module becomes a `CreateFile`
 * ahead of the edits that fill it and import it, and only a client that announced the `create` resource operation
 * (with document changes) is treated as able to apply it. An open document is addressed with its version.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createFile, edit } from '../../server/src/fixes/nix-edit';
import { Documents, pathToUri } from '../../server/src/lsp/documents';
import { fixOptionsFor, workspaceEdit } from '../../server/src/lsp/code-actions';
import { Workspace } from '../../server/src/model/workspace';
import { initSyntax } from '../../server/src/syntax/parser';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'workspace-edit-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('workspace edits of fixes', () => {
  it('a created module comes first as CreateFile, then its content and its import, addressed by version', async () => {
    await initSyntax();
    const flake = path.join(scratch, 'flake.nix');
    writeFileSync(flake, '{\n  modules = [ ./disko.nix ];\n}\n');
    const workspace = new Workspace();
    workspace.allowScope(scratch);
    // The flake is open in the editor at version 3; the module to create is not open.
    const documents = new Documents(workspace);
    documents.opened(pathToUri(flake), 3, readFileSync(flake, 'utf8'));
    const source = workspace.source(flake)!;
    const created = path.join(scratch, 'ephemeral-root.nix');
    const at = source.text.indexOf(' ];');
    const result = workspaceEdit({ workspace, documentVersion: (uri) => documents.get(uri)?.version ?? null }, [createFile(created, '{ ... }:\n{ }\n'), edit(source, at, at, ' ./ephemeral-root.nix')]);
    assert.deepEqual(result.documentChanges, [
      { kind: 'create', uri: pathToUri(created), options: { overwrite: false, ignoreIfExists: false } },
      { textDocument: { uri: pathToUri(created), version: null }, edits: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: '{ ... }:\n{ }\n' }] },
      { textDocument: { uri: pathToUri(flake), version: 3 }, edits: [{ range: { start: { line: 1, character: 25 }, end: { line: 1, character: 25 } }, newText: ' ./ephemeral-root.nix' }] },
    ]);
  });

  it('only a client announcing the create operation with document changes can create files', () => {
    assert.equal(fixOptionsFor({ workspace: { workspaceEdit: { documentChanges: true, resourceOperations: ['create', 'rename', 'delete'] } } }).createFiles, true);
    assert.equal(fixOptionsFor({ workspace: { workspaceEdit: { documentChanges: true, resourceOperations: ['rename'] } } }).createFiles, false);
    assert.equal(fixOptionsFor({ workspace: { workspaceEdit: { resourceOperations: ['create'] } } }).createFiles, false);
    assert.equal(fixOptionsFor({}).createFiles, false);
  });
});
