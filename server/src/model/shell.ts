/**
 * A small reader for the shell scripts that configurations embed: initrd unit `script`s, scripted stage-1 hooks,
 * disko's `postCreateHook`s. It splits a script into simple commands, tells whether each stands on its own or is
 * guarded (part of `a || b`, `a && b`, an `if`, a loop, a pipeline), and picks out the `zfs rollback`,
 * `zfs snapshot` and `zpool import` invocations with the exact text range of every word.
 *
 * Text that could not be computed (an unknown interpolation) is marked with U+FFFF, and the marker stays in the
 * word's text: a string is known text with unknown holes. The shape of a command (`zfs snapshot <something>@blank`,
 * bare or guarded, with or without `-r`) is read from the known text; any word containing a hole has an unknown
 * value, and no finding that needs that value is built on it.
 */

export const UNKNOWN_CHAR = '\uffff';

export interface ShellWord {
  /** The word after quote removal. */
  text: string;
  /** The word contains a variable, a command substitution or text we could not compute. */
  dynamic: boolean;
  start: number;
  end: number;
}

export interface SimpleCommand {
  words: ShellWord[];
  /** Not part of an and-or list, a pipeline, a condition, a loop or a function. */
  bare: boolean;
  start: number;
  end: number;
}

const OPERATORS = ['&&', '||', ';;', '|&', '|', '&', ';', '(', ')'];
const COMPOUND_OPEN = new Set(['if', 'while', 'until', 'for', 'case', 'select']);
const COMPOUND_CLOSE = new Set(['fi', 'done', 'esac']);
const CONTINUATION_KEYWORDS = new Set(['then', 'do', 'else', 'elif', 'in', '!', '{', '}', 'time']);

type Token = { kind: 'word'; word: ShellWord } | { kind: 'op'; op: string; start: number } | { kind: 'newline'; start: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < text.length) {
    const char = text[index];
    if (char === '\\' && text[index + 1] === '\n') {
      index += 2;
      continue;
    }
    if (char === ' ' || char === '\t' || char === '\r') {
      index++;
      continue;
    }
    if (char === '\n') {
      tokens.push({ kind: 'newline', start: index });
      index++;
      continue;
    }
    if (char === '#') {
      while (index < text.length && text[index] !== '\n') index++;
      continue;
    }
    const op = OPERATORS.find((candidate) => text.startsWith(candidate, index));
    if (op) {
      tokens.push({ kind: 'op', op, start: index });
      index += op.length;
      continue;
    }
    if (char === '<' || char === '>') {
      // A redirection: the operator and its target are not words of the command.
      index++;
      while (text[index] === '>' || text[index] === '&' || text[index] === '<') index++;
      while (text[index] === ' ' || text[index] === '\t') index++;
      const skipped = readWord(text, index);
      index = skipped.end;
      continue;
    }
    const word = readWord(text, index);
    // A number right before a redirection (`2>/dev/null`) is a file descriptor, not a word.
    if (/^\d+$/.test(word.text) && (text[word.end] === '>' || text[word.end] === '<')) {
      index = word.end;
      continue;
    }
    tokens.push({ kind: 'word', word });
    index = Math.max(word.end, index + 1);
  }
  return tokens;
}

function readWord(text: string, start: number): ShellWord {
  let index = start;
  let value = '';
  let dynamic = false;
  while (index < text.length) {
    const char = text[index];
    if (/[\s;&|()<>]/.test(char)) break;
    if (char === UNKNOWN_CHAR) {
      // The hole stays in the word's text: `${diskName}-zfsos/x@blank` must not read as the flag `-zfsos/x@blank`,
      // and a rule that needs the name sees that part of it is unknown.
      dynamic = true;
      value += char;
      index++;
      continue;
    }
    if (char === "'") {
      const close = text.indexOf("'", index + 1);
      const end = close < 0 ? text.length : close;
      value += text.slice(index + 1, end);
      if (text.slice(index + 1, end).includes(UNKNOWN_CHAR)) dynamic = true;
      index = end + 1;
      continue;
    }
    if (char === '"') {
      index++;
      while (index < text.length && text[index] !== '"') {
        if (text[index] === '\\' && index + 1 < text.length) {
          value += text[index + 1];
          index += 2;
          continue;
        }
        if (text[index] === '$' || text[index] === '`' || text[index] === UNKNOWN_CHAR) dynamic = true;
        value += text[index];
        index++;
      }
      index++;
      continue;
    }
    if (char === '\\') {
      value += text[index + 1] ?? '';
      index += 2;
      continue;
    }
    if (char === '$' || char === '`') {
      dynamic = true;
      // Skip a whole $( … ) or ${ … } so that its spaces do not split the word.
      const open = text[index + 1];
      if (open === '(' || open === '{') {
        const close = open === '(' ? ')' : '}';
        let depth = 0;
        let cursor = index + 1;
        for (; cursor < text.length; cursor++) {
          if (text[cursor] === open) depth++;
          else if (text[cursor] === close && --depth === 0) break;
        }
        value += text.slice(index, cursor + 1);
        index = cursor + 1;
        continue;
      }
    }
    // A run of characters with no meaning to the shell is copied in one piece, not one character at a time.
    PLAIN_RUN.lastIndex = index;
    PLAIN_RUN.test(text);
    const runEnd = Math.max(PLAIN_RUN.lastIndex, index + 1);
    value += text.slice(index, runEnd);
    index = runEnd;
  }
  return { text: value, dynamic, start, end: index };
}

