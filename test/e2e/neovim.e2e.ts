/**
 * A second real LSP client: Debian's Neovim 0.7 runs the README's Neovim 0.7 snippet exactly as printed (extracted
 * from README.md, loaded as the user's init.lua), with `ephemeral-root-ls` found on PATH as an installed command.
 * Opening a broken host file must start the server through the snippet's FileType autocommand and receive the
 * diagnostics the CLI reports for it.
 *
 * A probe written to a temporary file records what Neovim received and writes it as JSON, which is checked here.
 * Neovim's XDG directories (state, shada, logs) are kept in the temporary directory. Needs `nvim`
 * (apt-get install neovim).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, cliDiagnostics, keys, runMain, tempWorkspace } from './common';

/** The README's Neovim 0.7 snippet: the first ```lua block after the line that names Neovim 0.7. */
export function readmeNeovim07Snippet(): string {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const match = /Neovim 0\.7[^\n]*\n+```lua\n([\s\S]*?)```/.exec(readme);
  if (!match) throw new Error('README.md has no ```lua block after a line naming Neovim 0.7');
  return match[1];
}

/** Runs before the user's init: records every publishDiagnostics notification (0.7's vim.diagnostic drops `code`). */
const RECORDER = String.raw`
_G.er_published = {}
local original = vim.lsp.handlers['textDocument/publishDiagnostics']
vim.lsp.handlers['textDocument/publishDiagnostics'] = function(e, params, ctx, config)
  table.insert(_G.er_published, { uri = params.uri, count = #params.diagnostics, diagnostics = params.diagnostics })
  return original(e, params, ctx, config)
end
`;

/** Runs after the file is open: waits for the snippet's client and the diagnostics, writes what it saw. */
const PROBE = String.raw`
local out = os.getenv('ER_OUT')
local expected = tonumber(os.getenv('ER_EXPECTED'))
local result = {}
local ok, err = pcall(function()
  local buf = vim.api.nvim_get_current_buf()
  result.filetype = vim.bo[buf].filetype
  local client
  result.attached = vim.wait(10000, function()
    for _, candidate in pairs(vim.lsp.buf_get_clients(buf)) do
      if candidate.name == 'ephemeral-root' and candidate.initialized then client = candidate end
    end
    return client ~= nil
  end, 20)
  result.ok = vim.wait(20000, function() return #vim.diagnostic.get(buf) >= expected end, 20)
  result.diagnostics = vim.diagnostic.get(buf)
  result.uri = vim.uri_from_bufnr(buf)
  result.root_dir = client and client.config.root_dir or nil
  if client then
    vim.lsp.stop_client(client.id)
    vim.wait(2000, function() return vim.lsp.client_is_stopped(client.id) end, 20)
  end
end)
result.error = (not ok) and tostring(err) or nil
result.published = _G.er_published
local f = assert(io.open(out, 'w'))
f:write(vim.fn.json_encode(result))
f:close()
vim.cmd('qall!')
`;

/** Headless Neovim with the snippet as init.lua, in its own process group (the server goes with it on a hang). */
function runNvimWithInit(cwd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('nvim', ['--headless', ...args], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', () => undefined);
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
      reject(new Error(`nvim did not finish within ${timeoutMs} ms; stderr: ${stderr.trim()}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

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
  filetype?: string;
  root_dir?: string;
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
    // ephemeral-root-ls as an installed command on PATH (as `npm install -g` or the flake puts it there).
    const bin = path.join(workspace.root, 'bin');
    mkdirSync(bin);
    symlinkSync(path.join(REPO_ROOT, 'bin', 'ephemeral-root-ls.js'), path.join(bin, 'ephemeral-root-ls'));
    const init = path.join(workspace.root, 'init.lua');
    writeFileSync(init, readmeNeovim07Snippet());
    const recorder = path.join(workspace.root, 'recorder.lua');
    writeFileSync(recorder, RECORDER);
    const probe = path.join(workspace.root, 'probe.lua');
    writeFileSync(probe, PROBE);
    const out = path.join(workspace.root, 'result.json');

    const started = Date.now();
    const run = await runNvimWithInit(
      folder,
      ['--clean', '-n', '-i', 'NONE', '--cmd', `luafile ${recorder}`, '-u', init, '-c', `luafile ${probe}`, file],
      { ...process.env, ...xdg, HOME: home, PATH: `${bin}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`, ER_OUT: out, ER_EXPECTED: String(expected.length) },
      60_000,
    );
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (!existsSync(out)) throw new Error(`nvim wrote no result (exit ${run.code}): ${run.stderr.trim()}`);
    const result = JSON.parse(readFileSync(out, 'utf8')) as NvimResult;
    assert.equal(result.error, undefined, `the Lua failed: ${result.error}`);
    assert.equal(result.filetype, 'nix');
    assert.ok(result.attached, `the README snippet started and attached ephemeral-root-ls (nvim stderr: ${run.stderr.trim()})`);
    assert.equal(result.root_dir, folder, 'the root is the folder holding flake.nix');
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
