/**
 * How much lexing work beyond linear a text would cost tree-sitter-nix 0.0.2, without parsing it.
 *
 * Wherever an expression may start — which, because of function application, is after every operand — the grammar's
 * external scanner tries a path (`scan_path_start` in src/scanner.c) and reads the whole run of path characters
 * (`[0-9A-Za-z_+./-]`) ahead, looking for a `/`; the `uri_expression` pattern likewise reads a run looking for a `:`.
 * Neither remembers what it read, so a run holding k tokens (`x.a.a.a…`, `1+1+1…`) is read k times: O(k · length).
 * Real Nix has short runs; a hostile one of 100 KB takes minutes. This estimate lets the parser refuse such a text
 * up front, deterministically, instead of freezing the editor.
 */

/** Each run is allowed this many readings of its whole length before it counts as work beyond linear. */
const READINGS_ALLOWED_PER_RUN = 64;

const enum Mode {
  Code,
  String,
  IndentedString,
}

/** Characters the scanner counts as part of a path. */
function isPathChar(code: number): boolean {
  return (
    (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 45 || code === 43 || code === 95 || code === 46 || code === 47
  );
}

/** Characters after which the lexer starts a new token inside a run of path characters. */
function isTokenBreak(code: number): boolean {
  return code === 46 || code === 43 || code === 45 || code === 47;
}

/**
 * The character steps the lexer would spend re-reading runs of path characters in code (not in strings or comments),
 * beyond `READINGS_ALLOWED_PER_RUN` readings per run. Zero for any ordinary file; grows with the square of a hostile run.
 */
export function superlinearLexingWork(text: string): number {
  // A stack of modes: each `"`, `''` and `${` pushes one; `{` in code pushes Code so its `}` is told from the end of an
  // interpolation.
  const modes: Mode[] = [Mode.Code];
  let work = 0;
  let index = 0;
  const at = (position: number) => text.charCodeAt(position);
  while (index < text.length) {
    const mode = modes[modes.length - 1];
    const code = at(index);
    if (mode === Mode.String) {
      if (code === 92) index += 2;
      else if (code === 34) {
        modes.pop();
        index++;
      } else if (code === 36 && at(index + 1) === 123) {
        modes.push(Mode.Code);
        index += 2;
      } else index++;
      continue;
    }
    if (mode === Mode.IndentedString) {
      if (code === 39 && at(index + 1) === 39) {
        const next = at(index + 2);
        if (next === 39 || next === 36) index += 3;
        else if (next === 92) index += 4;
        else {
          modes.pop();
          index += 2;
        }
      } else if (code === 36 && at(index + 1) === 123) {
        modes.push(Mode.Code);
        index += 2;
      } else index++;
      continue;
    }
    // A comment first: `/*` would otherwise read as the start of a run (`/` is a path character).
    if (code === 35) {
      const newline = text.indexOf('\n', index);
      index = newline < 0 ? text.length : newline;
      continue;
    }
    if (code === 47 && at(index + 1) === 42) {
      const end = text.indexOf('*/', index + 2);
      index = end < 0 ? text.length : end + 2;
      continue;
    }
    if (isPathChar(code)) {
      // Each token break in the run starts a token whose scan reads on to the end of the run.
      const start = index;
      let readings = 0;
      let breakOffsets = 0;
      while (index < text.length && isPathChar(at(index))) {
        if (isTokenBreak(at(index))) {
          readings++;
          breakOffsets += index - start;
        }
        index++;
      }
      const length = index - start;
      const steps = readings * length - breakOffsets;
      work += Math.max(0, steps - READINGS_ALLOWED_PER_RUN * length);
      continue;
    }
    if (code === 34) {
      modes.push(Mode.String);
      index++;
    } else if (code === 39 && at(index + 1) === 39) {
      modes.push(Mode.IndentedString);
      index += 2;
    } else if (code === 36 && at(index + 1) === 123) {
      modes.push(Mode.Code);
      index += 2;
    } else if (code === 123) {
      modes.push(Mode.Code);
      index++;
    } else if (code === 125) {
      if (modes.length > 1) modes.pop();
      index++;
    } else index++;
  }
  return work;
}
