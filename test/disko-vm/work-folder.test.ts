/**
 * The work folder rules (client/src/disko-vm/work-folder.ts), on real folders: it must lie inside a workspace folder
 * or the extension's storage (also through links); a folder without our record, or with a record this extension did
 * not write, is refused and left as it is; a run deletes only the entries recorded by earlier runs, of the kind
 * recorded, and never a file of the user's, whatever its name.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { SafetyError } from '../../client/src/disko-vm/safety';
import { type CreatedEntry, WORK_FOLDER_RECORD, checkWorkFolderPlace, claimWorkFolder, describeRemovals, entriesOf, inspectWorkFolder, memoryRegistry, recordNewEntries } from '../../client/src/disko-vm/work-folder';

const dir = mkdtempSync(path.join(os.tmpdir(), 'disko-vm-work-folder-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const workspace = path.join(dir, 'workspace');
const elsewhere = path.join(dir, 'home');
mkdirSync(workspace);
mkdirSync(elsewhere);

const IMAGES_RUN: CreatedEntry[] = [
  { name: 'run.log', kind: 'file' },
  { name: 'images-script', kind: 'link' },
  { name: 'main.raw', kind: 'file' },
];

function fill(folder: string, names: string[]): void {
  for (const name of names) writeFileSync(path.join(folder, name), `contents of ${name}\n`);
}

describe('where the work folder may be', () => {
  it('inside a workspace folder or the extension storage: its real path is returned', () => {
    assert.equal(checkWorkFolderPlace(path.join(workspace, '.vm-work'), [workspace]), path.join(workspace, '.vm-work'));
    const storage = path.join(dir, 'storage');
    assert.equal(checkWorkFolderPlace(path.join(storage, 'disko-vm-work'), [workspace, storage]), path.join(storage, 'disko-vm-work'));
  });

  it('refuses a folder outside the workspace ($HOME, say), the workspace folder itself, and a link that leads out', () => {
    assert.throws(() => checkWorkFolderPlace(elsewhere, [workspace]), /outside the workspace folder\(s\) and the extension's storage/);
    assert.throws(() => checkWorkFolderPlace(path.join(workspace, '..', 'home'), [workspace]), SafetyError);
    assert.throws(() => checkWorkFolderPlace(workspace, [workspace]), /cannot be .* itself/);
    symlinkSync(elsewhere, path.join(workspace, 'link-out'));
    assert.throws(() => checkWorkFolderPlace(path.join(workspace, 'link-out'), [workspace]), /outside the workspace/);
    assert.throws(() => checkWorkFolderPlace(path.join(workspace, 'link-out', 'vm'), [workspace]), /outside the workspace/);
  });
});

describe('whose folder it is', () => {
  it('a folder that is not ours and not empty is refused, and nothing in it changes', () => {
    const folder = path.join(workspace, 'not-ours');
    mkdirSync(folder);
    fill(folder, ['main.raw', 'run.log', 'thesis.tex']);
    assert.throws(() => inspectWorkFolder(folder, memoryRegistry(), IMAGES_RUN), /not one this extension created, and nothing in it is deleted or written/);
    assert.deepEqual(readdirSync(folder).sort(), ['main.raw', 'run.log', 'thesis.tex']);
  });

  it('a record the extension did not write (brought by the workspace, or a token it does not know) is refused', async () => {
    const folder = path.join(workspace, 'forged');
    mkdirSync(folder);
    fill(folder, ['thesis.tex']);
    writeFileSync(path.join(folder, WORK_FOLDER_RECORD), JSON.stringify({ token: 'guess', created: [{ name: 'thesis.tex', kind: 'file' }] }));
    const registry = memoryRegistry();
    assert.throws(() => inspectWorkFolder(folder, registry, IMAGES_RUN), /did not write on this machine/);
    await registry.remember(folder, 'another token');
    assert.throws(() => inspectWorkFolder(folder, registry, IMAGES_RUN), /did not write on this machine/);
    assert.ok(existsSync(path.join(folder, 'thesis.tex')));
  });

  it('a record with a name that is not a plain name in the folder is refused', async () => {
    const folder = path.join(workspace, 'tampered');
    const registry = memoryRegistry();
    await claimWorkFolder(inspectWorkFolder(folder, registry, IMAGES_RUN), registry, IMAGES_RUN);
    const record = JSON.parse(readFileSync(path.join(folder, WORK_FOLDER_RECORD), 'utf8')) as { created: CreatedEntry[] };
    record.created.push({ name: '../../home/thesis.tex', kind: 'file' });
    writeFileSync(path.join(folder, WORK_FOLDER_RECORD), JSON.stringify(record));
    assert.throws(() => inspectWorkFolder(folder, registry, IMAGES_RUN), /not a plain name/);
  });

  it('a new folder is created after the confirmation, with the record, a .gitignore and a README', async () => {
    const folder = path.join(workspace, 'nested', 'fresh');
    const registry = memoryRegistry();
    const state = inspectWorkFolder(folder, registry, IMAGES_RUN);
    assert.equal(state.isNew, true);
    assert.ok(!existsSync(folder), 'looking creates nothing');
    assert.match(describeRemovals(state), /does not exist yet: the command creates it/);
    const record = await claimWorkFolder(state, registry, IMAGES_RUN);
    assert.deepEqual(readdirSync(folder).sort(), ['.gitignore', 'README.txt', WORK_FOLDER_RECORD]);
    assert.equal(registry.tokenOf(folder), record.token);
    assert.deepEqual(record.created, IMAGES_RUN);
  });

  it('an empty folder without a record is taken', async () => {
    const folder = path.join(workspace, 'empty');
    mkdirSync(folder);
    const registry = memoryRegistry();
    const state = inspectWorkFolder(folder, registry, IMAGES_RUN);
    assert.deepEqual(state.toRemove, []);
    await claimWorkFolder(state, registry, IMAGES_RUN);
    assert.ok(existsSync(path.join(folder, WORK_FOLDER_RECORD)));
  });
});

describe('what a run deletes', () => {
  it('only the recorded entries, of their kind, listed for the confirmation; a user file with an image name survives', async () => {
    const folder = path.join(workspace, 'runs');
    const registry = memoryRegistry();
    let record = await claimWorkFolder(inspectWorkFolder(folder, registry, IMAGES_RUN), registry, IMAGES_RUN);
    // The first run: its files, and one its processes made that were not planned.
    const before = entriesOf(folder);
    fill(folder, ['run.log', 'main.raw', 'efivars.fd']);
    symlinkSync('/nix/store/nothing-images', path.join(folder, 'images-script'));
    recordNewEntries(folder, record, before);
    assert.deepEqual(record.created.map((entry) => entry.name), ['run.log', 'images-script', 'main.raw', 'efivars.fd']);
    // The user's own files, also with names the old cleanup took (*.raw, *.qcow2, vm-tmp/).
    fill(folder, ['my-disk.raw', 'notes.txt', 'old.qcow2']);
    mkdirSync(path.join(folder, 'vm-tmp'));
    const state = inspectWorkFolder(folder, registry, IMAGES_RUN);
    assert.deepEqual(state.toRemove.map((entry) => entry.name).sort(), ['efivars.fd', 'images-script', 'main.raw', 'run.log']);
    const line = describeRemovals(state);
    for (const name of ['run.log', 'images-script', 'main.raw', 'efivars.fd']) assert.ok(line.includes(name), name);
    for (const name of ['my-disk.raw', 'notes.txt', 'old.qcow2', 'vm-tmp']) assert.ok(!line.includes(name), name);
    record = await claimWorkFolder(state, registry, IMAGES_RUN);
    assert.deepEqual(readdirSync(folder).sort(), ['.gitignore', 'README.txt', WORK_FOLDER_RECORD, 'my-disk.raw', 'notes.txt', 'old.qcow2', 'vm-tmp']);
    assert.equal(readFileSync(path.join(folder, 'my-disk.raw'), 'utf8'), 'contents of my-disk.raw\n');
    assert.deepEqual(record.created, IMAGES_RUN);
  });

  it('a recorded name that is no longer of its kind (a folder where a file was) is not deleted', async () => {
    const folder = path.join(workspace, 'kinds');
    const registry = memoryRegistry();
    await claimWorkFolder(inspectWorkFolder(folder, registry, IMAGES_RUN), registry, IMAGES_RUN);
    mkdirSync(path.join(folder, 'main.raw'));
    writeFileSync(path.join(folder, 'main.raw', 'inside'), 'x');
    const state = inspectWorkFolder(folder, registry, [{ name: 'run.log', kind: 'file' }]);
    assert.deepEqual(state.toRemove, []);
    await claimWorkFolder(state, registry, [{ name: 'run.log', kind: 'file' }]);
    assert.ok(existsSync(path.join(folder, 'main.raw', 'inside')));
  });

  it('refuses when a file of the user has a name the run would write, or an image name when the names are not known', async () => {
    const folder = path.join(workspace, 'taken');
    const registry = memoryRegistry();
    await claimWorkFolder(inspectWorkFolder(folder, registry, [{ name: 'run.log', kind: 'file' }]), registry, [{ name: 'run.log', kind: 'file' }]);
    fill(folder, ['main.raw']);
    assert.throws(() => inspectWorkFolder(folder, registry, IMAGES_RUN), /holds main\.raw, which this extension did not create/);
    assert.throws(() => inspectWorkFolder(folder, registry, [{ name: 'run.log', kind: 'file' }], true), /holds main\.raw/);
    assert.equal(readFileSync(path.join(folder, 'main.raw'), 'utf8'), 'contents of main.raw\n');
  });

  it('deletes only what the confirmation listed, even if the record grew while the dialog was open', async () => {
    const folder = path.join(workspace, 'race');
    const registry = memoryRegistry();
    await claimWorkFolder(inspectWorkFolder(folder, registry, IMAGES_RUN), registry, IMAGES_RUN);
    fill(folder, ['run.log']);
    const state = inspectWorkFolder(folder, registry, IMAGES_RUN);
    assert.deepEqual(state.toRemove.map((entry) => entry.name), ['run.log']);
    // Meanwhile: main.raw appears and the record (same token) names it.
    fill(folder, ['main.raw']);
    await claimWorkFolder({ ...state, toRemove: state.toRemove }, registry, [{ name: 'run.log', kind: 'file' }]);
    assert.ok(existsSync(path.join(folder, 'main.raw')), 'not shown in the dialog: kept');
    assert.ok(!existsSync(path.join(folder, 'run.log')));
  });
});
