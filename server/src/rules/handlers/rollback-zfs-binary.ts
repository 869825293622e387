/**
 * # rollback-zfs-binary
 *
 * **What.** A rollback unit gets `zfs` from `pkgs.zfs` (`path = [ pkgs.zfs ]` or `${pkgs.zfs}/bin/zfs`) while the host
 * uses another ZFS package (`boot.zfs.package`).
 *
 * **Why.** In the initrd, `/bin/zfs` is already `boot.zfs.package` (F8); `path` replaces PATH and pulls a second,
 * different ZFS userland into the initrd (F18), which may not match the kernel module (F11). A pinned version
 * (`boot.zfs.package = pkgs.zfs_2_2`) is not reported: it may be the very package `pkgs.zfs` is in that nixpkgs.
 *
 * **At boot.** A userland/kernel module mismatch: zfs commands fail or behave differently.
 *
 * **Fix.**
 *
 * ```nix
 * # before
 * path = [ pkgs.zfs ];
 * # after
 * path = [ config.boot.zfs.package ];
 * ```
 */
import type { Unit } from '../../model/host-model';
import type { Origin } from '../../model/values';
import { finding, q, related, rollbackUnits } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'rollback-zfs-binary',
  severity: 'warning',
  summary: 'A rollback unit uses pkgs.zfs while boot.zfs.package is another package.',
  facts: ['F18', 'F8', 'F11'],
  check(host) {
    const zfsPackage = host.zfsPackage();
    if (zfsPackage.state !== 'known' || zfsPackage.value.kind !== 'symbol') return [];
    const packageName = zfsPackage.value.path.join('.');
    if (packageName === 'pkgs.zfs') return [];
    // A pinned version (`pkgs.zfs_2_3`) may be the very package `pkgs.zfs` is in that nixpkgs: not known here.
    if (/^pkgs\.zfs_\d+_\d+$/.test(packageName)) return [];
    const findings: Finding[] = [];
    const report = (unit: Unit, origin: Origin, how: string) =>
      findings.push(
        finding(
          this,
          origin,
          `${q(unit.name)} takes zfs from ${q('pkgs.zfs')} (${how}), but ${q('boot.zfs.package')} is ${q(packageName)}: the initrd then carries a second ZFS userland that may not match the kernel module. Use ${q('config.boot.zfs.package')} (in the initrd, /bin/zfs already is that package).`,
          {
            related: [related(zfsPackage.definitions[0].origin, `boot.zfs.package = ${packageName}`)],
            data: { unit, origin },
          },
        ),
      );
    for (const { unit } of rollbackUnits(host)) {
      for (const item of unit.node.child('path').list().items) {
        const value = item.thunk.force();
        if (item.definition.conditional || value.kind !== 'symbol' || value.path.join('.') !== 'pkgs.zfs') continue;
        const origin = item.thunk.origin ?? value.origin;
        if (origin) report(unit, origin, 'its `path`');
      }
      // `${pkgs.zfs}/bin/zfs rollback …` in the script or ExecStart.
      for (const fragment of unit.scripts) {
        if (fragment.definition.conditional) continue;
        for (const piece of fragment.value.pieces) {
          if (piece.symbol?.join('.') === 'pkgs.zfs' && piece.written) report(unit, piece.written, `\`\${pkgs.zfs}\` in its ${q(fragment.field)}`);
        }
      }
    }
    return findings;
  },
};
