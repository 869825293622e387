/**
 * Edits inside Nix strings: the shell scripts of initrd units, scripted stage-1 hooks and disko hooks, and plain
 * string values. A range of a script's text maps back to the source only where its characters are written
 * literally, in one piece (`originOfRange`); an edit is made only when the source still holds exactly those
 * characters, so escapes, interpolations and strings built by functions are never touched. The new text must need
 * no escaping in either kind of Nix string (`"…"` and `''…''`).
 */
import { scriptText } from '../model/disko';
import type { ShellWord } from '../model/shell';
import { originOfRange } from '../model/strings';
import type { Origin, StringValue } from '../model/values';
import type { Workspace } from '../model/workspace';
import type { SourceFile, SyntaxNode } from '../syntax/parser';
import { nodeAt } from './filesystem-edits';
import { type TextEdit, edit } from './nix-edit';

/** A ZFS dataset or snapshot name (`rpool/local/root@blank`) that is safe to write into any Nix string and script. */
export function isPlainName(text: string): boolean {
  return /^[A-Za-z0-9_.:/@-]+$/.test(text);
}

/** Text that reads the same in `"…"` and `''…''` strings: no quote, backslash, `${` or `''` to escape. */
export function safeInNixString(text: string): boolean {
  return !/["\\]|\$\{|''/.test(text);
}

/** A parsed, error-free source file of the workspace. */
export function editableFile(workspace: Workspace, filePath: string): SourceFile | undefined {
  const file = workspace.source(filePath);
  return file && !file.unreadable && file.root && !file.root.hasError ? file : undefined;
}

/** Where characters `from`–`to` of a script are written, when they are written literally in one piece. */
export function writtenRange(workspace: Workspace, value: StringValue, from: number, to: number): { file: SourceFile; start: number; end: number } | undefined {
  const origin = originOfRange(value, from, to);
  const file = origin && editableFile(workspace, origin.file);
  if (!origin || !file) return undefined;
  if (file.text.slice(origin.start, origin.end) !== scriptText(value).slice(from, to)) return undefined;
  return { file, start: origin.start, end: origin.end };
}

/**
 * Replaces characters `from`–`to` of a script by `text`. Undefined when they are not written literally or the new
 * text would need escaping; a `'` next to a `'` of the source (which would close a `''…''` string) is refused too.
 */
export function replaceInScript(workspace: Workspace, value: StringValue, from: number, to: number, text: string): TextEdit | undefined {
  if (!safeInNixString(text)) return undefined;
  const at = writtenRange(workspace, value, from, to);
  if (!at) return undefined;
  if ((text.startsWith("'") && at.file.text[at.start - 1] === "'") || (text.endsWith("'") && at.file.text[at.end] === "'")) return undefined;
  return edit(at.file, at.start, at.end, text);
}

/**
 * The part of a shell word that holds its text literally: the word itself, or the inside of `'…'` / `"…"` quotes
 * around all of it. Undefined for words built from several quoted parts or with escapes.
 */
export function literalWordRange(script: string, word: ShellWord): { from: number; to: number } | undefined {
  if (word.dynamic) return undefined;
  const raw = script.slice(word.start, word.end);
  if (raw === word.text) return { from: word.start, to: word.end };
  const quote = raw[0];
  if ((quote === "'" || quote === '"') && raw.length >= 2 && raw.endsWith(quote) && raw.slice(1, -1) === word.text) return { from: word.start + 1, to: word.end - 1 };
  return undefined;
}

/** Replaces the text of a shell word of a script (keeping quotes around it). */
export function replaceWord(workspace: Workspace, value: StringValue, word: ShellWord, text: string): TextEdit | undefined {
  const range = literalWordRange(scriptText(value), word);
  return range && replaceInScript(workspace, value, range.from, range.to, text);
}

/** The text of a string literal written without interpolation or escapes (`"…"` or `''…''`), else undefined. */
export function plainStringText(node: SyntaxNode | undefined): string | undefined {
  if (node?.type !== 'string_expression' && node?.type !== 'indented_string_expression') return undefined;
  const children = node.namedChildren.filter((child): child is SyntaxNode => child !== null);
  if (!children.every((child) => child.type === 'string_fragment')) return undefined;
  return children.map((child) => child.text).join('');
}

/** The string literal written at an origin, when it is a plain `"…"` (no interpolation, no escapes). */
export function plainStringAt(workspace: Workspace, origin: Origin | undefined): { file: SourceFile; node: SyntaxNode; text: string } | undefined {
  const file = origin && editableFile(workspace, origin.file);
  const node = file ? nodeAt(file, origin, ['string_expression']) : undefined;
  const text = plainStringText(node);
  return file && node && text !== undefined ? { file, node, text } : undefined;
}
