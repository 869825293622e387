/**
 * # Set networking.hostId to the installer's id
 *
 * Writes `networking.hostId = "8425e349"`, the id the NixOS installer sets (`profiles/base.nix`: `networking.hostId
 * = lib.mkDefault "8425e349"`, F40), with a comment on how to check it. It goes into the file that already sets
 * `networking.*`, else the host's configuration; an invalid value written as a plain string is replaced (F12).
 * Fixes `hostid-missing`. No fix when the invalid value is computed. It is the preferred fix because the installer's
 * id is the one pools created by disko or nixos-anywhere carry; the comment it writes says how to check that.
 *
 * Why not a fresh id: ZFS pools record the host id of the system that last imported them. disko and nixos-anywhere
 * create the pools from the installer, under its id, and a pool that was not exported before the reboot imports
 * elsewhere only by force (disko#359, nixos-anywhere#156; disko's unmount exports pools since aa00625, 2024-11, but
 * not every install path runs it). With any other id such data pools refuse to import at the first boot
 * (`boot.zfs.forceImportAll` is off), and so does the root pool on hosts whose `system.stateVersion` is 26.11 or
 * later, where `boot.zfs.forceImportRoot` defaults to false (nixpkgs PR #495581). Before keeping another id, read the pools' id — `zdb -l <pool device> | grep hostid`
 * (a decimal number; `printf '%08x\n' <n>` gives the hex form), or `hostid` on the system that imported them — and
 * know that a new id needs one `zpool import -f <pool>` per pool (or booting once with `zfs_force=1`, or
 * `boot.zfs.forceImportRoot = true` for the root pool).
 *
 * ```nix
 * # before
 * networking.hostName = "atlas";
 * # after
 * networking.hostName = "atlas";
 * networking.hostId = "8425e349"; # the NixOS installer's id, which pools made from it carry; check: zdb -l <pool device> | grep hostid; another id needs one "zpool import -f" per pool
 * ```
 */
import { compareRelease } from '../../model/release';
import type { HostModel } from '../../model/host-model';
import { edit, nixString, trySetAttribute } from '../nix-edit';
import { plainStringAt } from '../script-edits';
import { targetsFor } from '../targets';
import type { FixProvider } from '../types';

/** `networking.hostId = lib.mkDefault "8425e349"` in nixpkgs `nixos/modules/profiles/base.nix` (F40). */
export const INSTALLER_HOST_ID = '8425e349';

const COMMENT = `the NixOS installer's id, which pools made from it carry; check: zdb -l <pool device> | grep hostid; another id needs one "zpool import -f" per pool`;

/** What another id than the pools' would break at the first boot, for the fix's title. */
function firstBootStakes(host: HostModel): string {
  const stateVersion = host.config.at('system', 'stateVersion').string();
  const rootPoolToo = stateVersion.state === 'known' && /^\d{2}\.\d{2}$/.test(stateVersion.value) && compareRelease(stateVersion.value, '26.11') >= 0;
  return rootPoolToo ? 'with another id no pool imports at first boot, the root pool included' : 'with another id the data pools do not import at first boot';
}

export const provider: FixProvider = {
  name: 'set-host-id',
  codes: ['hostid-missing'],
  fixes({ finding, host, workspace }) {
    const title = `Set networking.hostId = "${INSTALLER_HOST_ID}", the NixOS installer's id that pools created by disko or nixos-anywhere carry (check it: ${firstBootStakes(host)})`;
    if (finding.data?.invalid === true) {
      // Only a value written as a plain string literal is replaced; a computed one is the user's expression.
      const written = plainStringAt(workspace, finding.origin);
      if (!written) return [];
      return [{ title, preferred: true, edits: [edit(written.file, written.node.startIndex, written.node.endIndex, nixString(INSTALLER_HOST_ID))] }];
    }
    if (finding.data?.invalid !== false) return [];
    // The first file (the one that sets `networking.*`, else the host's configuration) where the binding fits safely.
    const path = ['networking', 'hostId'];
    for (const target of targetsFor(host, workspace, path)) {
      const set = trySetAttribute(target.file, target.body, path, nixString(INSTALLER_HOST_ID), COMMENT);
      if (set) return [{ title, preferred: true, edits: [set] }];
    }
    return [];
  },
};
