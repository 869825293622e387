/**
 * btrfs subvolumes and the tmpfs root in the editor's index (RULES.md §F, §G): where each subvolume is named — its
 * disko declaration, a `subvol=` option of a `fileSystems` entry, the subvolume a rollback deletes and the blank
 * snapshot it restores from, the snapshot a disko hook takes — so that hover, go to definition and references lead
 * from any of them to the others, as they do for ZFS datasets. disko's own mount points (a subvolume's
 * `mountpoint`, a `nodev."/"` tmpfs) are recorded as mount points, so a `fileSystems."/persist"` reference finds them.
 *
 * Names inside scripts are recorded with the characters of the name only (`root` in `/btrfs_tmp/root`); a name the
 * script builds at run time is not recorded at all (the rollback reader leaves it unknown).
 */
import type { BtrfsSubvolume } from '../model/btrfs';
import { subvolumeName } from '../model/btrfs';
import type { HostModel } from '../model/host-model';
import { type Origin, stringText } from '../model/values';
import type { Workspace } from '../model/workspace';
import { btrfsRollbackPlace, filesystemOf, subvolumeFacts, subvolumeOfEntry, tmpfsFacts } from './btrfs-facts';
import { type Occurrence, keyRange, literalRange } from './symbols-index';

type NewOccurrence = Omit<Occurrence, 'host'>;

/**
 * The characters of `name` at the end of a word written at `origin` (`/btrfs_tmp/root`, `"$MNTPOINT/root-blank"`),
 * or undefined when the source there does not end with it after a `/`.
 */
