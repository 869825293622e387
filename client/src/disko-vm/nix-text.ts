/**
 * The Nix the command writes: the one escaping function, the override that switches a host's image format, and the
 * "prove the ephemeral root" VM test (disko's `installTest` with `disko.tests.extraChecks`, F26/F30).
 *
 * These files are built with `--impure`, so a piece of workspace text that escaped its place would run as Nix code.
 * Every string taken from the workspace (paths, host and attribute names, persisted paths) therefore enters the
 * text through `escapeNix`, and nowhere else: as a double-quoted string literal, as the body of an indented string
 * (the VM test's Python, which carries the paths as JSON), or inside a `#` comment, where it is shown as its string
 * literal so that a newline in it can never end the comment. Tests parse every generated file with the real
 * `nix-instantiate --parse` and check that a hostile name stays inside a string.
 */
import type { ImageFormat, VmHost } from './types';

const NIX_KEYWORDS = new Set(['if', 'then', 'else', 'assert', 'with', 'let', 'in', 'rec', 'inherit', 'or']);

/** Where a piece of text goes in a generated Nix file. */
export type NixTextContext = 'string' | 'indented-string' | 'comment';

const DOUBLE_QUOTED_ESCAPES: Record<string, string> = { '\\': '\\\\', '"': '\\"', $: '\\$', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Unicode line breaks that Nix ignores but editors show as a new line: spelled out in comments, so a comment reads as one line. */
const DISPLAYED_LINE_BREAKS = /[\u0085\u2028\u2029]/g;

/**
 * The one way text enters a generated Nix file.
 * - `string`: a complete double-quoted literal; `\\`, `"`, `$` (so also `${`), newline, carriage return and tab are
 *   escaped, so the literal ends exactly at its closing quote and never interpolates.
 * - `indented-string`: the body of an indented string (`''…''`, delimiters put by the caller): `''` becomes `'''`
 *   and `${` becomes `''${`. The text must end with a newline, so that a trailing `'` cannot meet the closing `''`.
 * - `comment`: the text's double-quoted literal, to be put after a `#`: it holds no line break, so the comment ends
 *   where the line does (Nix ends a comment at `\n` or `\r`).
 * NUL cannot be part of a Nix string at all: it is refused.
 */
export function escapeNix(text: string, context: NixTextContext): string {
  if (text.includes('\0')) throw new Error(`${JSON.stringify(text)} contains a NUL character, which no Nix string can hold.`);
  if (context === 'indented-string') {
    if (!text.endsWith('\n')) throw new Error('The body of an indented Nix string must end with a newline (a trailing quote would close the string).');
    return text.replace(/''/g, "'''").replace(/\$\{/g, "''${");
  }
  const literal = `"${text.replace(/[\\"$\n\r\t]/g, (char) => DOUBLE_QUOTED_ESCAPES[char])}"`;
  if (context === 'string') return literal;
  return literal.replace(DISPLAYED_LINE_BREAKS, (char) => `\\u{${char.codePointAt(0)!.toString(16)}}`);
}

/** An attribute name: bare when Nix allows it, else a quoted string. */
export function nixAttrName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_'-]*$/.test(name) && !NIX_KEYWORDS.has(name) ? name : escapeNix(name, 'string');
}

function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .split('\n')
    .map((line) => (line.length > 0 ? pad + line : line))
    .join('\n');
}

/** The attribute path of a flake host's output in an installable: `nixosConfigurations.<name>.config.system.build.<attr>`. */
export function hostAttrPath(attribute: string, output: string): string {
  return `nixosConfigurations.${nixAttrName(attribute)}.config.system.build.${output}`;
}

/** The Nix expression of a host's evaluated NixOS system (the thing with `.config` and `.extendModules`). */
export function hostSystemExpression(host: VmHost): string {
  if (host.flake) return `(builtins.getFlake ${escapeNix(host.flake.dir, 'string')}).nixosConfigurations.${nixAttrName(host.flake.attribute)}`;
  // A configuration.nix host: NixOS's own evaluator over the file, with nixpkgs from NIX_PATH.
  return `import <nixpkgs/nixos/lib/eval-config.nix> { modules = [ ${escapeNix(host.root, 'string')} ]; }`;
}

/** Workspace text for a comment line (its string literal, on one line). */
function shown(text: string): string {
  return escapeNix(text, 'comment');
}

/**
 * The header comment of a generated file. Workspace text in these lines has gone through `shown`; a line break that
 * still reached here would end the comment and turn the rest of the line into code, so it is a bug and throws.
 */
function header(lines: string[]): string {
  for (const line of lines) if (/[\r\n]/.test(line)) throw new Error(`A comment line of a generated Nix file holds a line break: ${JSON.stringify(line)}`);
  return lines.map((line) => `# ${line}`.trimEnd()).join('\n');
}

