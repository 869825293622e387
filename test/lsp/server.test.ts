/**
 * The language server over stdio, as any editor drives it: diagnostics on open, cross-file re-publication when
 * disko.nix changes, clearing when a problem is fixed, files changed on disk, settings without a restart, and
 * robustness against malformed requests.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../support/engine';
import { LspClient, uri } from '../support/lsp-client';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'lsp-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function copyOf(example: string): string {
  const folder = path.join(scratch, `${example}-${Math.random().toString(36).slice(2, 8)}`);
  cpSync(path.join(REPO_ROOT, 'examples', example), folder, { recursive: true });
  return folder;
}

const codes = (diagnostics: { code?: string | number }[]) => diagnostics.map((diagnostic) => diagnostic.code).sort();

describe('language server over stdio', () => {
  let client: LspClient;
  let folder: string;
  before(async () => {
    folder = copyOf('seed');
    client = new LspClient();
    await client.initialize(folder);
  });
  after(() => client.shutdown());

  it('publishes only the seed\'s note, and a snapshot rename in disko.nix re-publishes configuration.nix', async () => {
    const configuration = path.join(folder, 'configuration.nix');
    const disko = path.join(folder, 'disko.nix');
    client.open(configuration, readFileSync(configuration, 'utf8'));
    const diskoText = readFileSync(disko, 'utf8');
    client.open(disko, diskoText);
    // The seed's rollback is right (its one note: /etc/machine-id is not kept): rename and expect the mismatch.
    const line = diskoText.split('\n').findIndex((text) => text.includes('postCreateHook'));
    // Rename the snapshot that `zfs snapshot` creates (the last `@start` on the line).
    const column = diskoText.split('\n')[line].lastIndexOf('@start');
    const published = client.next(uri(configuration), (diagnostics) => diagnostics.some((item) => item.code === 'rollback-snapshot-mismatch'));
    client.change(disko, 2, [{ range: { start: { line, character: column + 1 }, end: { line, character: column + 6 } }, text: 'empty' }]);
    const mismatch = (await published).diagnostics.find((item) => item.code === 'rollback-snapshot-mismatch')!;
    assert.equal(mismatch.source, 'ephemeral-root');
    assert.match(mismatch.codeDescription!.href, /docs\/rules\/rollback-snapshot-mismatch\.md$/);
    assert.equal(mismatch.relatedInformation?.[0].location.uri, uri(disko));
    const scriptLine = readFileSync(configuration, 'utf8').split('\n').findIndex((text) => text.includes('zfs rollback'));
    assert.equal(mismatch.range.start.line, scriptLine);
    // Undoing the rename clears it at once.
    const cleared = client.next(uri(configuration), (diagnostics) => codes(diagnostics).join() === 'machine-id-not-persisted');
    client.change(disko, 3, [{ range: { start: { line, character: column + 1 }, end: { line, character: column + 6 } }, text: 'start' }]);
    await cleared;
  });

  it('picks up a file changed on disk through a watched-file event', async () => {
    const extra = path.join(folder, 'extra.nix');
    const broken = client.next(uri(extra), (diagnostics) => diagnostics.some((item) => item.code === 'syntax-error'));
    writeFileSync(extra, '{ networking.domain = "example.org" }\n');
    void client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uri(extra), type: 1 }] });
    await broken;
    const fixed = client.next(uri(extra), (diagnostics) => diagnostics.length === 0);
    writeFileSync(extra, '{ networking.domain = "example.org"; }\n');
    void client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uri(extra), type: 2 }] });
    await fixed;
  });

  it('applies a severity setting without a restart', async () => {
    const disko = path.join(folder, 'disko.nix');
    const text = readFileSync(disko, 'utf8').replace(/postCreateHook = .*;/, 'postCreateHook = "zfs snapshot rpool/nixos/empty@start";');
    const warned = client.next(uri(disko), (diagnostics) => diagnostics.some((item) => item.code === 'snapshot-hook-not-idempotent' && item.severity === 2));
    client.change(disko, 10, [{ text }]);
    await warned;
    client.settings = { ephemeralRoot: { rules: { 'snapshot-hook-not-idempotent': { severity: 'error' } } } };
    const upgraded = client.next(uri(disko), (diagnostics) => diagnostics.some((item) => item.code === 'snapshot-hook-not-idempotent' && item.severity === 1));
    void client.connection.sendNotification('workspace/didChangeConfiguration', { settings: null });
    await upgraded;
    client.settings = { ephemeralRoot: { rules: { 'snapshot-hook-not-idempotent': { severity: 'off' } } } };
    const off = client.next(uri(disko), (diagnostics) => diagnostics.length === 0);
    void client.connection.sendNotification('workspace/didChangeConfiguration', { settings: null });
    await off;
  });

  it('answers malformed requests with errors and keeps serving', async () => {
    await assert.rejects(client.connection.sendRequest('textDocument/codeAction', { nonsense: true }));
    await assert.rejects(client.connection.sendRequest('no/such/method', {}));
    const info = await client.connection.sendRequest('ephemeralRoot/fileInfo', { uri: uri(path.join(folder, 'configuration.nix')) });
    assert.deepEqual((info as { hosts: { name: string }[] }).hosts.map((host) => host.name), ['seed']);
    assert.equal(client.process.exitCode, null);
  });
});

describe('language server on a broken host', () => {
  it('publishes the expected codes for the broken flake on open', async () => {
    const folder = copyOf('broken-flake');
    const client = new LspClient();
    try {
      await client.initialize(folder);
      const configuration = path.join(folder, 'hosts', 'tern', 'configuration.nix');
      const published = client.next(uri(configuration), (diagnostics) => diagnostics.length > 0);
      client.open(configuration, readFileSync(configuration, 'utf8'));
      assert.deepEqual(codes((await published).diagnostics), [
        'import-unit-name-mismatch',
        'machine-id-not-persisted',
        'persist-not-needed-for-boot',
        'rollback-missing-r',
        'rollback-not-before-mount',
        'rollback-snapshot-mismatch',
      ]);
    } finally {
      await client.shutdown();
    }
  });
});

describe('language server: what stayed unknown', () => {
  it('fileInfo counts the unknowns of the file\'s hosts by cause (the status bar tooltip)', async () => {
    const folder = copyOf('seed');
    // A module of a flake input nothing knows: everything it might set is unknown.
    const configuration = path.join(folder, 'configuration.nix');
    writeFileSync(configuration, readFileSync(configuration, 'utf8').replace('{ lib, pkgs, ... }:\n{', '{ lib, pkgs, ... }:\n{\n  imports = [ ./extra.nix ];'));
    writeFileSync(path.join(folder, 'extra.nix'), '{ config, ... }: { fileSystems.${config.services.nextcloud.home} = { device = "rpool/nc"; fsType = "zfs"; }; }\n');
    const client = new LspClient();
    try {
      await client.initialize(folder);
      const info = (await client.connection.sendRequest('ephemeralRoot/fileInfo', { uri: uri(configuration) })) as { unknowns: { cause: string; count: number }[] };
      assert.ok(
        info.unknowns.some((group) => /option that NixOS/.test(group.cause) && group.count >= 1),
        `unknowns: ${JSON.stringify(info.unknowns)}`,
      );
    } finally {
      await client.shutdown();
    }
  });
});
