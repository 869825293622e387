/**
 * Layout-aware completions over LSP: dataset templates with the pool's name inside `datasets = { … }`, and entries
 * for the datasets the host does not mount yet inside `fileSystems = { … }`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { CompletionItem } from 'vscode-languageserver-protocol';
import { LspClient, uri } from '../support/lsp-client';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'completion-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const DISKO = `{
  disko.devices.zpool.tank = {
    type = "zpool";
    rootFsOptions.canmount = "off";
    datasets = {
      local = { type = "zfs_fs"; options.mountpoint = "none"; };
      "local/nix" = { type = "zfs_fs"; options.mountpoint = "legacy"; mountpoint = "/nix"; };
      "local/data" = { type = "zfs_fs"; mountpoint = "/srv/data"; };

    };
  };
}
`;
const CONFIGURATION = `{
  imports = [ ./disko.nix ];
  disko.enableConfig = false;
  networking.hostId = "8425e349";
  fileSystems = {

  };
}
`;

describe('completion', () => {
  it('offers dataset templates in datasets and missing mounts in fileSystems', async () => {
    const folder = path.join(scratch, 'host');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'disko.nix'), DISKO);
    writeFileSync(path.join(folder, 'configuration.nix'), CONFIGURATION);
    const client = new LspClient();
    try {
      await client.initialize(folder);
      const disko = path.join(folder, 'disko.nix');
      client.open(disko, readFileSync(disko, 'utf8'));
      const datasetLine = DISKO.split('\n').findIndex((line, index, lines) => line === '' && lines[index - 1].includes('local/data'));
      const datasets = (await client.connection.sendRequest('textDocument/completion', { textDocument: { uri: uri(disko) }, position: { line: datasetLine, character: 6 } })) as CompletionItem[];
      const root = datasets.find((item) => item.label === 'ephemeral root dataset');
      assert.ok(root, JSON.stringify(datasets.map((item) => item.label)));
      assert.match(root.insertText!, /zfs snapshot tank\/\$1\/\$2@\$\{3:blank\}/);
      const configuration = path.join(folder, 'configuration.nix');
      client.open(configuration, readFileSync(configuration, 'utf8'));
      const mountLine = CONFIGURATION.split('\n').findIndex((line, index, lines) => line === '' && lines[index - 1].includes('fileSystems'));
      const mounts = (await client.connection.sendRequest('textDocument/completion', { textDocument: { uri: uri(configuration) }, position: { line: mountLine, character: 4 } })) as CompletionItem[];
      assert.deepEqual(mounts.map((item) => item.label).sort(), ['"/nix"', '"/srv/data"']);
      const data = mounts.find((item) => item.label === '"/srv/data"')!;
      assert.match(data.insertText!, /device = "tank\/local\/data";/);
      assert.match(data.insertText!, /options = \[ "zfsutil" \];/);
    } finally {
      await client.shutdown();
    }
  });
});