/**
 * The image script of a host whose images must be in another format than the host sets: the host extended with
 * `disko.imageBuilder.imageFormat` (F26). Built with `nix build -L --impure --file <this file>`.
 */
export function imagesOverrideExpression(host: VmHost, imageFormat: ImageFormat): string {
  return `${header([
    'Generated by NixOS Ephemeral Root ("Run disko on a VM image", Format images).',
    `The image script of host ${shown(host.name)} with disko.imageBuilder.imageFormat = ${shown(imageFormat)}.`,
    'Build: nix build -L --impure --file <this file>; then run ./result --build-memory <MiB> in an empty folder.',
  ])}
let
  host = ${hostSystemExpression(host)};
  withFormat = host.extendModules {
    modules = [
      {
        disko.imageBuilder.imageFormat = ${escapeNix(imageFormat, 'string')};
      }
    ];
  };
in
withFormat.config.system.build.diskoImagesScript
`;
}

export const PROBE_MARKER = 'EPHEMERAL-ROOT-PROBE';
export const VERDICT_MARKER = 'EPHEMERAL-ROOT-VERDICT';

/**
 * The Python checks run by the NixOS test driver after disko's installTest has formatted the disks, installed the
 * host and booted it (`machine` is the booted host, F30). They write a probe file to every path, reboot, and
 * require the probe gone from the ephemeral paths and kept in the persisted ones. Every probe and the verdict are
 * printed as one `EPHEMERAL-ROOT-… {json}` line, which the command reads from the build log. The paths enter the
 * Python as JSON (a JSON string is a Python string literal with the same escapes), and the whole script enters the
 * Nix file through `escapeNix(…, 'indented-string')`.
 */
export function proveChecksPython(ephemeral: string[], persisted: string[], nonce: string): string {
  const json = (value: unknown) => JSON.stringify(value);
  return `# NixOS Ephemeral Root: prove that the root is erased on every boot and the persisted paths are kept (run ${nonce}).
import json
import shlex

probe_name = ${json(`.ephemeral-root-probe-${nonce}`)}
erased = ${json(ephemeral)}
kept = ${json(persisted)}


def report(kind, **fields):
    print("EPHEMERAL-ROOT-" + kind + " " + json.dumps(fields, sort_keys=True), flush=True)


def probe_file(path):
    return path.rstrip("/") + "/" + probe_name


def expected(path):
    return "erased" if path in erased else "kept"


machine.wait_for_unit("multi-user.target")
written = []
for path in erased + kept:
    if machine.execute("test -d " + shlex.quote(path))[0] != 0:
        report("PROBE", path=path, expect=expected(path), result="skipped", ok=True, reason="not a directory on the booted host")
        continue
    machine.succeed("echo " + shlex.quote(probe_name) + " > " + shlex.quote(probe_file(path)))
    written.append(path)
machine.succeed("sync")

machine.shutdown()
machine.start()
machine.wait_for_unit("multi-user.target")

failed = []
for path in written:
    present = machine.execute("test -e " + shlex.quote(probe_file(path)))[0] == 0
    result = "kept" if present else "erased"
    ok = result == expected(path)
    report("PROBE", path=path, expect=expected(path), result=result, ok=ok)
    if not ok:
        failed.append(path)
report("VERDICT", ok=not failed, failed=failed)
assert not failed, "the ephemeral root is not proved for: " + ", ".join(failed)
`;
}

/**
 * The VM test: the host extended with the checks above as `disko.tests.extraChecks`, and its
 * `config.system.build.installTest` (disko's makeDiskoTest: format, install, boot, then the checks). Built with
 * `nix build -L --impure --file <this file>`; the nonce changes the test script, so every run really runs the VM.
 */
export function proveExpression(host: VmHost, nonce: string): string {
  const checks = proveChecksPython(host.ephemeral, host.persisted, nonce);
  return `${header([
    'Generated by NixOS Ephemeral Root ("Run disko on a VM image", Prove the ephemeral root).',
    `Host ${shown(host.name)}: disko's installTest formats the disks, installs the host and boots it; the checks below then`,
    'write a probe file to / and to every persisted path, reboot, and require the first gone and the others kept.',
    `Erased: ${host.ephemeral.map(shown).join(' ')}`,
    `Kept:   ${host.persisted.map(shown).join(' ') || '(none)'}`,
    'Build: nix build -L --impure --file <this file>',
  ])}
let
  host = ${hostSystemExpression(host)};
  proving = host.extendModules {
    modules = [
      {
        disko.tests.extraChecks = ''
${indent(escapeNix(checks, 'indented-string'), 10)}        '';
      }
    ];
  };
in
proving.config.system.build.installTest
`;
}
