/**
 * Everything the manifest declares is documented: every setting and command in README.md, every rule with its page
 * under docs/rules and a link from README.md, every snippet with a description. A new setting, command or rule
 * without documentation fails here.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RULE_CODES } from '../../server/src/rules/types';
import { REPO_ROOT } from '../support/engine';

const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, unknown> }; commands: { command: string; title: string }[] };
};
const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');

describe('documentation of the manifest', () => {
  for (const key of Object.keys(manifest.contributes.configuration.properties)) {
    it(`setting ${key}`, () => {
      const rule = /^ephemeralRoot\.rules\.(.+)\.severity$/.exec(key);
      if (rule) {
        assert.ok(readme.includes('ephemeralRoot.rules.<code>.severity'), 'README documents the per-rule severity setting');
        assert.ok(existsSync(path.join(REPO_ROOT, 'docs', 'rules', `${rule[1]}.md`)), `docs/rules/${rule[1]}.md`);
      } else assert.ok(readme.includes(`\`${key}\``), `README.md does not document ${key}`);
    });
  }
  for (const { command, title } of manifest.contributes.commands) {
    it(`command ${command}`, () => {
      assert.ok(readme.includes(`\`${command}\``), `README.md does not document ${command}`);
      assert.ok(readme.includes(title), `README.md does not name the command "${title}"`);
    });
  }
  for (const code of RULE_CODES) {
    it(`rule ${code}`, () => {
      assert.ok(existsSync(path.join(REPO_ROOT, 'docs', 'rules', `${code}.md`)), `docs/rules/${code}.md`);
      assert.ok(readme.includes(`docs/rules/${code}.md`), `README.md does not link docs/rules/${code}.md`);
    });
  }
});
