/**
 * Hover on a pool, dataset, snapshot, unit or mount point anywhere it is named: what the host makes of it — the
 * disko declaration, the ZFS `mountpoint` property and where it comes from, how NixOS mounts it (legacy or
 * zfsutil), whether stage 1 mounts it and why, whether it is erased on every boot or persisted, and where each of
 * those is defined (links to the places). Units get what they are and when they run. Unknown is said as unknown.
 *
 * btrfs subvolumes (wherever named: disko, `subvol=`, a rollback, a snapshot hook) and a tmpfs root get the same kind
 * of answer from btrfs-symbols.ts: erased or persisted and why, the mounts, the blank snapshot and the rollback.
 *
 * On a persisted path, a secrets key or a password file (RULES.md §E0) the hover says what keeps it across a boot
 * (a mount, an impermanence or preservation bind or link, or nothing) and whether it exists when activation reads it.
 */
import path from 'node:path';
import { type Hover, type HoverParams, MarkupKind } from 'vscode-languageserver';
import type { HostModel } from '../model/host-model';
import type { Origin } from '../model/values';
import type { Workspace } from '../model/workspace';
import { pathToUri } from './documents';
import { type DatasetFacts, type MountFacts, type SurvivalPlace, datasetFacts, poolFacts, rollbackPlace, snapshotFacts, survivalFacts, survivalPlaces } from './facts';
import { lateBecause } from '../model/activation';
import type { Analysis } from './analysis';
import { mountMarkdown, subvolumeMarkdown } from './btrfs-symbols';
import { type Hit, type Occurrence, symbolIndex } from './symbols-index';
import { importUnitPool, mountUnitPath, unitDoc } from './unit-docs';

/** Renders places as links relative to a folder. */
export class Places {
  constructor(
    readonly workspace: Workspace,
    readonly folder: string,
  ) {}

  label(origin: Origin): string {
    const line = this.workspace.range(origin).start.line + 1;
    const relative = path.relative(this.folder, origin.file);
    return `${relative.startsWith('..') ? origin.file : relative}:${line}`;
  }

  link(origin: Origin | undefined): string {
    if (!origin) return '';
    const line = this.workspace.range(origin).start.line + 1;
    return `[${this.label(origin)}](${pathToUri(origin.file)}#L${line})`;
  }

  /** ` ([file:line](…))`, or nothing. */
  at(origin: Origin | undefined): string {
    return origin ? ` (${this.link(origin)})` : '';
  }
}

/** docs/facts.md on GitHub, where each fact is a table row. */
export const FACTS_URL = 'https://github.com/nixos-ephemeral-root/nixos-ephemeral-root/blob/main/docs/facts.md';

/**
 * Turns the fact numbers a hover cites — `(F13)`, `(F6, F8)`, `(F6–F8)`, `(…, F23)` — into links to their entry in
 * docs/facts.md. The entries are table rows without anchors of their own, so each link carries a text fragment
 * (`#:~:text=F13`) that browsers scroll to and highlight: the row's first cell is the first whole-word match.
 */
export function linkFactReferences(markdown: string): string {
  return markdown.replace(/(?<=\(|, |–)F(\d{1,2})(?=[),–])/g, (reference, number: string) => `[${reference}](${FACTS_URL}#:~:text=F${number})`);
}

const FATE_TITLE = { erased: '**Erased on every boot**', persisted: '**Persisted**', unknown: '**Erased or persisted: unknown**' } as const;

function mountLine(places: Places, facts: DatasetFacts, mount: MountFacts): string[] {
  const entry = mount.entry;
  const how = mount.fromDisko ? `emitted by disko from ${places.link(entry.origin)}` : `written at ${places.link(entry.origin)}`;
  const lines = [`- NixOS mounts it at \`${entry.mountPoint}\` (\`fileSystems."${entry.mountPoint}"\`, ${how})`];
  const property = facts.property?.kind;
  if (mount.zfsutil === true) lines.push(`  - with \`zfsutil\`: ZFS's own mountpoint handling${property === 'legacy' ? ' — but the dataset is `legacy`: the mount fails (F13)' : ''}`);
  else if (mount.zfsutil === false) lines.push(`  - legacy mount (no \`zfsutil\`)${property === 'path' ? ' — but the ZFS `mountpoint` property is a path: the mount fails without `zfsutil` (F13)' : ''}`);
  else lines.push('  - its mount options are computed: legacy or zfsutil is unknown');
  const needed = mount.neededForBoot;
  const answer = needed.state === 'yes' ? 'yes' : needed.state === 'no' ? 'no' : 'unknown';
  lines.push(`  - needed for boot: **${answer}** — ${needed.reason}${places.at(needed.origin)}`);
  for (const root of mount.persistence) {
    const module = root.module === 'impermanence' ? `environment.persistence."${root.path}"` : `preservation.preserveAt."${root.path}"`;
    const problem = needed.state === 'no' ? ' — so it must be needed for boot, and is not (F31)' : '';
    lines.push(`  - ${root.module} keeps \`${module}\` on it${places.at(root.origin)}: its files are bound in stage 1${problem}`);
  }
  return lines;
}

