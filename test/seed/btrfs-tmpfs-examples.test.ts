/**
 * The btrfs and tmpfs examples `npm start` shows beside the seed: each correct host (examples/btrfs-impermanence,
 * examples/tmpfs-root) has no finding, and each broken one (examples/broken-btrfs, examples/broken-tmpfs) has exactly
 * the findings its comments promise, each with a quick fix the demo can apply.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fixesFor } from '../../server/src/fixes/registry';
import { REPO_ROOT, analyzeFolder } from '../support/engine';

const EXAMPLES = path.join(REPO_ROOT, 'examples');

async function findingsOf(example: string) {
  const { result, workspace } = await analyzeFolder(path.join(EXAMPLES, example));
  assert.deepEqual(result.faults, [], 'no rule may fail');
  return { result, workspace };
}

describe('btrfs and tmpfs examples', () => {
  for (const example of ['btrfs-impermanence', 'tmpfs-root']) {
    it(`${example} has no finding`, async () => {
      const { result } = await findingsOf(example);
      assert.deepEqual(result.findings.map((finding) => `${finding.code}: ${finding.message}`), []);
    });
  }

  const broken: [string, string[]][] = [
    ['broken-btrfs', ['btrfs-rollback-mounts-subvolume', 'btrfs-rollback-nested-subvolumes', 'wantedby-unknown-target']],
    ['broken-tmpfs', ['boot-on-ephemeral-root', 'tmpfs-root-mode']],
  ];
  for (const [example, codes] of broken) {
    it(`${example} has exactly ${codes.join(', ')}`, async () => {
      const { result } = await findingsOf(example);
      assert.deepEqual(result.findings.map((finding) => finding.code).sort(), codes);
    });
  }

  it('the demo can fix the tmpfs mode and the btrfs mount option', async () => {
    for (const [example, code] of [['broken-tmpfs', 'tmpfs-root-mode'], ['broken-btrfs', 'btrfs-rollback-mounts-subvolume']]) {
      const { result, workspace } = await findingsOf(example);
      const finding = result.findings.find((item) => item.code === code)!;
      const host = result.hosts.find((item) => item.name === finding.host)!;
      const fixes = fixesFor(finding, host, workspace, (failed, error) => assert.fail(`${failed}: ${String(error)}`), { createFiles: true });
      assert.ok(fixes.some((fix) => fix.preferred), `${example}: no preferred fix for ${code}`);
    }
  });
});
