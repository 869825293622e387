/**
 * Only image files in the work folder are ever formatted: arguments that resolve to /dev or a device are refused
 * (also through symlinks and `name=value`), the work folder's path is checked, image names cannot leave it, and the images
 * a run leaves are checked with real qemu-img (Debian qemu-utils).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { SafetyError, checkImageNames, checkImages, checkStep, checkWorkFolder, deviceReason } from '../../client/src/disko-vm/safety';

const dir = mkdtempSync(path.join(os.tmpdir(), 'disko-vm-safety-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('device arguments are refused', () => {
  symlinkSync('/dev/null', path.join(dir, 'innocent.raw'));
  symlinkSync('/dev', path.join(dir, 'devdir'));

  it('/dev paths, existing or not, and devices', () => {
    assert.match(deviceReason('/dev/sda', dir)!, /under \/dev/);
    assert.match(deviceReason('/dev/null', dir)!, /under \/dev/);
    assert.match(deviceReason('/dev/disk/by-id/nvme-PC601_NVMe_SK_hynix_256GB', dir)!, /under \/dev/);
    assert.match(deviceReason('../../../../../../../dev/sda', dir)!, /under \/dev/);
  });

  it('through symlinks: a file and a folder that lead into /dev', () => {
    assert.match(deviceReason(path.join(dir, 'innocent.raw'), dir)!, /resolves to \/dev\/null/);
    assert.match(deviceReason('innocent.raw', dir)!, /resolves to \/dev\/null/);
    assert.match(deviceReason(path.join(dir, 'devdir', 'sda'), dir)!, /resolves to \/dev\/sda/);
  });

  it('the value of a name=value argument', () => {
    assert.match(deviceReason('file=/dev/sda', dir)!, /under \/dev/);
    assert.match(deviceReason('--store=/dev/sdb', dir)!, /under \/dev/);
  });

  it('lets ordinary arguments through', () => {
    for (const argument of ['build', '-L', '--log-format', 'internal-json', '.#nixosConfigurations.seed.config.system.build.diskoImagesScript', '<nixpkgs/nixos>', '2048', dir, path.join(dir, 'images-script'), 'github:nix-community/disko', 'nix-command flakes', 'builtins ? getFlake']) {
      assert.equal(deviceReason(argument, dir), undefined, argument);
    }
  });

  it('checkStep refuses a step by any of its arguments, its folder or its executable', () => {
    const ok = { command: 'nix', args: ['build', '--out-link', path.join(dir, 'x')], cwd: dir };
    assert.doesNotThrow(() => checkStep(ok));
    assert.throws(() => checkStep({ ...ok, args: [...ok.args, '--option', 'x', '/dev/sda'] }), SafetyError);
    assert.throws(() => checkStep({ ...ok, cwd: '/dev' }), /Refused: \/dev/);
    assert.throws(() => checkStep({ ...ok, command: path.join(dir, 'innocent.raw') }), /only ever formats image files in its work folder/);
  });
});

describe('the work folder', () => {
  it('must be an absolute folder outside /dev, /proc and /sys; the check creates nothing', () => {
    const folder = path.join(dir, 'work', 'nested');
    assert.equal(checkWorkFolder(folder), folder);
    assert.ok(!existsSync(folder), 'work-folder.ts creates it, after the confirmation');
    assert.throws(() => checkWorkFolder('relative/work'), /not an absolute path/);
    assert.throws(() => checkWorkFolder('/dev/shm/er-work'), /under \/dev/);
    assert.throws(() => checkWorkFolder('/dev/null'), SafetyError);
    assert.throws(() => checkWorkFolder(path.join(dir, 'devdir', 'x')), /\/dev/);
    assert.throws(() => checkWorkFolder('/proc/self/x'), /under \/proc/);
    assert.throws(() => checkWorkFolder('/'), /cannot be \//);
    writeFileSync(path.join(dir, 'a-file'), 'x');
    assert.throws(() => checkWorkFolder(path.join(dir, 'a-file')), /not a folder/);
  });

  it('image names cannot leave it', () => {
    assert.doesNotThrow(() => checkImageNames(['main', 'disk-data_2']));
    for (const name of ['../main', 'a/b', '..', '', '/etc/passwd']) assert.throws(() => checkImageNames([name]), SafetyError, name);
  });
});

describe('the images, checked with real qemu-img', () => {
  const qemu = (args: string[]) => {
    const run = spawnSync('qemu-img', args, { encoding: 'utf8' });
    if (run.error) throw new Error(`qemu-img is not available (${run.error.message}); install Debian's qemu-utils`);
    assert.equal(run.status, 0, run.stderr);
  };

  it('reads format and size, and reports missing and wrong images', () => {
    const folder = path.join(dir, 'images');
    mkdirSync(folder);
    qemu(['create', '-f', 'raw', path.join(folder, 'main.raw'), '2G']);
    qemu(['create', '-f', 'qcow2', path.join(folder, 'data.qcow2'), '1G']);
    const good = checkImages(folder, ['main.raw'], 'raw');
    assert.deepEqual(
      good.images.map((image) => [path.basename(image.file), image.format, image.virtualSize]),
      [
        ['data.qcow2', 'qcow2', 1024 ** 3],
        ['main.raw', 'raw', 2 * 1024 ** 3],
      ],
    );
    assert.deepEqual(good.problems, []);
    writeFileSync(path.join(folder, 'fake.qcow2'), 'not an image');
    const bad = checkImages(folder, ['main.raw', 'other.raw'], 'qcow2');
    assert.deepEqual(bad.problems, ['fake.qcow2 is raw, not qcow2', 'other.raw was not created']);
    // Image files that were there before the run are the user's: not looked at, not counted.
    const mine = checkImages(folder, ['main.raw'], 'raw', undefined, new Set(['data.qcow2', 'fake.qcow2']));
    assert.deepEqual([mine.images.map((image) => path.basename(image.file)), mine.problems], [['main.raw'], []]);
  });

  it('an image that is a link (into /dev or anywhere) is not an image', () => {
    const folder = path.join(dir, 'linked');
    mkdirSync(folder);
    symlinkSync('/dev/null', path.join(folder, 'main.raw'));
    assert.deepEqual(checkImages(folder, ['main.raw'], 'raw').problems, ['main.raw is not a regular file', 'main.raw was not created']);
  });
});
