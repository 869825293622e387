/**
 * Hover and go to definition in a second real LSP client: Debian's Neovim (0.7) runs `ephemeral-root-ls --stdio`
 * headless on a copy of examples/seed. On the rollback target in configuration.nix it asks for the hover (and renders
 * it with Neovim's own markdown conversion) and for the definition, then jumps there with Neovim's
 * `jump_to_location`: it must land on the dataset's key in disko.nix. References across both files are checked too.
 *
 * The Lua is written to a temporary file; Neovim writes what it received as JSON, which is checked here. Needs `nvim`
 * (apt-get install neovim).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, runMain, runNvim, tempWorkspace } from './common';

const LUA = String.raw`
local file, out, server, root = os.getenv('ER_FILE'), os.getenv('ER_OUT'), os.getenv('ER_SERVER'), os.getenv('ER_ROOT')
local line, character = tonumber(os.getenv('ER_LINE')), tonumber(os.getenv('ER_CHARACTER'))
local result = {}
local ok, err = pcall(function()
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  local id = vim.lsp.start_client({ name = 'ephemeral-root-ls', cmd = { os.getenv('ER_NODE'), server, '--stdio' }, root_dir = root })
  assert(id, 'start_client failed')
  assert(vim.lsp.buf_attach_client(buf, id), 'buf_attach_client failed')
  result.attached = vim.wait(10000, function()
    local client = vim.lsp.get_client_by_id(id)
    return client ~= nil and client.initialized == true
  end, 20)
  local client = vim.lsp.get_client_by_id(id)
  result.capabilities = {
    hover = client.server_capabilities.hoverProvider == true,
    definition = client.server_capabilities.definitionProvider == true,
    references = client.server_capabilities.referencesProvider == true,
  }
  local params = { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = line, character = character } }
  local function ask(method, extra)
    local request = vim.deepcopy(params)
    for key, value in pairs(extra or {}) do request[key] = value end
    local responses, failure = vim.lsp.buf_request_sync(buf, method, request, 30000)
    assert(responses, method .. ' failed: ' .. tostring(failure))
    local response = responses[id]
    assert(response, method .. ': no response from our client')
    assert(not response.err, method .. ': ' .. vim.inspect(response.err))
    return response.result
  end
  result.hover = ask('textDocument/hover')
  result.hover_lines = vim.lsp.util.convert_input_to_markdown_lines(result.hover.contents)
  result.definition = ask('textDocument/definition')
  result.references = ask('textDocument/references', { context = { includeDeclaration = true } })
  -- Jump as the user would (gd): Neovim opens disko.nix at the declaration.
  local target = result.definition[1] or result.definition
  vim.lsp.util.jump_to_location(target, 'utf-16')
  result.jumped = { file = vim.api.nvim_buf_get_name(0), cursor = vim.api.nvim_win_get_cursor(0), line = vim.api.nvim_get_current_line() }
  vim.lsp.stop_client(id)
  vim.wait(2000, function() return vim.lsp.client_is_stopped(id) end, 20)
end)
result.error = (not ok) and tostring(err) or nil
local f = assert(io.open(out, 'w'))
f:write(vim.fn.json_encode(result))
f:close()
vim.cmd('qall!')
`;

interface Range {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

interface NvimResult {
  error?: string;
  attached?: boolean;
  capabilities?: { hover: boolean; definition: boolean; references: boolean };
  hover?: { contents: { kind: string; value: string }; range?: Range };
  hover_lines?: string[];
  definition?: { uri: string; range: Range }[];
  references?: { uri: string; range: Range }[];
  jumped?: { file: string; cursor: [number, number]; line: string };
}

async function main(): Promise<void> {
  const version = spawnSync('nvim', ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) throw new Error('nvim not found: apt-get install -y neovim');
  const server = path.join(REPO_ROOT, 'bin', 'ephemeral-root-ls.js');
  if (!existsSync(path.join(REPO_ROOT, 'dist', 'server.js'))) throw new Error('dist/server.js missing: run node scripts/build.mjs');

  const workspace = tempWorkspace('ephemeral-root-nvim-nav-', ['seed']);
  try {
    const folder = path.join(workspace.root, 'seed');
    const file = path.join(folder, 'configuration.nix');
    const disko = path.join(folder, 'disko.nix');
    const lines = readFileSync(file, 'utf8').split('\n');
    const line = lines.findIndex((text) => text.includes('zfs rollback -r rpool/nixos/empty@start'));
    assert.ok(line >= 0, 'the seed rolls back rpool/nixos/empty@start (the example changed?)');
    // On `nixos` of the rollback target.
    const character = lines[line].indexOf('rpool/nixos/empty@start') + 'rpool/'.length + 2;
    const keyLine = readFileSync(disko, 'utf8').split('\n').findIndex((text) => text.includes('"nixos/empty" = {'));

    const home = path.join(workspace.root, 'home');
    const xdg = { XDG_CONFIG_HOME: path.join(home, 'config'), XDG_DATA_HOME: path.join(home, 'data'), XDG_STATE_HOME: path.join(home, 'state'), XDG_CACHE_HOME: path.join(home, 'cache') };
    for (const dir of Object.values(xdg)) mkdirSync(dir, { recursive: true });
    const script = path.join(workspace.root, 'navigate.lua');
    const out = path.join(workspace.root, 'result.json');
    writeFileSync(script, LUA);

    const started = Date.now();
    const run = await runNvim(folder, script, { ...process.env, ...xdg, HOME: home, ER_FILE: file, ER_OUT: out, ER_SERVER: server, ER_ROOT: folder, ER_NODE: process.execPath, ER_LINE: String(line), ER_CHARACTER: String(character) }, 90_000);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (!existsSync(out)) throw new Error(`nvim wrote no result (exit ${run.code}): ${run.stderr.trim()}`);
    const result = JSON.parse(readFileSync(out, 'utf8')) as NvimResult;
    assert.equal(result.error, undefined, `the Lua failed: ${result.error}`);
    assert.ok(result.attached, 'the client initialized');
    assert.deepEqual(result.capabilities, { hover: true, definition: true, references: true }, 'the server announces hover, definition and references');

    // Hover: markdown about the dataset, and Neovim renders it into lines.
    assert.equal(result.hover?.contents.kind, 'markdown');
    const hover = result.hover!.contents.value;
    assert.match(hover, /\*\*ZFS dataset `rpool\/nixos\/empty`\*\*/);
    assert.match(hover, /\*\*Erased on every boot\*\* — rolled back to `@start` \(the root file system\) by initrd unit `initrd-rollback-root`/);
    assert.match(hover, /needed for boot: \*\*yes\*\*/);
    assert.deepEqual(result.hover!.range?.start, { line, character: lines[line].indexOf('rpool/nixos/empty@start') }, 'the hover range is the dataset name');
    assert.ok((result.hover_lines ?? []).some((text) => text.includes('Erased on every boot')), `Neovim's markdown lines: ${JSON.stringify(result.hover_lines)}`);

    // Definition: the key of the dataset in disko.nix; Neovim jumps there.
    assert.equal(result.definition?.length, 1);
    assert.equal(decodeURIComponent(new URL(result.definition![0].uri).pathname), disko);
    assert.equal(result.definition![0].range.start.line, keyLine);
    assert.equal(result.jumped?.file, disko, 'Neovim opened disko.nix');
    assert.equal(result.jumped?.cursor[0], keyLine + 1, 'on the line of the key (1-based)');
    assert.match(result.jumped!.line, /"nixos\/empty" = \{/);

    // References: the device and the rollback in configuration.nix, the key, the hook and its guard in disko.nix.
    const places = (result.references ?? []).map((location) => `${path.basename(new URL(location.uri).pathname)}:${location.range.start.line}`).sort();
    assert.equal(places.length, 5, JSON.stringify(places));
    assert.equal(places.filter((place) => place.startsWith('configuration.nix')).length, 2);
    console.log(`neovim-navigation: ${version.stdout.split('\n')[0]}: hover (${result.hover_lines?.length} lines), definition → disko.nix:${keyLine + 1}, ${places.length} references, in ${seconds} s`);
  } finally {
    workspace.cleanup();
  }
}

runMain('neovim-navigation.e2e', main);
