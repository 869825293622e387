/**
 * The language server's transport against hostile or broken input, byte for byte: the built server
 * (`node dist/server.js --stdio`) is fed raw frames, and each test asserts the exact reply or the exact exit.
 *
 * Covered: a body that is not JSON (-32700 with `id: null`, JSON-RPC 2.0 §5), JSON that is not a JSON-RPC message
 * (-32600), requests before `initialize` (-32002), notifications before `initialize` (dropped, except `exit`), and
 * framing errors (a missing, non-numeric, negative or oversized Content-Length, an endless header block, input that
 * ends inside a message), which close the connection with one line on stderr and a non-zero exit. Over `--node-ipc`
 * (VS Code's transport, where Node frames and parses the messages) the same JSON-RPC and before-initialize rules
 * apply, and a lost channel ends the process.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from '../support/engine';
import { uri } from '../support/lsp-client';

const SERVER = path.join(REPO_ROOT, 'dist', 'server.js');
/** How long a test waits for a reply or an exit before it counts as "never came" (the server answers in milliseconds). */
const PATIENCE_MS = 15_000;

const scratch = mkdtempSync(path.join(os.tmpdir(), 'lsp-protocol-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** One JSON-RPC message the server wrote; the fields tests look at. */
interface Received {
  jsonrpc?: string;
  id?: number | string | null;
  method?: string;
  result?: unknown;
  error?: { code: number; message: string };
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * The server as a child process with its stdin and stdout as raw byte streams. Its output is split into frames by a
 * deliberately small parser of its own, so that what is asserted is the bytes the server wrote, not what a library
 * made of them.
 */
class RawServer {
  readonly child: ChildProcess;
  readonly received: Received[] = [];
  stderr = '';
  private output = Buffer.alloc(0);
  private readonly listeners = new Set<() => void>();
  private readonly exit: Promise<Exit>;

  constructor() {
    this.child = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    // Writing after the server has closed its end is expected in the framing tests.
    this.child.stdin!.on('error', () => undefined);
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.output = Buffer.concat([this.output, chunk]);
      this.splitFrames();
      for (const listener of this.listeners) listener();
    });
    this.exit = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  send(bytes: string | Buffer): void {
    this.child.stdin!.write(bytes);
  }

  /** Sends one correctly framed message with the given body. */
  sendBody(body: string): void {
    this.send(frame(body));
  }

  sendMessage(message: object): void {
    this.sendBody(JSON.stringify({ jsonrpc: '2.0', ...message }));
  }

  /** The first message (received so far or later) that `test` accepts; rejects if none comes in time. */
  waitFor(test: (message: Received) => boolean, what: string): Promise<Received> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.received.find(test);
        if (!found) return false;
        this.listeners.delete(listener);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const listener = (): void => void check();
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`no ${what} within ${PATIENCE_MS} ms; received: ${JSON.stringify(this.received)}; stderr: ${this.stderr}`));
      }, PATIENCE_MS);
      this.listeners.add(listener);
      check();
    });
  }

  /** The reply to the request with this id. */
  replyTo(id: number | string): Promise<Received> {
    return this.waitFor((message) => message.id === id && message.method === undefined, `reply to request ${JSON.stringify(id)}`);
  }

  /** Error replies with `id: null` (the ones that answer a message whose id could not be read). */
  nullIdErrors(): Received[] {
    return this.received.filter((message) => message.id === null && message.error !== undefined);
  }

  /** The non-empty lines the server wrote on stderr. */
  stderrLines(): string[] {
    return this.stderr.split('\n').filter((line) => line.length > 0);
  }

  /** How the process ended; if it is still running after the patience runs out, it is killed and this rejects. */
  exited(): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`the server was still running after ${PATIENCE_MS} ms (it hangs); stderr: ${this.stderr}`));
      }, PATIENCE_MS);
    });
    return Promise.race([this.exit, timeout]).finally(() => clearTimeout(timer));
  }

  /** A full initialize handshake, with no workspace folder unless one is given. */
  async initialize(id: number, folder?: string): Promise<Received> {
    const folders = folder ? [{ uri: uri(folder), name: path.basename(folder) }] : null;
    this.sendMessage({ id, method: 'initialize', params: { processId: null, rootUri: folder ? uri(folder) : null, workspaceFolders: folders, capabilities: {} } });
    const reply = await this.replyTo(id);
    this.sendMessage({ method: 'initialized', params: {} });
    return reply;
  }

  /** shutdown then exit, as an editor ends a session; resolves with the exit. */
  async shutdownAndExit(id: number): Promise<Exit> {
    this.sendMessage({ id, method: 'shutdown' });
    const reply = await this.replyTo(id);
    assert.deepEqual(reply, { jsonrpc: '2.0', id, result: null });
    this.sendMessage({ method: 'exit' });
    return this.exited();
  }

  /** Ends the process if a test left it running. */
  dispose(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private splitFrames(): void {
    for (;;) {
      const headerEnd = this.output.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(this.output.subarray(0, headerEnd).toString('ascii'))?.[1]);
      const bodyStart = headerEnd + 4;
      if (this.output.length < bodyStart + length) return;
      this.received.push(JSON.parse(this.output.subarray(bodyStart, bodyStart + length).toString('utf8')) as Received);
      this.output = this.output.subarray(bodyStart + length);
    }
  }
}

