/**
 * The rule fixtures of sections E ("what must survive the rollback"), F (btrfs roots) and G (tmpfs roots) through the built `ephemeral-root check` command, as a
 * user or CI runs it: every fixture of every code of those sections in one run (`check <folder>…` takes several), and the
 * JSON report's diagnostics must be exactly the caret annotations of the fixtures' files — range, severity and code,
 * nothing more — with a host found in every fixture.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { annotationKey, expectedKey, readAnnotations } from '../support/annotations';
import { runCli } from '../support/cli';
import { REPO_ROOT, listNix } from '../support/engine';
import { FRONT_END_CODES, ruleFixtures } from '../support/section-e';

interface JsonReport {
  hosts: { root: string; files: string[] }[];
  diagnostics: { file: string; code: string; severity: string; range: { start: { line: number; character: number }; end: { line: number; character: number } } }[];
}

describe('section-E, F and G fixtures through the CLI', () => {
  const fixtures = ruleFixtures(FRONT_END_CODES);
  const run = runCli(['check', ...fixtures.map((fixture) => path.relative(REPO_ROOT, fixture.source)), '--format', 'json'], REPO_ROOT, 120_000);
  const report = (run.stdout ? JSON.parse(run.stdout) : { hosts: [], diagnostics: [] }) as JsonReport;

  it('runs (exit 1: the triggers hold errors)', () => {
    assert.equal(run.status, 1, run.stderr);
  });

  for (const fixture of fixtures) {
    it(`${fixture.code}: ${fixture.name}`, () => {
      const inside = (file: string) => !path.relative(fixture.source, path.resolve(REPO_ROOT, file)).startsWith('..');
      assert.ok(report.hosts.some((host) => host.files.some(inside)), 'no host found in the fixture');
      const expected = listNix(fixture.source).flatMap(readAnnotations).map(expectedKey).sort();
      const actual = report.diagnostics
        .filter((item) => inside(item.file))
        .map((item) => {
          const file = path.resolve(REPO_ROOT, item.file);
          const lines = readFileSync(file, 'utf8').split(/\r?\n/);
          return annotationKey(file, item.range, (line) => lines[line] ?? '', item.severity, item.code);
        })
        .sort();
      const relative = (keys: string[]) => keys.map((key) => path.relative(fixture.source, key));
      assert.deepEqual(relative([...new Set(actual)]), relative(expected));
    });
  }
});
