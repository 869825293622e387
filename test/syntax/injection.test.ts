/**
 * Snapshot test of the shell injection grammar (syntaxes/nix-shell-injection.tmLanguage.json), tokenized with the
 * engine VS Code itself uses (vscode-textmate + vscode-oniguruma).
 *
 * The injection is written against nix-ide's `source.nix`, which is not available here. The stand-in below is a small
 * grammar with the same shape where it matters: attribute paths are matched one segment at a time, `=` starts a
 * binding that `;` ends, and a character no rule expects is `invalid.illegal` (nix-ide's `#others`). So an injection
 * that swallowed the `=` but left the `;` to the base grammar shows up here as it would in nix-ide: a red `;`.
 * When VS Code's own shell grammar is installed (scripts/install-code-server.sh), the same document is also tokenized
 * with it embedded, to prove that the shell grammar cannot run past the end of a Nix string.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import * as oniguruma from 'vscode-oniguruma';
import { INITIAL, type IGrammar, type IRawGrammar, Registry, parseRawGrammar } from 'vscode-textmate';
import { REPO_ROOT } from '../support/engine';

const INJECTION_PATH = path.join(REPO_ROOT, 'syntaxes', 'nix-shell-injection.tmLanguage.json');
const VSCODE_SHELL_GRAMMAR = path.join(REPO_ROOT, '.vscode-test', 'code-server', 'node_modules', 'code-server', 'lib', 'vscode', 'extensions', 'shellscript', 'syntaxes', 'shell-unix-bash.tmLanguage.json');

const IDENT = "[a-zA-Z_][a-zA-Z0-9_'-]*";

/** A minimal `source.nix`, shaped like nix-ide's grammar (see the header). */
const NIX_STAND_IN = {
  scopeName: 'source.nix',
  patterns: [{ include: '#expression' }],
  repository: {
    expression: {
      patterns: [
        { include: '#comment' },
        { include: '#function-header' },
        { include: '#string-indented' },
        { include: '#string-quoted' },
        { include: '#let' },
        { include: '#attrset' },
        { include: '#list' },
        { include: '#parens' },
        { match: '\\b(with|rec|if|then|else|assert|or)\\b', name: 'keyword.other.nix' },
        { match: '\\b(true|false|null)\\b', name: 'constant.language.nix' },
        { match: '\\b[0-9]+\\b', name: 'constant.numeric.nix' },
        { match: `${IDENT}(\\.${IDENT})*`, name: 'variable.other.nix' },
        { match: '(==|!=|//|\\+\\+|&&|\\|\\||->|[-+*/<>!?])', name: 'keyword.operator.nix' },
        { include: '#others' },
      ],
    },
    'function-header': { match: '\\{[^{}=;]*\\}\\s*:', name: 'meta.function.header.nix' },
    attrset: {
      begin: '\\{',
      beginCaptures: { 0: { name: 'punctuation.definition.attrset.nix' } },
      end: '\\}',
      endCaptures: { 0: { name: 'punctuation.definition.attrset.nix' } },
      patterns: [{ include: '#bindings' }],
    },
    let: {
      begin: '\\blet\\b',
      beginCaptures: { 0: { name: 'keyword.other.nix' } },
      end: '\\bin\\b',
      endCaptures: { 0: { name: 'keyword.other.nix' } },
      patterns: [{ include: '#bindings' }],
    },
    bindings: {
      patterns: [
        { include: '#comment' },
        { begin: '\\binherit\\b', beginCaptures: { 0: { name: 'keyword.other.inherit.nix' } }, end: ';', patterns: [{ include: '#expression' }] },
        { include: '#attribute-bind-from-equals' },
        { match: IDENT, name: 'entity.other.attribute-name.multipart.nix' },
        { match: '\\.' },
        { include: '#string-quoted' },
        { include: '#others' },
      ],
    },
    'attribute-bind-from-equals': {
      begin: '=',
      beginCaptures: { 0: { name: 'keyword.operator.bind.nix' } },
      end: ';',
      endCaptures: { 0: { name: 'punctuation.terminator.bind.nix' } },
      patterns: [{ include: '#expression' }],
    },
    list: { begin: '\\[', end: '\\]', name: 'meta.list.nix', patterns: [{ include: '#expression' }] },
    parens: { begin: '\\(', end: '\\)', patterns: [{ include: '#expression' }] },
    'string-quoted': {
      begin: '"',
      end: '"',
      name: 'string.quoted.double.nix',
      patterns: [{ match: '\\\\.', name: 'constant.character.escape.nix' }, { include: '#interpolation' }],
    },
    'string-indented': {
      begin: "''",
      end: "''(?!\\$|'|\\\\.)",
      name: 'string.quoted.other.nix',
      patterns: [{ match: "''(\\$|'|\\\\.)", name: 'constant.character.escape.nix' }, { include: '#interpolation' }],
    },
    // nix-ide names its interpolation `markup.italic`; what matters is that it is not ours.
    interpolation: { begin: '\\$\\{', end: '\\}', name: 'markup.italic', patterns: [{ include: '#expression' }] },
    comment: {
      patterns: [
        { begin: '/\\*', end: '\\*/', name: 'comment.block.nix' },
        { begin: '#', end: '$', name: 'comment.line.number-sign.nix' },
      ],
    },
    others: { patterns: [{ match: '\\s+' }, { include: '#comment' }, { match: '.', name: 'invalid.illegal' }] },
  },
};