function frame(body: string | Buffer): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return Buffer.concat([Buffer.from(`Content-Length: ${bytes.length}\r\n\r\n`, 'ascii'), bytes]);
}

/** Runs `body` against a fresh server and makes sure the process is gone afterwards. */
async function withServer(body: (server: RawServer) => Promise<void>): Promise<void> {
  const server = new RawServer();
  try {
    await body(server);
  } finally {
    server.dispose();
  }
}

function assertError(reply: Received, id: number | string | null, code: number): void {
  assert.equal(reply.jsonrpc, '2.0');
  assert.equal(reply.id, id);
  assert.equal(reply.error?.code, code, `expected error ${code}, got ${JSON.stringify(reply)}`);
  assert.equal(typeof reply.error?.message, 'string');
  assert.equal('result' in reply, false);
}

describe('stdio transport: bodies that are not JSON', () => {
  it('answers a truncated JSON body with -32700 and id null, then serves initialize/shutdown/exit and exits 0', () =>
    withServer(async (server) => {
      server.sendBody('{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {');
      assertError(await server.waitFor((message) => message.id === null, 'parse error reply'), null, -32700);
      const initialized = await server.initialize(2);
      assert.equal(typeof (initialized.result as { capabilities?: unknown }).capabilities, 'object');
      assert.deepEqual(await server.shutdownAndExit(3), { code: 0, signal: null });
      assert.equal(server.nullIdErrors().length, 1);
    }));

  it('answers every unparsable body with its own -32700: plain text, an empty body, invalid UTF-8', () =>
    withServer(async (server) => {
      server.sendBody('hello');
      server.send(frame(''));
      server.send(frame(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])));
      await server.waitFor(() => server.nullIdErrors().length === 3, 'three parse error replies');
      for (const reply of server.nullIdErrors()) assertError(reply, null, -32700);
      await server.initialize(1);
      assert.deepEqual(await server.shutdownAndExit(2), { code: 0, signal: null });
    }));
});

describe('stdio transport: JSON that is not a JSON-RPC message', () => {
  it('answers each with -32600 (the request id when one is readable, null otherwise) and keeps serving', () =>
    withServer(async (server) => {
      // Each is valid JSON but not a request, a notification or a response.
      server.sendBody('42');
      server.sendBody('[]');
      server.sendBody('{"foo": "boo"}');
      server.sendBody('{"jsonrpc": "2.0", "method": 1, "params": "bar"}');
      server.sendBody('{"jsonrpc": "1.0", "id": 5, "method": "initialize", "params": {}}');
      server.sendBody('{"jsonrpc": "2.0", "id": 6, "method": "initialize", "params": "not structured"}');
      server.sendBody('{"jsonrpc": "2.0", "id": {"nested": true}, "method": "initialize", "params": {}}');
      const withIds = await Promise.all([server.replyTo(5), server.replyTo(6)]);
      for (const [index, reply] of withIds.entries()) assertError(reply, index + 5, -32600);
      await server.waitFor(() => server.nullIdErrors().length === 5, 'five invalid request replies with id null');
      for (const reply of server.nullIdErrors()) assertError(reply, null, -32600);
      // None of them counted as `initialize`: the real one still works.
      await server.initialize(7);
      assert.deepEqual(await server.shutdownAndExit(8), { code: 0, signal: null });
    }));
});

