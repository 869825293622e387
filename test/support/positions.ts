/** Positions in test texts: where a needle is, as an LSP position. */
import assert from 'node:assert/strict';

/** The LSP position of the `nth` occurrence of `needle` in `text`, `shift` characters into it. */
export function positionOf(text: string, needle: string, shift = 0, nth = 0): { line: number; character: number } {
  let index = -1;
  for (let count = 0; count <= nth; count++) {
    index = text.indexOf(needle, index + 1);
    assert.ok(index >= 0, `${JSON.stringify(needle)} (#${nth}) is in the text`);
  }
  const before = text.slice(0, index + shift).split('\n');
  return { line: before.length - 1, character: before[before.length - 1].length };
}
