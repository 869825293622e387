/**
 * The language server's time slices (budget.ts, `TimeSlices`): a host interrupted at the end of a slice resumes in
 * the next one, and after its first few slices each interruption doubles its next one. Much of an interrupted slice's work is done again by
 * the next (a module applied afresh, a large attribute set built again); with slices of one length, a host whose
 * unsplittable part takes longer than a slice started over until its step budget ran out, and the server reported it
 * as stopped (the generated 20,000-line host: 662 restarts, 48 s, no finding).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Budget, SliceExpired, TimeSlices } from '../../server/src/model/budget';
import { HostBuilder } from '../../server/src/model/hosts';
import { Workspace } from '../../server/src/model/workspace';
import { type AnalysisResult, analyze, createHostReuse } from '../../server/src/rules/engine';
import { initSyntax } from '../../server/src/syntax/parser';
import { GENERATED_DISKO, generatedConfiguration } from '../bench/generate';

/** Findings as comparable lines (code, place, message). */
function findingLines(result: AnalysisResult): string[] {
  return result.findings.map((finding) => `${finding.code} ${finding.origin.file}:${finding.origin.start} ${finding.message}`).sort();
}

describe('time slices', () => {
  let folder: string;
  before(async () => {
    await initSyntax();
    folder = mkdtempSync(path.join(os.tmpdir(), 'slices-'));
    writeFileSync(path.join(folder, 'configuration.nix'), generatedConfiguration(3000));
    writeFileSync(path.join(folder, 'disko.nix'), GENERATED_DISKO);
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  /** Analyses the folder in slices of `sliceMs` until done: the result, the slices that ended it early, the steps. */
  function analyzeInSlices(sliceMs: number): { result: AnalysisResult; interrupted: number; steps: number } {
    const workspace = new Workspace();
    // Slices apply from the first step on: far shorter than the host's unsplittable parts (building its module's
    // attribute set, merging), as 20 ms slices are for a 20,000-line host on a loaded machine.
    const slices = new TimeSlices(sliceMs, undefined, 0);
    const builder = new HostBuilder(workspace, {});
    const reuse = createHostReuse();
    let interrupted = 0;
    for (;;) {
      slices.next();
      try {
        return { result: analyze(workspace, [folder], { reuse, slices, builder }), interrupted, steps: slices.stepsSpent };
      } catch (error) {
        if (!(error instanceof SliceExpired)) throw error;
        interrupted++;
        assert.ok(interrupted < 40, 'the analysis keeps starting over');
      }
    }
  }

  it('a host whose work does not fit in a slice finishes after a few slices, with the findings of one go', () => {
    const expected = findingLines(analyze(new Workspace(), [folder]));
    assert.ok(expected.length > 0, 'the generated host has findings to compare');
    const { result, interrupted, steps } = analyzeInSlices(1);
    assert.ok(interrupted > 0, 'the analysis was interrupted at least once (else this test shows nothing)');
    const stopped = result.unknowns.filter((unknown) => /stopped/.test(unknown.note.what));
    assert.deepEqual(stopped, [], 'no host stopped: its budget was not spent on repetitions');
    assert.deepEqual(findingLines(result), expected);
    // What a slice finished stays finished: the module set, the model and every value forced are not computed again.
    const inOneGo = analyzeInSlices(60_000);
    assert.equal(inOneGo.interrupted, 0);
    assert.ok(steps <= inOneGo.steps * 1.1, `${steps} steps in slices, ${inOneGo.steps} in one go`);
  });

  it('after sixteen interruptions, each one doubles the next slice of that host only', () => {
    const slices = new TimeSlices(10);
    slices.next();
    const first = slices.budgetFor('a');
    const firstEnd = first.sliceEnd!;
    first.interruptions = 16;
    slices.next();
    const again = slices.budgetFor('a');
    assert.equal(again, first, 'a host keeps its budget across slices');
    assert.ok(Math.abs(again.sliceEnd! - slices.start - 10) < 1e-6, 'sixteen interruptions: still the plain length');
    first.interruptions = 19;
    slices.next();
    assert.ok(Math.abs(slices.budgetFor('a').sliceEnd! - slices.start - 80) < 1e-6, 'nineteen interruptions: a slice of 10 × 2³ ms');
    assert.ok(firstEnd - slices.start <= 10, 'the first slice had the plain length');
    const other = slices.budgetFor('b');
    assert.ok(Math.abs(other.sliceEnd! - slices.start - 10) < 1e-6, 'another host keeps the plain length');
  });

  it('an expired slice carries no stack trace (it is control flow, thrown often)', () => {
    const budget = new Budget();
    const error = new SliceExpired();
    assert.ok(error instanceof Error);
    assert.equal((error.stack ?? '').split('\n').length, 1, error.stack);
    assert.equal(budget.interruptions, 0);
  });
});
