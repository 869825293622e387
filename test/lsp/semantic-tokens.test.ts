/** Semantic tokens from the tree-sitter tree: what each piece of a Nix file is coloured as, one line at a time. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { SEMANTIC_TOKENS_LEGEND, semanticTokensFor } from '../../server/src/lsp/semantic-tokens';
import { SourceFile, initSyntax } from '../../server/src/syntax/parser';
import { LspClient, uri } from '../support/lsp-client';

before(async () => {
  await initSyntax();
});

/** The tokens decoded to `line:character text=type`. */
function decode(text: string): string[] {
  const source = SourceFile.fromText('/t.nix', text);
  const data = semanticTokensFor(source);
  const lines = text.split('\n');
  const out: string[] = [];
  let line = 0;
  let character = 0;
  for (let index = 0; index < data.length; index += 5) {
    line += data[index];
    character = data[index] === 0 ? character + data[index + 1] : data[index + 1];
    out.push(`${line}:${character} ${lines[line].slice(character, character + data[index + 2])}=${SEMANTIC_TOKENS_LEGEND.tokenTypes[data[index + 3]]}`);
  }
  return out;
}

describe('semantic tokens', () => {
  it('keywords, attribute names, strings, numbers, comments, parameters, calls and operators', () => {
    const tokens = decode('{ pkgs, ... }:\n# a comment\nlet n = 1; in {\n  fileSystems."/".device = "rpool/root";\n  x = lib.mkIf true (n + 2);\n}\n');
    for (const expected of [
      '0:2 pkgs=parameter',
      '1:0 # a comment=comment',
      '2:0 let=keyword',
      '2:4 n=property',
      '2:8 1=number',
      '2:11 in=keyword',
      '3:2 fileSystems=property',
      '3:15 /=string',
      '3:28 rpool/root=string',
      '4:15 true=keyword',
      '4:23 +=operator',
      '4:25 2=number',
    ]) {
      assert.ok(tokens.includes(expected), `${expected} in ${JSON.stringify(tokens)}`);
    }
  });

  it('a called function is a function', () => {
    assert.ok(decode('f x\n').includes('0:0 f=function'));
  });

  it('a multi-line indented string becomes one token per line, none spanning a line end', () => {
    const tokens = decode("{\n  script = ''\n    zfs rollback -r rpool/local/root@blank\n  '';\n}\n");
    assert.ok(tokens.some((token) => /^2:\d+ .*zfs rollback -r rpool\/local\/root@blank=string$/.test(token)), JSON.stringify(tokens));
    assert.ok(tokens.every((token) => !token.includes('\n')));
  });

  it('tokens come in document order without overlaps (the LSP encoding needs both)', () => {
    const source = SourceFile.fromText('/t.nix', '{ a = "x${b}y"; /* c\nd */ e = [ 1 2.5 ./p <nixpkgs> ]; }\n');
    const data = semanticTokensFor(source);
    assert.ok(data.length > 0 && data.length % 5 === 0);
    let line = 0;
    let start = 0;
    let previousEnd = 0;
    for (let index = 0; index < data.length; index += 5) {
      if (data[index] > 0) previousEnd = 0;
      line += data[index];
      start = data[index] > 0 ? data[index + 1] : start + data[index + 1];
      assert.ok(data[index + 2] > 0, `the token at ${line}:${start} has a length`);
      assert.ok(start >= previousEnd, `the token at ${line}:${start} starts after the one before it ends (${previousEnd})`);
      previousEnd = start + data[index + 2];
    }
  });
});

describe('semantic tokens over LSP', () => {
  it('the server announces the legend and answers textDocument/semanticTokens/full for an open file', async () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'tokens-'));
    const file = path.join(folder, 'configuration.nix');
    const text = '{ lib, ... }:\n{\n  networking.hostId = "8425e349";\n}\n';
    writeFileSync(file, text);
    const client = new LspClient();
    try {
      const initialized = (await client.connection.sendRequest('initialize', { processId: process.pid, rootUri: uri(folder), workspaceFolders: [{ uri: uri(folder), name: 'tokens' }], capabilities: {} })) as {
        capabilities: { semanticTokensProvider?: { legend: { tokenTypes: string[] } } };
      };
      await client.connection.sendNotification('initialized', {});
      assert.deepEqual(initialized.capabilities.semanticTokensProvider?.legend.tokenTypes, SEMANTIC_TOKENS_LEGEND.tokenTypes);
      client.open(file, text);
      const answer = (await client.connection.sendRequest('textDocument/semanticTokens/full', { textDocument: { uri: uri(file) } })) as { data: number[] };
      assert.deepEqual(answer.data, semanticTokensFor(SourceFile.fromText(file, text)));
      assert.ok(answer.data.length > 0);
    } finally {
      await client.shutdown();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
