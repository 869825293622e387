/**
 * The walkthrough in package.json: every step's page exists, and the page for the "what must survive the rollback"
 * family (RULES.md section E) names each of its rules, each one a registered rule.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RULE_CODES } from '../../server/src/rules/types';
import { REPO_ROOT } from '../support/engine';
import { SECTION_E_CODES } from '../support/section-e';

interface Step {
  id: string;
  media: { markdown?: string };
}

const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { contributes: { walkthroughs: { steps: Step[] }[] } };
const steps = manifest.contributes.walkthroughs.flatMap((walkthrough) => walkthrough.steps);

describe('walkthrough', () => {
  it('every step has its page', () => {
    for (const step of steps) assert.ok(step.media.markdown && existsSync(path.join(REPO_ROOT, step.media.markdown)), `${step.id}: ${step.media.markdown}`);
  });

  it('the step for what must survive the rollback names every section-E rule', () => {
    const step = steps.find((candidate) => candidate.id === 'what-survives');
    assert.ok(step?.media.markdown, 'a walkthrough step what-survives');
    const page = readFileSync(path.join(REPO_ROOT, step.media.markdown), 'utf8');
    for (const code of SECTION_E_CODES) {
      assert.ok((RULE_CODES as readonly string[]).includes(code), `${code} is a rule`);
      assert.ok(page.includes(`\`${code}\``), `the page does not name ${code}`);
    }
  });
});
