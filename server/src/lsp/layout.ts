/**
 * `ephemeralRoot/layout`: the data of the client's ZFS layout view. Per workspace folder and host: the pools, and in
 * each its datasets with the mount point, the ZFS `mountpoint` property, erased or persisted, needed for boot, the
 * findings that concern them and where each is declared (the view reveals it on click). Datasets that the host
 * uses but disko does not declare are listed too, marked as such. Every verdict is the same three-valued fact the
 * hover shows. Each host also lists its btrfs subvolumes and its tmpfs root with the same erased/persisted marks, and
 * what survives a boot and what does not (layout-btrfs.ts).
 */
import type { Location } from 'vscode-languageserver';
import type { HostModel } from '../model/host-model';
import type { Origin } from '../model/values';
import type { Workspace } from '../model/workspace';
import type { HostFinding } from '../rules/engine';
import type { Analyses } from './analysis';
import { pathToUri, uriToPath } from './documents';
import { type DatasetFacts, datasetFacts, poolFacts, verdict } from './facts';
import { effectiveSeverity } from './settings';
import { type HostIndex, bindingOf, symbolIndex } from './symbols-index';
import { type LayoutBtrfs, type LayoutSurvival, type LayoutTmpfsRoot, btrfsEntries, survivalEntry, tmpfsRootEntry } from './layout-btrfs';

export type { LayoutBtrfs, LayoutSubvolume, LayoutSurvival, LayoutSurvivalPath, LayoutTmpfsRoot } from './layout-btrfs';

export const LAYOUT_REQUEST = 'ephemeralRoot/layout';

export interface LayoutParams {
  /** Workspace folder URIs; the server's own folders when omitted. */
  folders?: string[];
}

export interface FindingCounts {
  error: number;
  warning: number;
  information: number;
  hint: number;
}

export interface LayoutDataset {
  /** The name inside the pool (`local/root`). */
  name: string;
  fullName: string;
  declared: boolean | null;
  location?: Location;
  /** Where NixOS mounts it (its fileSystems entries), else disko's `mountpoint`. */
  mountPoints: string[];
  /** The effective ZFS `mountpoint` property: `legacy`, `none`, a path, or `unknown`. */
  zfsMountpoint: string;
  fate: 'erased' | 'persisted' | 'unknown';
  fateReason: string;
  neededForBoot: 'yes' | 'no' | 'unknown' | 'not-mounted';
  neededForBootReason: string;
  stage: DatasetFacts['stage']['state'];
  /** "erased on every boot", "persisted · mounted in stage 1", … */
  verdict: string;
  findings: FindingCounts;
  codes: string[];
}

export interface LayoutPool {
  name: string;
  declared: boolean | null;
  location?: Location;
  imported: 'stage1' | 'stage2' | 'none' | 'unknown';
  importReason: string;
  findings: FindingCounts;
  datasets: LayoutDataset[];
}

export interface LayoutHost {
  name: string;
  kind: string;
  root: string;
  findings: FindingCounts;
  pools: LayoutPool[];
  /** The disko btrfs file systems and their subvolumes, erased or persisted (layout-btrfs.ts). */
  btrfs: LayoutBtrfs[];
  /** The tmpfs root, when `/` is one. */
  tmpfsRoot?: LayoutTmpfsRoot;
  /** What survives a boot and what does not (RULES.md §E0), for NixOS hosts. */
  survival?: LayoutSurvival;
}

export interface LayoutFolder {
  uri: string;
  hosts: LayoutHost[];
}

export interface LayoutResult {
  folders: LayoutFolder[];
}

export function counts(): FindingCounts {
  return { error: 0, warning: 0, information: 0, hint: 0 };
}

function overlaps(a: Origin, b: Origin): boolean {
  return a.file === b.file && a.start <= b.end && b.start <= a.end;
}

export function location(workspace: Workspace, origin: Origin | undefined): Location | undefined {
  return origin ? { uri: pathToUri(origin.file), range: workspace.range(origin) } : undefined;
}

/** The places that concern a symbol: its occurrences and, for a declaration, the whole binding. */
function regions(workspace: Workspace, index: HostIndex, kind: 'pool' | 'dataset', name: string): Origin[] {
  const result: Origin[] = [];
  for (const occurrence of index.occurrences) {
    if (occurrence.symbol.kind !== kind || occurrence.symbol.name !== name) continue;
    result.push(occurrence.origin);
    if (occurrence.role === 'declaration' && kind === 'dataset') {
      const binding = bindingOf(workspace, occurrence.origin);
      if (binding) result.push(binding);
    }
  }
  return result;
}

/** Where a symbol is declared (the name's own characters), else its first occurrence. */
function declarationOf(index: HostIndex, kind: 'pool' | 'dataset', name: string): Origin | undefined {
  const all = index.occurrences.filter((occurrence) => occurrence.symbol.kind === kind && occurrence.symbol.name === name);
  return (all.find((occurrence) => occurrence.role === 'declaration') ?? all.find((occurrence) => occurrence.role !== 'mention') ?? all[0])?.origin;
}

export function tally(findings: { finding: HostFinding; severity: keyof FindingCounts }[], where: Origin[]): { counts: FindingCounts; codes: string[] } {
  const result = counts();
  const codes = new Set<string>();
  for (const { finding, severity } of findings) {
    if (!where.some((region) => overlaps(region, finding.origin))) continue;
    result[severity]++;
    codes.add(finding.code);
  }
  return { counts: result, codes: [...codes].sort() };
}

