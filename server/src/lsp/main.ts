/**
 * `ephemeral-root-ls`: the language server. VS Code starts it over Node IPC; any other editor runs
 * `ephemeral-root-ls --stdio` (Neovim, Helix, Emacs).
 *
 * Both of those transports come from ./transport, which answers malformed input and requests before `initialize`
 * with the JSON-RPC and LSP error codes and closes the connection on a framing error; `--socket` and `--pipe` keep
 * vscode-languageserver's own transport.
 */
import { format } from 'node:util';
import { type Connection, ProposedFeatures, createConnection } from 'vscode-languageserver/node';
import { EphemeralRootServer } from './server';
import { type ServerTransport, createNodeIpcTransport, createStdioTransport } from './transport';

/** How long the last replies may take to leave before the process exits anyway (a peer that stopped reading). */
const EXIT_DRAIN_TIMEOUT_MS = 1_000;

function transportFromArguments(argv: readonly string[]): ServerTransport | undefined {
  if (argv.includes('--stdio')) return createStdioTransport(process.stdin, process.stdout);
  if (argv.includes('--node-ipc')) return createNodeIpcTransport(process);
  return undefined;
}

/**
 * With stdout carrying the protocol, a stray console.log from any module would corrupt the stream. The library does
 * this redirection itself only when it opens stdio on its own, which it no longer does here.
 */
function sendConsoleToClient(connection: Connection): void {
  console.log = (...args: unknown[]) => connection.console.log(format(...args));
  console.info = (...args: unknown[]) => connection.console.info(format(...args));
  console.debug = (...args: unknown[]) => connection.console.log(format(...args));
  console.warn = (...args: unknown[]) => connection.console.warn(format(...args));
  console.error = (...args: unknown[]) => connection.console.error(format(...args));
}

/**
 * Ends the process when its input ends or breaks. An error is logged on stderr in one line (the client may be the
 * thing that is broken, so it cannot be told); the exit code is 0 only after a clean `shutdown`.
 */
function exitWhenClosed(transport: ServerTransport): void {
  transport.reader.onError((error) => process.stderr.write(`ephemeral-root-ls: ${error.message.replace(/\s+/g, ' ')}\n`));
  transport.reader.onClose(() => {
    void transport.writer.drained(EXIT_DRAIN_TIMEOUT_MS).then(() => process.exit(transport.reader.exitCode));
  });
}

function main(): void {
  if (process.argv.includes('--version')) {
    process.stdout.write('0.1.0\n');
    return;
  }
  if (process.argv.includes('--help')) {
    process.stdout.write('Usage: ephemeral-root-ls --stdio | --node-ipc | --socket=PORT\n');
    return;
  }
  const transport = transportFromArguments(process.argv.slice(2));
  const connection = transport ? createConnection(ProposedFeatures.all, transport.reader, transport.writer) : createConnection(ProposedFeatures.all);
  if (transport) exitWhenClosed(transport);
  if (process.argv.includes('--stdio')) sendConsoleToClient(connection);
  // An exception that escapes a handler is logged; the server keeps serving (one bad request never kills it).
  process.on('uncaughtException', (error) => connection.console.error(`uncaught: ${error.stack ?? error.message}`));
  new EphemeralRootServer(connection).start();
}

main();
