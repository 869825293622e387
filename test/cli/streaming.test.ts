/**
 * The CLI over many hosts, part by part (server/src/cli/shard.ts): a folder that splits into parts that cannot see
 * each other is analysed one batch of parts at a time, in worker threads or in one thread, and must print exactly
 * what the analysis of the whole folder prints (every format, the exit code, the faults on stderr). Where a split
 * could change the result (a file naming another part, a fragment, a name taken twice), the folder is analysed whole.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { analyseInParts, independentParts } from '../../server/src/cli/shard';
import { reportOf, toJson, toSarif, toText } from '../../server/src/cli/report';
import { Workspace } from '../../server/src/model/workspace';
import { analyze } from '../../server/src/rules/engine';
import { initSyntax } from '../../server/src/syntax/parser';
import { CLI } from '../support/cli';
import { REPO_ROOT } from '../support/engine';

const EXAMPLES = path.join(REPO_ROOT, 'examples');

/** The examples that are plain configuration.nix hosts, each in its own folder, some nested one level deeper. */
function buildTree(root: string): void {
  const hosts = ['broken-btrfs', 'broken-classic', 'broken-tmpfs', 'btrfs-impermanence', 'tmpfs-root'];
  for (const [index, name] of hosts.entries()) {
    cpSync(path.join(EXAMPLES, name), path.join(root, index % 2 === 0 ? name : path.join('group', name)), { recursive: true });
  }
  // The seed without its flake, twice renamed, once with a syntax error and once with an import that is missing.
  for (const name of ['seed-a', 'seed-b', 'seed-c', 'seed-d']) {
    mkdirSync(path.join(root, 'fleet', name), { recursive: true });
    let configuration = readFileSync(path.join(EXAMPLES, 'seed', 'configuration.nix'), 'utf8').replace('{ lib, pkgs, ... }:\n{', '{ lib, pkgs, ... }:\n{\n  imports = [ ./disko.nix ];');
    if (name === 'seed-c') configuration = configuration.replace('fsType = "zfs";', 'fsType = "zfs"');
    if (name === 'seed-d') configuration = configuration.replace('imports = [ ./disko.nix ];', 'imports = [ ./disko.nix ./missing.nix ];');
    writeFileSync(path.join(root, 'fleet', name, 'configuration.nix'), configuration);
    cpSync(path.join(EXAMPLES, 'seed', 'disko.nix'), path.join(root, 'fleet', name, 'disko.nix'));
  }
}

