/**
 * The CLI contract of DESIGN.md, through the built `ephemeral-root` command: JSON shape, SARIF 2.1.0 valid against
 * the official schema, exit codes, --host, --release, --explain, and one-line errors for bad usage.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { RULE_CODES } from '../../server/src/rules/types';
import { runCli } from '../support/cli';
import { REPO_ROOT } from '../support/engine';

const EXAMPLES = path.join(REPO_ROOT, 'examples');

interface JsonReport {
  version: number;
  hosts: { name: string; root: string; files: string[]; release: string | null }[];
  diagnostics: {
    file: string;
    host: string | null;
    code: string;
    severity: string;
    message: string;
    range: { start: { line: number; character: number }; end: { line: number; character: number } };
    related: { file: string; range: unknown; message: string }[];
    fixable: boolean;
  }[];
  unknown: { file: string; range: unknown; what: string }[];
}

describe('ephemeral-root check', () => {
  it('prints the JSON contract, paths relative to the current folder, 0-based ranges', () => {
    const run = runCli(['check', 'broken-flake', '--format', 'json'], EXAMPLES);
    assert.equal(run.status, 1, run.stderr);
    const report = JSON.parse(run.stdout) as JsonReport;
    assert.equal(report.version, 1);
    assert.deepEqual(report.hosts.map((host) => [host.name, host.root, host.release]), [['tern', 'broken-flake/hosts/tern/configuration.nix', '25.05']]);
    assert.ok(report.hosts[0].files.includes('broken-flake/hosts/tern/disko.nix'));
    const mismatch = report.diagnostics.find((item) => item.code === 'rollback-snapshot-mismatch');
    assert.ok(mismatch, 'rollback-snapshot-mismatch reported');
    assert.equal(mismatch.file, 'broken-flake/hosts/tern/configuration.nix');
    assert.equal(mismatch.host, 'tern');
    assert.equal(mismatch.severity, 'error');
    // `script = "zfs rollback zroot/local/root@blank";` is line 24 (0-based 23); the target starts at column 27.
    assert.deepEqual(mismatch.range, { start: { line: 23, character: 27 }, end: { line: 23, character: 49 } });
    assert.deepEqual(mismatch.related.map((item) => item.file), ['broken-flake/hosts/tern/disko.nix']);
    for (const item of report.diagnostics) {
      assert.ok((RULE_CODES as readonly string[]).includes(item.code), item.code);
      assert.equal(typeof item.fixable, 'boolean');
    }
    assert.ok(Array.isArray(report.unknown));
  });

  it('exits 0 without error findings', () => {
    const run = runCli(['check', 'examples/seed', '--format', 'json']);
    assert.equal(run.status, 0, run.stderr);
    // The seed's one note: its machine id is not kept (information, not an error).
    assert.deepEqual((JSON.parse(run.stdout) as JsonReport).diagnostics.map((item) => `${item.severity} ${item.code}`), ['information machine-id-not-persisted']);
  });

  it('prints SARIF 2.1.0 that validates against the SARIF schema, one rule per code', () => {
    const run = runCli(['check', 'examples', '--format', 'sarif']);
    assert.equal(run.status, 1, run.stderr);
    const log = JSON.parse(run.stdout) as { runs: { tool: { driver: { rules: unknown[] } }; results: unknown[] }[] };
    const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
    addFormats(ajv);
    const validate = ajv.compile(require('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'));
    assert.ok(validate(log), JSON.stringify(validate.errors?.slice(0, 3), null, 2));
    const rules = log.runs[0].tool.driver.rules as { id: string; helpUri: string; defaultConfiguration: { level: string } }[];
    assert.deepEqual(rules.map((rule) => rule.id), [...RULE_CODES]);
    assert.ok(rules.every((rule) => rule.helpUri.endsWith(`/docs/rules/${rule.id}.md`)));
    const results = log.runs[0].results as { ruleId: string; level: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[];
    const mismatch = results.find((result) => result.ruleId === 'rollback-snapshot-mismatch');
    assert.equal(mismatch?.locations[0].physicalLocation.artifactLocation.uri, 'examples/broken-flake/hosts/tern/configuration.nix');
    assert.equal(mismatch?.locations[0].physicalLocation.region.startLine, 24);
  });

  it('prints text with file:line:column and a summary', () => {
    const run = runCli(['check', 'examples/broken-classic']);
    assert.equal(run.status, 1);
    assert.match(run.stdout, /^examples\/broken-classic\/configuration\.nix:11:15: error \[scripted-hook-with-systemd-initrd\] /m);
    assert.match(run.stdout, /\d+ error\(s\), \d+ warning\(s\), \d+ note\(s\) in 1 host\(s\)/);
  });

  it('--host selects one host, and an unknown host is a usage error', () => {
    const one = JSON.parse(runCli(['check', 'examples', '--format', 'json', '--host', 'seed']).stdout) as JsonReport;
    assert.deepEqual(one.hosts.map((host) => host.name), ['seed']);
    assert.ok(one.diagnostics.every((item) => item.host === null || item.host === 'seed'));
    const missing = runCli(['check', 'examples', '--host', 'nope']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^ephemeral-root: no host named 'nope'/);
  });

  it('--release sets the release when nothing else tells it', () => {
    const report = JSON.parse(runCli(['check', 'examples/broken-classic', '--format', 'json', '--release', '24.05']).stdout) as JsonReport;
    assert.equal(report.hosts[0].release, '24.05');
  });

  it('--explain lists what could not be decided, by cause, with the place', () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'explain-'));
    try {
      writeFileSync(
        path.join(folder, 'configuration.nix'),
        '{ config, lib, ... }:\n{\n  networking.hostId = "8425e349";\n  fileSystems = lib.mapAttrs (name: device: { inherit device; fsType = "zfs"; }) config.my.mounts;\n}\n',
      );
      const run = runCli(['check', '.', '--explain'], folder);
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /What could not be decided statically/);
      assert.match(run.stdout, /configuration\.nix:4: fileSystems .*lib\.mapAttrs|configuration\.nix:4: .*fileSystems/);
      // Grouped by cause, with a count per cause.
      assert.match(run.stdout, /^  an option that NixOS or an unread module defines: 1$/m);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  for (const [args, pattern] of [
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['check', '--format', 'xml'], /unknown format 'xml'/],
    [['check', '--release', 'latest'], /--release takes a NixOS release/],
    [['check', 'no/such/path'], /cannot read 'no\/such\/path'/],
    [['check', '--bogus'], /unknown option '--bogus'/],
  ] as [string[], RegExp][]) {
    it(`exits 2 with one line for: ${args.join(' ')}`, () => {
      const run = runCli(args);
      assert.equal(run.status, 2);
      assert.match(run.stderr, pattern);
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
      assert.equal(run.stdout, '');
    });
  }
});
