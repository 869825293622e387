/**
 * The Nix the command writes, checked by real Nix (Debian's nix-bin): the one escaping function keeps any text (with
 * newlines, `${`, two single quotes, double quotes and backslashes) as real Nix reads it back, in a string literal,
 * an indented string and a comment; a host name or persisted path built to break out of the header comment stays
 * inside a string (`nix-instantiate --parse` shows it nowhere else, and evaluating the file runs none of it); every
 * generated file parses with `nix-instantiate --parse`; the VM test's Python survives the trip through the Nix string byte for byte (evaluated
 * by real Nix against a stand-in nixpkgs) and is valid Python (python3's own parser); the standalone wrapper picks
 * the right module shape for each kind of disko file (evaluated by real Nix with stand-ins for nixpkgs and disko).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { escapeNix, imagesOverrideExpression, nixAttrName, proveChecksPython, proveExpression } from '../../client/src/disko-vm/nix-text';
import { nixParse } from '../support/nix';
import { REPO_ROOT, configurationHost, flakeHost } from './support';

const dir = mkdtempSync(path.join(os.tmpdir(), 'disko-vm-nix-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** `nix-instantiate --eval --strict --json` of an expression; `-I` entries as given. */
function nixEval(expression: string, includes: string[] = []): unknown {
  const run = spawnSync('nix-instantiate', [...includes.flatMap((entry) => ['-I', entry]), '--eval', '--strict', '--json', '--expr', expression], { encoding: 'utf8', timeout: 60_000 });
  if (run.error) throw new Error(`nix-instantiate is not available (${run.error.message}); install Debian's nix-bin`);
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout);
}

const HOSTILE = `/data/it's "quoted" \${HOME} ''x'' back\\slash $dollar`;

/** Texts built to leave their place: a newline (or carriage return) followed by Nix code that aborts when evaluated. */
const BREAKOUT_NAME = 'evil\nassert (builtins.abort "INJECTED-NAME");\n#';
const BREAKOUT_PATH = '/persist\rassert (builtins.abort "INJECTED-PATH");\r#';
const TEXTS = ['plain', HOSTILE, BREAKOUT_NAME, BREAKOUT_PATH, 'ends with a quote\'', "two '' quotes and ''${x} and '''", 'tab\tnew\nline\r', '$${a}', '\\${b}', '"; x = 1; y = "', 'line\u2028sep'];

/** `nix-instantiate --parse` of a file: Nix's own printout of the expression (comments gone, strings re-escaped). */
function parsedText(file: string): string {
  const run = spawnSync('nix-instantiate', ['--parse', file], { encoding: 'utf8', timeout: 30_000 });
  if (run.error) throw new Error(`nix-instantiate is not available (${run.error.message}); install Debian's nix-bin`);
  assert.equal(run.status, 0, run.stderr);
  return run.stdout;
}

/** The printout without its string literals: what is code. */
function outsideStrings(printed: string): string {
  return printed.replace(/"(?:[^"\\]|\\.)*"/gs, '""');
}

describe('the one escaping function, escapeNix', () => {
  it('a string literal keeps any text, as real Nix reads it back', () => {
    for (const text of TEXTS) assert.equal(nixEval(escapeNix(text, 'string')), text, `double-quoted: ${JSON.stringify(text)}`);
  });

  it('an indented string body keeps any text that ends with a newline, and refuses one that does not', () => {
    for (const text of TEXTS) assert.equal(nixEval(`''\n${escapeNix(`${text}\n`, 'indented-string')}''`), `${text}\n`, `indented: ${JSON.stringify(text)}`);
    assert.throws(() => escapeNix("ends with a quote'", 'indented-string'), /must end with a newline/);
  });

  it('a comment holds no line break from the text: the code after it is still code, and the text reads back from it', () => {
    for (const text of TEXTS) {
      const comment = escapeNix(text, 'comment');
      assert.doesNotMatch(comment, /[\r\n\u0085\u2028\u2029]/, JSON.stringify(text));
      const file = write('comment.nix', `# Host ${comment}\n"after the comment"\n`);
      assert.equal(parsedText(file).trim(), '"after the comment"', JSON.stringify(text));
      assert.equal(nixEval(`import ${JSON.stringify(file)}`), 'after the comment');
      if (!/[\u0085\u2028\u2029]/.test(text)) assert.equal(nixEval(comment), text, "the comment shows the text's own string literal");
    }
  });

  it('refuses NUL, which no Nix string can hold', () => {
    assert.throws(() => escapeNix('a\0b', 'string'), /NUL/);
  });
});

