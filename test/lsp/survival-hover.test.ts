/**
 * Hover on what must survive the rollback (RULES.md §E0), over LSP: on a persisted entry, a secrets key or a password
 * file the hover says what keeps the path (a mount, an impermanence link or bind, nothing) and whether it exists when
 * activation reads it — on copies of section-E rule fixtures.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Hover } from 'vscode-languageserver-protocol';
import { FIXTURES } from '../support/engine';
import { LspClient, uri } from '../support/lsp-client';
import { positionOf } from '../support/positions';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'survival-hover-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function hoverText(hover: Hover | null): string {
  assert.ok(hover, 'a hover');
  return (hover.contents as { value: string }).value;
}

/** Opens a copy of a rule fixture in a fresh server and hovers at `needle` (`shift` characters into it) in configuration.nix. */
async function hoverIn(fixture: string, needle: string, shift: number, nth = 0): Promise<Hover | null> {
  const folder = path.join(scratch, fixture.replace(/\W+/g, '-'));
  cpSync(path.join(FIXTURES, 'rules', fixture), folder, { recursive: true });
  const configuration = path.join(folder, 'configuration.nix');
  const text = readFileSync(configuration, 'utf8');
  const client = new LspClient();
  try {
    await client.initialize(folder);
    return (await client.connection.sendRequest('textDocument/hover', { textDocument: { uri: uri(configuration) }, position: positionOf(text, needle, shift, nth) })) as Hover | null;
  } finally {
    await client.shutdown();
  }
}

describe('hover on what must survive the rollback', () => {
  it('a password file impermanence links in persist-files: kept by impermanence, missing when users are created', async () => {
    const text = hoverText(await hoverIn('password-file-not-at-activation/trigger-on-root-and-in-files', 'hashedPasswordFile = "/etc/passwords/alice"', 25));
    assert.match(text, /`\/etc\/passwords\/alice`\*\* · `users\.users\.alice\.hashedPasswordFile`/);
    assert.match(text, /kept by: \*\*impermanence\*\*, which links it from `\/persist\/etc\/passwords\/alice`/);
    assert.match(text, /exists when activation creates users .*: \*\*no\*\* — impermanence links files in its `persist-files` activation snippet/);
    assert.match(text, /exists when sops-nix's `setupSecrets` decrypts regular secrets .*: \*\*yes\*\*/);
  });

  it('a password file on the erased root: kept by nothing, and the hover names what erases the root', async () => {
    const text = hoverText(await hoverIn('password-file-not-at-activation/trigger-on-root-and-in-files', '"/etc/passwords/root"', 3));
    assert.match(text, /kept by: \*\*nothing\*\* — it lies on the root, which is rolled back to rpool\/local\/root@blank on every boot/);
    assert.match(text, /exists when activation creates users .*: \*\*no\*\* — it lies on the erased root/);
  });

  it('an entry of the persistence list itself gets the same answer', async () => {
    const text = hoverText(await hoverIn('password-file-not-at-activation/trigger-on-root-and-in-files', '"/etc/passwords/alice" ]', 3));
    assert.match(text, /`\/etc\/passwords\/alice`\*\* · `environment\.persistence\."\/persist"\.files`/);
    assert.match(text, /kept by: \*\*impermanence\*\*/);
  });

  it('a sops-nix key file on a needed-for-boot mount: kept by the mount in stage 1, there at activation', async () => {
    const text = hoverText(await hoverIn('password-secret-not-needed-for-users/trigger-regular-secret', '"/persist/sops/key.txt"', 3));
    assert.match(text, /· `sops\.age\.keyFile`/);
    assert.match(text, /kept by: \*\*the mount\*\* `fileSystems\."\/persist"`.*, mounted in stage 1/);
    assert.match(text, /exists when activation creates users .*: \*\*yes\*\*/);
  });
});