const SAMPLE = `{ config, lib, pkgs, ... }:
let
  pool = "rpool";
in
{
  # script = "not a script: this is a comment";
  boot.initrd.systemd.services.rollback = {
    description = "Rollback \${pool} to a blank snapshot";
    script = ''
      zfs rollback -r \${pool}/local/root@blank
      echo '''quoted''' ''\${HOME} done
      echo 'single quotes' "double \${pool}"
    '';
    serviceConfig.ExecStart = "\${pkgs.zfs}/bin/zfs rollback -r rpool/local/root@blank";
    after = [ "zfs-import-rpool.service" ];
  };
  disko.devices.zpool.zroot.datasets."local/root".postCreateHook = "zfs snapshot zroot/local/root@blank";
  boot.initrd.postDeviceCommands = lib.mkAfter ''
    zfs rollback -r rpool/local/root@blank
  '';
  boot.initrd.postResumeCommands = pkgs.lib.mkOverride 50 "zfs rollback -r rpool/local/root@blank";
  systemd.services.one-line.preStop = ''echo stopping ''\${HOME} \${pool}'';
  systemd.services.two-lines.postStop = "echo first
    echo second";
  systemd.services.other.preStart = lib.concatStringsSep "\\n" [ "not shell: not a string value" ];
  my-script = "not shell: a different attribute";
  networking.hostName = "tern";
}
`;

interface Token {
  line: number;
  start: number;
  end: number;
  text: string;
  scopes: string[];
}

async function tokenizer(shellGrammar: IRawGrammar | null): Promise<(text: string) => Token[]> {
  const wasm = readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer);
  const injection = parseRawGrammar(readFileSync(INJECTION_PATH, 'utf8'), INJECTION_PATH);
  const registry = new Registry({
    onigLib: Promise.resolve({ createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns), createOnigString: (text) => new oniguruma.OnigString(text) }),
    loadGrammar: async (scopeName) => {
      if (scopeName === 'source.nix') return parseRawGrammar(JSON.stringify(NIX_STAND_IN), 'nix.json');
      if (scopeName === injection.scopeName) return injection;
      if (scopeName === 'source.shell') return shellGrammar;
      return null;
    },
    // What VS Code does with `injectTo: ["source.nix"]` in package.json.
    getInjections: (scopeName) => (scopeName === 'source.nix' ? [injection.scopeName] : undefined),
  });
  const grammar = (await registry.loadGrammar('source.nix')) as IGrammar;
  assert.ok(grammar, 'source.nix loads');
  return (text) => {
    const tokens: Token[] = [];
    let state = INITIAL;
    text.split('\n').forEach((lineText, line) => {
      const result = grammar.tokenizeLine(lineText, state);
      for (const token of result.tokens) tokens.push({ line, start: token.startIndex, end: token.endIndex, text: lineText.slice(token.startIndex, token.endIndex), scopes: token.scopes });
      state = result.ruleStack;
    });
    return tokens;
  };
}

/** The scopes of the character at the first occurrence of `needle` (after `after`, when given) in the sample. */
function scopesOf(tokens: Token[], text: string, needle: string, after = ''): string[] {
  const from = after ? text.indexOf(after) : 0;
  assert.ok(from >= 0, `sample contains ${JSON.stringify(after)}`);
  const offset = text.indexOf(needle, from);
  assert.ok(offset >= 0, `sample contains ${JSON.stringify(needle)}`);
  const before = text.slice(0, offset).split('\n');
  const line = before.length - 1;
  const column = before[line].length;
  const token = tokens.find((item) => item.line === line && item.start <= column && column < item.end);
  assert.ok(token, `a token at ${line}:${column}`);
  return token.scopes;
}

