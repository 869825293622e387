/**
 * The rule fixtures: every folder under test/fixtures/rules/<code>/<case>/ is analysed like a repository, and the
 * findings must equal the caret annotations in its files — every code, not only the folder's own, so a near-miss
 * fixture also proves that nothing else fires. Every code has at least one `trigger-*` case that reports it and one
 * `near-miss-*` case that does not.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RULE_CODES } from '../../server/src/rules/types';
import { annotationKey, expectedKey, readAnnotations } from '../support/annotations';
import { FIXTURES, analyzeFolder, fixtureRelease, listNix } from '../support/engine';

const RULE_FIXTURES = path.join(FIXTURES, 'rules');

function cases(code: string): string[] {
  const dir = path.join(RULE_FIXTURES, code);
  return existsSync(dir) ? readdirSync(dir).filter((name) => !name.startsWith('.')).sort() : [];
}

/**
 * Codes no static reading can report: `evaluation-failed` is Nix's own answer in the evaluation-backed mode. Its trigger
 * and near miss run through real Nix in test/evaluation/cli.test.ts and test/evaluation/lsp.test.ts.
 */
const EVALUATION_ONLY = new Set<string>(['evaluation-failed']);

describe('rule fixtures', () => {
  for (const code of RULE_CODES.filter((code) => !EVALUATION_ONLY.has(code))) {
    describe(code, () => {
      const names = cases(code);
      it('has a trigger case and a near-miss case', () => {
        assert.ok(names.some((name) => name.startsWith('trigger')), `no test/fixtures/rules/${code}/trigger-* case`);
        assert.ok(names.some((name) => name.startsWith('near-miss')), `no test/fixtures/rules/${code}/near-miss-* case`);
      });
      for (const name of names) {
        it(name, async () => {
          const folder = path.join(RULE_FIXTURES, code, name);
          const files = listNix(folder);
          const expected = files.flatMap(readAnnotations).map(expectedKey).sort();
          const { result, workspace } = await analyzeFolder(folder, { release: fixtureRelease(folder) });
          const actual = [
            ...new Set(
              result.findings.map((finding) => {
                const text = workspace.source(finding.origin.file)?.text ?? readFileSync(finding.origin.file, 'utf8');
                const lines = text.split(/\r?\n/);
                return annotationKey(finding.origin.file, workspace.range(finding.origin), (line) => lines[line] ?? '', finding.severity, finding.code);
              }),
            ),
          ].sort();
          const relative = (keys: string[]) => keys.map((key) => key.replace(`${folder}${path.sep}`, ''));
          assert.deepEqual(relative(actual), relative(expected), `findings differ from the annotations\n${result.findings.map((f) => `  ${f.code}: ${f.message}`).join('\n')}`);
          if (name.startsWith('trigger')) assert.ok(expected.some((key) => key.endsWith(`: ${code}`)), `${name} does not annotate ${code}`);
          else assert.ok(!expected.some((key) => key.endsWith(`: ${code}`)), `${name} is a near miss but annotates ${code}`);
          assert.deepEqual(result.faults, [], 'no rule may fail');
        });
      }
    });
  }
});
