/** Fact references in hovers link to their entry in docs/facts.md, and every fact a hover can cite exists there. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FACTS_URL, linkFactReferences } from '../../server/src/lsp/hover';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

describe('fact references in hovers', () => {
  it('links (F13), (F6, F8), (F6–F8) and (…, F23) to the facts page', () => {
    const link = (n: number) => `[F${n}](${FACTS_URL}#:~:text=F${n})`;
    assert.equal(linkFactReferences('the mount fails (F13)'), `the mount fails (${link(13)})`);
    assert.equal(linkFactReferences('stage 2 (F6, F8)'), `stage 2 (${link(6)}, ${link(8)})`);
    assert.equal(linkFactReferences('pool import (F6–F8).'), `pool import (${link(6)}–${link(8)}).`);
    assert.equal(linkFactReferences('(false by default; disko never sets it, F23)'), `(false by default; disko never sets it, ${link(23)})`);
  });

  it('leaves other text alone: names, code and words that only look like a fact', () => {
    for (const text of ['`F13`', 'pool F1x', 'dataset rpool/F13/data', 'see F13 below']) assert.equal(linkFactReferences(text), text);
  });

  it('every fact the hover texts cite is an entry of docs/facts.md', () => {
    const facts = readFileSync(path.join(REPO_ROOT, 'docs', 'facts.md'), 'utf8');
    const entries = new Set([...facts.matchAll(/^\| (F\d+) \|/gm)].map((match) => match[1]));
    const sources = ['hover.ts', 'facts.ts', 'unit-docs.ts'].map((file) => readFileSync(path.join(REPO_ROOT, 'server', 'src', 'lsp', file), 'utf8')).join('\n');
    const cited = new Set([...linkFactReferences(sources).matchAll(/\[(F\d+)\]\(/g)].map((match) => match[1]));
    assert.ok(cited.size >= 5, [...cited].join(', '));
    for (const fact of cited) assert.ok(entries.has(fact), `${fact} is cited but not in docs/facts.md`);
  });
});
