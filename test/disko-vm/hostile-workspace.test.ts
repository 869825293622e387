/**
 * Whole runs (against the stand-in nix) in a workspace that tries to make the command harm the user: a work folder
 * outside the workspace or not ours is refused before anything runs and keeps its files; a second run deletes only
 * what the first one recorded, and the confirmation lists exactly that; a `nix` of the workspace's, reached through
 * an empty or relative PATH entry or a PATH entry inside the workspace, never runs; nothing runs before the
 * confirmation, and declining it leaves no trace.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { processEnv } from '../../client/src/disko-vm/preconditions';
import { type CancelToken, type RunUi, runDiskoVm } from '../../client/src/disko-vm/run';
import type { RunResult, VmMode, VmSettings, VmTarget } from '../../client/src/disko-vm/types';
import { WORK_FOLDER_RECORD, memoryRegistry } from '../../client/src/disko-vm/work-folder';
import { REPO_ROOT, STAND_INS, STAND_IN_NIX, flakeHost, invocations, scratch, settings, standInEnv } from './support';

const space = scratch('disko-vm-hostile-');
// Outside the workspace: the user's home folder, and the marks a planted nix would leave.
const outside = mkdtempSync(path.join(os.tmpdir(), 'disko-vm-hostile-outside-'));
after(() => {
  space.cleanup();
  rmSync(outside, { recursive: true, force: true });
});
const seed = flakeHost(space.seed);
const registry = memoryRegistry();
const never: CancelToken = { isCancellationRequested: false, onCancellationRequested: () => ({ dispose: () => undefined }) };

let saved: NodeJS.ProcessEnv | undefined;
afterEach(() => {
  if (saved) process.env = saved;
  saved = undefined;
});

function useStandIn(pathVariable?: string): void {
  saved = process.env;
  process.env = standInEnv(space.root);
  if (pathVariable !== undefined) process.env.PATH = pathVariable;
}

interface Asked {
  message: string;
  detail: string;
}

/** A UI that records the confirmation and answers it with `answer`. */
function ui(answer = true): RunUi & { asked: Asked[]; lines: string[] } {
  const asked: Asked[] = [];
  const lines: string[] = [];
  return {
    asked,
    lines,
    stage: () => undefined,
    line: (text) => lines.push(text),
    confirm: async (message, detail) => (asked.push({ message, detail }), answer),
    warn: async () => true,
  };
}

function run(mode: VmMode, target: VmTarget, overrides: Partial<VmSettings>, face: RunUi): Promise<RunResult> {
  return runDiskoVm(
    { mode, target, settings: settings(path.join(space.root, 'vm-work'), overrides), extensionRoot: REPO_ROOT, environment: processEnv(true), workspaceFolders: [space.root], registry, nonce: 'hostile' },
    face,
    never,
  );
}

/** A folder of the user's with files a careless cleanup would take. */
function usersFolder(folder: string): string[] {
  mkdirSync(folder, { recursive: true });
  const names = ['disk.raw', 'backup.qcow2', 'run.log', 'thesis.tex'];
  for (const name of names) writeFileSync(path.join(folder, name), `the user's ${name}\n`);
  mkdirSync(path.join(folder, 'vm-tmp'));
  return [...names, 'vm-tmp'].sort();
}

