/**
 * Open documents and the workspace's parses (server/src/lsp/documents.ts): a file opened with its disk text shares
 * the parse the analysis read, and a file closed with its disk text hands its parse back, so opening and closing a
 * file unchanged re-analyses no host and keeps one parse in memory. A file closed with unsaved edits goes back to
 * the disk text, whose parse is still alive.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Documents, pathToUri } from '../../server/src/lsp/documents';
import { Workspace } from '../../server/src/model/workspace';
import { type AnalysisResult, analyze, createHostReuse } from '../../server/src/rules/engine';
import { initSyntax } from '../../server/src/syntax/parser';
import { REPO_ROOT } from '../support/engine';

/** What an analysis says, for comparing two analyses of the same texts. */
function summary(result: AnalysisResult): string {
  return JSON.stringify({
    hosts: result.hosts.map((host) => host.name),
    findings: result.findings.map((finding) => [finding.code, finding.host, path.basename(finding.origin.file), finding.origin.start, finding.message]),
  });
}

describe('open documents share the parse of an unchanged file', () => {
  let root: string;
  let configuration: string;
  before(async () => {
    await initSyntax();
    root = mkdtempSync(path.join(os.tmpdir(), 'documents-'));
    cpSync(path.join(REPO_ROOT, 'examples', 'seed'), root, { recursive: true });
    configuration = path.join(root, 'configuration.nix');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  for (const watched of [false, true]) {
    it(`opening and closing a file unchanged re-analyses nothing (client ${watched ? 'watches' : 'does not watch'} files)`, () => {
      const workspace = new Workspace();
      workspace.watched = watched;
      const documents = new Documents(workspace);
      const reuse = createHostReuse();
      const uri = pathToUri(configuration);
      const first = analyze(workspace, [root], { reuse });
      assert.ok(reuse.computed.length > 0, 'the first analysis computes the host');
      const onDisk = workspace.source(configuration);

      const document = documents.opened(uri, 1, readFileSync(configuration, 'utf8'))!;
      assert.equal(document.file, onDisk, 'the document shares the parse the analysis read');
      const opened = analyze(workspace, [root], { reuse });
      assert.deepEqual(reuse.computed, []);
      assert.equal(summary(opened), summary(first));

      documents.closed(uri);
      assert.equal(workspace.source(configuration), onDisk, 'the disk parse is the same one after the close');
      analyze(workspace, [root], { reuse });
      assert.deepEqual(reuse.computed, []);
    });
  }

  it('an edit that leaves the text as it was keeps the parse and re-analyses nothing', () => {
    const workspace = new Workspace();
    workspace.watched = true;
    const documents = new Documents(workspace);
    const reuse = createHostReuse();
    const uri = pathToUri(configuration);
    const text = readFileSync(configuration, 'utf8');
    const document = documents.opened(uri, 1, text)!;
    const first = analyze(workspace, [root], { reuse });
    const parse = document.file;
    const at = text.indexOf('empty@start');
    const lines = parse.lines;
    // Nothing replaced by nothing, a character typed over itself (an editor's auto-closed quote), the whole text sent again.
    documents.changed(uri, 2, [{ range: { start: lines.position(at), end: lines.position(at) }, text: '' }]);
    documents.changed(uri, 3, [{ range: { start: lines.position(at), end: lines.position(at + 1) }, text: text[at] }]);
    documents.changed(uri, 4, [{ text }]);
    assert.equal(document.file, parse);
    assert.equal(document.version, 4);
    const again = analyze(workspace, [root], { reuse });
    assert.deepEqual(reuse.computed, []);
    assert.equal(summary(again), summary(first));
    // A real change still makes a new parse, and the host is analysed again.
    documents.changed(uri, 5, [{ range: { start: lines.position(at), end: lines.position(at + 1) }, text: 'x' }]);
    assert.notEqual(document.file, parse);
    analyze(workspace, [root], { reuse });
    assert.ok(reuse.computed.length > 0);
    documents.closed(uri);
  });

  it('a document closed with unsaved edits gives the disk text back, whose parse is still alive', () => {
    const workspace = new Workspace();
    const documents = new Documents(workspace);
    const reuse = createHostReuse();
    const uri = pathToUri(configuration);
    const text = readFileSync(configuration, 'utf8');
    const fresh = analyze(workspace, [root], { reuse });
    documents.opened(uri, 1, text);
    // Rename the snapshot the rollback unit rolls back to: the host now has a finding the disk text does not.
    const at = text.indexOf('empty@start');
    assert.ok(at > 0);
    const position = (offset: number) => {
      const lines = text.slice(0, offset).split('\n');
      return { line: lines.length - 1, character: lines[lines.length - 1].length };
    };
    documents.changed(uri, 2, [{ range: { start: position(at), end: position(at + 'empty@start'.length) }, text: 'empty@blonk' }]);
    const edited = analyze(workspace, [root], { reuse });
    assert.notEqual(summary(edited), summary(fresh));
    documents.closed(uri);
    const closed = analyze(workspace, [root], { reuse });
    assert.ok(reuse.computed.length > 0, 'the host is analysed again on the disk text');
    assert.equal(summary(closed), summary(fresh));
    assert.equal(summary(closed), summary(analyze(new Workspace(), [root])));
  });
});