describe('names built to break out of the generated files stay inside strings', () => {
  const flake = flakeHost('/home/u/flake', BREAKOUT_NAME, { persisted: ['/nix', BREAKOUT_PATH], ephemeral: ['/', BREAKOUT_NAME] });
  const classic = configurationHost(`/etc/nixos/${BREAKOUT_PATH}`, { name: BREAKOUT_NAME, persisted: [BREAKOUT_PATH], ephemeral: ['/'] });
  const generated = [
    ['prove (flake host)', proveExpression(flake, 'n0')],
    ['prove (configuration.nix host)', proveExpression(classic, 'n0')],
    ['images.nix (flake host)', imagesOverrideExpression(flake, 'qcow2')],
    ['images.nix (configuration.nix host)', imagesOverrideExpression(classic, 'qcow2')],
  ] as const;

  it('nix-instantiate --parse shows the injected code nowhere but inside string literals', () => {
    generated.forEach(([what, text], index) => {
      const printed = parsedText(write(`breakout-${index}.nix`, text));
      assert.doesNotMatch(outsideStrings(printed), /INJECTED|abort|assert/, `${what}: injected code outside a string:\n${printed}`);
    });
    // The flake host's attribute name is in the code: as one quoted attribute, newline and all.
    assert.ok(parsedText(write('breakout-0.nix', generated[0][1])).includes(`.nixosConfigurations.${escapeNix(BREAKOUT_NAME, 'string')}`));
  });

  it('the header comment shows each name as its string literal, on its own line', () => {
    const lines = proveExpression(flake, 'n0').split('\n');
    assert.ok(lines.includes(`# Host ${escapeNix(BREAKOUT_NAME, 'comment')}: disko's installTest formats the disks, installs the host and boots it; the checks below then`));
    assert.ok(lines.includes(`# Kept:   "/nix" ${escapeNix(BREAKOUT_PATH, 'comment')}`));
  });
});

describe('Nix quoting', () => {
  it('nixAttrName leaves plain names bare and quotes the rest', () => {
    assert.equal(nixAttrName('seed'), 'seed');
    assert.equal(nixAttrName("my-host_2'"), "my-host_2'");
    assert.equal(nixAttrName('web.example'), '"web.example"');
    assert.equal(nixAttrName('in'), '"in"');
    assert.deepEqual(nixEval(`{ ${nixAttrName('a"b${c}')} = 1; }`), { 'a"b${c}': 1 });
  });
});

describe('generated files parse with nix-instantiate --parse', () => {
  const hosts = [
    flakeHost('/home/u/flake'),
    flakeHost(`/tmp/odd dir/${HOSTILE}`, 'we"ird${x}', { persisted: ['/persist', HOSTILE], ephemeral: ['/', '/tmp'] }),
    configurationHost(`/etc/nixos ${HOSTILE}`),
    flakeHost('/home/u/flake', 'none-persisted', { persisted: [] }),
  ];
  it('the VM test (flake and configuration.nix hosts, hostile names and paths)', () => {
    hosts.forEach((host, index) => {
      const file = write(`prove-${index}.nix`, proveExpression(host, 'n0'));
      const parsed = nixParse(file);
      assert.ok(parsed.ok, `${file}: ${parsed.error}`);
    });
  });
  it('the images override (qcow2)', () => {
    hosts.forEach((host, index) => {
      const file = write(`images-${index}.nix`, imagesOverrideExpression(host, 'qcow2'));
      assert.ok(nixParse(file).ok, nixParse(file).error);
    });
  });
  it('the standalone wrapper nix/standalone-disko-image.nix', () => {
    const parsed = nixParse(path.join(REPO_ROOT, 'nix', 'standalone-disko-image.nix'));
    assert.ok(parsed.ok, parsed.error);
  });
});