describe('the work folder in a hostile workspace', () => {
  it('a work folder outside the workspace ($HOME, say) is refused before anything runs, and its files stay', async () => {
    useStandIn();
    const home = path.join(outside, 'home');
    const names = usersFolder(home);
    const face = ui();
    const result = await run('images', { kind: 'host', host: seed }, { workFolder: home }, face);
    assert.equal(result.status, 'refused');
    assert.match(result.message, /outside the workspace folder\(s\) and the extension's storage/);
    assert.deepEqual(readdirSync(home).sort(), names);
    assert.deepEqual(face.asked, [], 'not even asked');
    assert.deepEqual(invocations(space.root), [], 'nix never ran, not even the feature probe');
  });

  it('a folder inside the workspace that is not ours is refused, never emptied', async () => {
    useStandIn();
    const folder = path.join(space.root, 'src-folder');
    const names = usersFolder(folder);
    const result = await run('images', { kind: 'host', host: seed }, { workFolder: folder }, ui());
    assert.equal(result.status, 'refused');
    assert.match(result.message, /is not one this extension created, and nothing in it is deleted or written/);
    assert.deepEqual(readdirSync(folder).sort(), names);
    assert.deepEqual(invocations(space.root), []);
  });

  it('nothing runs before the confirmation, and declining it creates nothing', async () => {
    useStandIn();
    const face = ui(false);
    const result = await run('images', { kind: 'host', host: seed }, {}, face);
    assert.equal(result.status, 'cancelled');
    assert.equal(face.asked.length, 1);
    assert.match(face.asked[0].detail, /does not exist yet: the command creates it/);
    assert.ok(face.asked[0].detail.includes(`Nix: ${STAND_IN_NIX}`), 'the dialog names the nix it runs');
    assert.ok(!existsSync(path.join(space.root, 'vm-work')));
    assert.deepEqual(invocations(space.root), []);
  });

  it('a second run deletes only what the first recorded, lists exactly that, and a user file with a .raw name survives', async () => {
    useStandIn();
    const work = path.join(space.root, 'vm-work');
    const first = await run('images', { kind: 'host', host: seed }, {}, ui());
    assert.equal(first.status, 'ok', first.message);
    assert.ok(existsSync(path.join(work, WORK_FOLDER_RECORD)));
    // The user (or the workspace) puts files there, some with names the old cleanup deleted.
    for (const name of ['keep-me.raw', 'keep-me.qcow2', 'notes.txt']) writeFileSync(path.join(work, name), `mine: ${name}\n`);
    mkdirSync(path.join(work, 'my-vm-tmp'));
    const face = ui();
    const second = await run('images', { kind: 'host', host: seed }, {}, face);
    assert.equal(second.status, 'ok', second.message);
    assert.match(face.asked[0].detail, /First it deletes what the previous run left in the work folder .*: run\.log, images-script, main\.raw\. Nothing else there is touched\./);
    for (const name of ['keep-me.raw', 'keep-me.qcow2', 'notes.txt']) assert.equal(readFileSync(path.join(work, name), 'utf8'), `mine: ${name}\n`, name);
    assert.ok(existsSync(path.join(work, 'my-vm-tmp')));
    // The user's image files are not the run's images either.
    assert.deepEqual(second.images.map((image) => path.basename(image.file)), ['main.raw']);
  });

  it('a user file with a name the run writes makes it refuse; the file is not overwritten', async () => {
    useStandIn();
    const work = path.join(space.root, 'vm-work');
    const vm = await run('vm', { kind: 'host', host: seed }, {}, ui());
    assert.equal(vm.status, 'ok', vm.message);
    // The vm run recorded its own entries only: main.raw of the images run before is no longer ours once gone.
    writeFileSync(path.join(work, 'main.raw'), 'my own disk image\n');
    const before = invocations(space.root).length;
    const images = await run('images', { kind: 'host', host: seed }, {}, ui());
    assert.equal(images.status, 'refused');
    assert.match(images.message, /holds main\.raw, which this extension did not create/);
    assert.equal(readFileSync(path.join(work, 'main.raw'), 'utf8'), 'my own disk image\n');
    assert.equal(invocations(space.root).length, before);
  });
});

describe('the nix of a hostile workspace never runs', () => {
  /** A `nix` that leaves a mark when it runs. */
  function plantNix(folder: string, mark: string): void {
    mkdirSync(folder, { recursive: true });
    const file = path.join(folder, 'nix');
    writeFileSync(file, `#!/bin/sh\necho "$0 $*" >> '${mark}'\nexit 0\n`);
    chmodSync(file, 0o755);
  }

  it('with an empty and a relative PATH entry, and a PATH entry inside the workspace, the stand-in found outside runs', async () => {
    const mark = path.join(outside, 'planted-nix-ran');
    // The build's working folder is the flake's folder; the workspace root and its bin/ hold one too.
    for (const folder of [space.seed, space.root, path.join(space.root, 'bin')]) plantNix(folder, mark);
    useStandIn(['', '.', path.join(space.root, 'bin'), STAND_INS, process.env.PATH ?? ''].join(path.delimiter));
    const face = ui();
    const result = await run('images', { kind: 'host', host: seed }, { workFolder: path.join(space.root, 'nix-runs') }, face);
    assert.equal(result.status, 'ok', result.message);
    assert.equal(result.commands[0].command, STAND_IN_NIX);
    assert.ok(!existsSync(mark), `a planted nix ran: ${existsSync(mark) ? readFileSync(mark, 'utf8') : ''}`);
    assert.deepEqual(invocations(space.root).map((call) => call.mode).slice(-2), ['flakes-probe', 'images']);
    assert.ok(face.lines.some((line) => /empty PATH entry/.test(line)), 'the output channel says what was passed over');
  });

  it('when the only nix on PATH is the workspace\'s, the run is refused and runs nothing', async () => {
    const mark = path.join(outside, 'planted-nix-ran-2');
    plantNix(path.join(space.root, 'tools'), mark);
    plantNix(space.seed, mark);
    useStandIn(['', '.', path.join(space.root, 'tools')].join(path.delimiter));
    const before = invocations(space.root).length;
    const result = await run('images', { kind: 'host', host: seed }, { workFolder: path.join(space.root, 'nix-runs-2') }, ui());
    assert.equal(result.status, 'refused');
    assert.match(result.message, /no `nix` executable outside the workspace/);
    assert.ok(!existsSync(mark));
    assert.equal(invocations(space.root).length, before);
  });
});
