/**
 * The per-rule severity settings in package.json describe each rule's default severity and summary by hand. They
 * must agree with the rule: the default named first is the rule's own severity, and the summary is the rule's.
 * A rule whose severity or summary changes without its setting's description fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RULES } from '../../server/src/rules/registry';
import { REPO_ROOT } from '../support/engine';

const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, { markdownDescription?: string }> } };
};

describe('severity settings in package.json', () => {
  for (const rule of RULES) {
    it(rule.code, () => {
      const setting = manifest.contributes.configuration.properties[`ephemeralRoot.rules.${rule.code}.severity`];
      assert.ok(setting?.markdownDescription, `no setting ephemeralRoot.rules.${rule.code}.severity`);
      const match = /\(default: ([a-z]+)[^)]*\)\. (.*)$/.exec(setting.markdownDescription);
      assert.ok(match, `the description of ${rule.code} names no default`);
      assert.equal(match[1], rule.severity, `the description of ${rule.code} names another default severity`);
      assert.equal(match[2], rule.summary, `the description of ${rule.code} carries another summary`);
    });
  }
});
