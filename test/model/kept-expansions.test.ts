/**
 * Kept expansions (config.ts, `Expansion`): a host merged again after an edit hands out the same definitions for the
 * modules the edit did not touch, and a late `mkIf` condition over a kept definition is decided again for the new
 * configuration — the result is always the one a fresh analysis gives.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { HostModel } from '../../server/src/model/host-model';
import { Workspace } from '../../server/src/model/workspace';
import { analyze, createHostReuse } from '../../server/src/rules/engine';
import { SourceFile, initSyntax } from '../../server/src/syntax/parser';
import { analysisSummary } from '../support/engine';

const FLAKE = `{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";
  outputs = { nixpkgs, ... }: {
    nixosConfigurations.host = nixpkgs.lib.nixosSystem { modules = [ ./base.nix ./services.nix ./switch.nix ]; };
  };
}
`;

const BASE = `{ ... }: {
  networking.hostId = "8425e349";
  fileSystems."/" = { device = "rpool/root"; fsType = "zfs"; };
  fileSystems."/nix" = { device = "rpool/nix"; fsType = "zfs"; neededForBoot = true; };
}
`;

const SERVICES = `{ config, lib, ... }: {
  options.homelab.enable = lib.mkEnableOption "the homelab";
  config = lib.mkIf config.homelab.enable {
    fileSystems."/srv" = { device = "rpool/srv"; fsType = "zfs"; };
  };
}
`;

describe('kept expansions', () => {
  let root: string;
  before(async () => {
    await initSyntax();
    root = mkdtempSync(path.join(os.tmpdir(), 'kept-expansions-'));
    writeFileSync(path.join(root, 'flake.nix'), FLAKE);
    writeFileSync(path.join(root, 'base.nix'), BASE);
    writeFileSync(path.join(root, 'services.nix'), SERVICES);
    writeFileSync(path.join(root, 'switch.nix'), '{ homelab.enable = true; }\n');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  function session(): { edit: (file: string, text: string) => void; host: () => HostModel } {
    const workspace = new Workspace();
    workspace.watched = true;
    const reuse = createHostReuse();
    return {
      edit: (file, text) => workspace.setOverlay(SourceFile.fromText(path.join(root, file), text)),
      // The reusing analysis, proven equal to a fresh one of the same texts on every call.
      host: () => {
        const kept = analyze(workspace, [root], { reuse });
        assert.equal(analysisSummary(kept, root), analysisSummary(analyze(workspace, [root]), root));
        assert.equal(kept.hosts.length, 1);
        return kept.hosts[0];
      },
    };
  }

  it('hand out the same definitions for a module the edit did not touch, and new ones for the edited module', () => {
    const { edit, host } = session();
    const first = host();
    const rootBefore = first.config.at('fileSystems', '/').definitions;
    const switchBefore = first.config.at('homelab', 'enable').definitions;
    edit('switch.nix', '{ homelab.enable = true; networking.hostName = "host"; }\n');
    const second = host();
    assert.notEqual(second, first, 'the host was built again');
    const rootAfter = second.config.at('fileSystems', '/').definitions;
    assert.equal(rootAfter.length, 1);
    assert.equal(rootAfter[0], rootBefore[0], 'base.nix was not edited: its definition is the one made before');
    const switchAfter = second.config.at('homelab', 'enable').definitions;
    assert.equal(switchAfter.length, 1);
    assert.notEqual(switchAfter[0], switchBefore[0], 'switch.nix was edited: its definition is made anew');
  });

  it('decide a late condition over a kept definition again when the edit changes the option it reads', () => {
    const { edit, host } = session();
    const enabled = host();
    const srv = enabled.config.at('fileSystems', '/srv');
    assert.equal(srv.effective().definitions.length, 1, 'homelab.enable is true: /srv is mounted');
    assert.equal(enabled.hasMountAt('/srv'), true);
    edit('switch.nix', '{ homelab.enable = false; }\n');
    const disabled = host();
    const srvAfter = disabled.config.at('fileSystems', '/srv');
    assert.equal(srvAfter.definitions[0], srv.definitions[0], 'services.nix was not edited: its definition is kept');
    assert.equal(srvAfter.effective().definitions.length, 0, 'homelab.enable is false now: /srv is not mounted');
    assert.equal(disabled.hasMountAt('/srv'), false);
    edit('switch.nix', '{ homelab.enable = true; }\n');
    assert.equal(host().hasMountAt('/srv'), true);
  });
});
