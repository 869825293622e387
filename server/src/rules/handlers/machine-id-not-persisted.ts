/**
 * # machine-id-not-persisted
 *
 * **What.** The root is erased at every boot, `/etc/machine-id` is kept by nothing, and
 * `environment.etc."machine-id"` does not set it declaratively.
 *
 * **Why.** systemd generates a new machine id at every boot, and journald writes to `/var/log/journal/<machine-id>/`
 * (systemd-journald.service(8), F54): the journals of earlier boots are kept but filed under ids nothing looks for.
 * impermanence keeps the file and already suppresses `systemd-machine-id-commit.service` for it (F49).
 *
 * **At boot.** A new machine id every boot; `journalctl --boot=-1` finds nothing.
 *
 * **Fix.** Keep the file (offered for one known persistence root). preservation binds it in the initrd, which its
 * documentation asks for this file (`inInitrd`, F54, F69):
 *
 * ```nix
 * # before
 * environment.persistence."/persist".files = [ ];
 * # after
 * environment.persistence."/persist".files = [ "/etc/machine-id" ];
 * # preservation, after
 * preservation.preserveAt."/persist".files = [ { file = "/etc/machine-id"; inInitrd = true; } ];
 * ```
 */
import { finding, related } from '../support';
import { singlePersistenceRoot } from '../survival';
import type { Rule } from '../types';

export const rule: Rule = {
  code: 'machine-id-not-persisted',
  severity: 'information',
  summary: 'A new machine id at every boot: /etc/machine-id is not kept on an ephemeral root.',
  facts: ['F54', 'F49', 'F69'],
  check(host) {
    const ephemeral = host.ephemeralRoot();
    if (!ephemeral || host.coverOf('/etc/machine-id')?.kind !== 'none') return [];
    if (!host.config.at('environment', 'etc', 'machine-id').absent) return [];
    const root = singlePersistenceRoot(host);
    const roots = host.persistenceDetails().roots.filter((candidate) => !candidate.conditional && candidate.origin);
    const origin = roots[0]?.origin ?? ephemeral.origin;
    if (!origin) return [];
    return [
      finding(this, origin, `/etc/machine-id is kept by nothing while the root ${ephemeral.how}: systemd makes a new machine id at every boot, and the journal of earlier boots is filed under ids nothing looks for. Persist /etc/machine-id${root ? (root.module === 'impermanence' ? ` in environment.persistence."${root.path}".files` : ` in preservation.preserveAt."${root.path}".files with inInitrd = true`) : ' on persistent storage (an impermanence files entry, or a preservation files entry with inInitrd = true)'}.`, {
        related: [related(ephemeral.origin, 'what erases the root')],
        data: root ? { persistRoot: root.path, module: root.module } : undefined,
      }),
    ];
  },
};
