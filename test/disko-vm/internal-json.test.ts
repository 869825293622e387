/**
 * Nix's `--log-format internal-json`, read from REAL Nix output (Debian's nix-bin): a parse error, an evaluation
 * error with `--show-trace`, and a failing build; then mapped to diagnostics on workspace files, also through the
 * store copy a flake is evaluated from.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { diagnosticFromMessage, mapNixFile, type NixEvent, nixErrors, nixMessages, parseNixLine, stripAnsi, wordRange } from '../../client/src/disko-vm/internal-json';

const dir = mkdtempSync(path.join(os.tmpdir(), 'disko-vm-json-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function realNix(command: string, args: string[]): string[] {
  const run = spawnSync(command, args, { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  if (run.error) throw new Error(`${command} is not available (${run.error.message}); install Debian's nix-bin`);
  return `${run.stdout}${run.stderr}`.split('\n').filter(Boolean);
}

const read = (file: string) => readFileSync(file, 'utf8');

describe('internal-json from real Nix', () => {
  it('a parse error: file, line and column of the offending token', () => {
    const file = path.join(dir, 'bad.nix');
    writeFileSync(file, '{\n  a = 1;\n  b = ;\n}\n');
    const [error] = nixErrors(realNix('nix-instantiate', ['--parse', '--log-format', 'internal-json', file]));
    assert.equal(error.level, 0);
    assert.deepEqual(error.position, { file, line: 3, column: 7 });
    assert.match(error.raw, /^syntax error, unexpected ';'/);
    assert.doesNotMatch(error.text, /\u001b/);
    const diagnostic = diagnosticFromMessage(error, [dir], read)!;
    assert.deepEqual(diagnostic.range, { start: { line: 2, character: 6 }, end: { line: 2, character: 7 } });
    assert.equal(diagnostic.file, file);
    assert.equal(diagnostic.severity, 'error');
  });

  it('an evaluation error whose position is only in the --show-trace frames', () => {
    const file = path.join(dir, 'eval.nix');
    writeFileSync(file, '{ x }:\n{\n  a = x + "s";\n  mountpoint = throw "boom";\n}\n');
    const lines = realNix('nix-instantiate', ['--eval', '--strict', '--show-trace', '--log-format', 'internal-json', '--expr', `(import ${file} { x = 1; }).mountpoint`]);
    const [error] = nixErrors(lines);
    assert.equal(error.raw, 'boom');
    assert.equal(error.position.file, undefined);
    assert.ok(error.trace.some((frame) => frame.file === file && frame.line === 4));
    const diagnostic = diagnosticFromMessage(error, [dir], read)!;
    assert.equal(diagnostic.file, file);
    assert.deepEqual(diagnostic.range.start, { line: 3, character: 2 });
    // The word at the position: the attribute name.
    assert.deepEqual(diagnostic.range.end, { line: 3, character: 12 });
    assert.match(diagnostic.message, /^boom \(while evaluating the attribute 'mountpoint'\)$/);
  });

  it('a failing build: activities, build log lines and the builder error (no position, no diagnostic)', (t) => {
    const expression = `derivation { name = "er-log-test-${process.pid}"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo first line; echo second line >&2; exit 3" ]; }`;
    const lines = realNix('nix', ['--extra-experimental-features', 'nix-command', 'build', '-L', '--log-format', 'internal-json', '--option', 'substituters', '', '--no-link', '--impure', '--expr', expression]);
    const events = lines.map(parseNixLine);
    if (!events.some((event) => event.kind === 'log')) {
      t.skip(`this machine's Nix store cannot build (${lines.slice(-1)[0] ?? 'no output'})`);
      return;
    }
    const logs = events.filter((event) => event.kind === 'log').map((event) => (event as { text: string }).text);
    assert.deepEqual(logs, ['first line', 'second line']);
    assert.ok(events.some((event) => event.kind === 'activity' && /^building '\/nix\/store\/.*-er-log-test-\d+\.drv'$/.test(event.text)));
    const [error] = nixErrors(lines);
    assert.match(error.raw, /builder for '.*' failed with exit code 3/);
    assert.equal(diagnosticFromMessage(error, [dir], read), undefined);
  });

  it('-L after --log-format switches real Nix back to plain output (so the command writes -L first)', () => {
    const expression = `derivation { name = "er-order-test-${process.pid}"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo x; exit 1" ]; }`;
    const lines = realNix('nix', ['--extra-experimental-features', 'nix-command', 'build', '--log-format', 'internal-json', '-L', '--option', 'substituters', '', '--no-link', '--impure', '--expr', expression]);
    assert.ok(lines.some((line) => line.startsWith('error:')), `expected Nix to run and fail:\n${lines.join('\n')}`);
    assert.ok(!lines.some((line) => line.startsWith('@nix ')), `expected no internal-json lines:\n${lines.join('\n')}`);
  });
});

describe('warnings among the messages', () => {
  // Real Nix 2.8 output on a machine without the nixbld group (Debian's nix-setup-systemd not installed): the
  // warning comes first, at level 0, without raw_msg or position; the parse error follows.
  const nixbldWarning = `@nix {"action":"msg","level":0,"msg":"warning: the group 'nixbld' specified in 'build-users-group' does not exist"}`;
  const parseError = `@nix {"action":"msg","column":7,"file":"/tmp/bad.nix","level":0,"line":3,"msg":"\\u001b[31;1merror:\\u001b[0m syntax error, unexpected ';'","raw_msg":"syntax error, unexpected ';'"}`;

  it('a "warning:" message at level 0 is a warning, and makes no diagnostic', () => {
    const [warning] = nixMessages([nixbldWarning]);
    assert.equal(warning.level, 1);
    assert.match(warning.text, /nixbld/);
    assert.equal(diagnosticFromMessage(warning, ['/tmp'], () => 'x', () => true), undefined);
  });

  it('every message is read: the error after the warning is the first error', () => {
    const lines = [nixbldWarning, 'plain output', parseError];
    assert.equal(nixMessages(lines).length, 2);
    const errors = nixErrors(lines);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].raw, "syntax error, unexpected ';'");
    assert.deepEqual(errors[0].position, { file: '/tmp/bad.nix', line: 3, column: 7 });
  });
});

describe('mapping Nix positions to the workspace', () => {
  const flake = path.join(dir, 'flake');
  const exists = (file: string) => [path.join(flake, 'hosts', 'a', 'disko.nix'), path.join(flake, 'flake.nix')].includes(file);

  it('maps the flake\'s store copy and lazy-tree paths back to the flake folder', () => {
    assert.equal(mapNixFile('/nix/store/0c9kfr2hyiqr7w0vyz2gg1jqmkvlmd5l-source/hosts/a/disko.nix', [flake], exists), path.join(flake, 'hosts', 'a', 'disko.nix'));
    assert.equal(mapNixFile(`«git+file://${flake}»/flake.nix`, [flake], exists), path.join(flake, 'flake.nix'));
  });

  it('leaves files outside the workspace (nixpkgs, disko, other inputs) alone', () => {
    assert.equal(mapNixFile('/nix/store/0c9kfr2hyiqr7w0vyz2gg1jqmkvlmd5l-source/lib/modules.nix', [flake], exists), undefined);
    assert.equal(mapNixFile('/etc/nixos/configuration.nix', [flake], () => true), undefined);
    assert.equal(mapNixFile('«string»', [flake], () => true), undefined);
    assert.equal(mapNixFile(undefined, [flake], () => true), undefined);
  });

  it('takes the innermost workspace frame and keeps the others as related information', () => {
    const line = `@nix ${JSON.stringify({
      action: 'msg',
      level: 0,
      msg: '\u001b[31;1merror:\u001b[0m undefined variable',
      raw_msg: "undefined variable '\u001b[35;1mmountpont\u001b[0m'",
      file: '/nix/store/0c9kfr2hyiqr7w0vyz2gg1jqmkvlmd5l-source/hosts/a/disko.nix',
      line: 12,
      column: 9,
      trace: [
        { raw_msg: 'while evaluating definitions', file: '/nix/store/1b9kfr2hyiqr7w0vyz2gg1jqmkvlmd5l-source/lib/modules.nix', line: 800, column: 1 },
        { raw_msg: "while evaluating the attribute 'outputs'", file: '/nix/store/0c9kfr2hyiqr7w0vyz2gg1jqmkvlmd5l-source/flake.nix', line: 3, column: 3 },
      ],
    })}`;
    const event = parseNixLine(line) as Extract<NixEvent, { kind: 'msg' }>;
    const text = (file: string) => (file.endsWith('disko.nix') ? `${'\n'.repeat(11)}        mountpont = "/";\n` : 'x\nx\n  outputs = 1;\n');
    const diagnostic = diagnosticFromMessage(event, [flake], text, exists)!;
    assert.equal(diagnostic.file, path.join(flake, 'hosts', 'a', 'disko.nix'));
    assert.equal(diagnostic.message, "undefined variable 'mountpont'");
    assert.deepEqual(diagnostic.range, { start: { line: 11, character: 8 }, end: { line: 11, character: 17 } });
    assert.deepEqual(diagnostic.related.map((item) => [item.file, item.range.start.line, item.message]), [[path.join(flake, 'flake.nix'), 2, "while evaluating the attribute 'outputs'"]]);
  });

  it('warnings are warnings; information is not a diagnostic', () => {
    const warning = parseNixLine(`@nix ${JSON.stringify({ action: 'msg', level: 1, msg: 'warning: x', raw_msg: 'x', file: path.join(flake, 'flake.nix'), line: 1, column: 1 })}`) as Extract<NixEvent, { kind: 'msg' }>;
    assert.equal(diagnosticFromMessage(warning, [flake], () => 'x', exists)?.severity, 'warning');
    const info = { ...warning, level: 3 };
    assert.equal(diagnosticFromMessage(info, [flake], () => 'x', exists), undefined);
  });

  it('classifies plain lines, activities, phases and garbage', () => {
    assert.deepEqual(parseNixLine('plain \u001b[1mbold\u001b[0m'), { kind: 'plain', text: 'plain bold' });
    assert.deepEqual(parseNixLine('@nix {broken'), { kind: 'plain', text: '@nix {broken' });
    assert.deepEqual(parseNixLine('@nix {"action":"result","id":1,"type":104,"fields":["buildPhase"]}'), { kind: 'phase', phase: 'buildPhase' });
    assert.deepEqual(parseNixLine('@nix {"action":"start","id":1,"level":0,"text":"","type":102}'), { kind: 'ignore' });
    assert.deepEqual(parseNixLine('@nix {"action":"stop","id":1}'), { kind: 'ignore' });
    assert.equal(stripAnsi('\u001b[31;1merror:\u001b[0m x'), 'error: x');
    assert.deepEqual(wordRange(undefined, 5, 3), { start: { line: 4, character: 2 }, end: { line: 4, character: 3 } });
  });
});
