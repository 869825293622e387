/**
 * "Fix all" on whole repositories: the broken examples and every corpus case with a `must` finding. Applying the
 * preferred fix of every fixable finding converges — no fixable finding is left after at most three rounds — every
 * file it writes is still Nix (nix-instantiate --parse), no edit is dropped as stale within a round, and no line
 * outside the edited ranges is lost.
 *
 * And on the repositories of test/fixtures/fixes/fix-all/<case>/ (`before/`, `after/`: every file that ends up
 * different or new): the result is exactly `after/`, and no generated file (hardware-configuration.nix, a "do not
 * modify" header) changes by a byte.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { editedTexts, fixAllEdits } from '../../server/src/fixes/apply';
import { isGenerated } from '../../server/src/fixes/generated';
import { applyEdits } from '../../server/src/fixes/nix-edit';
import { fixesFor } from '../../server/src/fixes/registry';
import { Workspace } from '../../server/src/model/workspace';
import { analyze } from '../../server/src/rules/engine';
import { initSyntax } from '../../server/src/syntax/parser';
import { CORPUS, FIXTURES, REPO_ROOT, listNix } from '../support/engine';
import { nixParse } from '../support/nix';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'fix-all-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const repositories: [string, string][] = [
  ['examples/broken-flake', path.join(REPO_ROOT, 'examples', 'broken-flake')],
  ['examples/broken-classic', path.join(REPO_ROOT, 'examples', 'broken-classic')],
];
if (existsSync(CORPUS)) {
  for (const name of readdirSync(CORPUS).sort()) {
    const expected = path.join(CORPUS, name, 'expected.json');
    if (existsSync(expected) && (JSON.parse(readFileSync(expected, 'utf8')) as { must: unknown[] }).must.length > 0) repositories.push([`corpus/${name}`, path.join(CORPUS, name)]);
  }
}

/** Lines of `before` outside the edited ranges, which must all survive in order. */
function untouchedLines(before: string, ranges: { start: number; end: number }[]): string[] {
  const lines: string[] = [];
  let offset = 0;
  for (const line of before.split('\n')) {
    const start = offset;
    const end = offset + line.length;
    offset = end + 1;
    if (line.trim() && !ranges.some((range) => range.start < end && start < Math.max(range.end, range.start + 1))) lines.push(line.trim());
  }
  return lines;
}

function inOrder(lines: string[], text: string): boolean {
  let position = 0;
  for (const line of lines) {
    const found = text.indexOf(line, position);
    if (found < 0) return false;
    position = found + line.length;
  }
  return true;
}

describe('Fix all', () => {
  for (const [label, source] of repositories) {
    it(`converges on ${label}`, async () => {
      await initSyntax();
      const folder = path.join(scratch, label.replace(/\W+/g, '-'));
      cpSync(source, folder, { recursive: true });
      let rounds = 0;
      for (; rounds < 3; rounds++) {
        const workspace = new Workspace();
        const result = analyze(workspace, [folder]);
        const edits = fixAllEdits(result.findings, result.hosts, workspace);
        if (edits.length === 0) break;
        const byFile = new Map<string, typeof edits>();
        for (const item of edits) byFile.set(item.file, [...(byFile.get(item.file) ?? []), item]);
        for (const [file, fileEdits] of byFile) {
          const before = readFileSync(file, 'utf8');
          const applied = applyEdits(before, fileEdits);
          assert.deepEqual(applied.dropped, [], `stale edits in ${file}`);
          assert.ok(inOrder(untouchedLines(before, fileEdits), applied.text), `user text outside the edits was lost in ${file}`);
          writeFileSync(file, applied.text);
          const parsed = nixParse(file);
          assert.ok(parsed.ok, `${path.relative(folder, file)} after round ${rounds + 1}: ${parsed.error}`);
        }
      }
      const workspace = new Workspace();
      const result = analyze(workspace, [folder]);
      const hosts = new Map(result.hosts.map((host) => [host.name, host]));
      const left = result.findings.filter((finding) => finding.host && fixesFor(finding, hosts.get(finding.host)!, workspace).length > 0);
      assert.deepEqual(left.map((finding) => `${finding.code} ${path.relative(folder, finding.origin.file)}: ${finding.message}`), [], `fixable findings left after ${rounds} round(s)`);
    });
  }
});

const FIX_ALL_FIXTURES = path.join(FIXTURES, 'fixes', 'fix-all');

describe('Fix all leaves generated files alone', () => {
  for (const name of existsSync(FIX_ALL_FIXTURES) ? readdirSync(FIX_ALL_FIXTURES).sort() : []) {
    it(name, async () => {
      await initSyntax();
      const fixture = path.join(FIX_ALL_FIXTURES, name);
      const folder = path.join(scratch, `generated-${name}`);
      cpSync(path.join(fixture, 'before'), folder, { recursive: true });
      let rounds = 0;
      for (; rounds < 3; rounds++) {
        const workspace = new Workspace();
        const result = analyze(workspace, [folder]);
        // As VS Code applies it: a client that can create files.
        const edits = fixAllEdits(result.findings, result.hosts, workspace, undefined, { createFiles: true });
        if (edits.length === 0) break;
        for (const [file, text] of editedTexts(edits, workspace)) writeFileSync(file, text);
      }
      assert.ok(rounds > 0, 'Fix all changed nothing');
      const expectedFiles = new Set<string>();
      for (const side of ['before', 'after']) {
        const root = path.join(fixture, side);
        if (existsSync(root)) for (const file of listNix(root)) expectedFiles.add(path.relative(root, file));
      }
      assert.deepEqual(listNix(folder).map((file) => path.relative(folder, file)).sort(), [...expectedFiles].sort(), 'the files after Fix all');
      for (const relative of expectedFiles) {
        const before = path.join(fixture, 'before', relative);
        const after = path.join(fixture, 'after', relative);
        const now = readFileSync(path.join(folder, relative), 'utf8');
        if (existsSync(before) && isGenerated({ path: before, text: readFileSync(before, 'utf8') })) {
          assert.equal(now, readFileSync(before, 'utf8'), `Fix all edited the generated ${relative}`);
        }
        assert.equal(now, readFileSync(existsSync(after) ? after : before, 'utf8'), `${relative} differs from the expected text`);
        if (existsSync(after)) {
          const parsed = nixParse(path.join(folder, relative));
          assert.ok(parsed.ok, `${relative}: ${parsed.error}`);
        }
      }
    });
  }
});
