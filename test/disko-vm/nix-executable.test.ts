/**
 * Which `nix` runs (client/src/disko-vm/nix-executable.ts): PATH is walked without its empty and relative entries
 * and without anything inside a workspace folder (also through links); the setting must name an executable outside
 * the workspace; the processes get a PATH cleaned the same way.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveNixExecutable, safePathVariable } from '../../client/src/disko-vm/nix-executable';

const dir = mkdtempSync(path.join(os.tmpdir(), 'disko-vm-nix-executable-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function executable(file: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, '#!/bin/sh\nexit 0\n');
  chmodSync(file, 0o755);
  return file;
}

const workspace = path.join(dir, 'workspace');
const workspaceNix = executable(path.join(workspace, 'bin', 'nix'));
executable(path.join(workspace, 'nix'));
const systemNix = executable(path.join(dir, 'system', 'bin', 'nix'));
// A folder outside the workspace whose `nix` is a link into the workspace.
mkdirSync(path.join(dir, 'sneaky'));
symlinkSync(workspaceNix, path.join(dir, 'sneaky', 'nix'));
// A PATH entry outside the workspace by name that is a link to a workspace folder.
symlinkSync(path.join(workspace, 'bin'), path.join(dir, 'linked-bin'));

describe('resolving nix', () => {
  it('skips empty, relative and workspace entries, and links into the workspace, then takes the next nix', () => {
    const pathVariable = ['', '.', 'bin', path.join(workspace, 'bin'), path.join(dir, 'linked-bin'), path.join(dir, 'sneaky'), path.join(dir, 'system', 'bin')].join(':');
    const found = resolveNixExecutable({ pathVariable, workspaceFolders: [workspace] });
    assert.equal(found.nix, systemNix);
    assert.equal(found.skipped.length, 6, found.skipped.join('\n'));
    assert.match(found.skipped[0], /empty PATH entry/);
    assert.match(found.skipped[1], /relative PATH entry "\."/);
    assert.match(found.skipped.join('\n'), /inside the workspace folder/);
  });

  it('refuses when the only nix is the workspace\'s', () => {
    const found = resolveNixExecutable({ pathVariable: `:.:${path.join(workspace, 'bin')}`, workspaceFolders: [workspace] });
    assert.equal(found.nix, undefined);
    assert.match(found.error!, /no `nix` executable outside the workspace/);
  });

  it('the setting: an absolute executable outside the workspace; else a clear refusal (no PATH fallback)', () => {
    assert.equal(resolveNixExecutable({ pathVariable: '', workspaceFolders: [workspace], configured: systemNix }).nix, systemNix);
    assert.match(resolveNixExecutable({ pathVariable: systemNix, workspaceFolders: [workspace], configured: 'nix' }).error!, /must be an absolute path/);
    assert.match(resolveNixExecutable({ pathVariable: '', workspaceFolders: [workspace], configured: workspaceNix }).error!, /inside the workspace folder/);
    assert.match(resolveNixExecutable({ pathVariable: '', workspaceFolders: [workspace], configured: path.join(dir, 'sneaky', 'nix') }).error!, /inside the workspace folder/);
    assert.match(resolveNixExecutable({ pathVariable: '', workspaceFolders: [workspace], configured: path.join(dir, 'none') }).error!, /not an executable file/);
  });

  it('the processes\' PATH keeps only absolute entries outside the workspace', () => {
    const cleaned = safePathVariable(['', '.', path.join(workspace, 'bin'), path.join(dir, 'linked-bin'), '/usr/bin', '/bin'].join(':'), [workspace]);
    assert.equal(cleaned, '/usr/bin:/bin');
  });
});
