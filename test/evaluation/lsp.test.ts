/**
 * The evaluation-backed mode through the language server (`ephemeralRoot.evaluate`), with the real Nix 2.8 and the
 * stand-in nixpkgs: the static analysis is published first, Nix runs in the background, and the findings that rest on
 * evaluated values follow; a correct configuration stays clean; `onSave` waits for a save; an untrusted workspace
 * never runs Nix.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { LspClient, uri } from '../support/lsp-client';
import { type Prepared, prepare } from './support';

interface Info {
  hosts: { name: string }[];
  evaluation?: { state: string; evaluated: string[]; host?: string; fault?: string };
}

async function start(prepared: Prepared, evaluate: string, trusted?: boolean): Promise<LspClient> {
  // The server inherits this process's environment: the logging nix wrapper first on PATH, a scratch cache.
  const names = ['PATH', 'EPHEMERAL_ROOT_CACHE_DIR', 'NIX_PATH'] as const;
  const saved = names.map((name) => process.env[name]);
  for (const name of names) process.env[name] = prepared.env[name];
  const client = new LspClient();
  names.forEach((name, index) => {
    if (saved[index] === undefined) delete process.env[name];
    else process.env[name] = saved[index];
  });
  client.settings = { ephemeralRoot: { evaluate } };
  if (trusted === undefined) {
    await client.initialize(prepared.repo);
  } else {
    await client.connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: uri(prepared.repo),
      workspaceFolders: [{ uri: uri(prepared.repo), name: 'repo' }],
      capabilities: { workspace: { configuration: true, workspaceFolders: true } },
      initializationOptions: { workspaceTrusted: trusted },
    });
    await client.connection.sendNotification('initialized', {});
  }
  return client;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function evaluated(client: LspClient, file: string, host: string): Promise<Info> {
  return waitFor(`host ${host} evaluated`, async () => {
    const info = await client.connection.sendRequest<Info | undefined>('ephemeralRoot/fileInfo', { uri: uri(file) });
    return info?.evaluation?.evaluated.includes(host) && info.evaluation.state === 'idle' ? info : undefined;
  });
}

const FAMILIES: { family: string; code: string; file: string; host: string }[] = [
  { family: 'custom-option', code: 'hostid-missing', file: 'site.nix', host: 'kestrel' },
  { family: 'special-args', code: 'hostid-missing', file: 'host-id.nix', host: 'heron' },
  { family: 'lib-helper', code: 'nix-on-ephemeral-root', file: 'configuration.nix', host: 'wren' },
  { family: 'input-module', code: 'hostid-missing', file: 'flake.nix', host: 'kestrel' },
  { family: 'classic', code: 'hostid-missing', file: 'site.nix', host: 'repo' },
];

const hasCode = (code: string) => (diagnostics: Diagnostic[]) => diagnostics.some((diagnostic) => diagnostic.code === code);

describe('ephemeralRoot.evaluate in the language server', () => {
  for (const { family, code, file, host } of FAMILIES) {
    it(`${family}: the static publication is silent, the evaluated one reports ${code}`, async () => {
      const prepared = prepare(`${family}/trigger`);
      const client = await start(prepared, 'onOpen');
      try {
        const target = path.join(prepared.repo, file);
        // The static reading alone is silent here (test/evaluation/cli.test.ts): a clean file is not published at all,
        // so the first publication for it is the evaluated one.
        client.open(target, readFileSync(target, 'utf8'));
        const later = await client.next(uri(target), hasCode(code), 60_000);
        const finding = later.diagnostics.find((diagnostic) => diagnostic.code === code)!;
        assert.match(String(finding.message), /rests on values Nix evaluated/);
        assert.equal(prepared.evalCalls().length, 1, 'one nix eval');
        await evaluated(client, target, host);
        assert.doesNotMatch(client.stderr, /disagree/);
      } finally {
        await client.shutdown();
        rmSync(prepared.scratch, { recursive: true, force: true });
      }
    });
    it(`${family}: a correct configuration stays clean`, async () => {
      const prepared = prepare(`${family}/correct`);
      const client = await start(prepared, 'onOpen');
      try {
        const target = path.join(prepared.repo, file);
        client.open(target, readFileSync(target, 'utf8'));
        const hostName = host === 'heron' ? 'kestrel' : host;
        await evaluated(client, target, hostName);
        // The analysis with Nix's values is done (fileInfo waits for it): nothing was published on the file.
        await client.connection.sendRequest('ephemeralRoot/fileInfo', { uri: uri(target) });
        assert.deepEqual(client.latest(uri(target)), []);
        assert.deepEqual(client.published.filter((item) => item.diagnostics.length > 0), [], 'no finding anywhere');
        assert.equal(prepared.evalCalls().length, 1);
      } finally {
        await client.shutdown();
        rmSync(prepared.scratch, { recursive: true, force: true });
      }
    });
  }

  it('onSave: opening does not run Nix, saving does; a second server answers from the cache', async () => {
    const prepared = prepare('custom-option/trigger');
    let client = await start(prepared, 'onSave');
    try {
      const target = path.join(prepared.repo, 'site.nix');
      client.open(target, readFileSync(target, 'utf8'));
      await client.connection.sendRequest('ephemeralRoot/fileInfo', { uri: uri(target) });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(prepared.evalCalls().length, 0, 'opening alone runs no nix with onSave');
      void client.connection.sendNotification('textDocument/didSave', { textDocument: { uri: uri(target) } });
      await client.next(uri(target), hasCode('hostid-missing'), 60_000);
      assert.equal(prepared.evalCalls().length, 1);
      await client.shutdown();
      client = await start(prepared, 'onSave');
      client.open(target, readFileSync(target, 'utf8'));
      void client.connection.sendNotification('textDocument/didSave', { textDocument: { uri: uri(target) } });
      await client.next(uri(target), hasCode('hostid-missing'), 60_000);
      assert.equal(prepared.evalCalls().length, 1, 'nothing changed: the cache answers, nix does not run');
    } finally {
      await client.shutdown();
      rmSync(prepared.scratch, { recursive: true, force: true });
    }
  });

  it('turning the setting on evaluates the files already open; granting trust does too', async () => {
    const prepared = prepare('custom-option/trigger');
    let client = await start(prepared, 'off');
    try {
      const target = path.join(prepared.repo, 'site.nix');
      client.open(target, readFileSync(target, 'utf8'));
      await client.connection.sendRequest('ephemeralRoot/fileInfo', { uri: uri(target) });
      assert.equal(prepared.evalCalls().length, 0, 'off: no nix');
      client.settings = { ephemeralRoot: { evaluate: 'onOpen' } };
      void client.connection.sendNotification('workspace/didChangeConfiguration', { settings: {} });
      await client.next(uri(target), hasCode('hostid-missing'), 60_000);
      assert.equal(prepared.evalCalls().length, 1);
      await client.shutdown();
      rmSync(prepared.cache, { recursive: true, force: true });
      client = await start(prepared, 'onOpen', false);
      client.open(target, readFileSync(target, 'utf8'));
      await client.connection.sendRequest('ephemeralRoot/fileInfo', { uri: uri(target) });
      assert.equal(prepared.evalCalls().length, 1, 'untrusted: no nix');
      void client.connection.sendNotification('ephemeralRoot/workspaceTrusted');
      await client.next(uri(target), hasCode('hostid-missing'), 60_000);
      assert.equal(prepared.evalCalls().length, 2, 'trusted now: evaluated');
    } finally {
      await client.shutdown();
      rmSync(prepared.scratch, { recursive: true, force: true });
    }
  });

  it('an untrusted workspace never runs Nix, whatever the setting', async () => {
    const prepared = prepare('custom-option/trigger');
    const client = await start(prepared, 'onOpen', false);
    try {
      const target = path.join(prepared.repo, 'site.nix');
      client.open(target, readFileSync(target, 'utf8'));
      await client.connection.sendRequest('ephemeralRoot/fileInfo', { uri: uri(target) });
      void client.connection.sendNotification('textDocument/didSave', { textDocument: { uri: uri(target) } });
      await new Promise((resolve) => setTimeout(resolve, 2000));
      assert.equal(prepared.evalCalls().length, 0);
      const info = await client.connection.sendRequest<Info>('ephemeralRoot/fileInfo', { uri: uri(target) });
      assert.equal(info.evaluation?.state, 'untrusted');
      assert.ok(!hasCode('hostid-missing')(client.latest(uri(target))));
    } finally {
      await client.shutdown();
      rmSync(prepared.scratch, { recursive: true, force: true });
    }
  });
});