function propertyLine(facts: DatasetFacts): string {
  const dataset = facts.dataset;
  if (!dataset) return '';
  const property = facts.property;
  if (!property) return '- ZFS `mountpoint` property: unknown (computed)';
  const source = property.inherited ? `inherited from \`${property.from.fullName}\`` : property.from.zfsMountpoint.state === 'known' ? `set by \`${property.from.isPoolRoot ? 'rootFsOptions' : 'options'}.mountpoint\`` : property.from.isPoolRoot ? "ZFS's default for a pool" : "from disko's `mountpoint`";
  if (property.kind === 'path') {
    const value = property.path ? `\`${property.path}\`` : property.from.isPoolRoot ? `\`/${property.from.pool.name}\`` : 'a path';
    return `- ZFS \`mountpoint\` property: ${value} (${source}): ZFS manages the mount; a fileSystems entry needs \`zfsutil\` (F13)`;
  }
  return `- ZFS \`mountpoint\` property: \`${property.kind}\` (${source})${property.kind === 'legacy' ? ': mounted only through fileSystems, without `zfsutil` (F13)' : ': ZFS never mounts it'}`;
}

function diskoLine(places: Places, facts: DatasetFacts): string {
  const dataset = facts.dataset;
  if (!dataset) {
    if (facts.declared === false) return '- disko: **not declared** in the host\'s disko layout';
    return facts.host.layout ? '- disko: not among the datasets in reach (some are computed)' : '- disko: the host has no disko layout in reach';
  }
  const mountpoint = dataset.mountpoint;
  const mp =
    mountpoint.state === 'known'
      ? mountpoint.value === null
        ? '`mountpoint = null`: disko adds no fileSystems entry'
        : `\`mountpoint = "${mountpoint.value}"\`${places.at(mountpoint.definitions[0]?.origin)}`
      : mountpoint.state === 'absent'
        ? 'no `mountpoint`: disko adds no fileSystems entry (F23)'
        : `\`mountpoint\` is computed (${mountpoint.what})`;
  const kind = dataset.isPoolRoot ? 'the pool\'s root dataset' : `\`${dataset.type}\` \`"${dataset.attrName}"\``;
  return `- disko: ${kind}${places.at(dataset.origin)} · ${mp}`;
}

export function datasetMarkdown(places: Places, host: HostModel, name: string, occurrence?: Occurrence): string[] {
  const facts = datasetFacts(host, name);
  const lines = [`**ZFS dataset \`${name}\`** · pool \`${facts.pool}\``, ''];
  if (occurrence?.computed) lines.push(`_This name is computed here (${occurrence.computed})._`, '');
  lines.push(`${FATE_TITLE[facts.fate.state]} — ${facts.fate.reason}${places.at(facts.fate.origin)}`, '');
  lines.push(diskoLine(places, facts));
  const property = propertyLine(facts);
  if (property) lines.push(property);
  for (const mount of facts.mounts) lines.push(...mountLine(places, facts, mount));
  if (facts.mounts.length === 0) lines.push(`- mounted: ${facts.stage.reason}`);
  else if (facts.mountsOpen) lines.push(`- more mounts may exist: ${facts.mountsOpen}`);
  for (const snapshot of facts.snapshots) {
    lines.push(`- snapshot \`@${snapshot.snapshot}\` taken by \`${snapshot.hook}\` of \`${snapshot.owner.fullName}\`${snapshot.recursive && snapshot.dataset !== name ? ' (recursive)' : ''}${places.at(snapshot.origin)}`);
  }
  return lines;
}

