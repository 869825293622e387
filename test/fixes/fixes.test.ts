/**
 * Quick-fix fixtures: test/fixtures/fixes/<provider>/<case>/ holds `before/` (a small repository), `after/` (the
 * expected text of every file the fix changes or creates) and `case.json` (`{ "code": …, "title"?: part of the fix
 * title, "createFiles"?: false for a client that cannot create files, "offered"?: false when no such fix may be
 * offered }`). Each fix is proven three ways: the text it produces, the result parses (tree-sitter and real
 * nix-instantiate), and the finding it fixes is gone while no new finding appears. Whatever a fixture expects, no
 * generated file (hardware-configuration.nix, a "do not modify" header) changes.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { editedTexts } from '../../server/src/fixes/apply';
import { isGenerated } from '../../server/src/fixes/generated';
import { FIX_PROVIDERS, fixesFor } from '../../server/src/fixes/registry';
import { Workspace } from '../../server/src/model/workspace';
import { analyze } from '../../server/src/rules/engine';
import { SourceFile, initSyntax } from '../../server/src/syntax/parser';
import { syntaxProblems } from '../../server/src/syntax/syntax-errors';
import { FIXTURES, listNix } from '../support/engine';
import { nixParse } from '../support/nix';

const FIX_FIXTURES = path.join(FIXTURES, 'fixes');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'fixes-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** What an ephemeral root must keep (RULES.md section E): the findings a rollback that starts to work may reveal. */
const SURVIVAL_CODES = new Set(['var-lib-nixos-not-persisted', 'machine-id-not-persisted', 'ssh-host-keys-not-persisted', 'imperative-passwords-lost', 'secret-key-not-persisted', 'persist-path-on-ephemeral-root']);

interface Case {
  code: string;
  /**
   * Codes the fix reveals by doing what it is for: a fix that makes the root ephemeral at last (inserting the rollback,
   * turning systemd stage 1 on) lets the survival rules see what the host does not keep. Only those rules may appear.
   */
  reveals?: string[];
  title?: string;
  file?: string;
  release?: string;
  /** Whether the caller can create files (an LSP client with the `create` resource operation); default true. */
  createFiles?: boolean;
  /** false: the finding must get no fix (with `title`: no fix of that title). */
  offered?: boolean;
}

const tally = (findings: { code: string; origin: { file: string } }[], root: string) => {
  const counts = new Map<string, number>();
  for (const finding of findings) {
    const key = `${finding.code} ${path.relative(root, finding.origin.file)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
};

describe('quick fixes', () => {
  for (const provider of FIX_PROVIDERS) {
    const dir = path.join(FIX_FIXTURES, provider.name);
    const cases = existsSync(dir) ? readdirSync(dir).sort() : [];
    it(`${provider.name} has fixtures`, () => assert.ok(cases.length > 0, `no test/fixtures/fixes/${provider.name}/<case>`));
    for (const name of cases) {
      it(`${provider.name}: ${name}`, async () => {
        await initSyntax();
        const fixture = path.join(dir, name);
        const spec = JSON.parse(readFileSync(path.join(fixture, 'case.json'), 'utf8')) as Case;
        const folder = path.join(scratch, `${provider.name}-${name}`);
        cpSync(path.join(fixture, 'before'), folder, { recursive: true });
        const workspace = new Workspace();
        const result = analyze(workspace, [folder], { release: spec.release });
        const finding = result.findings.find((item) => item.code === spec.code && (!spec.file || path.relative(folder, item.origin.file) === spec.file));
        assert.ok(finding, `no ${spec.code} finding in before/: ${result.findings.map((item) => item.code).join(', ')}`);
        const host = result.hosts.find((item) => item.name === finding.host);
        assert.ok(host);
        const fixes = fixesFor(finding, host, workspace, (failed, error) => assert.fail(`${failed}: ${String(error)}`), { createFiles: spec.createFiles !== false });
        const fix = spec.title ? fixes.find((item) => item.title.includes(spec.title!)) : fixes.find((item) => item.preferred);
        if (spec.offered === false) {
          const unwanted = spec.title ? fixes.filter((item) => item.title.includes(spec.title!)) : fixes;
          assert.deepEqual(unwanted.map((item) => item.title), [], 'no fix may be offered here');
          return;
        }
        assert.ok(fix, `no fix${spec.title ? ` titled …${spec.title}…` : ''}; offered: ${fixes.map((item) => item.title).join(' | ')}`);
        const texts = editedTexts(fix.edits, workspace);
        for (const [file, text] of texts) writeFileSync(file, text);

        // 0. No generated file changed, whatever after/ says.
        for (const file of listNix(path.join(fixture, 'before'))) {
          const before = readFileSync(file, 'utf8');
          if (!isGenerated({ path: file, text: before })) continue;
          assert.equal(readFileSync(path.join(folder, path.relative(path.join(fixture, 'before'), file)), 'utf8'), before, `the fix edited the generated ${path.basename(file)}`);
        }

        // 1. The text: every file equals after/ (files absent from after/ must be unchanged).
        for (const file of listNix(folder)) {
          const relative = path.relative(folder, file);
          const expectedPath = path.join(fixture, 'after', relative);
          const expected = existsSync(expectedPath) ? readFileSync(expectedPath, 'utf8') : readFileSync(path.join(fixture, 'before', relative), 'utf8');
          assert.equal(readFileSync(file, 'utf8'), expected, `${relative} differs from the expected text`);
        }
        // 2. It is Nix: tree-sitter and nix-instantiate --parse accept every changed file.
        for (const file of texts.keys()) {
          assert.deepEqual(syntaxProblems(SourceFile.fromText(file, readFileSync(file, 'utf8'))), [], `tree-sitter rejects ${file}`);
          const parsed = nixParse(file);
          assert.ok(parsed.ok, parsed.error);
        }
        // 3. The finding is gone and nothing new appears.
        const before = tally(result.findings, folder);
        const afterwards = analyze(new Workspace(), [folder], { release: spec.release });
        const now = tally(afterwards.findings, folder);
        const fixedKey = `${finding.code} ${path.relative(folder, finding.origin.file)}`;
        assert.ok((now.get(fixedKey) ?? 0) < (before.get(fixedKey) ?? 0), `${fixedKey} is still reported`);
        for (const code of spec.reveals ?? []) assert.ok(SURVIVAL_CODES.has(code), `${code} is no rule a working rollback reveals`);
        for (const [key, count] of now) {
          if (spec.reveals?.includes(key.split(' ')[0])) continue;
          assert.ok(count <= (before.get(key) ?? 0), `the fix introduced ${key}`);
        }
      });
    }
  }
});
