/**
 * The short, reproducible fuzz run of `npm test` (fixed seed), and the replay of every failing sequence the long run
 * (`npm run fuzz`) ever saved under test/fixtures/fuzz/.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURES } from '../support/engine';
import { LspClient } from '../support/lsp-client';
import { type Edit, HOSTILE, fuzzServer, fuzzTargets, holdsHostileShape, runSequence } from './edit-fuzzer';

// Generous for a loaded CI machine: the first request after opening a file includes the cold first analysis.
const RESPONSE_LIMIT_MS = 5000;

describe('fuzzing the language server', () => {
  it('survives random edit sequences (seed 20261125)', async () => {
    const { edits, ordinary, hostile } = await fuzzServer({ seed: 20261125, runs: 25, editsPerRun: 8, responseLimitMs: RESPONSE_LIMIT_MS });
    console.log(`fuzz: ${edits} edits, slowest response ${Math.max(0, ...ordinary, ...hostile).toFixed(1)} ms`);
    assert.ok(edits >= 25);
    assert.equal(ordinary.length + hostile.length, edits, 'every edit has its response time');
  });

  it('holds a document with a split or clipped hostile run to the hostile limit, and no other', () => {
    const layout = readFileSync(path.join(fuzzTargets()[0].folder, 'disko.nix'), 'utf8');
    for (const shape of HOSTILE) assert.ok(holdsHostileShape(layout.slice(0, 40) + shape + layout.slice(40)), shape.slice(0, 40));
    // Seed 217135: an insertion one character into `[ {` × 5,000 left `{[ ` × 4,933 behind.
    const clipped = `[ 中文${'{[ '.repeat(4933)}{`;
    assert.ok(holdsHostileShape(layout + clipped));
    assert.ok(holdsHostileShape(`${'.a'.repeat(2000)}b${'.a'.repeat(2000)}`));
    assert.ok(!holdsHostileShape(layout), 'the seed layout itself is ordinary');
    assert.ok(!holdsHostileShape(layout + '[ {'.repeat(100) + '['.repeat(800)), 'short runs and the fuzzer\'s own nesting are ordinary');
  });

  const saved = path.join(FIXTURES, 'fuzz');
  for (const name of existsSync(saved) ? readdirSync(saved).filter((file) => file.endsWith('.json')) : []) {
    it(`replays ${name}`, async (t) => {
      const record = JSON.parse(readFileSync(path.join(saved, name), 'utf8')) as { file: string; edits: Edit[] };
      const target = fuzzTargets().find((candidate) => existsSync(path.join(candidate.folder, record.file)) && candidate.file === record.file);
      // A sequence recorded on a corpus host needs ../shared/corpus, which a clone elsewhere does not have.
      if (!target) return t.skip(`the document it was recorded on (${record.file}) is not here`);
      const scratch = mkdtempSync(path.join(os.tmpdir(), 'replay-'));
      cpSync(target.folder, scratch, { recursive: true });
      const client = new LspClient();
      const errors: string[] = [];
      client.connection.onNotification('window/logMessage', (message: { type: number; message: string }) => {
        if (message.type === 1) errors.push(message.message);
      });
      try {
        await client.initialize(scratch);
        await runSequence(client, { folder: scratch, file: path.join(scratch, record.file) }, record.edits, { responseLimitMs: RESPONSE_LIMIT_MS, seed: 0 }, errors, () => undefined);
      } finally {
        await client.shutdown();
        rmSync(scratch, { recursive: true, force: true });
      }
    });
  }
});