describe('stdio transport: before initialize', () => {
  it('answers requests with -32002 (ServerNotInitialized), shutdown included, then initializes normally', () =>
    withServer(async (server) => {
      server.sendMessage({ id: 1, method: 'textDocument/hover', params: { textDocument: { uri: 'file:///x.nix' }, position: { line: 0, character: 0 } } });
      server.sendMessage({ id: 'two', method: 'ephemeralRoot/fileInfo', params: { uri: 'file:///x.nix' } });
      server.sendMessage({ id: 3, method: 'shutdown' });
      assertError(await server.replyTo(1), 1, -32002);
      assertError(await server.replyTo('two'), 'two', -32002);
      assertError(await server.replyTo(3), 3, -32002);
      await server.initialize(4);
      assert.deepEqual(await server.shutdownAndExit(5), { code: 0, signal: null });
    }));

  it('drops notifications: nothing is written before the initialize reply, and a document opened before it is not open', () =>
    withServer(async (server) => {
      const folder = path.join(scratch, `seed-${Math.random().toString(36).slice(2, 8)}`);
      cpSync(path.join(REPO_ROOT, 'examples', 'seed'), folder, { recursive: true });
      const disko = path.join(folder, 'disko.nix');
      const renamed = readFileSync(disko, 'utf8').replace('"nixos/var/log"', '"nixos/var/dropped"');
      server.sendMessage({ method: 'textDocument/didOpen', params: { textDocument: { uri: uri(disko), languageId: 'nix', version: 1, text: renamed } } });
      server.sendMessage({ method: 'workspace/didChangeConfiguration', params: { settings: null } });
      server.sendMessage({ method: '$/cancelRequest', params: { id: 1 } });
      await server.initialize(1, folder);
      // Had any of them been handled, the server would have written something (an error log, for a document opened
      // before the parser is loaded) ahead of the initialize reply.
      assert.equal(server.received[0].id, 1, `first message: ${JSON.stringify(server.received[0])}`);
      server.sendMessage({ id: 2, method: 'textDocument/documentSymbol', params: { textDocument: { uri: uri(disko) } } });
      const reply = await server.replyTo(2);
      const names = JSON.stringify(reply.result);
      assert.match(names, /nixos\/var\/log/, `the outline is the file on disk: ${names}`);
      assert.doesNotMatch(names, /nixos\/var\/dropped/);
      assert.deepEqual(await server.shutdownAndExit(3), { code: 0, signal: null });
    }));

  it('drops notifications but honours exit: nothing is written, and the process ends with code 1 (no shutdown came)', () =>
    withServer(async (server) => {
      server.sendMessage({ method: 'textDocument/didOpen', params: { textDocument: { uri: 'file:///x.nix', languageId: 'nix', version: 1, text: '{' } } });
      server.sendMessage({ method: 'initialized', params: {} });
      server.sendMessage({ method: 'exit' });
      assert.deepEqual(await server.exited(), { code: 1, signal: null });
      assert.deepEqual(server.received, []);
    }));
});

