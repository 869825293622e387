/**
 * The rule fixtures of sections E ("what must survive the rollback"), F (btrfs roots) and G (tmpfs roots) through the language server, as an editor sees them:
 * every fixture of every code of those sections (triggers and near misses, the version-dependent and activation-mode silences
 * among them) is a folder of one multi-root workspace, each of its Nix files is opened, and the diagnostics published
 * for it must be exactly the caret annotations of that file (range, severity and code) — the contract
 * test/rules/fixtures.test.ts checks through the engine. For a file without annotations the server's own count of
 * its diagnostics (`ephemeralRoot/fileInfo`, answered after the analysis) must be zero, and the host must have been
 * found, so that a near miss cannot pass because nothing was analysed.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { annotationKey, expectedKey, readAnnotations } from '../support/annotations';
import { fixtureRelease, listNix } from '../support/engine';
import { LspClient, uri } from '../support/lsp-client';
import { FRONT_END_CODES, ruleFixtures } from '../support/section-e';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'survival-fixtures-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const SEVERITY: Record<number, string> = { 1: 'error', 2: 'warning', 3: 'information', 4: 'hint' };

interface FileInfo {
  hosts: { name: string }[];
  counts: Record<string, number>;
}

const fixtures = ruleFixtures(FRONT_END_CODES).map((fixture) => ({ ...fixture, folder: path.join(scratch, `${fixture.code}--${fixture.name}`) }));

function keysOf(file: string, diagnostics: Diagnostic[]): string[] {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  return diagnostics.map((diagnostic) => annotationKey(file, diagnostic.range, (line) => lines[line] ?? '', SEVERITY[diagnostic.severity ?? 1], String(diagnostic.code))).sort();
}

describe('section-E, F and G fixtures through the language server', () => {
  let client: LspClient;
  before(async () => {
    for (const fixture of fixtures) cpSync(fixture.source, fixture.folder, { recursive: true });
    client = new LspClient();
    await client.initialize(fixtures.map((fixture) => fixture.folder));
  });
  after(() => client.shutdown());

  it('every section-E, F and G code has a trigger and a near miss here, none with a release of its own', () => {
    for (const code of FRONT_END_CODES) {
      const names = fixtures.filter((fixture) => fixture.code === code).map((fixture) => fixture.name);
      assert.ok(names.some((name) => name.startsWith('trigger')) && names.some((name) => name.startsWith('near-miss')), `${code}: ${names.join(', ')}`);
    }
    // The server reads the release from flake.lock or its setting; a fixture's `release` file is the engine test's.
    for (const fixture of fixtures) assert.equal(fixtureRelease(fixture.source), undefined, `${fixture.code}/${fixture.name} has a release file`);
  });

  for (const fixture of fixtures) {
    it(`${fixture.code}: ${fixture.name}`, async () => {
      const files = listNix(fixture.folder);
      const expectedOf = new Map(files.map((file) => [file, readAnnotations(file).map(expectedKey).sort()]));
      // The first publication may precede the analysis of the whole host: wait for the expected one (registered
      // before the files open, so it cannot be missed).
      const published = files.map((file) => {
        const expected = expectedOf.get(file)!;
        if (expected.length === 0) return Promise.resolve(undefined);
        return client.next(uri(file), (diagnostics) => JSON.stringify(keysOf(file, diagnostics)) === JSON.stringify(expected), 15_000).catch(() => undefined);
      });
      for (const file of files) client.open(file, readFileSync(file, 'utf8'));
      await Promise.all(published);
      const relative = (keys: string[]) => keys.map((key) => path.relative(fixture.folder, key));
      let hosts = 0;
      for (const file of files) {
        const expected = expectedOf.get(file)!;
        const info = (await client.connection.sendRequest('ephemeralRoot/fileInfo', { uri: uri(file) })) as FileInfo | undefined;
        hosts += info?.hosts.length ?? 0;
        const counted = Object.values(info?.counts ?? {}).reduce((sum, count) => sum + count, 0);
        assert.equal(counted, expected.length, `the server counts ${counted} diagnostics in ${path.relative(fixture.folder, file)}, its annotations ${expected.length}`);
        assert.deepEqual(relative(keysOf(file, client.latest(uri(file)))), relative(expected), `diagnostics of ${path.relative(fixture.folder, file)} differ from its annotations`);
      }
      assert.ok(hosts > 0, 'the server found no host in the fixture');
    });
  }
});
