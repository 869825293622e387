/**
 * The language server's transports (`--stdio` and `--node-ipc`), hardened against hostile or broken input.
 *
 * vscode-jsonrpc's own readers trust their peer: a body that is not JSON is only logged, a message that is neither a
 * request, a notification nor a response is ignored, and a bad `Content-Length` stops the stream reader for good while
 * the process lives on, deaf. This module puts three layers in front of the connection instead:
 *
 * - `FramedMessageReader` (stdio only) splits the byte stream into messages by the LSP base protocol's headers. A body
 *   that is not JSON is answered with -32700 (ParseError, `id: null`, JSON-RPC 2.0 §5) and reading goes on; a framing
 *   error (no usable `Content-Length`, an endless header block, a declared length above `MAX_CONTENT_LENGTH`, input
 *   that ends inside a message) means the stream can no longer be split into messages, so it is reported and the
 *   connection closes.
 * - `ProtocolGuardReader` (both transports) answers JSON that is not a JSON-RPC 2.0 message with -32600
 *   (InvalidRequest), answers every request before `initialize` with -32002 (ServerNotInitialized) and drops
 *   notifications before it except `exit`, as the LSP specification asks. It also remembers whether `shutdown` came,
 *   which decides the exit code when the input simply ends.
 * - `DrainableMessageWriter` (both transports) counts the writes in flight, so that the process can exit after its
 *   last replies are out instead of cutting them off.
 */
import {
  AbstractMessageReader,
  type DataCallback,
  Disposable,
  ErrorCodes,
  type Event,
  IPCMessageReader,
  IPCMessageWriter,
  type Message,
  type MessageReader,
  type MessageWriter,
  ResponseError,
  type ResponseMessage,
  StreamMessageWriter,
} from 'vscode-languageserver/node';

/** The largest body accepted: far above any real LSP message, low enough that one header cannot exhaust memory. */
export const MAX_CONTENT_LENGTH = 64 * 1024 * 1024;
/** The longest header block accepted; real ones are under a hundred bytes. */
export const MAX_HEADER_BLOCK_BYTES = 8 * 1024;

const HEADER_TERMINATOR = Buffer.from('\r\n\r\n', 'ascii');

/**
 * The byte stream can no longer be split into messages. Unlike a body that is not JSON, there is no way to find where
 * the next message starts, so the connection has to close.
 */
export class FramingError extends Error {
  override readonly name = 'FramingError';
}

/** Writes one JSON-RPC error response. The id is `null` when the message's id could not be read (JSON-RPC 2.0 §5). */
function replyWithError(writer: MessageWriter, id: number | string | null, code: number, message: string): void {
  const response: ResponseMessage = { jsonrpc: '2.0', id, error: new ResponseError(code, message).toJson() };
  // A failed write surfaces on the writer's onError, where the connection already listens; nothing more to do here.
  writer.write(response).catch(() => undefined);
}

/** Quotes untrusted header text for a one-line log message: escaped, and cut short so a huge header stays one short line. */
function quoted(text: string): string {
  const shown = text.length > 60 ? `${text.slice(0, 60)}…` : text;
  return JSON.stringify(shown);
}

/**
 * Reads LSP base-protocol frames (`Content-Length: N\r\n\r\n` + N bytes of UTF-8 JSON) from a byte stream. Parsed
 * bodies are handed on as they are, unchecked: `ProtocolGuardReader` decides whether they are JSON-RPC messages.
 */