/** Characters that readWord passes through as they are: none that ends a word, quotes, escapes or expands. */
const PLAIN_RUN = /[^\s;&|()<>'"\\$`\uffff]*/y;

/** Splits a script into simple commands with their context. */
export function simpleCommands(text: string): SimpleCommand[] {
  const tokens = tokenize(text);
  const commands: SimpleCommand[] = [];
  let depth = 0;
  let current: ShellWord[] = [];
  let previousOperator: string | undefined;
  const finish = (nextOperator: string | undefined) => {
    if (current.length > 0) {
      const guarded = (op: string | undefined) => op === '&&' || op === '||' || op === '|' || op === '|&';
      commands.push({
        words: current,
        bare: depth === 0 && !guarded(previousOperator) && !guarded(nextOperator),
        start: current[0].start,
        end: current[current.length - 1].end,
      });
    }
    current = [];
  };
  for (const token of tokens) {
    if (token.kind === 'newline') {
      // A newline after && or || continues the list.
      if (current.length === 0 && (previousOperator === '&&' || previousOperator === '||' || previousOperator === '|')) continue;
      finish(undefined);
      previousOperator = undefined;
      continue;
    }
    if (token.kind === 'op') {
      finish(token.op);
      if (token.op === '(') depth++;
      else if (token.op === ')') depth = Math.max(0, depth - 1);
      previousOperator = token.op === ';' || token.op === '&' || token.op === ';;' ? undefined : token.op;
      continue;
    }
    const word = token.word;
    if (current.length === 0) {
      if (COMPOUND_OPEN.has(word.text)) {
        depth++;
        continue;
      }
      if (COMPOUND_CLOSE.has(word.text)) {
        depth = Math.max(0, depth - 1);
        continue;
      }
      if (CONTINUATION_KEYWORDS.has(word.text)) {
        if (word.text === '!' || word.text === '{') depth += word.text === '{' ? 1 : 0;
        if (word.text === '}') depth = Math.max(0, depth - 1);
        if (word.text === '!') previousOperator = '||';
        continue;
      }
      // `name() {` opens a function body.
      if (/^[\w-]+\(\)$/.test(word.text)) {
        depth++;
        continue;
      }
    }
    current.push(word);
  }
  finish(undefined);
  return commands;
}

/** The program a command word names: `zfs`, `/sbin/zfs` and `${pkgs.zfs}/bin/zfs` are all `zfs`. */
export function programName(word: ShellWord): string {
  const text = word.text;
  const slash = text.lastIndexOf('/');
  return slash >= 0 ? text.slice(slash + 1) : text;
}

const PREFIX_COMMANDS = new Set(['exec', 'command', 'sudo', 'env', 'time', 'nohup']);

/** The command's words without leading `exec`, `env X=y` and the like. */
export function commandWords(command: SimpleCommand): ShellWord[] {
  let index = 0;
  while (index < command.words.length) {
    const word = command.words[index];
    if (PREFIX_COMMANDS.has(programName(word)) || /^[A-Za-z_]\w*=/.test(word.text)) index++;
    else break;
  }
  return command.words.slice(index);
}

export interface ZfsInvocation {
  command: SimpleCommand;
  /** The `zfs` word. */
  program: ShellWord;
  subcommand: string;
  flags: ShellWord[];
  operands: ShellWord[];
}

/** Options that take a value, per subcommand. */
const VALUE_FLAGS: Record<string, Set<string>> = {
  snapshot: new Set(['-o']),
  import: new Set(['-d', '-o', '-R', '-c', '-T']),
  rollback: new Set(),
};

/** `zfs <sub> …` and `zpool <sub> …` invocations in a script. */
export function findInvocations(text: string, program: 'zfs' | 'zpool'): ZfsInvocation[] {
  const result: ZfsInvocation[] = [];
  for (const command of simpleCommands(text)) {
    const words = commandWords(command);
    if (words.length < 2 || programName(words[0]) !== program) continue;
    const subcommand = words[1].text;
    const flags: ShellWord[] = [];
    const operands: ShellWord[] = [];
    const takesValue = VALUE_FLAGS[subcommand] ?? new Set<string>();
    for (let index = 2; index < words.length; index++) {
      const word = words[index];
      if (word.text.startsWith('-') && operands.length === 0) {
        flags.push(word);
        if (takesValue.has(word.text) && index + 1 < words.length) index++;
        continue;
      }
      operands.push(word);
    }
    result.push({ command, program: words[0], subcommand, flags, operands });
  }
  return result;
}

/** True when any flag word carries the letter (`-r`, `-rf`, `-fr`). */
export function hasFlag(flags: ShellWord[], letter: string): boolean {
  return flags.some((flag) => /^-[A-Za-z]+$/.test(flag.text) && flag.text.slice(1).includes(letter));
}
