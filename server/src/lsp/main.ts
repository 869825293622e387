/**
 * `ephemeral-root-ls`: the language server. VS Code starts it over Node IPC; any other editor runs
 * `ephemeral-root-ls --stdio` (Neovim, Helix, Emacs).
 */
import { ProposedFeatures, createConnection } from 'vscode-languageserver/node';
import { EphemeralRootServer } from './server';

function main(): void {
  if (process.argv.includes('--version')) {
    process.stdout.write('0.1.0\n');
    return;
  }
  if (process.argv.includes('--help')) {
    process.stdout.write('Usage: ephemeral-root-ls --stdio | --node-ipc | --socket=PORT\n');
    return;
  }
  const connection = createConnection(ProposedFeatures.all);
  // An exception that escapes a handler is logged; the server keeps serving (one bad request never kills it).
  process.on('uncaughtException', (error) => connection.console.error(`uncaught: ${error.stack ?? error.message}`));
  new EphemeralRootServer(connection).start();
}

main();