export class FramedMessageReader extends AbstractMessageReader implements MessageReader {
  /** Received bytes not yet consumed, kept as the chunks they arrived in so a large body is copied only once. */
  private chunks: Buffer[] = [];
  private bufferedBytes = 0;
  /** The length of the body being waited for, once its header block has been read. */
  private pendingBodyLength: number | undefined;
  private callback: DataCallback | undefined;
  private closed = false;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(
    private readonly input: NodeJS.ReadableStream,
    /** Answers a body that is not JSON; the reader itself has no way to write. */
    private readonly onUnparsableBody: (reason: string) => void,
  ) {
    super();
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    const onData = (chunk: Buffer | string): void => this.receive(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    const onEnd = (): void => {
      if (this.pendingBodyLength !== undefined) this.fail(`the input ended inside a message body (${this.bufferedBytes} of ${this.pendingBodyLength} bytes received)`);
      else if (this.bufferedBytes > 0) this.fail(`the input ended inside a header block (${this.bufferedBytes} bytes received)`);
      else this.close();
    };
    const onError = (error: Error): void => {
      this.fireError(error);
      this.close();
    };
    this.input.on('data', onData);
    this.input.on('end', onEnd);
    this.input.on('error', onError);
    return Disposable.create(() => {
      this.input.off('data', onData);
      this.input.off('end', onEnd);
      this.input.off('error', onError);
    });
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.length;
    while (!this.closed) {
      if (this.pendingBodyLength === undefined) {
        const length = this.readHeaderBlock();
        if (length === undefined) return;
        this.pendingBodyLength = length;
      }
      if (this.bufferedBytes < this.pendingBodyLength) return;
      const body = this.take(this.pendingBodyLength);
      this.pendingBodyLength = undefined;
      this.deliver(body);
    }
  }

  /**
   * Consumes one header block and returns its Content-Length; undefined while the block is incomplete or after a
   * framing error (which closes the reader).
   */
  private readHeaderBlock(): number | undefined {
    // Only the first bytes can hold the header block; looking further would copy a large body on every chunk.
    const head = this.peek(MAX_HEADER_BLOCK_BYTES + HEADER_TERMINATOR.length);
    const end = head.indexOf(HEADER_TERMINATOR);
    if (end < 0) {
      if (head.length > MAX_HEADER_BLOCK_BYTES) this.fail(`a header block longer than ${MAX_HEADER_BLOCK_BYTES} bytes without the blank line that ends it`);
      return undefined;
    }
    const block = this.take(end + HEADER_TERMINATOR.length).subarray(0, end).toString('latin1');
    let contentLength: string | undefined;
    for (const line of block.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) return this.fail(`a header line without a name and a colon: ${quoted(line)}`);
      // Content-Type is not checked: the specification allows UTF-8 only, and every body is decoded as UTF-8.
      if (line.slice(0, colon).trim().toLowerCase() !== 'content-length') continue;
      const value = line.slice(colon + 1).trim();
      if (contentLength !== undefined && contentLength !== value) return this.fail(`two different Content-Length headers: ${quoted(contentLength)} and ${quoted(value)}`);
      contentLength = value;
    }
    if (contentLength === undefined) return this.fail(`a header block without Content-Length: ${quoted(block)}`);
    if (/^-\d+$/.test(contentLength)) return this.fail(`a negative Content-Length: ${quoted(contentLength)}`);
    if (!/^\d+$/.test(contentLength)) return this.fail(`a Content-Length that is not a decimal number: ${quoted(contentLength)}`);
    // Checked on the digits first: a number past 2^53 would compare wrongly once converted.
    const length = contentLength.length > 10 ? Infinity : Number(contentLength);
    if (length > MAX_CONTENT_LENGTH) return this.fail(`a Content-Length of ${quoted(contentLength)} bytes, above the cap of ${MAX_CONTENT_LENGTH} (64 MiB)`);
    return length;
  }

  private deliver(body: Buffer): void {
    let text: string;
    try {
      text = this.decoder.decode(body);
    } catch {
      this.onUnparsableBody('the message body is not valid UTF-8');
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      this.onUnparsableBody(`the message body is not JSON (${(error as Error).message})`);
      return;
    }
    // Unchecked on purpose (see the class comment): the guard in front of the connection validates the shape.
    this.callback?.(value as Message);
  }

  /** The first `count` buffered bytes (fewer if fewer are buffered), without consuming them; merges the chunks. */
  private peek(count: number): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return (this.chunks[0] ?? Buffer.alloc(0)).subarray(0, count);
  }

  /** Consumes exactly `count` buffered bytes; the caller has checked that they are there. */
  private take(count: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const taken = all.subarray(0, count);
    const rest = all.subarray(count);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.bufferedBytes = rest.length;
    return taken;
  }

  /** Reports a framing error and closes: nothing after it can be trusted to start a message. */
  private fail(reason: string): undefined {
    if (this.closed) return undefined;
    this.fireError(new FramingError(`framing error: ${reason}`));
    this.close();
    return undefined;
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.chunks = [];
    this.bufferedBytes = 0;
    this.input.pause();
    this.fireClose();
  }
}

type Classified =
  | { kind: 'request'; method: string; id: number | string }
  | { kind: 'notification'; method: string }
  | { kind: 'response' }
  | { kind: 'invalid'; id: number | string | null; reason: string };

function isRequestId(value: unknown): value is number | string {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

/** Sorts a parsed value into the JSON-RPC 2.0 message kinds, or says why it is none of them. */
function classify(value: unknown): Classified {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    // An array would be a JSON-RPC batch, which LSP does not use.
    return { kind: 'invalid', id: null, reason: Array.isArray(value) ? 'batches are not supported' : 'a message must be a JSON object' };
  }
  const message = value as Record<string, unknown>;
  const readableId = isRequestId(message.id) ? message.id : null;
  if (message.jsonrpc !== '2.0') return { kind: 'invalid', id: readableId, reason: 'the "jsonrpc" member must be "2.0"' };
  if ('method' in message) {
    if (typeof message.method !== 'string') return { kind: 'invalid', id: readableId, reason: 'the "method" member must be a string' };
    if ('params' in message && (typeof message.params !== 'object' || message.params === null)) return { kind: 'invalid', id: readableId, reason: 'the "params" member must be an object or an array' };
    if (!('id' in message)) return { kind: 'notification', method: message.method };
    if (readableId === null) return { kind: 'invalid', id: null, reason: 'a request id must be a string or a number' };
    return { kind: 'request', method: message.method, id: readableId };
  }
  const hasResult = 'result' in message;
  const hasError = 'error' in message;
  const idIsValid = readableId !== null || message.id === null;
  const errorIsValid = !hasError || (typeof message.error === 'object' && message.error !== null && Number.isInteger((message.error as { code?: unknown }).code) && typeof (message.error as { message?: unknown }).message === 'string');
  if (idIsValid && hasResult !== hasError && errorIsValid) return { kind: 'response' };
  return { kind: 'invalid', id: readableId, reason: 'neither a request, a notification nor a response' };
}

