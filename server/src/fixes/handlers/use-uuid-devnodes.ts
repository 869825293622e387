/**
 * # Look for the pool's disks by UUID
 *
 * Sets `boot.zfs.devNodes = "/dev/disk/by-uuid";` on a QEMU guest, where `/dev/disk/by-id` is empty for virtio disks
 * without a serial (F28): it replaces the `"/dev/disk/by-id"` the host writes (also a pool's own
 * `boot.zfs.pools.<pool>.devNodes`), or writes the option into the file that already configures `boot.zfs` (else the
 * host's configuration) when the default applies. Fixes `devnodes-vm`. No fix when the value is computed.
 *
 * Never into `hardware-configuration.nix`, although that is where nixos-generate-config puts the QEMU profile and
 * `boot.*`: its next run would drop the line. When the host has no module of its own that can take the option (a
 * flake that lists only the generated file and the disko file), an editor that can create files gets a new module
 * `ephemeral-root.nix` beside the host's files, added to the root module's `imports` or the flake's `modules`.
 *
 * ```nix
 * # before
 * boot.zfs.devNodes = "/dev/disk/by-id";
 * # after
 * boot.zfs.devNodes = "/dev/disk/by-uuid";
 * ```
 */
import { setInHost } from '../filesystem-edits';
import { edit, nixString } from '../nix-edit';
import { plainStringAt } from '../script-edits';
import type { FixProvider } from '../types';

const BY_UUID = '/dev/disk/by-uuid';

export const provider: FixProvider = {
  name: 'use-uuid-devnodes',
  codes: ['devnodes-vm'],
  fixes({ finding, host, workspace }) {
    const title = `Set boot.zfs.devNodes = "${BY_UUID}"`;
    if (finding.data?.explicit === true) {
      const written = plainStringAt(workspace, finding.origin);
      if (!written || written.text.replace(/\/$/, '') !== '/dev/disk/by-id') return [];
      return [{ title: `Use "${BY_UUID}" instead of "${written.text}"`, preferred: true, edits: [edit(written.file, written.node.startIndex, written.node.endIndex, nixString(BY_UUID))] }];
    }
    if (finding.data?.explicit !== false) return [];
    const set = setInHost(host, workspace, ['boot', 'zfs', 'devNodes'], nixString(BY_UUID));
    return set ? [{ title, preferred: true, edits: [set] }] : [];
  },
};
