/**
 * # Declare the parent dataset
 *
 * Declares a dataset that disko would otherwise create implicitly with `zfs create -p` (F22), right before its
 * first declared child and in the children's style (a block, one line, `datasets."…"` at the pool level): as a
 * container, `type = "zfs_fs"; options.mountpoint = "none";`, so it is never mounted itself. When a child has no
 * mountpoint of its own and inherits it through the parent, `none` would unmount that child: the parent is then
 * declared with `type = "zfs_fs";` alone, which keeps what it inherits today. Fixes `implicit-parent-dataset`.
 *
 * ```nix
 * # before
 * datasets = {
 *   "local/root" = { type = "zfs_fs"; mountpoint = "/"; options.mountpoint = "legacy"; };
 * };
 * # after
 * datasets = {
 *   local = {
 *     type = "zfs_fs";
 *     options.mountpoint = "none";
 *   };
 *   "local/root" = { type = "zfs_fs"; mountpoint = "/"; options.mountpoint = "legacy"; };
 * };
 * ```
 */
import { type Pool, effectiveMountProperty } from '../../model/disko';
import { type DatasetBinding, datasetBinding } from '../filesystem-edits';
import { bindingPath, insertBindingAt, locate } from '../nix-edit';
import type { FixProvider } from '../types';

export const provider: FixProvider = {
  name: 'declare-parent-dataset',
  codes: ['implicit-parent-dataset'],
  fixes({ finding, host, workspace }) {
    const pool = finding.data?.pool as Pool | undefined;
    const parent = finding.data?.parent as string | undefined;
    const layout = host.layout;
    if (!pool || !parent || !layout) return [];
    const full = `${pool.name}/${parent}`;
    const inside = (name: string) => name === full || name.startsWith(`${full}/`);
    const children = pool.datasets.filter((dataset) => dataset.fullName.startsWith(`${full}/`));
    // A child that takes its ZFS mountpoint from above the parent would take the parent's instead.
    let inherited = false;
    for (const child of children) {
      const property = effectiveMountProperty(child, layout);
      if (!property) return [];
      if (!inside(property.from.fullName)) inherited = true;
    }
    // Right before the first child written in the file of the finding.
    const anchors = children
      .map((child) => datasetBinding(workspace, child))
      .filter((item): item is DatasetBinding => item !== undefined && item.file.path === finding.origin.file)
      .sort((a, b) => a.binding.startIndex - b.binding.startIndex);
    const anchor = anchors[0];
    if (!anchor) return [];
    const path = [...anchor.prefix, parent];
    const located = locate(anchor.container, path);
    if (located.binding || located.blocked || located.container !== anchor.container) return [];
    const oneLine = !anchor.binding.text.includes('\n');
    const fields = inherited ? ['type = "zfs_fs";'] : ['type = "zfs_fs";', 'options.mountpoint = "none";'];
    // Children written as `"a/b".type = "zfs_fs";` get a parent in the same dotted form.
    const dotted = oneLine && inherited && (bindingPath(anchor.binding)?.length ?? 0) > path.length;
    const edit = dotted
      ? insertBindingAt(anchor.file, anchor.container, anchor.binding, 'before', [...path, 'type'], '"zfs_fs"')
      : insertBindingAt(anchor.file, anchor.container, anchor.binding, 'before', path, oneLine ? `{ ${fields.join(' ')} }` : ['{', ...fields.map((field) => `  ${field}`), '}'].join('\n'));
    const title = inherited ? `Declare ${full} (keeping the mountpoint its children inherit through it)` : `Declare ${full} as a container (options.mountpoint = "none")`;
    return [{ title, preferred: true, edits: [edit] }];
  },
};
