/**
 * Bad input through the real CLI: broken Nix, half-typed edits, a 5 MB file, a binary file, invalid UTF-8, an import
 * cycle, a missing import, hostile nesting. Each gives findings or a one-line error — never a stack trace or a hang.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../support/cli';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'bad-input-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let cases = 0;
function folderWith(files: Record<string, string | Buffer>): string {
  const folder = path.join(scratch, `case-${cases++}`);
  mkdirSync(folder, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(folder, name)), { recursive: true });
    writeFileSync(path.join(folder, name), content);
  }
  return folder;
}

interface Report {
  diagnostics: { code: string; file: string; message: string; range: { start: { line: number; character: number } } }[];
}

function check(folder: string): Report {
  const run = runCli(['check', folder, '--format', 'json'], folder, 60_000);
  assert.equal(run.signal, null, 'the CLI was killed (hang)');
  assert.ok(run.status === 0 || run.status === 1, `exit ${run.status}: ${run.stderr}`);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'a stack trace');
  return JSON.parse(run.stdout) as Report;
}

const codes = (report: Report) => report.diagnostics.map((item) => item.code);

describe('bad input', () => {
  it('unbalanced braces: a syntax error that names the unclosed brace', () => {
    const report = check(folderWith({ 'configuration.nix': '{\n  fileSystems."/" = {\n    device = "rpool/root";\n' }));
    const syntax = report.diagnostics.filter((item) => item.code === 'syntax-error');
    assert.ok(syntax.length >= 1);
    assert.match(syntax[0].message, /never closed|expected/);
  });

  it('a half-typed binding: syntax error, and no finding that its loss would fake', () => {
    const report = check(
      folderWith({
        'configuration.nix': '{\n  networking.hostId = "8425e349";\n  fileSystems."/" = { device = "rpool/root"; fsType = "zfs"; };\n  boot.initrd.systemd.services.rollback = {\n    after = [ "zfs-imp\n}\n',
      }),
    );
    assert.ok(codes(report).includes('syntax-error'));
    assert.ok(!codes(report).includes('hostid-missing'));
  });

  it('a 5 MB file is analysed', () => {
    const bindings: string[] = [];
    for (let index = 0, size = 0; size < 5 * 1024 * 1024; index++) {
      const binding = `  services.generated${index} = { enable = true; description = "generated service number ${index} with some padding text"; };`;
      bindings.push(binding);
      size += binding.length + 1;
    }
    const report = check(folderWith({ 'configuration.nix': `{ networking.hostId = "8425e349";\n${bindings.join('\n')}\n}\n` }));
    assert.deepEqual(codes(report), []);
  });

  it('a binary file is reported, not parsed', () => {
    const report = check(folderWith({ 'configuration.nix': Buffer.from([0x7b, 0x00, 0x01, 0x02, 0xff, 0x7d]) }));
    assert.deepEqual(codes(report), ['syntax-error']);
    assert.match(report.diagnostics[0].message, /binary/);
  });

  it('invalid UTF-8 in a comment does not disturb the analysis', () => {
    const text = Buffer.concat([Buffer.from('# caf'), Buffer.from([0xe9, 0xff]), Buffer.from('\n{ fileSystems."/" = { device = "/dev/sda1"; fsType = "zfs"; }; }\n')]);
    const report = check(folderWith({ 'configuration.nix': text }));
    const finding = report.diagnostics.find((item) => item.code === 'zfs-device-not-dataset');
    assert.ok(finding, JSON.stringify(report));
    assert.equal(finding.range.start.line, 1);
  });

  it('CRLF line endings keep positions right', () => {
    const report = check(folderWith({ 'configuration.nix': '{\r\n  fileSystems."/" = {\r\n    device = "/dev/sda1";\r\n    fsType = "zfs";\r\n  };\r\n}\r\n' }));
    const finding = report.diagnostics.find((item) => item.code === 'zfs-device-not-dataset');
    assert.deepEqual(finding?.range.start, { line: 2, character: 13 });
  });

  it('an import cycle terminates', () => {
    const report = check(folderWith({ 'configuration.nix': '{ imports = [ ./a.nix ]; }', 'a.nix': '{ imports = [ ./b.nix ]; }', 'b.nix': '{ imports = [ ./a.nix ./configuration.nix ]; }' }));
    assert.deepEqual(codes(report), []);
  });

  it('a missing import is import-not-found at the import', () => {
    const report = check(folderWith({ 'configuration.nix': '{\n  imports = [ ./hardware-configuraton.nix ];\n}\n' }));
    assert.deepEqual(codes(report), ['import-not-found']);
    assert.equal(report.diagnostics[0].range.start.line, 1);
  });

  it('self-reference and deep nesting end in unknowns, not in a crash', () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const report = check(
      folderWith({
        'configuration.nix': `let x = x; f = n: f (n + 1); in { networking.hostId = x; boot.kernelParams = f 0; fileSystems = rec { a = a; }; deep = ${deep}; }`,
      }),
    );
    assert.ok(!codes(report).includes('hostid-missing'));
  });
});
