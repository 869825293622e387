/**
 * Where lines start in a text, and which line holds an offset: shared by the LSP line index (parser.ts), the points
 * tree-sitter reports (node.ts) and the lines of syntax problems (syntax-errors.ts).
 */

/** Offsets where the lines of `text` start, counted as tree-sitter counts rows (a line ends at `\n`). */
export function newlineStarts(text: string): number[] {
  const starts = [0];
  for (let index = text.indexOf('\n'); index >= 0; index = text.indexOf('\n', index + 1)) starts.push(index + 1);
  return starts;
}

/** The 0-based line holding `offset`, given the ascending offsets where lines start (the first is 0). */
export function lineContaining(starts: readonly number[], offset: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid] <= offset) low = mid;
    else high = mid - 1;
  }
  return low;
}
