/**
 * # Make the tmpfs root 0755
 *
 * Appends `"mode=755"` to the mount options of a tmpfs `/`, the list written by hand in `fileSystems."/".options` or
 * in disko's `nodev."/".mountOptions`. The last `mode=` wins, so a `mode=1777` earlier in the list is overridden
 * (F58). When the host writes the entry but no options, it writes `options = [ "defaults" "mode=755" ];` (NixOS's
 * default list is `[ "defaults" ]`). Fixes `tmpfs-root-mode`. No edit in a generated file.
 *
 * ```nix
 * # before
 * fileSystems."/" = { device = "none"; fsType = "tmpfs"; options = [ "defaults" "size=2G" ]; };
 * # after
 * fileSystems."/" = { device = "none"; fsType = "tmpfs"; options = [ "defaults" "size=2G" "mode=755" ]; };
 * ```
 */
import type { Definition } from '../../model/config';
import { tmpfsRootOf } from '../../model/tmpfs';
import { nodeAt, setEntryField } from '../filesystem-edits';
import { isGenerated } from '../generated';
import { type TextEdit, appendToList, nixString } from '../nix-edit';
import type { FixProvider } from '../types';
import type { Workspace } from '../../model/workspace';

/** Appends the option to the first list literal among the definitions, in a file the user owns. */
function appendToWrittenList(workspace: Workspace, definitions: Definition[]): TextEdit | undefined {
  if (definitions.some((definition) => definition.conditional)) return undefined;
  for (const definition of definitions) {
    const origin = definition.origin;
    const source = origin && workspace.source(origin.file);
    if (!source || isGenerated({ path: source.path, text: source.text })) continue;
    const list = nodeAt(source, origin, ['list_expression']);
    if (list) return appendToList(source, list, nixString('mode=755'));
  }
  return undefined;
}

export const provider: FixProvider = {
  name: 'set-tmpfs-root-mode',
  codes: ['tmpfs-root-mode'],
  fixes({ host, workspace }) {
    const root = tmpfsRootOf(host);
    if (!root) return [];
    let result: TextEdit | undefined;
    if (root.fromDisko) {
      const nodev = host.input.diskoDevices?.child('nodev');
      const declared = nodev?.childNames().map((name) => nodev.child(name)).find((node) => {
        const mountpoint = node.child('mountpoint').string();
        return mountpoint.state === 'known' ? mountpoint.value === '/' : mountpoint.state === 'absent' && node.path[node.path.length - 1] === '/';
      });
      const mountOptions = declared?.child('mountOptions');
      result = mountOptions && !mountOptions.absent ? appendToWrittenList(workspace, mountOptions.definitions) : undefined;
    } else {
      const written = root.entry.node.child('options').definitions.filter((definition) => definition.synthetic !== 'disko');
      result = written.length > 0 ? appendToWrittenList(workspace, written) : setEntryField(host, workspace, root.entry, ['options'], '[ "defaults" "mode=755" ]');
    }
    if (!result) return [];
    return [{ title: 'Mount the tmpfs root with mode=755', preferred: true, edits: [result] }];
  },
};
