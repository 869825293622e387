/**
 * Reading a file under the read policy (confinement.ts): the bytes come whole whatever the file's size and whatever
 * size `fstat` claimed, and a file over the cap is refused, the cap being counted on what was read.
 */
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ReadPolicy, readUpTo } from '../../server/src/model/confinement';

describe('reading a file inside the roots', () => {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'confinement-'));
  after(() => rmSync(folder, { recursive: true, force: true }));
  const policy = new ReadPolicy();
  policy.allow(folder);

  /** A file of `size` bytes whose content shows where each byte was. */
  const fileOf = (size: number): { file: string; bytes: Buffer } => {
    const bytes = Buffer.alloc(size);
    for (let index = 0; index < size; index++) bytes[index] = (index * 7 + 3) % 251;
    const file = path.join(folder, `file-${size}`);
    writeFileSync(file, bytes);
    return { file, bytes };
  };

  it('gives every byte of files of every size up to the cap, and refuses one byte more', () => {
    const cap = 20_000;
    for (const size of [0, 1, 4095, 4096, 4097, 8193, cap - 1, cap]) {
      const { file, bytes } = fileOf(size);
      const read = policy.read(file, cap);
      assert.ok('bytes' in read, `${size} bytes: ${JSON.stringify(read)}`);
      assert.ok(read.bytes.equals(bytes), `${size} bytes`);
    }
    assert.deepEqual(policy.read(fileOf(cap + 1).file, cap), { refused: 'too-large' });
  });

  it('reads past a size hint that was too low, and counts the cap on what it read, not on the hint', () => {
    const { file, bytes } = fileOf(70_000);
    for (const [hint, cap] of [[0, 100_000], [10, 100_000], [69_999, 70_000], [0, 70_000]]) {
      const descriptor = openSync(file, 'r');
      try {
        const read = readUpTo(descriptor, cap, hint);
        assert.ok('bytes' in read && read.bytes.equals(bytes), `hint ${hint}, cap ${cap}`);
      } finally {
        closeSync(descriptor);
      }
    }
    const descriptor = openSync(file, 'r');
    try {
      assert.deepEqual(readUpTo(descriptor, 69_999, 0), { refused: 'too-large' });
    } finally {
      closeSync(descriptor);
    }
  });
});