export function poolMarkdown(places: Places, host: HostModel, name: string, occurrence?: Occurrence): string[] {
  const facts = poolFacts(host, name);
  const lines = [`**ZFS pool \`${name}\`**`, ''];
  if (occurrence?.computed) lines.push(`_This name is computed here (${occurrence.computed})._`, '');
  const pool = facts.pool;
  if (pool) {
    const datasets = pool.datasets.length;
    lines.push(`- disko: declared${places.at(pool.origin)} with ${datasets} dataset${datasets === 1 ? '' : 's'}${pool.datasetsOpen ? ' (and some computed)' : ''}`);
    const root = datasetFacts(host, name);
    const property = propertyLine(root);
    if (property) lines.push(property.replace('- ZFS `mountpoint` property', '- root dataset `mountpoint` property'));
  } else if (facts.declared === false) lines.push("- disko: **not declared** in the host's disko layout");
  else lines.push(host.layout ? '- disko: not among the pools in reach' : '- disko: the host has no disko layout in reach');
  const label = { stage1: 'stage 1', stage2: 'stage 2', none: 'never', unknown: 'unknown' }[facts.import.state];
  lines.push(`- imported: **${label}** — ${facts.import.reason}`);
  return lines;
}

function snapshotMarkdown(places: Places, host: HostModel, name: string, occurrence?: Occurrence): string[] {
  const facts = snapshotFacts(host, name);
  const lines = [`**ZFS snapshot \`${name}\`**`, ''];
  if (occurrence?.computed) lines.push(`_This name is computed here (${occurrence.computed})._`, '');
  for (const created of facts.created) {
    lines.push(`- taken by \`${created.hook}\` of \`${created.owner.fullName}\`${created.recursive ? ' (`-r`)' : ''}${places.at(created.origin)}${created.bare ? ' — unguarded: a second `disko --mode format` aborts on it (F25)' : ''}`);
  }
  if (facts.created.length === 0) {
    lines.push(facts.state === false ? '- **no disko hook takes it**: a rollback to it fails' : '- taken by: unknown (no hook in reach takes it, and some hooks cannot be read)');
  }
  for (const rollback of facts.rollbacks) lines.push(`- rolled back to by ${rollbackPlace(rollback)}${rollback.conditional ? ' (under a condition)' : ''}${places.at(rollback.origin)}`);
  lines.push('', ...datasetMarkdown(places, host, name.slice(0, name.indexOf('@'))).slice(2));
  return lines;
}

function unitMarkdown(places: Places, host: HostModel, name: string, occurrence?: Occurrence): string[] {
  const doc = unitDoc(name);
  const lines = [`**systemd unit \`${name}\`**`, ''];
  if (doc) lines.push(doc.summary, '', ...doc.details.map((detail) => `- ${detail}`));
  const own = [...host.initrdUnits().units, ...host.stage2Units().units].filter((unit) => `${unit.name}.service` === name);
  for (const unit of own) lines.push(`- defined by this host: \`${unit.stage === 'initrd' ? 'boot.initrd.systemd' : 'systemd'}.services.${unit.name}\`${places.at(unit.origin)}`);
  const fromInitrd = occurrence?.context?.startsWith('initrd unit') ?? false;
  const pool = importUnitPool(name);
  if (pool) {
    const facts = poolFacts(host, pool);
    lines.push('', `This host: ${facts.import.reason}.`);
    if (fromInitrd && facts.import.state !== 'stage1' && facts.import.state !== 'unknown') lines.push('', `**In stage 1 this unit does not exist** (F8): ordering after it orders after nothing.`);
    if (facts.pool) lines.push(`- pool declared${places.at(facts.pool.origin)}`);
  }
  const mount = mountUnitPath(name);
  if (mount) {
    const entry = host.fileSystemAt(mount.mountPoint);
    if (entry) {
      const device = entry.device.state === 'known' ? `\`${entry.device.value}\`` : 'a computed device';
      const needed = host.neededForBoot(entry);
      lines.push('', `This host: \`fileSystems."${mount.mountPoint}"\` mounts ${device}${places.at(entry.origin)}.`);
      if (mount.initrd && needed === false) lines.push('', `**Stage 1 has no such unit**: \`${mount.mountPoint}\` is not needed for boot.`);
      if (entry.device.state === 'known') lines.push('', ...datasetMarkdown(places, host, entry.device.value).slice(2).filter((line) => !line.startsWith('- NixOS mounts') && !line.startsWith('  - ')));
    } else if (host.hasMountAt(mount.mountPoint) === false) lines.push('', `This host mounts nothing at \`${mount.mountPoint}\`.`);
  }
  if (!doc && own.length === 0) lines.push('_Not a unit this extension knows, and not defined by this host._');
  return lines;
}

