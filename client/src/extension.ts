/**
 * The VS Code side: starts the language server (which owns all analysis), and adds the commands and the status bar
 * item. Nothing here looks at Nix itself.
 */
import * as vscode from 'vscode';
import { LanguageClient, type LanguageClientOptions, type ServerOptions, TransportKind } from 'vscode-languageclient/node';
import { registerDiskoVm } from './disko-vm-command';
import { LayoutView, type TreeSnapshot } from './layout-view';
import { HostStatus } from './status';

let client: LanguageClient | undefined;

export const CLIENT_ID = 'ephemeralRoot';
export const OUTPUT_NAME = 'Ephemeral Root';

/**
 * Whether another extension (nix-ide and the like) contributes a grammar for Nix. Then its colours stay alone: our
 * semantic tokens from the tree-sitter tree are only there so that Nix files are never plain text without one.
 */
export function otherNixGrammar(ownId: string): boolean {
  return vscode.extensions.all.some((extension) => {
    if (extension.id === ownId) return false;
    const grammars = (extension.packageJSON as { contributes?: { grammars?: { language?: string }[] } }).contributes?.grammars ?? [];
    return grammars.some((grammar) => grammar.language === 'nix');
  });
}

function createClient(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): LanguageClient {
  const module = context.asAbsolutePath('dist/server.js');
  // The same V8 heap flags as bin/ephemeral-root-ls.js, which says why each is there: a flat RSS over a long editing
  // session, `gc` for the server's scavenge between edits, and no pretenuring of what one analysis allocates
  // (test/lsp/idle-collection.test.ts keeps the two lists equal).
  const heap = ['--max-semi-space-size=8', '--max-old-space-size=1536', '--expose-gc', '--no-allocation-site-pretenuring'];
  // The server starts through bin/ephemeral-root-ls.js, which keeps V8's code cache of the bundle in the extension's
  // global storage: a new server then skips compiling what its first analysis runs (about a third of a cold start).
  const loader = context.asAbsolutePath('bin/ephemeral-root-ls.js');
  const env = { ...process.env, EPHEMERAL_ROOT_CACHE_DIR: context.globalStorageUri.fsPath };
  const serverOptions: ServerOptions = {
    run: { module: loader, transport: TransportKind.ipc, options: { execArgv: heap, env } },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: [...heap, '--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', language: 'nix' }],
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/{*.nix,flake.lock}') },
    outputChannel: output,
    // The evaluation-backed mode runs Nix on the workspace's code: only in a trusted workspace (lsp/evaluation.ts).
    initializationOptions: { workspaceTrusted: vscode.workspace.isTrusted },
    middleware: {
      provideDocumentSemanticTokens: (document, token, next) => (otherNixGrammar(context.extension.id) ? undefined : next(document, token)),
      provideDocumentSemanticTokensEdits: (document, previousResultId, token, next) => (otherNixGrammar(context.extension.id) ? undefined : next(document, previousResultId, token)),
      provideDocumentRangeSemanticTokens: (document, range, token, next) => (otherNixGrammar(context.extension.id) ? undefined : next(document, range, token)),
    },
  };
  return new LanguageClient(CLIENT_ID, OUTPUT_NAME, serverOptions, clientOptions);
}

export async function activate(context: vscode.ExtensionContext): Promise<{ client: () => LanguageClient | undefined; layout: () => Promise<TreeSnapshot[]>; onLayoutChanged: vscode.Event<unknown> }> {
  const output = vscode.window.createOutputChannel(OUTPUT_NAME, { log: true });
  context.subscriptions.push(output);
  client = createClient(context, output);
  const status = new HostStatus(() => client);
  context.subscriptions.push(
    status,
    vscode.commands.registerCommand('ephemeralRoot.restartServer', async () => {
      await client?.stop();
      client = createClient(context, output);
      await client.start();
      status.watch(client);
      status.refresh();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void client?.sendNotification('ephemeralRoot/workspaceTrusted')),
    vscode.commands.registerCommand('ephemeralRoot.showOutput', () => output.show(true)),
  );
  const layout = new LayoutView(() => client);
  context.subscriptions.push(layout, vscode.commands.registerCommand('ephemeralRoot.refreshLayout', () => layout.refresh()));
  const diskoVm = registerDiskoVm(context, output, () => client);
  await client.start();
  status.watch(client);
  status.refresh();
  diskoVm.refreshLenses();
  layout.refresh();
  return { client: () => client, layout: () => layout.snapshot(), onLayoutChanged: layout.onDidChangeTreeData };
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
