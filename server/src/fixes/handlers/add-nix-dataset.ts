/**
 * # Add a /nix dataset
 *
 * The root is erased on every boot and `/nix` lives on it: adds a dataset for `/nix` right after the root dataset in
 * disko, under the same parent (root `"local/root"` → `"local/nix"`), legacy-mounted at `/nix`:
 * `type = "zfs_fs"; options.mountpoint = "legacy"; mountpoint = "/nix";`. disko then emits its fileSystems entry;
 * where disko's fileSystems are not (or not surely) in effect, the same fix writes that entry into the host
 * (`device`, `fsType`; `/nix` is always mounted in stage 1, F1). Fixes `nix-on-ephemeral-root`. Only offered when disko
 * declares the root dataset and the new name is free; the store still has to be copied over by hand.
 *
 * ```nix
 * # before
 * "local/root" = {
 *   type = "zfs_fs";
 *   options.mountpoint = "legacy";
 *   mountpoint = "/";
 * };
 * # after
 * "local/root" = {
 *   type = "zfs_fs";
 *   options.mountpoint = "legacy";
 *   mountpoint = "/";
 * };
 * "local/nix" = {
 *   type = "zfs_fs";
 *   options.mountpoint = "legacy";
 *   mountpoint = "/nix";
 * };
 * ```
 */
import type { Pool } from '../../model/disko';
import { datasetBinding, insertEntry } from '../filesystem-edits';
import { type TextEdit, insertBindingAt, locate } from '../nix-edit';
import type { FixProvider } from '../types';

export const provider: FixProvider = {
  name: 'add-nix-dataset',
  codes: ['nix-on-ephemeral-root'],
  fixes({ finding, host, workspace }) {
    const pool = finding.data?.pool as Pool | undefined;
    const root = host.rootDataset()?.dataset;
    if (!pool || !root || root.pool !== pool || root.isPoolRoot) return [];
    // The dataset's name is its attribute name (no `name = …` of its own): the new one follows the same rule.
    if (root.fullName !== `${pool.name}/${root.attrName}`) return [];
    const slash = root.attrName.lastIndexOf('/');
    const attr = `${slash < 0 ? '' : root.attrName.slice(0, slash + 1)}nix`;
    const device = `${pool.name}/${attr}`;
    if (pool.datasets.some((dataset) => dataset.attrName === attr || dataset.fullName === device || dataset.fullName.startsWith(`${device}/`))) return [];
    const declared = datasetBinding(workspace, root);
    if (!declared?.body) return [];
    const path = [...declared.prefix, attr];
    const located = locate(declared.container, path);
    if (located.binding || located.blocked || located.container !== declared.container) return [];
    const oneLine = !declared.binding.text.includes('\n');
    const fields = ['type = "zfs_fs";', 'options.mountpoint = "legacy";', 'mountpoint = "/nix";'];
    const edits: TextEdit[] = [
      insertBindingAt(declared.file, declared.container, declared.binding, 'after', path, oneLine ? `{ ${fields.join(' ')} }` : ['{', ...fields.map((field) => `  ${field}`), '}'].join('\n')),
    ];
    if (host.diskoInEffect() !== true) {
      const entry = insertEntry(host, workspace, '/nix', { device, fsType: 'zfs' });
      if (!entry) return [];
      edits.push(entry);
    }
    return [{ title: `Add a /nix dataset ${device} next to the root dataset (legacy, mounted at /nix)`, preferred: true, edits }];
  },
};
