/**
 * Dependency frames (server/src/model/dependencies.ts): a frame links the frames of the computations it used instead
 * of copying what they read, and flattening the links gives every read and missing import once, in the order they
 * were first met — the order a copy made at each step would have had.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Dependencies,
  type MissingImportRecord,
  flattenDependencies,
  inheritDependencies,
  isEmpty,
  recordMissingImport,
  recordRead,
  trackDependencies,
  untracked,
} from '../../server/src/model/dependencies';

describe('dependency frames', () => {
  it('hands an inner computation’s reads to the frame around it, in the order they happened', () => {
    const missing: MissingImportRecord = { path: '/w/gone.nix' };
    const { dependencies: outer } = trackDependencies(() => {
      recordRead('source', '/w/a.nix');
      trackDependencies(() => {
        recordRead('source', '/w/b.nix');
        recordMissingImport(missing);
      });
      recordRead('source', '/w/c.nix');
    });
    const flat = flattenDependencies([outer]);
    assert.deepEqual([...flat.reads], ['source\0/w/a.nix', 'source\0/w/b.nix', 'source\0/w/c.nix']);
    assert.deepEqual([...flat.missingImports], [missing]);
  });

  it('counts a frame used twice, and a read made twice, once', () => {
    const { dependencies: shared } = trackDependencies(() => recordRead('readDir', '/w/hosts'));
    const { dependencies: outer } = trackDependencies(() => {
      inheritDependencies(shared);
      recordRead('readDir', '/w/hosts');
      recordRead('exists', '/w/flake.nix');
      inheritDependencies(shared);
    });
    assert.deepEqual([...flattenDependencies([outer]).reads], ['readDir\0/w/hosts', 'exists\0/w/flake.nix']);
    // Two frames that share a linked frame: its reads come where it was first met.
    const { dependencies: second } = trackDependencies(() => {
      recordRead('source', '/w/x.nix');
      inheritDependencies(shared);
    });
    assert.deepEqual([...flattenDependencies([outer, second]).reads], ['readDir\0/w/hosts', 'exists\0/w/flake.nix', 'source\0/w/x.nix']);
  });

  it('flattens a chain of frames thousands deep without running out of stack', () => {
    let frame = trackDependencies(() => recordRead('source', '/w/leaf.nix')).dependencies;
    for (let depth = 0; depth < 200_000; depth++) {
      const inner = frame;
      frame = trackDependencies(() => inheritDependencies(inner)).dependencies;
    }
    assert.deepEqual([...flattenDependencies([frame]).reads], ['source\0/w/leaf.nix']);
  });

  it('records nothing outside a frame, and nothing while untracked', () => {
    recordRead('source', '/w/outside.nix');
    const { dependencies } = trackDependencies(() => untracked(() => recordRead('source', '/w/untracked.nix')));
    assert.ok(isEmpty(dependencies));
    assert.ok(isEmpty(new Dependencies()));
  });
});