function datasetEntry(workspace: Workspace, index: HostIndex, facts: DatasetFacts, findings: { finding: HostFinding; severity: keyof FindingCounts }[]): LayoutDataset {
  const property = facts.property;
  const zfsMountpoint = facts.dataset ? (property ? (property.kind === 'path' ? (property.path ?? 'path') : property.kind) : 'unknown') : 'unknown';
  const mounts = facts.mounts.map((mount) => mount.entry.mountPoint);
  const diskoMountpoint = facts.dataset?.mountpoint.state === 'known' ? facts.dataset.mountpoint.value : undefined;
  const needed = facts.mounts.find((mount) => mount.neededForBoot.state === 'yes') ?? facts.mounts.find((mount) => mount.neededForBoot.state === 'unknown') ?? facts.mounts[0];
  const neededForBoot: LayoutDataset['neededForBoot'] = needed ? needed.neededForBoot.state : facts.stage.state === 'unknown' ? 'unknown' : 'not-mounted';
  const tallied = tally(findings, regions(workspace, index, 'dataset', facts.name));
  return {
    name: facts.name.slice(facts.pool.length + 1),
    fullName: facts.name,
    declared: facts.declared ?? null,
    location: location(workspace, declarationOf(index, 'dataset', facts.name)),
    mountPoints: mounts.length > 0 ? mounts : diskoMountpoint ? [diskoMountpoint] : [],
    zfsMountpoint,
    fate: facts.fate.state,
    fateReason: facts.fate.reason.replace(/`/g, ''),
    neededForBoot,
    neededForBootReason: (needed ? needed.neededForBoot.reason : facts.stage.reason).replace(/`/g, ''),
    stage: facts.stage.state,
    verdict: verdict(facts),
    findings: tallied.counts,
    codes: tallied.codes,
  };
}

function hostEntry(workspace: Workspace, index: HostIndex, findings: HostFinding[], severityOf: (finding: HostFinding) => keyof FindingCounts | undefined): LayoutHost | undefined {
  const host: HostModel = index.host;
  const own = findings
    .filter((finding) => finding.host === host.name)
    .map((finding) => ({ finding, severity: severityOf(finding) }))
    .filter((item): item is { finding: HostFinding; severity: keyof FindingCounts } => item.severity !== undefined);
  const names = new Set<string>([...(host.layout?.pools.map((pool) => pool.name) ?? [])]);
  const datasetNames = new Map<string, Set<string>>();
  for (const dataset of host.layout?.datasets ?? []) if (!dataset.isPoolRoot) (datasetNames.get(dataset.pool.name) ?? datasetNames.set(dataset.pool.name, new Set()).get(dataset.pool.name)!).add(dataset.fullName);
  for (const occurrence of index.occurrences) {
    if (occurrence.symbol.kind !== 'dataset' || occurrence.role === 'mention' || occurrence.computed) continue;
    const pool = occurrence.symbol.name.split('/')[0];
    names.add(pool);
    (datasetNames.get(pool) ?? datasetNames.set(pool, new Set()).get(pool)!).add(occurrence.symbol.name);
  }
  const btrfs = btrfsEntries(workspace, index, own);
  const tmpfsRoot = tmpfsRootEntry(workspace, index, own);
  const survival = survivalEntry(workspace, host);
  // A host with nothing to show (no pool, no btrfs, no tmpfs root, no ephemeral root or persistence) is left out.
  if (names.size === 0 && btrfs.length === 0 && !tmpfsRoot && !survival) return undefined;
  const total = counts();
  for (const item of own) total[item.severity]++;
  const pools: LayoutPool[] = [...names].sort().map((name) => {
    const facts = poolFacts(host, name);
    const datasets = [...(datasetNames.get(name) ?? [])].sort().map((fullName) => datasetEntry(workspace, index, datasetFacts(host, fullName), own));
    return {
      name,
      declared: facts.declared ?? null,
      location: location(workspace, declarationOf(index, 'pool', name)),
      imported: facts.import.state,
      importReason: facts.import.reason.replace(/`/g, ''),
      findings: tally(own, regions(workspace, index, 'pool', name)).counts,
      datasets,
    };
  });
  return { name: host.name, kind: host.kind, root: pathToUri(host.root), findings: total, pools, btrfs, ...(tmpfsRoot ? { tmpfsRoot } : {}), ...(survival ? { survival } : {}) };
}

export async function layoutFor(analyses: Analyses, params: LayoutParams): Promise<LayoutResult> {
  const folders = (params.folders ?? []).map((uri) => uriToPath(uri)).filter((folder): folder is string => folder !== undefined);
  const result: LayoutResult = { folders: [] };
  for (const folder of folders) {
    const { result: analysis, settings, workspace } = await analyses.analysisOf(folder);
    const index = symbolIndex(analysis, workspace);
    const severityOf = (finding: HostFinding) => effectiveSeverity(settings, finding.code, finding.severity);
    const hosts: LayoutHost[] = [];
    for (const host of analysis.hosts) {
      const entry = hostEntry(workspace, index.hostIndex(host), analysis.findings, severityOf);
      if (entry) hosts.push(entry);
    }
    result.folders.push({ uri: pathToUri(folder), hosts });
  }
  return result;
}