const SHELL_BLOCK = 'meta.embedded.block.shellscript';
const SHELL_LINE = 'meta.embedded.line.shellscript';
const INTERPOLATION = 'meta.embedded.interpolation.nix';
const embeddedShell = (scopes: string[]) => scopes.some((scope) => scope === SHELL_BLOCK || scope === SHELL_LINE);

function checkSample(tokenize: (text: string) => Token[]): void {
  const tokens = tokenize(SAMPLE);
  const at = (needle: string, after?: string) => scopesOf(tokens, SAMPLE, needle, after);

  // script = ''…'': the content is shell, `${…}` inside is Nix.
  assert.ok(at('zfs rollback -r ${pool}').includes(SHELL_BLOCK), 'script = \'\'…\'\' content is shell');
  assert.ok(at('pool}/local', 'script =').includes(INTERPOLATION), '${pool} inside the script is a Nix interpolation');
  assert.ok(!at('/local/root@blank', 'script =').includes(INTERPOLATION), 'the interpolation ends at }');
  // Escapes of indented strings do not end the script.
  assert.ok(at('quoted').includes(SHELL_BLOCK), "''' does not end the script");
  assert.ok(at(' done').includes(SHELL_BLOCK), "''${ does not end the script");
  assert.ok(!at('HOME').includes(INTERPOLATION), "''${ is an escape, not an interpolation");
  assert.ok(at('single quotes').includes(SHELL_BLOCK), 'single quotes stay inside the script');
  // ExecStart = "…"
  assert.ok(at('/bin/zfs rollback').includes(SHELL_LINE), 'ExecStart = "…" content is shell');
  assert.ok(at('pkgs.zfs').includes(INTERPOLATION), '${pkgs.zfs} is a Nix interpolation');
  // postCreateHook = "…" after a quoted attribute-path segment.
  assert.ok(at('zfs snapshot').includes(SHELL_LINE), 'postCreateHook = "…" content is shell');
  // boot.initrd.postDeviceCommands = lib.mkAfter ''…''
  assert.ok(at('zfs rollback', 'postDeviceCommands').includes(SHELL_BLOCK), 'postDeviceCommands = lib.mkAfter \'\'…\'\' content is shell');
  assert.ok(at('zfs rollback', 'postResumeCommands').includes(SHELL_LINE), 'postResumeCommands = pkgs.lib.mkOverride 50 "…" content is shell');
  // ''…'' on one line, and "…" over two lines.
  assert.ok(at('echo stopping').includes(SHELL_BLOCK), "preStop = ''…'' on one line is shell");
  assert.ok(!at('HOME}', 'echo stopping').includes(INTERPOLATION), "''${ on one line is an escape");
  assert.ok(at('pool}', 'echo stopping').includes(INTERPOLATION), '${pool} on one line is a Nix interpolation');
  assert.ok(at('echo second').includes(SHELL_LINE), 'a "…" script over two lines is marked to its end');
  assert.ok(!embeddedShell(at('systemd.services.other')), 'and ends there');
  // Ordinary strings are not shell.
  for (const [needle, why] of [
    ['Rollback', 'description = "…"'],
    ['zfs-import-rpool', 'a list element'],
    ['not shell: not a string value', 'preStart built by a function call'],
    ['not shell: a different attribute', 'my-script'],
    ['tern', 'networking.hostName'],
    ['not a script', 'a comment'],
  ]) {
    const scopes = at(needle);
    assert.ok(!embeddedShell(scopes), `${why} is not shell: ${scopes.join(' ')}`);
  }
  assert.ok(!at('pool} to').includes(INTERPOLATION), 'an interpolation in an ordinary string is not ours');
  // The injection hands the rest of the file back intact: every `;` ends its binding, nothing is marked illegal.
  const illegal = tokens.filter((token) => token.scopes.some((scope) => scope.startsWith('invalid')));
  assert.deepEqual(illegal.map((token) => `${token.line + 1}:${token.start + 1} ${JSON.stringify(token.text)}`), [], 'no illegal tokens');
  for (const token of tokens) {
    if (token.text.trim() !== ';') continue;
    // (The sample's scripts have no `;` of their own.)
    assert.ok(token.scopes.includes('punctuation.terminator.bind.nix') && !embeddedShell(token.scopes), `; at ${token.line + 1}:${token.start + 1} ends a binding: ${token.scopes.join(' ')}`);
  }
  assert.ok(!embeddedShell(at('networking')), 'the file after the last script is not shell');
}

