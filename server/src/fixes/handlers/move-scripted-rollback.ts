/**
 * # Run the scripted rollback after the pool import
 *
 * On nixpkgs 24.11 and later (or when the release is unknown) renames the hook binding from `postDeviceCommands` to
 * `postResumeCommands`, where ZFS now imports its pools, and wraps the value in `lib.mkAfter` when it is not ordered
 * after the import already; before 24.11 it only wraps the value in `lib.mkAfter` (F10). A `lib.mkBefore` or
 * `lib.mkOrder` around the value is replaced rather than wrapped again, and other wrappers (`mkForce`, …) are kept
 * around it. `lib` is the module's own argument, else `pkgs.lib`, else `lib` is added to the module's arguments.
 * Fixes `scripted-rollback-wrong-hook`.
 *
 * No fix when the hook holds more than the rollback (moving other commands changes when they run), when the file
 * already defines `postResumeCommands` next to it, when the value is not reached through plain wrappers, or when the
 * module is not a function (there is no `lib` to use). Converting the hook into a systemd initrd unit is the other
 * fix offered for this finding (`insert-rollback-service`). Exactly one of the two is preferred, by release: this
 * one before nixpkgs 26.05 (or when the release is unknown), the conversion from 26.05 on, where systemd stage 1 is
 * the default and scripted stage 1 is deprecated (F15).
 *
 * ```nix
 * # before (nixpkgs 24.11)
 * boot.initrd.postDeviceCommands = "zfs rollback -r rpool/local/root@blank";
 * # after
 * boot.initrd.postResumeCommands = lib.mkAfter "zfs rollback -r rpool/local/root@blank";
 * ```
 */
import { DEFAULT_ORDER } from '../../model/config';
import { releaseAtLeast } from '../../model/release';
import { scriptText } from '../../model/disko';
import type { HostModel, Rollback } from '../../model/host-model';
import { commandWords, findInvocations, programName, simpleCommands } from '../../model/shell';
import type { Origin } from '../../model/values';
import type { SourceFile, SyntaxNode } from '../../syntax/parser';
import { type TextEdit, addModuleArgument, bindingPath, edit, enclosing, locate, moduleArguments } from '../nix-edit';
import { editableFile } from '../script-edits';
import type { FixProvider } from '../types';

const ORDER_FUNCTIONS = ['mkBefore', 'mkAfter', 'mkOrder'];
/** Functions that take their value directly (`lib.mkForce v`) or after one argument (`lib.mkIf c v`). */
const DIRECT_WRAPPERS = ['mkForce', 'mkDefault', 'mkBefore', 'mkAfter', 'mkVMOverride', 'mkImageMediaOverride', 'mkOptionDefault'];
const CURRIED_WRAPPERS = ['mkIf', 'mkOverride', 'mkOrder'];
/** Expressions that can be a function argument without parentheses. */
const PRIMARY = ['string_expression', 'indented_string_expression', 'parenthesized_expression', 'variable_expression', 'select_expression', 'attrset_expression', 'list_expression', 'path_expression'];

/** `mkX`, `lib.mkX` or `pkgs.lib.mkX`: the name `mkX`. */
function libFunction(node: SyntaxNode | null): string | undefined {
  if (node?.type === 'variable_expression') return node.text;
  if (node?.type !== 'select_expression' || node.childForFieldName('default')) return undefined;
  const base = node.childForFieldName('expression');
  const attrs = node.childForFieldName('attrpath')?.childrenForFieldName('attr') ?? [];
  const names = [base?.type === 'variable_expression' ? base.text : undefined, ...attrs.map((attr) => (attr?.type === 'identifier' ? attr.text : undefined))];
  if (names.some((name) => name === undefined)) return undefined;
  const prefix = names.slice(0, -1).join('.');
  return prefix === 'lib' || prefix === 'pkgs.lib' ? names[names.length - 1] : undefined;
}

interface Wrapper {
  name: string;
  /** The function part: `lib.mkForce`, `lib.mkOrder 500`, `lib.mkIf cond`. */
  fn: SyntaxNode;
  /** What it is applied to, as written (parentheses included). */
  argument: SyntaxNode;
}

/** The wrappers from a binding's value down to the node at `target`, outermost first; undefined if it is not reached. */
function wrappersDownTo(expression: SyntaxNode, target: Origin): Wrapper[] | undefined {
  const wrappers: Wrapper[] = [];
  let node: SyntaxNode | null = expression;
  for (let depth = 0; node && depth < 12; depth++) {
    if (node.startIndex === target.start && node.endIndex === target.end) return wrappers;
    if (node.type === 'parenthesized_expression') {
      node = node.childForFieldName('expression');
      continue;
    }
    if (node.type !== 'apply_expression') return undefined;
    const fn = node.childForFieldName('function');
    const argument = node.childForFieldName('argument');
    const direct = libFunction(fn);
    const curried = fn?.type === 'apply_expression' ? libFunction(fn.childForFieldName('function')) : undefined;
    const name = direct && DIRECT_WRAPPERS.includes(direct) ? direct : curried && CURRIED_WRAPPERS.includes(curried) ? curried : undefined;
    if (!name || !fn || !argument) return undefined;
    wrappers.push({ name, fn, argument });
    node = argument;
  }
  return undefined;
}

