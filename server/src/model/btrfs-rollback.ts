/**
 * BR, the btrfs rollback (RULES.md §F): a script that removes the root subvolume X from a mounted top level and then
 * restores it from the blank snapshot B (`btrfs subvolume snapshot [-r] <MNT>/<B> <MNT>/<X>`) or creates it afresh
 * (`btrfs subvolume create <MNT>/<X>`, the impermanence README variant that first moves X into `old_roots`, F63).
 *
 * It reads the same scripts as the `zfs rollback` reader (initrd units, scripted hooks, stage-2 units, activation
 * scripts) with the same shell reader, and keeps its three values: `<MNT>` is a literal mount target or a variable
 * the script assigns; a name built by a loop or a function argument (`/mnt/$sub`) is unknown, and so is the rest of
 * a script that calls a function whose body we cannot see.
 */
import type { Origin, StringValue } from './values';
import { scriptText } from './disko';
import type { HostModel, RollbackPlace, ScriptFragment } from './host-model';
import { commandWords, programName, type ShellWord, type SimpleCommand, simpleCommands, UNKNOWN_CHAR } from './shell';
import { originOfRange } from './strings';

export interface BtrfsInvocation {
  command: SimpleCommand;
  /** `snapshot`, `delete`, `create`, `list`, … (the word after `btrfs subvolume`). */
  subcommand: string;
  flags: ShellWord[];
  operands: ShellWord[];
}

/** `btrfs subvolume <sub> …` invocations (also `btrfs sub`/`btrfs su`, which btrfs-progs accepts as prefixes). */
export function btrfsInvocations(text: string, commands = simpleCommands(text)): BtrfsInvocation[] {
  const result: BtrfsInvocation[] = [];
  for (const command of commands) {
    const words = commandWords(command);
    if (words.length < 3 || programName(words[0]) !== 'btrfs' || !'subvolume'.startsWith(words[1].text) || words[1].text.length < 2) continue;
    const flags: ShellWord[] = [];
    const operands: ShellWord[] = [];
    for (const word of words.slice(3)) (word.text.startsWith('-') && operands.length === 0 ? flags : operands).push(word);
    result.push({ command, subcommand: words[2].text, flags, operands });
  }
  return result;
}

export interface MountInvocation {
  command: SimpleCommand;
  /** The device operand, when given (a second operand-less `mount <target>` reads fstab). */
  device?: ShellWord;
  target?: ShellWord;
  /** Every `-o` value word (`-o a,b`, `-oa,b`, `--options a,b`). */
  optionWords: ShellWord[];
}

/** `mount [-t T] [-o O] DEV MNT` in any order of options and operands. */
export function mountInvocations(commands: SimpleCommand[]): MountInvocation[] {
  const result: MountInvocation[] = [];
  for (const command of commands) {
    const words = commandWords(command);
    if (words.length < 2 || programName(words[0]) !== 'mount') continue;
    const operands: ShellWord[] = [];
    const optionWords: ShellWord[] = [];
    for (let index = 1; index < words.length; index++) {
      const word = words[index];
      if (word.text === '-o' || word.text === '--options') {
        if (words[index + 1]) optionWords.push(words[index + 1]);
        index++;
      } else if (word.text.startsWith('-o') && word.text.length > 2) {
        optionWords.push({ ...word, text: word.text.slice(2), start: word.start + 2 });
      } else if (word.text === '-t' || word.text === '--types') index++;
      else if (!word.text.startsWith('-')) operands.push(word);
    }
    result.push({ command, device: operands.length >= 2 ? operands[0] : undefined, target: operands.length >= 2 ? operands[1] : operands[0], optionWords });
  }
  return result;
}

/**
 * The mount points a script works under: the targets of its `mount` commands and the variables it assigns
 * (`MNTPOINT=$(mktemp -d)`), longest first.
 */
export function mountRoots(text: string, commands = simpleCommands(text)): string[] {
  const roots = new Set<string>();
  for (const mount of mountInvocations(commands)) if (mount.target) roots.add(mount.target.text.replace(/\/+$/, ''));
  for (const match of text.matchAll(/(?:^|[\s;])([A-Za-z_]\w*)=/g)) {
    roots.add(`$${match[1]}`);
    roots.add(`\${${match[1]}}`);
  }
  return [...roots].filter((root) => root !== '').sort((a, b) => b.length - a.length);
}

/**
 * A path word read as `<MNT>/<name>`: the mount root it lies under and the name (without a leading `/`), which is
 * undefined when it is built at run time (`$MNT/$sub`). Undefined when the word lies under no mount root we know.
 */