function nameAtEnd(workspace: Workspace, origin: Origin | undefined, name: string): Origin | undefined {
  if (!origin) return undefined;
  const text = workspace.source(origin.file)?.text.slice(origin.start, origin.end);
  if (text === undefined) return undefined;
  const trimmed = text.replace(/["']+$/, '').replace(/\/+$/, '');
  if (!trimmed.endsWith(`/${name}`)) return undefined;
  const start = origin.start + trimmed.length - name.length;
  return { file: origin.file, start, end: start + name.length };
}

function declaration(workspace: Workspace, subvolume: BtrfsSubvolume, add: (occurrence: NewOccurrence) => void): void {
  const symbol = { kind: 'subvolume' as const, name: subvolume.name };
  const context = `disko btrfs subvolume${subvolume.filesystem.device ? ` on ${subvolume.filesystem.device}` : ''}`;
  const explicit = subvolume.node.child('name');
  if (!explicit.absent) {
    for (const definition of explicit.definitions) {
      if (definition.value.kind !== 'string') continue;
      const text = stringText(definition.value);
      if (text === undefined) continue;
      const literal = literalRange(workspace, definition.value, 0, text.length);
      const origin = literal ?? definition.origin;
      if (origin) add({ symbol, role: 'declaration', origin, nameStart: origin.start, computed: literal ? undefined : 'the name is built from other values', context });
    }
    return;
  }
  for (const definition of subvolume.node.definitions) {
    if (!definition.keyOrigin) continue;
    const key = keyRange(workspace, definition.keyOrigin, subvolume.attrName);
    if (key) add({ symbol, role: 'declaration', origin: key.origin, nameStart: key.origin.start, bareKey: key.bare, context });
    else add({ symbol, role: 'declaration', origin: definition.keyOrigin, nameStart: definition.keyOrigin.start, computed: 'the attribute name is computed or escaped', context });
  }
}

/** Every subvolume occurrence and every disko btrfs/tmpfs mount point of a host. */
export function btrfsOccurrences(host: HostModel, workspace: Workspace, add: (occurrence: NewOccurrence) => void): void {
  const layout = host.btrfsLayout();
  for (const subvolume of layout.subvolumes) {
    declaration(workspace, subvolume, add);
    for (const definition of subvolume.node.child('mountpoint').definitions) {
      if (definition.value.kind !== 'string') continue;
      const text = stringText(definition.value);
      if (!text?.startsWith('/')) continue;
      const literal = literalRange(workspace, definition.value, 0, text.length);
      const origin = literal ?? definition.origin;
      if (origin) add({ symbol: { kind: 'path', name: text }, role: 'disko-mountpoint', origin, nameStart: origin.start, computed: literal ? undefined : 'the mount point is built from other values', context: `disko mountpoint of subvolume ${subvolume.name}` });
    }
  }
  for (const creation of layout.snapshots) {
    const at = nameAtEnd(workspace, creation.origin, creation.snapshot);
    if (at) add({ symbol: { kind: 'subvolume', name: creation.snapshot }, role: 'snapshot', origin: at, nameStart: at.start, context: `btrfs subvolume snapshot of ${creation.source} in ${creation.hook}`, conditional: creation.definition.conditional });
  }
  for (const rollback of host.btrfsRollbacks().rollbacks) {
    const place = btrfsRollbackPlace(rollback).replace(/`/g, '');
    if (rollback.subvolume) {
      const at = nameAtEnd(workspace, rollback.removalOrigin, rollback.subvolume);
      if (at) add({ symbol: { kind: 'subvolume', name: rollback.subvolume }, role: 'rollback', origin: at, nameStart: at.start, context: `deleted by ${place}`, conditional: rollback.conditional });
    }
    if (rollback.blank) {
      const at = nameAtEnd(workspace, rollback.blankOrigin, rollback.blank);
      if (at) add({ symbol: { kind: 'subvolume', name: rollback.blank }, role: 'rollback', origin: at, nameStart: at.start, context: `restored from by ${place}`, conditional: rollback.conditional });
    }
  }
  for (const entry of host.fileSystems().entries) {
    if (!subvolumeOfEntry(entry)) continue;
    for (const item of entry.node.child('options').list().items) {
      if (item.definition.synthetic) continue;
      const value = item.thunk.force();
      if (value.kind !== 'string') continue;
      const text = stringText(value);
      if (!text?.startsWith('subvol=')) continue;
      const name = subvolumeName(text.slice('subvol='.length));
      if (name === '') continue;
      // `subvol=/root`: the name's characters start after the slash.
      const from = text.length - name.length - (text.endsWith('/') ? text.length - text.replace(/\/+$/, '').length : 0);
      const literal = literalRange(workspace, value, from, from + name.length);
      const origin = literal ?? value.origin ?? item.thunk.origin;
      if (origin) add({ symbol: { kind: 'subvolume', name }, role: 'subvol-option', origin, nameStart: origin.start, computed: literal ? undefined : 'the option is built from other values', context: `fileSystems."${entry.mountPoint}".options`, conditional: entry.conditional || item.definition.conditional });
    }
  }
  // disko's tmpfs (and other nodev) mount points: `nodev."/"`, or its `mountpoint`.
  const nodev = host.input.diskoDevices?.child('nodev');
  for (const name of nodev?.childNames() ?? []) {
    const node = nodev!.child(name);
    const mountpoint = node.child('mountpoint');
    if (!mountpoint.absent) {
      for (const definition of mountpoint.definitions) {
        if (definition.value.kind !== 'string') continue;
        const text = stringText(definition.value);
        const literal = text?.startsWith('/') ? literalRange(workspace, definition.value, 0, text.length) : undefined;
        if (text && literal) add({ symbol: { kind: 'path', name: text }, role: 'disko-mountpoint', origin: literal, nameStart: literal.start, context: 'disko nodev mountpoint' });
      }
      continue;
    }
    if (!name.startsWith('/')) continue;
    for (const definition of node.definitions) {
      const key = definition.keyOrigin && keyRange(workspace, definition.keyOrigin, name);
      if (key) add({ symbol: { kind: 'path', name }, role: 'disko-mountpoint', origin: key.origin, nameStart: key.origin.start, bareKey: key.bare, context: 'disko nodev' });
    }
  }
}

/** Where a subvolume is defined: its disko declaration, else the hook command that takes it as a snapshot. */
export function subvolumeDefinitions(host: HostModel, name: string, declarations: Origin[]): Origin[] {
  if (declarations.length > 0) return declarations;
  return subvolumeFacts(host, name)
    .snapshotOf.map((creation) => creation.commandOrigin ?? creation.origin)
    .filter((origin): origin is Origin => origin !== undefined);
}

/** Renders places as Markdown links (hover.ts's `Places`). */
export interface PlaceLinks {
  at(origin: Origin | undefined): string;
  link(origin: Origin | undefined): string;
}

const FATE_TITLE = { erased: '**Erased on every boot**', persisted: '**Persisted**', unknown: '**Erased or persisted: unknown**' } as const;

/** The hover of a btrfs subvolume. */
export function subvolumeMarkdown(places: PlaceLinks, host: HostModel, rawName: string, computed?: string): string[] {
  const facts = subvolumeFacts(host, rawName);
  const filesystem = filesystemOf(host, facts.name);
  const lines = [`**btrfs subvolume \`${facts.name}\`**${filesystem?.device ? ` · on \`${filesystem.device}\`` : ''}`, ''];
  if (computed) lines.push(`_This name is computed here (${computed})._`, '');
  lines.push(`${FATE_TITLE[facts.fate.state]} — ${facts.fate.reason}${places.at(facts.fate.origin)}`, '');
  for (const subvolume of facts.declarations) {
    const mountpoint = subvolume.mountpoint;
    const where =
      mountpoint.state === 'known'
        ? mountpoint.value === null
          ? '`mountpoint = null`: disko adds no fileSystems entry'
          : `\`mountpoint = "${mountpoint.value}"\`${places.at(mountpoint.definitions[0]?.origin)}`
        : mountpoint.state === 'absent'
          ? 'no `mountpoint`: disko adds no fileSystems entry'
          : '`mountpoint` is computed';
    lines.push(`- disko: \`subvolumes."${subvolume.attrName}"\`${places.at(subvolume.origin)} · ${where}`);
  }
  if (facts.declarations.length === 0 && facts.snapshotOf.length === 0) {
    lines.push(facts.declared === false ? "- disko: **not declared** in the host's btrfs layout" : facts.declared === undefined && host.input.diskoDevices ? '- disko: not among the subvolumes in reach (some are computed)' : '- disko: the host has no disko btrfs layout in reach');
  }
  for (const creation of facts.snapshotOf) {
    lines.push(`- the blank snapshot of \`${creation.source}\`, taken by \`${creation.hook}\`${creation.readOnly ? ' (read-only)' : ''}${places.at(creation.commandOrigin ?? creation.origin)}${creation.bare ? ' — unguarded: a second `disko --mode format` aborts on it (F61)' : ''}`);
  }
  for (const entry of facts.mounts) {
    const how = entry.writtenDefinitions.length === 0 && entry.diskoDefinitions.length > 0 ? `emitted by disko from ${places.link(entry.origin)}` : `written at ${places.link(entry.origin)}`;
    const needed = host.neededForBoot(entry);
    lines.push(`- NixOS mounts it at \`${entry.mountPoint}\` (\`fileSystems."${entry.mountPoint}"\` with \`subvol=${facts.name}\`, ${how})`);
    lines.push(`  - needed for boot: **${needed === true ? 'yes' : needed === false ? 'no' : 'unknown'}**`);
    for (const root of host.persistence().filter((candidate) => candidate.path === entry.mountPoint)) {
      lines.push(`  - ${root.module} keeps \`${root.module === 'impermanence' ? 'environment.persistence' : 'preservation.preserveAt'}."${root.path}"\` on it${places.at(root.origin)}`);
    }
  }
  if (facts.mounts.length === 0 && facts.snapshotOf.length === 0) lines.push('- mounted: no `fileSystems` entry names it with `subvol=`');
  for (const creation of facts.snapshots) {
    lines.push(`- blank snapshot \`${creation.snapshot}\` taken by \`${creation.hook}\`${creation.readOnly ? ' (read-only)' : ''}${places.at(creation.commandOrigin ?? creation.origin)}`);
  }
  for (const rollback of facts.rollbacks) {
    const nested = rollback.removal === 'move' ? 'moves it aside' : rollback.deletesNested ? 'deletes its nested subvolumes, then it' : 'deletes it **without deleting its nested subvolumes first** (F61, F62)';
    const again = rollback.recreate === 'restore' ? `restores it from \`${rollback.blank ?? 'a snapshot'}\`` : 'creates it afresh';
    lines.push(`- rolled back by ${btrfsRollbackPlace(rollback)}${rollback.conditional ? ' (under a condition)' : ''}${places.at(rollback.removalCommandOrigin ?? rollback.removalOrigin)}: ${nested}, then ${again}`);
  }
  for (const rollback of facts.restores) {
    lines.push(`- restored from by ${btrfsRollbackPlace(rollback)} into \`${rollback.subvolume ?? 'a subvolume built at run time'}\`${places.at(rollback.blankOrigin)}`);
  }
  return lines;
}

/** What a btrfs or tmpfs mount adds to the hover of a mount point (the subvolume's facts, the tmpfs options). */
export function mountMarkdown(places: PlaceLinks, host: HostModel, holder: { mountPoint: string; fsType: { state: string; value?: string } }, own: boolean): string[] | undefined {
  if (holder.fsType.state !== 'known') return undefined;
  if (holder.fsType.value === 'tmpfs') {
    const facts = holder.mountPoint === '/' ? tmpfsFacts(host) : undefined;
    const lines = ['', `${FATE_TITLE.erased} — ${own ? '' : `inside \`${holder.mountPoint}\`, `}a tmpfs: it starts empty on every boot`];
    if (facts) {
      lines.push('');
      const where = places.at(facts.origin);
      if (!facts.root.options) lines.push(`- mount options: computed${where}`);
      else {
        lines.push(`- mount options: ${facts.root.options.map((option) => `\`${option}\``).join(', ') || 'none'}${facts.root.fromDisko ? ' (disko `nodev`)' : ''}${where}`);
        lines.push(facts.mode === undefined ? '- no `mode=`: `/` is `1777`, world-writable (F58)' : `- \`mode=${facts.mode}\`${facts.worldWritable ? ': group or others may write to `/` (F58)' : ''}`);
        lines.push(facts.size ? `- \`${facts.size}\`` : '- no `size=`: it may grow to half of the RAM (F58)');
      }
    }
    return lines;
  }
  if (holder.fsType.value !== 'btrfs') return undefined;
  const entry = host.fileSystemAt(holder.mountPoint);
  const name = entry ? subvolumeOfEntry(entry) : undefined;
  if (!name) return undefined;
  const lines = subvolumeMarkdown(places, host, name);
  const facts = subvolumeFacts(host, name);
  // The title of a mount point inside the subvolume names the mount it lies in.
  if (!own) lines[2] = `${FATE_TITLE[facts.fate.state]} — inside \`${holder.mountPoint}\`, subvolume \`${name}\`: ${facts.fate.reason}${places.at(facts.fate.origin)}`;
  return ['', ...lines];
}