describe('shell injection grammar', () => {
  let tokenize: (text: string) => Token[];
  before(async () => {
    tokenize = await tokenizer(null);
  });

  it('the manifest injects it into source.nix and maps its embedded scopes to shellscript', () => {
    const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      contributes: { grammars: { scopeName: string; path: string; injectTo?: string[]; embeddedLanguages?: Record<string, string> }[] };
    };
    const injection = JSON.parse(readFileSync(INJECTION_PATH, 'utf8')) as { scopeName: string; injectionSelector: string };
    const entry = manifest.contributes.grammars.find((grammar) => grammar.scopeName === injection.scopeName);
    assert.ok(entry, 'package.json contributes the grammar');
    assert.equal(path.resolve(REPO_ROOT, entry.path), INJECTION_PATH);
    assert.deepEqual(entry.injectTo, ['source.nix']);
    assert.deepEqual(entry.embeddedLanguages, { [SHELL_BLOCK]: 'shellscript', [SHELL_LINE]: 'shellscript' });
    assert.match(injection.injectionSelector, /^L:source\.nix\b/);
  });

  it('marks the shell in script, ExecStart, postCreateHook and scripted initrd hooks, and nothing else', () => {
    checkSample(tokenize);
  });

  it('snapshot: the scopes of a one-line script binding', () => {
    const text = '{\n  serviceConfig.ExecStart = lib.mkForce "${pkgs.zfs}/bin/zfs rollback -r ${pool}@blank";\n}\n';
    const line = tokenize(text).filter((token) => token.line === 1 && token.text.trim() !== '');
    assert.deepEqual(
      line.map((token) => [token.text, token.scopes.filter((scope) => scope !== 'source.nix' && scope !== 'punctuation.definition.attrset.nix').join(' ')]),
      [
        ['serviceConfig', 'entity.other.attribute-name.multipart.nix'],
        ['.', ''],
        ['ExecStart', `entity.other.attribute-name.single.nix`],
        ['=', `keyword.operator.bind.nix`],
        ['lib.mkForce', `support.function.nix`],
        ['"', `punctuation.definition.string.begin.nix`],
        ['${', `${SHELL_LINE} ${INTERPOLATION} punctuation.section.embedded.begin.nix`],
        ['pkgs.zfs', `${SHELL_LINE} ${INTERPOLATION} variable.other.nix`],
        ['}', `${SHELL_LINE} ${INTERPOLATION} punctuation.section.embedded.end.nix`],
        ['/bin/zfs rollback -r ', SHELL_LINE],
        ['${', `${SHELL_LINE} ${INTERPOLATION} punctuation.section.embedded.begin.nix`],
        ['pool', `${SHELL_LINE} ${INTERPOLATION} variable.other.nix`],
        ['}', `${SHELL_LINE} ${INTERPOLATION} punctuation.section.embedded.end.nix`],
        ['@blank', SHELL_LINE],
        ['"', `punctuation.definition.string.end.nix`],
        [';', `punctuation.terminator.bind.nix`],
      ],
    );
  });

  it('with VS Code\'s own shell grammar embedded, the scripts still end where the Nix strings end', { skip: existsSync(VSCODE_SHELL_GRAMMAR) ? false : `needs ${path.relative(REPO_ROOT, VSCODE_SHELL_GRAMMAR)} (scripts/install-code-server.sh)` }, async () => {
    const shell = parseRawGrammar(readFileSync(VSCODE_SHELL_GRAMMAR, 'utf8'), VSCODE_SHELL_GRAMMAR);
    const tokenizeWithShell = await tokenizer(shell);
    checkSample(tokenizeWithShell);
    // Shell left open at the end of the Nix string (an if without fi, an unterminated quote): the script still ends.
    const text = "{\n  script = ''\n    if true; then\n      echo \"unterminated ${x}\n  '';\n  after = [ \"x\" ];\n}\n";
    const tokens = tokenizeWithShell(text);
    assert.ok(scopesOf(tokens, text, 'if true').includes(SHELL_BLOCK));
    assert.ok(scopesOf(tokens, text, 'x}').includes(INTERPOLATION), '${x} inside a shell string is Nix');
    assert.ok(scopesOf(tokens, text, "'';").includes('punctuation.definition.string.end.nix'), "'' ends the script");
    assert.ok(!embeddedShell(scopesOf(tokens, text, 'after')), 'the next binding is Nix again');
    assert.deepEqual(tokens.filter((token) => token.scopes.some((scope) => scope.startsWith('invalid'))), []);
  });
});
