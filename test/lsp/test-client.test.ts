/**
 * The test and benchmark client itself (test/support/lsp-client.ts): a process that used it must be able to end when
 * its server died in the middle of a message. `npm run bench` once stayed alive for good after its last figure, held
 * by vscode-jsonrpc's partial-message timer.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';

const CLIENT = path.join(__dirname, '..', 'support', 'lsp-client.js');

/** A process that reads half a message from a stream that then ends, and reports when it exits. */
function readHalfAMessage(reader: 'ours' | 'plain'): { status: number | null; stdout: string } {
  const script = `
    const { PassThrough } = require('node:stream');
    const { messageReader } = require(${JSON.stringify(CLIENT)});
    const { StreamMessageReader } = require('vscode-languageserver-protocol/node');
    const stream = new PassThrough();
    const reader = ${reader === 'ours' ? 'messageReader(stream)' : 'new StreamMessageReader(stream)'};
    // vscode-jsonrpc's timer fires every 10 s by default; 200 ms shows the same in less time.
    ${reader === 'plain' ? 'reader.partialMessageTimeout = 200;' : ''}
    reader.listen(() => undefined);
    stream.write('Content-Length: 100\\r\\n\\r\\n{"jsonrpc":');
    stream.end();
    reader.dispose();
    process.on('exit', () => process.stdout.write('exited'));
  `;
  // Ours should exit at once (10 s is only a bound for a slow machine); the plain one is still alive after seven
  // periods of its timer, because the timer re-arms itself.
  return spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: reader === 'ours' ? 10_000 : 1500, cwd: path.join(__dirname, '..', '..', '..') });
}

describe('test client', () => {
  it('lets its process exit after a half-read message', () => {
    const ours = readHalfAMessage('ours');
    assert.equal(ours.status, 0);
    assert.equal(ours.stdout, 'exited');
  });

  it('needs to: vscode-jsonrpc\'s own reader keeps the process alive', () => {
    const plain = readHalfAMessage('plain');
    assert.equal(plain.status, null, 'killed by the timeout, not exited');
    assert.equal(plain.stdout, '');
  });
});