function pathMarkdown(places: Places, host: HostModel, name: string, occurrence: Occurrence): string[] {
  const lines = [`**${occurrence.role === 'persist-key' ? 'Persistent storage' : 'Mount point'} \`${name}\`**`, ''];
  const holder = host.mountHolding(name);
  if (!holder) {
    lines.push(host.hasMountAt('/') === false ? '- no mount holds it' : '- the mount that holds it is unknown');
    return lines;
  }
  const own = holder.mountPoint === name;
  const device = holder.device.state === 'known' ? holder.device.value : undefined;
  lines.push(own ? `- \`fileSystems."${name}"\`${places.at(holder.origin)}: ${device ? `\`${device}\`` : 'a computed device'}${holder.fsType.state === 'known' ? ` (${holder.fsType.value})` : ''}` : `- inside the mount \`${holder.mountPoint}\`${places.at(holder.origin)}`);
  const zfs = holder.fsType.state === 'known' && holder.fsType.value === 'zfs';
  if (device && zfs) {
    const facts = datasetFacts(host, device);
    const inside = !own && facts.fate.state === 'erased' ? `${FATE_TITLE.erased} — inside \`${holder.mountPoint}\`, which is ${facts.fate.reason}` : `${FATE_TITLE[facts.fate.state]} — ${own ? '' : `inside \`${holder.mountPoint}\`: `}${facts.fate.reason}`;
    lines.push('', `${inside}${places.at(facts.fate.origin)}`, '', ...datasetMarkdown(places, host, device).slice(2).filter((line) => !line.startsWith('**')));
  } else {
    // A btrfs subvolume or a tmpfs: their facts (btrfs-symbols.ts).
    const more = mountMarkdown(places, host, holder, own);
    if (more) lines.push(...more);
  }
  return lines.filter((line, index, all) => !(line === '' && all[index - 1] === ''));
}

/** What keeps a path across a boot, in words (COVER, RULES.md §E0). */
function coverLine(places: Places, host: HostModel, facts: ReturnType<typeof survivalFacts>): string {
  const cover = facts.cover;
  if (!cover) return '- kept by: **unknown** — some fileSystems entry or persistence list cannot be read';
  switch (cover.kind) {
    case 'mount': {
      const needed = host.neededForBoot(cover.entry);
      const stage = needed === true ? 'mounted in stage 1' : needed === false ? 'mounted in stage 2 (not needed for boot)' : 'whether stage 1 mounts it is unknown';
      return `- kept by: **the mount** \`fileSystems."${cover.entry.mountPoint}"\`${places.at(cover.entry.origin)}, ${stage}`;
    }
    case 'imp-file':
      return `- kept by: **impermanence**, which links it from \`${cover.root.path}${cover.entry.path}\` in its activation snippet \`persist-files\` (F49)${places.at(cover.entry.origin)}`;
    case 'imp-dir':
      return `- kept by: **a bind mount** of impermanence, \`${cover.entry.path}\` from \`${cover.root.path}${cover.entry.path}\` (F49)${places.at(cover.entry.origin)}`;
    case 'pres-file':
    case 'pres-dir': {
      const when = cover.entry.inInitrd === true ? 'in the initrd (`inInitrd = true`)' : cover.entry.inInitrd === false ? 'in stage 2 (no `inInitrd`)' : 'at a stage that cannot be read';
      return `- kept by: **a bind mount** of preservation, \`${cover.entry.path}\` from \`${cover.root.path}${cover.entry.path}\`, set up ${when} (F69)${places.at(cover.entry.origin)}`;
    }
    case 'none':
      return facts.ephemeral
        ? `- kept by: **nothing** — it lies on the root, which ${facts.ephemeral.how}${places.at(facts.ephemeral.origin)}`
        : '- kept by: nothing but the root file system (whether the root is erased at boot is not known)';
  }
}

function earlyLine(what: string, early: boolean | undefined, cover: ReturnType<typeof survivalFacts>['cover']): string {
  if (early === undefined) return `- exists ${what}: **unknown**`;
  if (early) return `- exists ${what}: **yes**`;
  return `- exists ${what}: **no** — ${cover ? lateBecause(cover) : 'it is not kept'}`;
}

