/**
 * A second real LSP client: Debian's Neovim (0.7: `vim.lsp.start_client` + `vim.lsp.buf_attach_client`) runs
 * `ephemeral-root-ls --stdio` headless on a broken host file and must receive the diagnostics the CLI reports for it.
 *
 * The Lua is written to a temporary file; Neovim writes what it received as JSON, which is checked here. Neovim's
 * XDG directories (state, shada, logs) are kept in the temporary directory. Needs `nvim` (apt-get install neovim).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, cliDiagnostics, keys, runMain, runNvim, tempWorkspace } from './common';

const LUA = String.raw`
local file, out, server, root = os.getenv('ER_FILE'), os.getenv('ER_OUT'), os.getenv('ER_SERVER'), os.getenv('ER_ROOT')
local expected = tonumber(os.getenv('ER_EXPECTED'))
local result = { published = {} }
local ok, err = pcall(function()
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  local id = vim.lsp.start_client({
    name = 'ephemeral-root-ls',
    cmd = { os.getenv('ER_NODE'), server, '--stdio' },
    root_dir = root,
    handlers = {
      ['textDocument/publishDiagnostics'] = function(e, params, ctx, config)
        table.insert(result.published, { uri = params.uri, count = #params.diagnostics, diagnostics = params.diagnostics })
        return vim.lsp.handlers['textDocument/publishDiagnostics'](e, params, ctx, config)
      end,
    },
  })
  assert(id, 'start_client failed')
  assert(vim.lsp.buf_attach_client(buf, id), 'buf_attach_client failed')
  result.attached = vim.wait(10000, function()
    local client = vim.lsp.get_client_by_id(id)
    return client ~= nil and client.initialized == true
  end, 20)
  result.ok = vim.wait(20000, function() return #vim.diagnostic.get(buf) >= expected end, 20)
  result.diagnostics = vim.diagnostic.get(buf)
  result.uri = vim.uri_from_bufnr(buf)
  vim.lsp.stop_client(id)
  vim.wait(2000, function() return vim.lsp.client_is_stopped(id) end, 20)
end)
result.error = (not ok) and tostring(err) or nil
local f = assert(io.open(out, 'w'))
f:write(vim.fn.json_encode(result))
f:close()
vim.cmd('qall!')
`;

interface NvimDiagnostic {
  lnum: number;
  col: number;
  end_lnum: number;
  end_col: number;
  severity: number;
  message: string;
  source?: string;
  code?: string;
}

interface NvimResult {
  ok?: boolean;
  attached?: boolean;
  error?: string;
  uri?: string;
  diagnostics?: NvimDiagnostic[];
  published: { uri: string; count: number; diagnostics: { code?: string; source?: string; range: { start: { line: number; character: number } } }[] }[];
}

const SEVERITY = { error: 1, warning: 2, information: 3, hint: 4 } as const;

async function main(): Promise<void> {
  const version = spawnSync('nvim', ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) throw new Error('nvim not found: apt-get install -y neovim');
  const server = path.join(REPO_ROOT, 'bin', 'ephemeral-root-ls.js');
  if (!existsSync(path.join(REPO_ROOT, 'dist', 'server.js'))) throw new Error('dist/server.js missing: run node scripts/build.mjs');

  const workspace = tempWorkspace('ephemeral-root-nvim-', ['broken-flake']);
  try {
    const folder = path.join(workspace.root, 'broken-flake');
    const file = path.join(folder, 'hosts', 'tern', 'configuration.nix');
    const expected = cliDiagnostics(folder, file);
    assert.ok(expected.some((diagnostic) => diagnostic.code === 'rollback-snapshot-mismatch'), 'the CLI reports rollback-snapshot-mismatch for tern (the example changed?)');

    const home = path.join(workspace.root, 'home');
    const xdg = { XDG_CONFIG_HOME: path.join(home, 'config'), XDG_DATA_HOME: path.join(home, 'data'), XDG_STATE_HOME: path.join(home, 'state'), XDG_CACHE_HOME: path.join(home, 'cache') };
    for (const dir of Object.values(xdg)) mkdirSync(dir, { recursive: true });
    const script = path.join(workspace.root, 'attach.lua');
    const out = path.join(workspace.root, 'result.json');
    writeFileSync(script, LUA);

    const started = Date.now();
    const run = await runNvim(folder, script, {
      ...process.env,
      ...xdg,
      HOME: home,
      ER_FILE: file,
      ER_OUT: out,
      ER_SERVER: server,
      ER_ROOT: folder,
      ER_NODE: process.execPath,
      ER_EXPECTED: String(expected.length),
    }, 60_000);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (!existsSync(out)) throw new Error(`nvim wrote no result (exit ${run.code}): ${run.stderr.trim()}`);
    const result = JSON.parse(readFileSync(out, 'utf8')) as NvimResult;
    assert.equal(result.error, undefined, `the Lua failed: ${result.error}`);
    assert.ok(result.attached, 'the client initialized');
    assert.ok(result.ok, `got ${result.diagnostics?.length ?? 0} of ${expected.length} diagnostics within 20 s`);
    const diagnostics = result.diagnostics ?? [];
    const ours = diagnostics.filter((diagnostic) => diagnostic.source === 'ephemeral-root');
    assert.equal(ours.length, diagnostics.length, 'every diagnostic has source ephemeral-root');

    // The codes reach Neovim (from the raw notification: 0.7's vim.diagnostic keeps `code` only in user_data).
    const raw = result.published.filter((item) => item.uri === result.uri).at(-1);
    assert.ok(raw, `a publishDiagnostics for ${result.uri}`);
    assert.deepEqual(
      keys(raw.diagnostics.map((diagnostic) => ({ code: String(diagnostic.code), line: diagnostic.range.start.line, character: diagnostic.range.start.character }))),
      keys(expected.map((diagnostic) => ({ code: diagnostic.code, line: diagnostic.range.start.line, character: diagnostic.range.start.character }))),
      'the published diagnostics are the CLI\'s for this file',
    );
    // vim.diagnostic's view: same positions and severities.
    assert.deepEqual(
      diagnostics.map((diagnostic) => `${diagnostic.lnum}:${diagnostic.col}:${diagnostic.severity}`).sort(),
      expected.map((diagnostic) => `${diagnostic.range.start.line}:${diagnostic.range.start.character}:${SEVERITY[diagnostic.severity]}`).sort(),
      'vim.diagnostic.get() shows them at the same positions with the same severities',
    );
    const rollbackLine = readFileSync(file, 'utf8').split('\n').findIndex((line) => line.includes('zfs rollback'));
    assert.ok(diagnostics.some((diagnostic) => diagnostic.lnum === rollbackLine && /never created/.test(diagnostic.message)), 'the snapshot mismatch is on the rollback line');
    console.log(`neovim: ${version.stdout.split('\n')[0]} received ${diagnostics.length} diagnostics (${[...new Set(raw.diagnostics.map((diagnostic) => diagnostic.code))].join(', ')}) in ${seconds} s`);
  } finally {
    workspace.cleanup();
  }
}

runMain('neovim.e2e', main);
