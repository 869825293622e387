/**
 * # Add or remove "zfsutil"
 *
 * Makes a zfs `fileSystems` entry's options match the dataset's ZFS `mountpoint` property (F13, F23): adds
 * `"zfsutil"` to the options list the entry writes (in the list's own layout), or writes `options = [ "zfsutil" ];`
 * into the entry when it has none; on a legacy dataset it removes the `"zfsutil"` item, and only that list element
 * (a list that held nothing else goes with its binding, since NixOS rejects `options = [ ];` where nothing else adds
 * to it). Fixes `zfsutil-mismatch`. No fix when the options are not a list literal (a variable, `++`), or the item is
 * not a plain string there.
 *
 * An entry in a generated file (`hardware-configuration.nix`, or a "do not modify" header) is not edited there:
 * `fileSystems."<mp>".options = [ "zfsutil" ];` goes into the host's own module, and NixOS adds it to the generated
 * list. Removing the item from a generated list would take `lib.mkForce` over the whole list: no fix.
 *
 * ```nix
 * # before (disko: rpool/safe/home has options.mountpoint = "none")
 * fileSystems."/home" = {
 *   device = "rpool/safe/home";
 *   fsType = "zfs";
 * };
 * # after
 * fileSystems."/home" = {
 *   device = "rpool/safe/home";
 *   fsType = "zfs";
 *   options = [ "zfsutil" ];
 * };
 * ```
 */
import type { FileSystemEntry } from '../../model/host-model';
import { addZfsutil, removeZfsutil } from '../filesystem-edits';
import type { FixProvider } from '../types';

export const provider: FixProvider = {
  name: 'fix-zfsutil',
  codes: ['zfsutil-mismatch'],
  fixes({ finding, host, workspace }) {
    const entry = finding.data?.entry as FileSystemEntry | undefined;
    const add = finding.data?.add as boolean | undefined;
    if (!entry || add === undefined) return [];
    if (add) {
      const edit = addZfsutil(host, workspace, entry);
      return edit ? [{ title: `Add "zfsutil" to the options of fileSystems.${JSON.stringify(entry.mountPoint)}`, preferred: true, edits: [edit] }] : [];
    }
    const edits = removeZfsutil(workspace, entry);
    return edits ? [{ title: `Remove "zfsutil" from the options of fileSystems.${JSON.stringify(entry.mountPoint)}`, preferred: true, edits }] : [];
  },
};
