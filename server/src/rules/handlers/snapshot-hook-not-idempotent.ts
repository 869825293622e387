/**
 * # snapshot-hook-not-idempotent
 *
 * **What.** A disko hook runs a bare `zfs snapshot X@snap`. The shape of the command is enough: a snapshot name
 * with unknown parts (`zfs snapshot ${diskName}-zfsos/faketmpfs@blank`), or a hook of a pool or dataset declared
 * under a computed name, is still a bare, non-idempotent `zfs snapshot`.
 *
 * **Why.** disko runs every `postCreateHook` each time the format script runs, outside its "already exists" check,
 * under `set -e` (F25). The second `disko --mode format` (re-running an install, a `destroy,format,mount` that kept
 * the pool) finds the snapshot already there and aborts.
 *
 * **At install.** "cannot create snapshot '…': dataset already exists"; the format script stops half way.
 *
 * **Fix.** Guard the snapshot, as disko's own example does.
 *
 * ```nix
 * # before
 * postCreateHook = "zfs snapshot rpool/nixos/empty@start";
 * # after
 * postCreateHook = "zfs list -t snapshot -H -o name | grep -E '^rpool/nixos/empty@start$' || zfs snapshot rpool/nixos/empty@start";
 * ```
 */
import { scriptText } from '../../model/disko';
import type { HostModel } from '../../model/host-model';
import { findInvocations, UNKNOWN_CHAR } from '../../model/shell';
import { originOfRange } from '../../model/strings';
import type { Origin } from '../../model/values';
import { finding, q } from '../support';
import type { Finding, Rule } from '../types';

/** The disko mode whose script runs a hook (F25). */
function modeOf(hook: string): string {
  return hook.endsWith('CreateHook') ? 'format' : hook.endsWith('UnmountHook') ? 'unmount' : 'mount';
}

export const rule: Rule = {
  code: 'snapshot-hook-not-idempotent',
  severity: 'warning',
  summary: 'A disko hook takes a snapshot unconditionally; re-running the format script aborts.',
  facts: ['F25', 'F61'],
  check(host) {
    const layout = host.layout;
    const findings: Finding[] = bareBtrfsSnapshots(this, host);
    if (!layout) return findings;
    // Datasets under computed names count too: this rule needs the command's shape, not the dataset's name.
    for (const dataset of [...layout.datasets, ...layout.unnamedDatasets]) {
      for (const hook of dataset.hooks) {
        for (const definition of hook.fragments) {
          if (definition.conditional || definition.value.kind !== 'string') continue;
          const value = definition.value;
          const invocations = findInvocations(scriptText(value), 'zfs');
          for (const invocation of invocations) {
            if (invocation.subcommand !== 'snapshot' || !invocation.command.bare || invocation.operands.length === 0) continue;
            // `zfs destroy X@s` earlier in the hook removes the snapshot first: a re-run does not abort.
            const destroyed = invocations.some(
              (earlier) =>
                earlier.subcommand === 'destroy' &&
                earlier.command.start < invocation.command.start &&
                earlier.operands.some((word) => invocation.operands.some((operand) => !operand.dynamic && operand.text === word.text)),
            );
            if (destroyed) continue;
            const { command, program } = invocation;
            const subcommand = command.words.find((word) => word.start > program.start && word.text === 'snapshot');
            // The command; when interpolations split it, the longest part that is written in one place.
            const origin: Origin | undefined =
              originOfRange(value, command.start, command.end) ??
              (subcommand && (originOfRange(value, subcommand.start, command.end) ?? originOfRange(value, program.start, subcommand.end) ?? originOfRange(value, subcommand.start, subcommand.end))) ??
              definition.origin;
            if (!origin) continue;
            const targets = invocation.operands.map((word) => (word.dynamic || word.text.includes(UNKNOWN_CHAR) ? undefined : word.text));
            const known = targets.every((target) => target !== undefined) && invocation.flags.every((flag) => !flag.dynamic);
            const flags = invocation.flags.map((flag) => `${flag.text} `).join('');
            const shown = known ? q(`zfs snapshot ${flags}${targets.join(' ')}`) : q('zfs snapshot');
            const example = known && targets.length === 1 ? targets[0]! : '<snapshot>';
            findings.push(
              finding(
                this,
                origin,
                `${shown} is not guarded: disko runs ${q(hook.name)} every time its ${modeOf(hook.name)} script runs, under ${q('set -e')}, so the next run stops with "dataset already exists". Guard it as disko's example does: ${q(`zfs list -t snapshot -H -o name | grep -E '^${example}$' || zfs snapshot ${known ? flags : ''}${example}`)}.`,
                {
                  data: { dataset, hook: hook.name, definition, targets, snapshot: layout.snapshots.find((created) => created.definition === definition && targets.includes(created.target)) },
                },
              ),
            );
          }
        }
      }
    }
    return findings;
  },
};

/**
 * Bare read-only btrfs snapshots in a disko btrfs hook (RULES.md §H): on a re-run the snapshot already exists, so
 * btrfs tries to create a snapshot inside it and fails with "cannot snapshot 'root': Read-only file system" (F61 a),
 * which aborts the script under `set -e` (F25). A writable snapshot does not fail there, so only `-r` is reported.
 */
function bareBtrfsSnapshots(rule: Rule, host: HostModel): Finding[] {
  const findings: Finding[] = [];
  for (const snapshot of host.btrfsLayout().snapshots) {
    if (!snapshot.bare || !snapshot.readOnly || snapshot.definition.conditional || !snapshot.commandOrigin) continue;
    // A variable mount point is quoted, as the hook writes it.
    const path = (name: string) => (snapshot.mountRoot.startsWith('$') ? `"${snapshot.mountRoot}/${name}"` : `${snapshot.mountRoot}/${name}`);
    const source = path(snapshot.source);
    const target = path(snapshot.snapshot);
    // Deleting the snapshot subvolume first (`btrfs subvolume delete <m>/<B>`) makes the hook safe to re-run.
    const text = snapshot.definition.value.kind === 'string' ? scriptText(snapshot.definition.value) : '';
    if (/btrfs\s+\S+\s+delete\b/.test(text.slice(0, text.indexOf('snapshot')))) continue;
    findings.push(
      finding(
        rule,
        snapshot.commandOrigin,
        `${q(`btrfs subvolume snapshot -r ${source} ${target}`)} is not guarded: disko runs ${q(snapshot.hook)} every time its ${modeOf(snapshot.hook)} script runs, under ${q('set -e')}, and on the next run the snapshot subvolume ${q(snapshot.snapshot)} already exists, so btrfs tries to snapshot into it and stops with "Read-only file system". Guard it: ${q(`btrfs subvolume show ${target} >/dev/null 2>&1 || btrfs subvolume snapshot -r ${source} ${target}`)}.`,
        { data: { btrfsSnapshot: snapshot } },
      ),
    );
  }
  return findings;
}
