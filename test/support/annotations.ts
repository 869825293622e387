/**
 * Caret annotations in Nix fixtures, in the style of rust-analyzer's diagnostic tests:
 *
 *     script = "zfs rollback -r rpool/nixos/empty@blank";
 *   #                            ^^^^^^^^^^^^^^^^^^^^^^^ error: rollback-snapshot-mismatch
 *
 * An annotation is a comment line of carets; the carets mark columns of the nearest line above that is not an
 * annotation. A range that runs past the line is marked up to the line's end. A zero-width range is one caret.
 */
import { readFileSync } from 'node:fs';

export interface Expected {
  file: string;
  line: number;
  start: number;
  end: number;
  severity: string;
  code: string;
}

export const ANNOTATION = /^(\s*)#(\s*)(\^+)\s+(error|warning|information|hint):\s*([a-z0-9-]+)\s*$/;

export function readAnnotations(file: string): Expected[] {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const expected: Expected[] = [];
  let target = -1;
  for (let index = 0; index < lines.length; index++) {
    const match = ANNOTATION.exec(lines[index]);
    if (!match) {
      target = index;
      continue;
    }
    const start = lines[index].indexOf('^');
    expected.push({ file, line: target, start, end: start + match[3].length, severity: match[4], code: match[5] });
  }
  return expected;
}

export interface ActualRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

/** The annotation that an actual range would have, so expected and actual compare as plain strings. */
export function annotationKey(file: string, range: ActualRange, lineText: (line: number) => string, severity: string, code: string): string {
  const { start, end } = range;
  let endColumn: number;
  if (end.line > start.line) endColumn = lineText(start.line).length;
  else endColumn = Math.max(end.character, start.character + 1);
  return `${file}:${start.line + 1}:${start.character}-${endColumn} ${severity}: ${code}`;
}

export function expectedKey(expected: Expected): string {
  return `${expected.file}:${expected.line + 1}:${expected.start}-${expected.end} ${expected.severity}: ${expected.code}`;
}