describe('stdio transport: framing errors close the connection', () => {
  const cases: { name: string; bytes: () => Buffer; stderr: RegExp }[] = [
    { name: 'a header block without Content-Length', bytes: () => Buffer.from('Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}'), stderr: /Content-Length/ },
    { name: 'a non-numeric Content-Length', bytes: () => Buffer.from('Content-Length: abc\r\n\r\n{}'), stderr: /Content-Length/ },
    { name: 'a Content-Length with trailing garbage', bytes: () => Buffer.from('Content-Length: 2x\r\n\r\n{}'), stderr: /Content-Length/ },
    { name: 'a negative Content-Length', bytes: () => Buffer.from('Content-Length: -5\r\n\r\n{}'), stderr: /Content-Length/ },
    { name: 'a Content-Length above the 64 MiB cap', bytes: () => Buffer.from(`Content-Length: ${64 * 1024 * 1024 + 1}\r\n\r\n{}`), stderr: /Content-Length/ },
    { name: 'a Content-Length too large for a number', bytes: () => Buffer.from('Content-Length: 99999999999999999999999999\r\n\r\n{}'), stderr: /Content-Length/ },
    { name: 'two different Content-Length headers', bytes: () => Buffer.from('Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}'), stderr: /Content-Length/ },
    { name: 'a header line without a colon', bytes: () => Buffer.from('Content-Length 2\r\n\r\n{}'), stderr: /header/i },
    { name: 'a header block that never ends (64 KiB without a blank line)', bytes: () => Buffer.from(`X-Padding: ${'a'.repeat(64 * 1024)}`), stderr: /header/i },
  ];
  for (const { name, bytes, stderr } of cases) {
    it(`${name}: one line on stderr, exit code 1, even with stdin left open`, () =>
      withServer(async (server) => {
        // stdin stays open: the server must notice the error itself rather than wait for the end of its input.
        server.send(bytes());
        assert.deepEqual(await server.exited(), { code: 1, signal: null });
        const lines = server.stderrLines();
        assert.equal(lines.length, 1, `stderr: ${server.stderr}`);
        assert.match(lines[0], stderr);
        assert.deepEqual(server.received, [], 'nothing is answered on a broken stream');
      }));
  }

  it('a framing error after a valid session closes it too, and pending replies are written first', () =>
    withServer(async (server) => {
      await server.initialize(1);
      server.send(Buffer.concat([frame('not json'), Buffer.from('Content-Length: nope\r\n\r\n')]));
      assert.deepEqual(await server.exited(), { code: 1, signal: null });
      assert.equal(server.nullIdErrors().length, 1, `received: ${JSON.stringify(server.received)}`);
      assertError(server.nullIdErrors()[0], null, -32700);
      assert.match(server.stderr, /Content-Length/);
    }));

  it('the end of input: inside a message is one line on stderr and exit code 1; after shutdown exit code 0; without it 1', async () => {
    await withServer(async (server) => {
      server.send('Content-Length: 100\r\n\r\n{"jsonrpc": "2.0"');
      server.child.stdin!.end();
      assert.deepEqual(await server.exited(), { code: 1, signal: null });
      assert.equal(server.stderrLines().length, 1, `stderr: ${server.stderr}`);
      assert.match(server.stderr, /inside a message body \(17 of 100 bytes/);
    });
    await withServer(async (server) => {
      await server.initialize(1);
      server.sendMessage({ id: 2, method: 'shutdown' });
      await server.replyTo(2);
      server.child.stdin!.end();
      assert.deepEqual(await server.exited(), { code: 0, signal: null });
      assert.equal(server.stderr, '');
    });
    await withServer(async (server) => {
      await server.initialize(1);
      server.child.stdin!.end();
      assert.deepEqual(await server.exited(), { code: 1, signal: null });
    });
  });
});

describe('node-ipc transport', () => {
  /** The server forked as VS Code's client forks it; `messages` collects what it sends over the channel. */
  function forkServer(): { child: ChildProcess; messages: Received[]; reply: (id: number | null, count?: number) => Promise<Received>; exited: Promise<Exit> } {
    const child = fork(SERVER, ['--node-ipc'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const messages: Received[] = [];
    child.on('message', (message) => messages.push(message as Received));
    const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    /** The `count`-th reply with this id (several invalid messages share `id: null`). */
    const reply = (id: number | null, count = 1) =>
      new Promise<Received>((resolve, reject) => {
        const started = Date.now();
        const poll = setInterval(() => {
          const found = messages.filter((message) => message.id === id && message.method === undefined)[count - 1];
          if (found) {
            clearInterval(poll);
            resolve(found);
          } else if (Date.now() - started > PATIENCE_MS) {
            clearInterval(poll);
            reject(new Error(`no reply ${count} to ${id} within ${PATIENCE_MS} ms; received: ${JSON.stringify(messages)}`));
          }
        }, 10);
      });
    return { child, messages, reply, exited };
  }

  function within<T>(promise: Promise<T>, child: ChildProcess): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the server was still running after ${PATIENCE_MS} ms (it hangs)`));
      }, PATIENCE_MS);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  it('answers a request before initialize with -32002 and a non-JSON-RPC message with -32600, then serves and exits 0', async () => {
    const server = forkServer();
    try {
      server.child.send({ jsonrpc: '2.0', id: 1, method: 'textDocument/hover', params: {} });
      server.child.send({ foo: 'boo' });
      server.child.send({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri: 'file:///x.nix', languageId: 'nix', version: 1, text: '{' } } });
      assertError(await server.reply(1), 1, -32002);
      assertError(await server.reply(null), null, -32600);
      server.child.send({ jsonrpc: '2.0', id: 2, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } });
      await server.reply(2);
      assert.equal(server.messages[0].id, 1, `the dropped didOpen wrote nothing: ${JSON.stringify(server.messages)}`);
      server.child.send({ jsonrpc: '2.0', method: 'initialized', params: {} });
      server.child.send({ jsonrpc: '2.0', id: 3, method: 'shutdown' });
      assert.deepEqual(await server.reply(3), { jsonrpc: '2.0', id: 3, result: null });
      server.child.send({ jsonrpc: '2.0', method: 'exit' });
      assert.deepEqual(await within(server.exited, server.child), { code: 0, signal: null });
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('exits with code 1 when the channel is lost without shutdown, instead of living on', async () => {
    const server = forkServer();
    try {
      server.child.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } });
      await server.reply(1);
      server.child.disconnect();
      assert.deepEqual(await within(server.exited, server.child), { code: 1, signal: null });
    } finally {
      server.child.kill('SIGKILL');
    }
  });
});