describe('the VM test, evaluated by real Nix', () => {
  // A stand-in nixpkgs: eval-config returns something whose extendModules hands back the modules it got.
  const fakeNixpkgs = path.join(dir, 'fake-nixpkgs');
  write(
    'fake-nixpkgs/nixos/lib/eval-config.nix',
    '{ modules, ... }: { extendModules = extension: { config.system.build.installTest = { base = map toString modules; extension = extension.modules; }; }; }\n',
  );

  it('runs none of a breakout name and path: the configuration file and the probes reach NixOS unchanged', () => {
    const host = configurationHost(`/etc/nixos/${BREAKOUT_PATH}`, { name: BREAKOUT_NAME, ephemeral: ['/'], persisted: [BREAKOUT_PATH] });
    const file = write('prove-breakout-eval.nix', proveExpression(host, 'n3'));
    const value = nixEval(`import ${JSON.stringify(file)}`, [`nixpkgs=${fakeNixpkgs}`]) as { base: string[]; extension: { disko: { tests: { extraChecks: string } } }[] };
    assert.deepEqual(value.base, [host.root]);
    assert.equal(value.extension[0].disko.tests.extraChecks, proveChecksPython(host.ephemeral, host.persisted, 'n3'));
  });

  it('hands disko.tests.extraChecks exactly the Python of proveChecksPython, on top of the host', () => {
    const host = configurationHost(`/etc/nixos ${HOSTILE}`, { ephemeral: ['/', '/tmp'], persisted: ['/persist', '/var/lib/nixos', HOSTILE] });
    const file = write('prove-eval.nix', proveExpression(host, 'n1'));
    const value = nixEval(`import ${JSON.stringify(file)}`, [`nixpkgs=${fakeNixpkgs}`]) as { base: string[]; extension: { disko: { tests: { extraChecks: string } } }[] };
    assert.deepEqual(value.base, [host.root]);
    assert.equal(value.extension[0].disko.tests.extraChecks, proveChecksPython(host.ephemeral, host.persisted, 'n1'));
  });

  it('is valid Python (python3 parses it) that writes, reboots and reports every path', () => {
    const python = proveChecksPython(['/'], ['/persist', HOSTILE], 'n2');
    const run = spawnSync('python3', ['-c', 'import ast, sys; ast.parse(sys.stdin.read())'], { input: python, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    for (const needed of ['machine.shutdown()', 'machine.start()', 'machine.wait_for_unit("multi-user.target")', 'EPHEMERAL-ROOT-', 'assert not failed']) assert.ok(python.includes(needed), needed);
    assert.ok(python.includes(JSON.stringify(['/persist', HOSTILE])));
  });
});

describe('the standalone wrapper, evaluated by real Nix with stand-ins for nixpkgs and disko', () => {
  // eval-config describes the modules it receives: paths by name, sets by their keys, functions applied to a small lib.
  const fakeNixpkgs = path.join(dir, 'fake-nixpkgs-2');
  write(
    'fake-nixpkgs-2/nixos/lib/eval-config.nix',
    `{ system, modules }:
let
  lib = {
    optional = cond: x: if cond then [ x ] else [ ];
    mkDefault = x: { default = x; };
    trivial.release = "24.11";
  };
  describe = m:
    if builtins.isFunction m then { function = m { inherit lib; }; }
    else if builtins.isAttrs m then { keys = builtins.attrNames m; devices = builtins.attrNames (m.disko.devices or { }); }
    else { path = toString m; };
in
{ config.system.build.diskoImagesScript = { inherit system; modules = map describe modules; }; }
`,
  );
  const fakeDisko = path.join(dir, 'fake-disko');
  write('fake-disko/module.nix', '{ ... }: { }\n');
  const wrapper = path.join(REPO_ROOT, 'nix', 'standalone-disko-image.nix');
  const evaluate = (diskoFile: string, extra = '') =>
    nixEval(`import ${JSON.stringify(wrapper)} { diskoFile = ${JSON.stringify(diskoFile)}; nixpkgs = ${fakeNixpkgs}; disko = ${fakeDisko}; system = "x86_64-linux"; ${extra} }`) as {
      system: string;
      modules: ({ path: string } | { keys: string[]; devices: string[] } | { function: Record<string, unknown> })[];
    };

  it('uses a disko.devices module as it is, with disko\'s module and the vehicle settings', () => {
    const file = path.join(REPO_ROOT, 'examples', 'seed', 'disko.nix');
    const value = evaluate(file, 'imageFormat = "qcow2"; zfs = false;');
    assert.equal(value.system, 'x86_64-linux');
    assert.deepEqual(value.modules[0], { path: `${fakeDisko}/module.nix` });
    assert.deepEqual(value.modules[1], { path: file });
    assert.deepEqual(value.modules[2], {
      function: {
        disko: { imageBuilder: { imageFormat: 'qcow2' } },
        boot: { loader: { grub: { enable: false } }, supportedFilesystems: [] },
        networking: { hostId: { default: '8425e349' } },
        fileSystems: { '/': { default: { device: 'none', fsType: 'tmpfs' } } },
        documentation: { enable: false },
        system: { stateVersion: { default: '24.11' } },
      },
    });
  });

  it('uses a module function as it is', () => {
    const file = write('layouts/function.nix', '{ lib, ... }: { disko.devices.disk.main = { type = "disk"; device = "/dev/vda"; }; }\n');
    assert.deepEqual(evaluate(file).modules[1], { path: file });
  });

  it('puts a plain set of devices (the disko CLI\'s format) under disko.devices', () => {
    const file = write('layouts/plain.nix', '{ disk.main = { type = "disk"; device = "/dev/vda"; }; zpool.rpool = { type = "zpool"; }; }\n');
    const value = evaluate(file, 'zfs = true;');
    assert.deepEqual(value.modules[1], { keys: ['_file', 'disko'], devices: ['disk', 'zpool'] });
    assert.deepEqual((value.modules[2] as { function: { boot: { supportedFilesystems: string[] } } }).function.boot.supportedFilesystems, ['zfs']);
  });
});