/** Hover on a persisted path, a secrets key or a password file: what keeps it and whether activation finds it. */
function survivalMarkdown(places: Places, host: HostModel, place: SurvivalPlace): string[] {
  const facts = survivalFacts(host, place.path);
  const lines = [`**\`${place.path}\`** · \`${place.option}\``, '', coverLine(places, host, facts)];
  // Whether the path is there at activation only matters when the root is erased: otherwise it simply stays.
  if (facts.ephemeral) {
    lines.push(earlyLine('when activation creates users (and sops-nix `neededForUsers` secrets, agenix) (F44, F47, F52)', facts.beforeUsers, facts.cover));
    lines.push(earlyLine("when sops-nix's `setupSecrets` decrypts regular secrets (F44, F50)", facts.sopsRegular, facts.cover));
  }
  return lines;
}

function markdownFor(places: Places, hit: Hit, offset: number): string[] {
  const { occurrence } = hit;
  const host = hit.index.host;
  // The pool inside `zfs-import-<pool>.service`: the unit is what is being read.
  if (occurrence.symbol.kind === 'pool' && (occurrence.role === 'unit-list' || occurrence.role === 'unit-name')) {
    const unit = (hit.index.byFile.get(occurrence.origin.file) ?? []).find((candidate) => candidate.symbol.kind === 'unit' && candidate.origin.start <= offset && offset <= candidate.origin.end);
    if (unit) return unitMarkdown(places, host, unit.symbol.name, unit);
  }
  switch (occurrence.symbol.kind) {
    case 'dataset':
      return datasetMarkdown(places, host, occurrence.symbol.name, occurrence);
    case 'pool':
      return poolMarkdown(places, host, occurrence.symbol.name, occurrence);
    case 'snapshot':
      return snapshotMarkdown(places, host, occurrence.symbol.name, occurrence);
    case 'unit':
      return unitMarkdown(places, host, occurrence.symbol.name, occurrence);
    case 'path':
      return pathMarkdown(places, host, occurrence.symbol.name, occurrence);
    case 'subvolume':
      return subvolumeMarkdown(places, host, occurrence.symbol.name, occurrence.computed);
  }
}

export function hoverAt(analysis: Analysis, filePath: string, params: HoverParams): Hover | null {
  const { result, workspace, folder } = analysis;
  const file = workspace.source(filePath);
  if (!file) return null;
  const index = symbolIndex(result, workspace);
  const offset = file.lines.offset(params.position);
  const hits = index.at(filePath, offset);
  const places = new Places(workspace, folder);
  if (hits.length === 0) return survivalHover(workspace, places, result.hosts, filePath, offset);
  // One section per distinct text; hosts that say the same share it.
  const sections: { hosts: string[]; text: string }[] = [];
  for (const hit of hits) {
    const text = markdownFor(places, hit, offset).join('\n');
    const same = sections.find((section) => section.text === text);
    if (same) same.hosts.push(hit.index.host.name);
    else sections.push({ hosts: [hit.index.host.name], text });
  }
  const value = sections.length === 1 && hits.length === 1 ? sections[0].text : sections.map((section) => `_Host ${section.hosts.map((name) => `\`${name}\``).join(', ')}:_\n\n${section.text}`).join('\n\n---\n\n');
  const origin = hits[0].occurrence.origin;
  return { contents: { kind: MarkupKind.Markdown, value: linkFactReferences(value) }, range: workspace.range(origin) };
}

/** The survival hover (what keeps a path) for the places under the cursor, one section per distinct text. */
function survivalHover(workspace: Workspace, places: Places, hosts: HostModel[], filePath: string, offset: number): Hover | null {
  const sections: { hosts: string[]; text: string }[] = [];
  let range: Origin | undefined;
  for (const host of hosts) {
    const place = survivalPlaces(host).find((candidate) => candidate.origin.file === filePath && candidate.origin.start <= offset && offset <= candidate.origin.end);
    if (!place) continue;
    range ??= place.origin;
    const text = survivalMarkdown(places, host, place).join('\n');
    const same = sections.find((section) => section.text === text);
    if (same) same.hosts.push(host.name);
    else sections.push({ hosts: [host.name], text });
  }
  if (!range) return null;
  const value = sections.length === 1 && sections[0].hosts.length === 1 ? sections[0].text : sections.map((section) => `_Host ${section.hosts.map((name) => `\`${name}\``).join(', ')}:_\n\n${section.text}`).join('\n\n---\n\n');
  return { contents: { kind: MarkupKind.Markdown, value: linkFactReferences(value) }, range: workspace.range(range) };
}
