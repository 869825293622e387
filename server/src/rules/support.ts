/**
 * Small helpers shared by the rules: building findings, naming places, systemd unit names.
 */
import type { Definition } from '../model/config';
import type { FileSystemEntry, HostModel, Rollback, Unit } from '../model/host-model';
import type { Origin } from '../model/values';
import type { Finding, Related, Rule, Severity } from './types';

export function finding(
  rule: Rule,
  origin: Origin,
  message: string,
  options: { related?: (Related | undefined)[]; severity?: Severity; data?: Record<string, unknown> } = {},
): Finding {
  return {
    code: rule.code,
    severity: options.severity ?? rule.severity,
    message,
    origin,
    related: (options.related ?? []).filter((item): item is Related => item !== undefined && item.origin !== undefined),
    data: options.data,
  };
}

export function related(origin: Origin | undefined, message: string): Related | undefined {
  return origin ? { origin, message } : undefined;
}

/**
 * `code`-quoted text for messages. Quoted text is often a value read from the workspace, and a message travels far
 * (CI logs, SARIF uploads): it is escaped (no line breaks or control characters can forge lines of their own) and
 * cut to a short excerpt, so a finding never carries a whole file that a value was read from.
 */
export function q(text: string): string {
  const escaped = text.replace(/[\u0000-\u001f\u007f`]/g, (char) => (char === '\n' ? '\\n' : char === '\t' ? '\\t' : char === '`' ? "'" : `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`));
  const excerpt = escaped.length > MAX_QUOTED ? `${escaped.slice(0, MAX_QUOTED)}… (${text.length} characters)` : escaped;
  return `\`${excerpt}\``;
}

/** The longest excerpt a message quotes. */
const MAX_QUOTED = 120;

export function poolOf(dataset: string): string {
  return dataset.split('/')[0];
}

/** systemd's path escaping (`systemd-escape --path`), as NixOS's `escapeSystemdPath` does it. */
export function escapeSystemdPath(mountPoint: string): string {
  const trimmed = mountPoint.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '-';
  return trimmed
    .split('/')
    .filter(Boolean)
    .map((part) => part.replace(/[^A-Za-z0-9:_.]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`).replace(/^\./, '\\x2e'))
    .join('-');
}

/** The initrd mount unit of a mount point: `/` → `sysroot.mount`, `/nix` → `sysroot-nix.mount` (F7). */
export function initrdMountUnit(mountPoint: string): string {
  return `${escapeSystemdPath(`/sysroot${mountPoint === '/' ? '' : mountPoint}`)}.mount`;
}

export interface RollbackUnit {
  unit: Unit;
  rollbacks: Rollback[];
}

/** Initrd units that certainly run a `zfs rollback` (not under an unknown condition). */
export function rollbackUnits(host: HostModel): RollbackUnit[] {
  return byInitrdUnit(host.rollbacks().rollbacks);
}

/**
 * Rollbacks (of ZFS datasets or btrfs subvolumes) grouped by the initrd unit that certainly runs them: neither the
 * rollback nor its unit is under an unknown condition.
 */
export function byInitrdUnit<R extends { conditional: boolean; place: { kind: string; unit?: Unit } }>(rollbacks: readonly R[]): { unit: Unit; rollbacks: R[] }[] {
  const byUnit = new Map<Unit, R[]>();
  for (const rollback of rollbacks) {
    const unit = rollback.place.kind === 'initrd-unit' ? rollback.place.unit : undefined;
    if (!unit || rollback.conditional || unit.conditional) continue;
    byUnit.set(unit, [...(byUnit.get(unit) ?? []), rollback]);
  }
  return [...byUnit.entries()].map(([unit, grouped]) => ({ unit, rollbacks: grouped }));
}

/** Where the unit is named, falling back to its first script. */
export function unitOrigin(unit: Unit): Origin | undefined {
  return unit.origin ?? unit.scripts[0]?.definition.origin;
}

/** Where an option of a unit is written, if it is; else the unit's name. */
export function unitFieldOrigin(unit: Unit, ...field: string[]): Origin | undefined {
  const node = unit.node.at(...field);
  const definition = node.definitions.find((item) => item.keyOrigin);
  return definition?.keyOrigin ?? unitOrigin(unit);
}

export function describePlace(rollback: Rollback): string {
  switch (rollback.place.kind) {
    case 'initrd-unit':
      return `the initrd unit ${q(rollback.place.unit.name)}`;
    case 'stage2-unit':
      return `the stage-2 service ${q(rollback.place.unit.name)}`;
    case 'hook':
      return q(`boot.initrd.${rollback.place.hook}`);
    case 'activation':
      return `the activation script ${q(rollback.place.name)}`;
  }
}

/** The place a definition's attribute name is written, else the definition itself. */
export function definitionOrigin(definition: Definition | undefined): Origin | undefined {
  return definition?.keyOrigin ?? definition?.origin;
}

/** Where a fileSystems entry is best pointed at: its device when written, else the entry. */
export function entryOrigin(entry: FileSystemEntry, field?: 'device' | 'fsType' | 'options' | 'neededForBoot'): Origin | undefined {
  if (field) {
    const node = entry.node.child(field);
    const written = node.definitions.find((definition) => definition.synthetic !== 'disko');
    if (written) return written.origin ?? written.keyOrigin;
  }
  return entry.origin;
}

/** The rollback of the root dataset that the host certainly runs in stage 1, if any. */
export function rootRollback(host: HostModel): Rollback | undefined {
  const root = host.rootDataset();
  if (!root) return undefined;
  return host.certainStage1Rollbacks().find((rollback) => rollback.dataset === root.name);
}
