/**
 * Documentation: every rule has a page generated from its header comment (and the committed page is current), every
 * rule cites the facts it rests on, and every page has the before/after example.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DOCS, FIXES_PAGE, readmeWithRuleList, renderedFixesPage, renderedPages } from '../../scripts/generate-docs';
import { RULES } from '../../server/src/rules/registry';

// Findings that rest on no fact of nixpkgs or ZFS: the parser's, the import resolver's, and Nix's own error (evaluation-failed).
const ENGINE_LEVEL = new Set(['syntax-error', 'import-not-found', 'evaluation-failed']);

describe('rule documentation', () => {
  const pages = renderedPages();
  it('docs/quick-fixes.md is current (npm run docs)', () => {
    assert.equal(readFileSync(FIXES_PAGE, 'utf8'), renderedFixesPage());
  });
  it('the rule list of README.md is current (npm run docs)', () => {
    const readme = readFileSync(path.join(DOCS, '..', '..', 'README.md'), 'utf8');
    assert.equal(readme, readmeWithRuleList(readme));
  });
  for (const [name, text] of pages) {
    it(`docs/rules/${name} is current (npm run docs)`, () => {
      assert.equal(readFileSync(path.join(DOCS, name), 'utf8'), text);
    });
  }
  for (const rule of RULES) {
    it(`${rule.code}: what, why, fix and a before/after example`, () => {
      const page = pages.get(`${rule.code}.md`)!;
      for (const heading of ['**What.**', '**Why.**', '**Fix.**', '```nix']) assert.ok(page.includes(heading), `${rule.code} lacks ${heading}`);
      if (!ENGINE_LEVEL.has(rule.code)) {
        assert.ok(rule.facts.length > 0, `${rule.code} cites no fact`);
        for (const fact of rule.facts) assert.ok(page.includes(fact), `${rule.code} lists ${fact} but its text does not cite it`);
      }
    });
  }
});