export function pathUnder(word: ShellWord, roots: string[]): { root: string; name?: string } | undefined {
  const text = word.text;
  for (const root of roots) {
    if (!text.startsWith(`${root}/`)) continue;
    const rest = text.slice(root.length + 1).replace(/\/+$/, '');
    const known = rest !== '' && !/[$`*?]/.test(rest) && !rest.includes(UNKNOWN_CHAR);
    return { root, name: known ? rest.replace(/^\/+/, '') : undefined };
  }
  return undefined;
}

export interface BtrfsRollback {
  fragment: ScriptFragment;
  place: RollbackPlace;
  conditional: boolean;
  /** X, the subvolume reset (without a leading `/`); undefined when built at run time. */
  subvolume?: string;
  /** How the old X goes away: `btrfs subvolume delete`, `mv` into `old_roots`, or a helper function of the script. */
  removal: 'delete' | 'move' | 'helper';
  /** The removal command and its X operand. */
  removalOrigin?: Origin;
  removalCommandOrigin?: Origin;
  /** Offset of the removal command in the script text (for edits that insert before it). */
  removalStart: number;
  /** `restore` from B, or `create` a fresh X. */
  recreate: 'restore' | 'create';
  /** B of a restore, without a leading `/`; undefined when unknown. */
  blank?: string;
  blankOrigin?: Origin;
  /** The `<MNT>` text the script uses (`/mnt`, `$MNTPOINT`). */
  mountRoot: string;
  /**
   * X's nested subvolumes are deleted first: a `btrfs subvolume list -o` before the delete, a recursive helper, or a
   * recursive flag on the delete. Always true for a move (nested subvolumes move with X).
   */
  deletesNested: boolean;
  /** The script calls a function whose body it does not hold (an interpolated helper): its effects are unknown. */
  opaqueCalls: boolean;
  /** The `mount` of the top level the script uses, when it has one. */
  mount?: {
    /** DEV, when written literally. */
    device?: string;
    deviceOrigin?: Origin;
    /** Every `-o` value, split at commas; undefined when some is computed. */
    options?: { text: string; origin?: Origin }[];
    origin?: Origin;
  };
  /** The script's text with unknown parts marked (shell.ts). */
  text: string;
}

/** Shell function names a script defines (`name() {`, `function name {`), with their bodies' text. */
function functionsOf(text: string): Map<string, string> {
  const functions = new Map<string, string>();
  for (const match of text.matchAll(/(?:^|\n)\s*(?:function\s+)?([A-Za-z_][\w-]*)\s*(?:\(\s*\))?\s*\{/g)) {
    if (!match[0].includes('(') && !match[0].includes('function')) continue;
    // The body runs to the matching brace.
    let depth = 0;
    let end = match.index + match[0].length - 1;
    for (; end < text.length; end++) {
      if (text[end] === '{') depth++;
      else if (text[end] === '}' && --depth === 0) break;
    }
    functions.set(match[1], text.slice(match.index + match[0].length, end));
  }
  return functions;
}

const LIST_NESTED = /btrfs\s+(?:subvolume|subvol|sub|su)\s+list\b[^\n|]*\s-[a-zA-Z]*o/;

/** Reads every BR of one script. */
export function readBtrfsRollbacksOf(fragment: ScriptFragment, place: RollbackPlace, conditional: boolean): BtrfsRollback[] {
  const value: StringValue = fragment.value;
  const text = scriptText(value);
  if (!/btrfs/.test(text)) return [];
  const commands = simpleCommands(text);
  const roots = mountRoots(text, commands);
  const functions = functionsOf(text);
  const mounts = mountInvocations(commands);
  const invocations = btrfsInvocations(text, commands);
  const opaqueCalls = commands.some((command) => command.words[0]?.text.includes(UNKNOWN_CHAR) ?? false);
  const origin = (word: ShellWord) => originOfRange(value, word.start, word.end);

  interface Removal {
    name?: string;
    root: string;
    kind: BtrfsRollback['removal'];
    word: ShellWord;
    command: SimpleCommand;
    deletesNested: boolean;
  }
  const removals: Removal[] = [];
  const results: BtrfsRollback[] = [];
  for (const command of commands) {
    const words = commandWords(command);
    if (words.length === 0) continue;
    const program = programName(words[0]);
    const invocation = invocations.find((item) => item.command === command);
    const before = text.slice(0, command.start);
    if (invocation?.subcommand === 'delete') {
      const target = invocation.operands[0] && pathUnder(invocation.operands[0], roots);
      if (!target) continue;
      const recursive = invocation.flags.some((flag) => flag.text === '--recursive' || /^-[a-zA-Z]*R/.test(flag.text));
      removals.push({ name: target.name, root: target.root, kind: 'delete', word: invocation.operands[0], command, deletesNested: recursive || LIST_NESTED.test(before) });
      continue;
    }
    if (program === 'mv' && words.length >= 3) {
      const target = pathUnder(words[1], roots);
      if (target) removals.push({ name: target.name, root: target.root, kind: 'move', word: words[1], command, deletesNested: true });
      continue;
    }
    const body = functions.get(program);
    if (body !== undefined && /btrfs\s+(?:subvolume|sub)\s+delete/.test(body) && words[1]) {
      const target = pathUnder(words[1], roots);
      if (target) removals.push({ name: target.name, root: target.root, kind: 'helper', word: words[1], command, deletesNested: LIST_NESTED.test(body) || LIST_NESTED.test(before) });
      continue;
    }
    if (invocation?.subcommand !== 'snapshot' && invocation?.subcommand !== 'create') continue;
    const targetWord = invocation.subcommand === 'snapshot' ? invocation.operands[1] : invocation.operands[0];
    const target = targetWord && pathUnder(targetWord, roots);
    if (!target) continue;
    // The removal this recreation answers: the latest one of the same X, else the latest one of an unknown X.
    const removal = [...removals].reverse().find((item) => item.root === target.root && item.name !== undefined && item.name === target.name) ?? [...removals].reverse().find((item) => item.root === target.root && (item.name === undefined || target.name === undefined));
    if (!removal) continue;
    const blankWord = invocation.subcommand === 'snapshot' ? invocation.operands[0] : undefined;
    const blank = blankWord ? pathUnder(blankWord, roots) : undefined;
    const mount = [...mounts].reverse().find((item) => item.command.start < removal.command.start && item.target && item.target.text.replace(/\/+$/, '') === removal.root);
    const options = mount?.optionWords.some((word) => word.dynamic || word.text.includes(UNKNOWN_CHAR))
      ? undefined
      : mount?.optionWords.flatMap((word) => {
          let offset = 0;
          return word.text.split(',').map((part) => {
            const start = word.start + (word.text === text.slice(word.start, word.end) ? offset : 0);
            offset += part.length + 1;
            const exact = word.text === text.slice(word.start, word.end);
            return { text: part, origin: exact ? originOfRange(value, start, start + part.length) : origin(word) };
          });
        });
    results.push({
      fragment,
      place,
      conditional,
      subvolume: removal.name !== undefined && (target.name === undefined || target.name === removal.name) ? removal.name : undefined,
      removal: removal.kind,
      removalOrigin: origin(removal.word),
      removalCommandOrigin: originOfRange(value, removal.command.start, removal.command.end),
      removalStart: removal.command.start,
      recreate: invocation.subcommand === 'snapshot' ? 'restore' : 'create',
      blank: blank?.name,
      blankOrigin: blankWord ? origin(blankWord) : undefined,
      mountRoot: removal.root,
      deletesNested: removal.deletesNested,
      opaqueCalls,
      mount: mount && {
        device: mount.device && !mount.device.dynamic && !mount.device.text.includes(UNKNOWN_CHAR) ? mount.device.text : undefined,
        deviceOrigin: mount.device && origin(mount.device),
        options,
        origin: originOfRange(value, mount.command.start, mount.command.end),
      },
      text,
    });
    removals.splice(removals.indexOf(removal), 1);
  }
  return results;
}

/** Every BR in initrd units, scripted hooks, stage-2 units and activation scripts. */
export function readBtrfsRollbacks(host: HostModel): { rollbacks: BtrfsRollback[]; open: boolean } {
  const rollbacks: BtrfsRollback[] = [];
  let open = host.kind !== 'nixos';
  for (const stage of ['initrd', 'stage2'] as const) {
    const { units, open: unitsOpen } = stage === 'initrd' ? host.initrdUnits() : host.stage2Units();
    open ||= unitsOpen;
    for (const unit of units) {
      open ||= unit.scriptsOpen;
      for (const fragment of unit.scripts) {
        const place: RollbackPlace = stage === 'initrd' ? { kind: 'initrd-unit', unit } : { kind: 'stage2-unit', unit };
        rollbacks.push(...readBtrfsRollbacksOf(fragment, place, unit.conditional || fragment.definition.conditional));
      }
    }
  }
  for (const hook of host.scriptedHooks()) {
    open ||= hook.open;
    for (const definition of hook.fragments) {
      if (definition.value.kind !== 'string') continue;
      const fragment: ScriptFragment = { field: hook.hook, value: definition.value as StringValue, definition };
      rollbacks.push(...readBtrfsRollbacksOf(fragment, { kind: 'hook', hook: hook.hook, order: definition.order }, definition.conditional));
    }
  }
  for (const script of host.activationScripts()) {
    open ||= script.open;
    for (const fragment of script.fragments) rollbacks.push(...readBtrfsRollbacksOf(fragment, { kind: 'activation', name: script.name }, fragment.definition.conditional));
  }
  return { rollbacks, open };
}
