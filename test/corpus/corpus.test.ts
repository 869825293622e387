/**
 * Real configurations from public repositories (../shared/corpus, outside this repository): every `must` finding of
 * each case's expected.json is reported in the named file, and no `must_not` code is reported anywhere in the case.
 * `consistent` cases may carry no error-severity finding at all. The test says how many cases it ran; without the
 * corpus folder it reports that it found none instead of passing silently.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CORPUS, analyzeFolder } from '../support/engine';

interface Expected {
  case: string;
  consistent: boolean;
  must: { code: string; file: string; why: string }[];
  may: string[];
  must_not: string[];
}

const cases = existsSync(CORPUS)
  ? readdirSync(CORPUS)
      .filter((name) => existsSync(path.join(CORPUS, name, 'expected.json')))
      .sort()
  : [];
let ran = 0;

describe('shared corpus', () => {
  it('is present', { skip: existsSync(CORPUS) ? false : `no corpus at ${CORPUS}` }, () => {
    assert.ok(cases.length > 0, 'the corpus folder holds no case');
  });
  for (const name of cases) {
    it(name, async () => {
      const folder = path.join(CORPUS, name);
      const expected = JSON.parse(readFileSync(path.join(folder, 'expected.json'), 'utf8')) as Expected;
      const { result } = await analyzeFolder(folder);
      const reported = result.findings.map((finding) => ({ code: finding.code, file: path.relative(folder, finding.origin.file), severity: finding.severity, message: finding.message }));
      const listing = reported.map((item) => `  ${item.file}: ${item.severity} ${item.code}: ${item.message}`).join('\n');
      for (const must of expected.must) {
        assert.ok(
          reported.some((item) => item.code === must.code && item.file === must.file),
          `missing ${must.code} in ${must.file} (${must.why})\nreported:\n${listing}`,
        );
      }
      for (const item of reported) {
        assert.ok(!expected.must_not.includes(item.code), `false positive ${item.code} in ${item.file}: ${item.message}`);
        const allowed = expected.must.some((must) => must.code === item.code) || expected.may.includes(item.code);
        if (expected.consistent && item.severity === 'error') assert.ok(allowed, `error ${item.code} on a consistent host: ${item.message}`);
      }
      assert.deepEqual(result.faults, []);
      ran++;
    });
  }
  after(() => {
    console.log(`corpus: ran ${ran} of ${cases.length} cases from ${CORPUS}`);
  });
});