/**
 * Stands between a transport's reader and the connection: only well-formed JSON-RPC messages reach the connection, and
 * before `initialize` only `initialize` itself and `exit` do.
 */
export class ProtocolGuardReader extends AbstractMessageReader implements MessageReader {
  private initializeReceived = false;
  private shutdownReceived = false;
  private failed = false;

  constructor(
    private readonly inner: MessageReader,
    private readonly writer: MessageWriter,
  ) {
    super();
    inner.onError((error) => {
      if (error instanceof FramingError) this.failed = true;
      this.fireError(error);
    });
    inner.onClose(() => this.fireClose());
    inner.onPartialMessage((info) => this.firePartialMessage(info));
  }

  /**
   * The exit code once the input has ended: 0 only after `shutdown` and with the stream intact, as the LSP
   * specification asks of the `exit` notification.
   */
  get exitCode(): number {
    return this.shutdownReceived && !this.failed ? 0 : 1;
  }

  listen(callback: DataCallback): Disposable {
    return this.inner.listen((message) => this.pass(message, callback));
  }

  override dispose(): void {
    this.inner.dispose();
    super.dispose();
  }

  private pass(message: unknown, callback: DataCallback): void {
    const classified = classify(message);
    switch (classified.kind) {
      case 'invalid':
        replyWithError(this.writer, classified.id, ErrorCodes.InvalidRequest, `Invalid Request: ${classified.reason}`);
        return;
      case 'request':
        if (!this.initializeReceived && classified.method !== 'initialize') {
          replyWithError(this.writer, classified.id, ErrorCodes.ServerNotInitialized, `Server not initialized: ${classified.method} came before initialize`);
          return;
        }
        if (classified.method === 'initialize') this.initializeReceived = true;
        if (classified.method === 'shutdown') this.shutdownReceived = true;
        break;
      case 'notification':
        // The server has made no state yet that a notification could act on; `exit` must still end it.
        if (!this.initializeReceived && classified.method !== 'exit') return;
        break;
      case 'response':
        break;
    }
    callback(message as Message);
  }
}

/**
 * A writer that knows when its writes are done, so the process can exit without cutting off a reply that is still
 * on its way out.
 */
export class DrainableMessageWriter implements MessageWriter {
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly inner: MessageWriter) {}

  get onError(): Event<[Error, Message | undefined, number | undefined]> {
    return this.inner.onError;
  }

  get onClose(): Event<void> {
    return this.inner.onClose;
  }

  async write(message: Message): Promise<void> {
    this.inFlight++;
    try {
      await this.inner.write(message);
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** Resolves when no write is in flight, or after `timeoutMs` if the peer stopped reading. */
  drained(timeoutMs: number): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  end(): void {
    this.inner.end();
  }

  dispose(): void {
    this.inner.dispose();
  }
}

export interface ServerTransport {
  reader: ProtocolGuardReader;
  writer: DrainableMessageWriter;
}

/** The `--stdio` transport: LSP frames on `input` and `output`. */
export function createStdioTransport(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): ServerTransport {
  const writer = new DrainableMessageWriter(new StreamMessageWriter(output));
  const framed = new FramedMessageReader(input, (reason) => replyWithError(writer, null, ErrorCodes.ParseError, `Parse error: ${reason}`));
  return { reader: new ProtocolGuardReader(framed, writer), writer };
}

/**
 * Node's IPC channel emits `disconnect` when the parent goes away, not the `close` that vscode-jsonrpc's IPC reader
 * listens for; without this the server would outlive a crashed editor until the parent-process watchdog noticed.
 */
class DisconnectAwareIpcReader extends IPCMessageReader {
  constructor(child: NodeJS.Process) {
    super(child);
    child.once('disconnect', () => this.fireClose());
  }
}

/**
 * The `--node-ipc` transport (VS Code's): Node has already parsed each message, so there is no framing and no
 * -32700, but the same JSON-RPC checks and the same before-initialize rules apply.
 */
export function createNodeIpcTransport(child: NodeJS.Process): ServerTransport {
  const writer = new DrainableMessageWriter(new IPCMessageWriter(child));
  return { reader: new ProtocolGuardReader(new DisconnectAwareIpcReader(child), writer), writer };
}