/** The hook runs nothing but rollbacks (and messages): moving it moves nothing else. */
function onlyRollbacks(rollback: Rollback): boolean {
  const text = scriptText(rollback.fragment.value);
  const rollbacks = findInvocations(text, 'zfs').filter((invocation) => invocation.subcommand === 'rollback').map((invocation) => invocation.command.start);
  return simpleCommands(text).every((command) => {
    const words = commandWords(command);
    const program = words[0] ? programName(words[0]) : '';
    return rollbacks.includes(command.start) || program === 'echo' || program === 'printf';
  });
}

/**
 * How the module names `lib`: its own argument, `pkgs.lib`, or `lib` once added to its arguments — only in a file the
 * host imports as a module (a function called with its own arguments, `import ./x.nix { … }`, gets none).
 */
function libReference(host: HostModel, file: SourceFile): { lib: string; edits: TextEdit[] } | undefined {
  const args = moduleArguments(file);
  if (args.names.includes('lib')) return { lib: 'lib', edits: [] };
  if (args.names.includes('pkgs')) return { lib: 'pkgs.lib', edits: [] };
  const added = args.formals && host.files.includes(file.path) ? addModuleArgument(file, 'lib') : undefined;
  return added ? { lib: 'lib', edits: [added] } : undefined;
}

export const provider: FixProvider = {
  name: 'move-scripted-rollback',
  codes: ['scripted-rollback-wrong-hook'],
  fixes({ finding, host, workspace }) {
    const rollback = finding.data?.rollback as Rollback | undefined;
    const move = finding.data?.move as boolean | undefined;
    if (!rollback || move === undefined || rollback.place.kind !== 'hook' || rollback.place.hook !== 'postDeviceCommands') return [];
    const definition = rollback.fragment.definition;
    const keyOrigin = definition.keyOrigin;
    const file = keyOrigin && editableFile(workspace, keyOrigin.file);
    if (!file || !keyOrigin || !definition.origin || definition.origin.file !== file.path) return [];
    const binding = enclosing(file, keyOrigin.start, keyOrigin.end, ['binding']);
    const attrs = binding?.childForFieldName('attrpath')?.childrenForFieldName('attr') ?? [];
    const key = attrs[attrs.length - 1];
    const expression = binding?.childForFieldName('expression');
    const names = binding && bindingPath(binding);
    if (!binding || !key || !expression || !names || key.startIndex !== keyOrigin.start || names[names.length - 1] !== 'postDeviceCommands') return [];
    const wrappers = wrappersDownTo(expression, definition.origin);
    if (!wrappers) return [];
    const edits: TextEdit[] = [];

    if (move) {
      if (!onlyRollbacks(rollback)) return [];
      // `postResumeCommands` written next to it already: a second binding would not parse.
      const container = binding.parent?.parent;
      if (!container || (container.type !== 'attrset_expression' && container.type !== 'rec_attrset_expression')) return [];
      if (locate(container, [...names.slice(0, -1), 'postResumeCommands']).binding) return [];
      edits.push(edit(file, key.startIndex, key.endIndex, key.type === 'identifier' ? 'postResumeCommands' : '"postResumeCommands"'));
    }
    let mkAfter = 'lib.mkAfter';
    if (definition.order <= DEFAULT_ORDER) {
      const lib = libReference(host, file);
      const orders = wrappers.filter((wrapper) => ORDER_FUNCTIONS.includes(wrapper.name));
      if (!lib || orders.length > 1) return [];
      mkAfter = `${lib.lib}.mkAfter`;
      edits.push(...lib.edits);
      if (orders.length === 1) {
        // `lib.mkBefore v` / `lib.mkOrder 500 v`: the order is replaced, not wrapped twice.
        edits.push(edit(file, orders[0].fn.startIndex, orders[0].fn.endIndex, mkAfter));
      } else {
        // Around the value itself, inside any other wrapper (`lib.mkForce (lib.mkAfter …)`).
        const innermost = wrappers[wrappers.length - 1];
        const value = innermost ? innermost.argument : expression;
        const text = file.text.slice(value.startIndex, value.endIndex);
        const applied = `${mkAfter} ${PRIMARY.includes(value.type) ? text : `(${text})`}`;
        edits.push(edit(file, value.startIndex, value.endIndex, innermost ? `(${applied})` : applied));
      }
    } else if (!move) return [];
    const title = move ? `Move the rollback to boot.initrd.postResumeCommands = ${mkAfter} …` : `Order the rollback after the pool import (${mkAfter})`;
    // From 26.05 on the conversion into a systemd initrd unit is preferred (insert-rollback-service).
    return [{ title, preferred: releaseAtLeast(host.release, '26.05') !== true, edits }];
  },
};
