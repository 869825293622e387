/**
 * # Set networking.hostId
 *
 * Writes `networking.hostId` with 8 lowercase hexadecimal digits derived from the host's name (a hash, so the same
 * host always gets the same id), and a comment on taking the machine's own id instead. It goes into the file that
 * already sets `networking.*`, else the host's configuration; an invalid value written as a plain string is
 * replaced (F12). Fixes `hostid-missing`. No fix when the invalid value is computed.
 *
 * ```nix
 * # before
 * networking.hostName = "atlas";
 * # after
 * networking.hostName = "atlas";
 * networking.hostId = "7c826025"; # derived from the host name; or use the machine's: head -c 8 /etc/machine-id
 * ```
 */
import { createHash } from 'node:crypto';
import type { HostModel } from '../../model/host-model';
import { edit, nixString, trySetAttribute } from '../nix-edit';
import { plainStringAt } from '../script-edits';
import { targetsFor } from '../targets';
import type { FixProvider } from '../types';

const COMMENT = "derived from the host name; or use the machine's: head -c 8 /etc/machine-id";

/** A stable host id for a host: the first 8 hex digits of the SHA-256 of its host name (else of its name). */
export function generatedHostId(host: HostModel): string {
  const hostName = host.config.at('networking', 'hostName').string();
  const name = hostName.state === 'known' && hostName.value ? hostName.value : host.name;
  return createHash('sha256').update(name).digest('hex').slice(0, 8);
}

export const provider: FixProvider = {
  name: 'set-host-id',
  codes: ['hostid-missing'],
  fixes({ finding, host, workspace }) {
    const id = generatedHostId(host);
    if (finding.data?.invalid === true) {
      // Only a value written as a plain string literal is replaced; a computed one is the user's expression.
      const written = plainStringAt(workspace, finding.origin);
      if (!written) return [];
      return [{ title: `Replace the host id by "${id}" (8 hex digits)`, preferred: true, edits: [edit(written.file, written.node.startIndex, written.node.endIndex, nixString(id))] }];
    }
    if (finding.data?.invalid !== false) return [];
    // The first file (the one that sets `networking.*`, else the host's configuration) where the binding fits safely.
    const path = ['networking', 'hostId'];
    for (const target of targetsFor(host, workspace, path)) {
      const set = trySetAttribute(target.file, target.body, path, nixString(id), COMMENT);
      if (set) return [{ title: `Set networking.hostId = "${id}"`, preferred: true, edits: [set] }];
    }
    return [];
  },
};
