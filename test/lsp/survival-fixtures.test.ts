/**
 * Section-E rule fixtures ("what must survive the rollback") through the language server, as an editor sees them:
 * each fixture is a folder of one multi-root workspace, its configuration.nix is opened, and the diagnostics
 * published for it must be exactly the caret annotations of that file (range, severity and code) — the contract
 * test/rules/fixtures.test.ts checks for every fixture through the engine. A few fixtures stand for the family here
 * (a trigger and a near miss of the secrets, password and machine-id rules), to keep the server run short.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { annotationKey, expectedKey, readAnnotations } from '../support/annotations';
import { FIXTURES, fixtureRelease } from '../support/engine';
import { LspClient, uri } from '../support/lsp-client';
import { SECTION_E_CODES } from '../support/section-e';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'survival-fixtures-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const SEVERITY: Record<number, string> = { 1: 'error', 2: 'warning', 3: 'information', 4: 'hint' };

interface Fixture {
  code: string;
  name: string;
  folder: string;
}

const CHOSEN: [string, string][] = [
  ['secret-key-not-persisted', 'trigger-sops-key-file'],
  ['secret-key-not-at-activation', 'trigger-secret-for-users-key-in-files'],
  ['secret-key-not-at-activation', 'near-miss-sysusers'],
  ['password-file-not-at-activation', 'trigger-on-root-and-in-files'],
  ['ssh-host-keys-not-persisted', 'trigger-default-host-keys'],
  ['machine-id-preserved-late', 'trigger-plain-string'],
  ['machine-id-preserved-late', 'near-miss-in-initrd'],
];

const fixtures: Fixture[] = CHOSEN.map(([code, name]) => ({ code, name, folder: path.join(scratch, `${code}--${name}`) }));

function keysOf(file: string, diagnostics: Diagnostic[]): string[] {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  return diagnostics.map((diagnostic) => annotationKey(file, diagnostic.range, (line) => lines[line] ?? '', SEVERITY[diagnostic.severity ?? 1], String(diagnostic.code))).sort();
}

describe('section-E fixtures through the language server', () => {
  let client: LspClient;
  before(async () => {
    for (const fixture of fixtures) cpSync(path.join(FIXTURES, 'rules', fixture.code, fixture.name), fixture.folder, { recursive: true });
    client = new LspClient();
    await client.initialize(fixtures.map((fixture) => fixture.folder));
  });
  after(() => client.shutdown());

  it('the chosen fixtures are section-E fixtures without a release of their own', () => {
    for (const fixture of fixtures) {
      const source = path.join(FIXTURES, 'rules', fixture.code, fixture.name);
      assert.ok((SECTION_E_CODES as readonly string[]).includes(fixture.code) && existsSync(source) && fixtureRelease(source) === undefined, `${fixture.code}/${fixture.name}`);
    }
  });

  for (const fixture of fixtures) {
    it(`${fixture.code}: ${fixture.name}`, async () => {
      for (const file of [path.join(fixture.folder, 'configuration.nix')]) {
        const expected = readAnnotations(file).map(expectedKey).sort();
        const matches = (diagnostics: Diagnostic[]) => JSON.stringify(keysOf(file, diagnostics)) === JSON.stringify(expected);
        // The first publication may precede the analysis of the whole host; wait (a while) for the expected one. A
        // near miss may get no publication at all (nothing to report on a newly opened file): a shorter wait there.
        const published = client.next(uri(file), matches, expected.length > 0 ? 10_000 : 3_000).catch(() => undefined);
        client.open(file, readFileSync(file, 'utf8'));
        await published;
        const relative = (keys: string[]) => keys.map((key) => path.relative(fixture.folder, key));
        assert.deepEqual(relative(keysOf(file, client.latest(uri(file)))), relative(expected), `diagnostics of ${path.relative(fixture.folder, file)} differ from its annotations`);
      }
    });
  }
});