function run(args: string[], cwd: string, env: Record<string, string>) {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('CLI over many hosts, part by part', () => {
  let scratch: string;
  let tree: string;
  before(async () => {
    await initSyntax();
    scratch = mkdtempSync(path.join(os.tmpdir(), 'cli-stream-'));
    tree = path.join(scratch, 'tree');
    buildTree(tree);
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('splits the tree into one part per host folder', () => {
    const workspace = new Workspace();
    workspace.policy.allow(tree);
    const parts = independentParts(workspace, tree);
    assert.deepEqual(
      parts?.map((part) => path.relative(tree, part)),
      ['broken-btrfs', 'broken-tmpfs', 'fleet/seed-a', 'fleet/seed-b', 'fleet/seed-c', 'fleet/seed-d', 'group/broken-classic', 'group/btrfs-impermanence', 'tmpfs-root'],
    );
  });

  for (const workers of ['0', '2']) {
    it(`renders the same report as the whole analysis (${workers === '0' ? 'batches in this thread' : 'two worker threads'})`, async () => {
      const previous = { stream: process.env.EPHEMERAL_ROOT_CLI_STREAM, batch: process.env.EPHEMERAL_ROOT_CLI_BATCH };
      process.env.EPHEMERAL_ROOT_CLI_STREAM = workers;
      process.env.EPHEMERAL_ROOT_CLI_BATCH = '2';
      try {
        const workspace = new Workspace();
        workspace.policy.allow(tree);
        const parted = await analyseInParts(workspace, tree, { allow: [tree] });
        assert.ok(parted, 'the tree is analysed part by part');
        const whole = new Workspace();
        whole.policy.allow(tree);
        const expected = reportOf(analyze(whole, [tree]), whole);
        // Findings are listed per batch, the formats sort them: compare what is printed, and the rest as it is.
        assert.deepEqual(toJson(parted, scratch), toJson(expected, scratch));
        assert.equal(toText(parted, scratch, true), toText(expected, scratch, true));
        assert.deepEqual(toSarif(parted, scratch, '0'), toSarif(expected, scratch, '0'));
        assert.deepEqual({ ...parted, findings: [] }, { ...expected, findings: [] });
        assert.ok(expected.findings.some((finding) => finding.code === 'syntax-error') && expected.findings.some((finding) => finding.code === 'import-not-found'));
        assert.ok(expected.hosts.length === 9 && expected.findings.some((finding) => finding.fixable));
      } finally {
        for (const [key, value] of [['EPHEMERAL_ROOT_CLI_STREAM', previous.stream], ['EPHEMERAL_ROOT_CLI_BATCH', previous.batch]] as const) {
          if (value === undefined) delete process.env[key];
          else process.env[key] = value;
        }
      }
    });
  }

  it('prints byte for byte what the whole analysis prints, in every format, with the same exit code', () => {
    for (const args of [['--format', 'json'], ['--format', 'sarif'], ['--explain'], ['--host', 'seed-b', '--format', 'json']]) {
      const whole = run(['check', 'tree', ...args], scratch, { EPHEMERAL_ROOT_CLI_STREAM: 'off' });
      for (const workers of ['0', '2']) {
        const parted = run(['check', 'tree', ...args], scratch, { EPHEMERAL_ROOT_CLI_STREAM: workers, EPHEMERAL_ROOT_CLI_BATCH: '2' });
        assert.equal(parted.stdout, whole.stdout, `${args.join(' ')} with ${workers} workers`);
        assert.equal(parted.status, whole.status);
        assert.equal(parted.stderr, whole.stderr);
      }
      assert.equal(whole.status, 1, whole.stderr);
    }
  });

  it('still exits 2 with one line per rule fault when a rule fails in a worker thread', () => {
    const env = { EPHEMERAL_ROOT_INJECT_FAULT: 'rollback-snapshot-mismatch', EPHEMERAL_ROOT_CLI_BATCH: '2' };
    const whole = run(['check', 'tree', '--format', 'json'], scratch, { ...env, EPHEMERAL_ROOT_CLI_STREAM: 'off' });
    const parted = run(['check', 'tree', '--format', 'json'], scratch, { ...env, EPHEMERAL_ROOT_CLI_STREAM: '2' });
    assert.equal(whole.status, 2);
    assert.equal(parted.status, 2);
    assert.equal(parted.stderr, whole.stderr);
    assert.match(parted.stderr, /internal error in rule rollback-snapshot-mismatch on host seed-a/);
    assert.equal(parted.stdout, whole.stdout);
  });

  it('analyses the tree whole when a file names another part', () => {
    const crossing = path.join(scratch, 'crossing');
    buildTree(crossing);
    const file = path.join(crossing, 'fleet', 'seed-b', 'configuration.nix');
    writeFileSync(file, readFileSync(file, 'utf8').replace('imports = [ ./disko.nix ];', 'imports = [ ./disko.nix ../seed-a/disko.nix ];'));
    const workspace = new Workspace();
    workspace.policy.allow(crossing);
    assert.equal(independentParts(workspace, crossing), undefined);
    writeFileSync(file, readFileSync(file, 'utf8').replace('../seed-a/disko.nix', `${path.join(crossing, 'fleet', 'seed-a', 'disko.nix')}`));
    const again = new Workspace();
    again.policy.allow(crossing);
    assert.equal(independentParts(again, crossing), undefined);
    writeFileSync(file, readFileSync(file, 'utf8').replace(`${path.join(crossing, 'fleet', 'seed-a', 'disko.nix')}`, './disko.nix'));
    const clean = new Workspace();
    clean.policy.allow(crossing);
    assert.ok(independentParts(clean, crossing), 'the same tree splits once the file names only its own part');
  });

  it('analyses the tree whole when a part holds a fragment or two hosts share a name', async () => {
    const previous = process.env.EPHEMERAL_ROOT_CLI_BATCH;
    process.env.EPHEMERAL_ROOT_CLI_BATCH = '2';
    try {
      const withFragment = path.join(scratch, 'fragment');
      buildTree(withFragment);
      writeFileSync(path.join(withFragment, 'fleet', 'seed-a', 'extra.nix'), '{ fileSystems."/data" = { device = "rpool/data"; fsType = "zfs"; }; }\n');
      const workspace = new Workspace();
      workspace.policy.allow(withFragment);
      assert.ok(independentParts(workspace, withFragment));
      assert.equal(await analyseInParts(workspace, withFragment, { allow: [withFragment] }), undefined);

      const sameName = path.join(scratch, 'same-name');
      buildTree(sameName);
      cpSync(path.join(sameName, 'fleet', 'seed-a'), path.join(sameName, 'other', 'seed-a'), { recursive: true });
      const second = new Workspace();
      second.policy.allow(sameName);
      assert.equal(await analyseInParts(second, sameName, { allow: [sameName] }), undefined);
      const whole = run(['check', 'same-name', '--format', 'json'], scratch, { EPHEMERAL_ROOT_CLI_STREAM: 'off' });
      const parted = run(['check', 'same-name', '--format', 'json'], scratch, { EPHEMERAL_ROOT_CLI_STREAM: '2' });
      assert.equal(parted.stdout, whole.stdout);
      assert.ok((JSON.parse(whole.stdout) as { hosts: { name: string }[] }).hosts.some((host) => host.name === 'seed-a-2'));
    } finally {
      if (previous === undefined) delete process.env.EPHEMERAL_ROOT_CLI_BATCH;
      else process.env.EPHEMERAL_ROOT_CLI_BATCH = previous;
    }
  });
});
