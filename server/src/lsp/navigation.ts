/**
 * Go to definition and find references between the two halves of a setup: a `fileSystems` device, a rollback
 * target, a snapshot hook and a `zfs-import-<pool>.service` all lead to the disko declaration (and a btrfs `subvol=`
 * option, the subvolume a rollback deletes or restores from, to the disko subvolume); references list every
 * place a pool, dataset, snapshot, unit or mount point is named, across the files of every host that reads the file.
 */
import type { DefinitionParams, Location, ReferenceParams } from 'vscode-languageserver';
import type { HostModel } from '../model/host-model';
import type { Origin } from '../model/values';
import type { Workspace } from '../model/workspace';
import { pathToUri } from './documents';
import { snapshotFacts } from './facts';
import type { Analysis } from './analysis';
import { type Hit, type SymbolIndex, type SymbolRef, symbolIndex } from './symbols-index';
import { importUnitPool, mountUnitPath } from './unit-docs';
import { subvolumeDefinitions } from './btrfs-symbols';

function hitsAt(analysis: Analysis, filePath: string, position: { line: number; character: number }): { index: SymbolIndex; hits: Hit[] } | undefined {
  const file = analysis.workspace.source(filePath);
  if (!file) return undefined;
  const index = symbolIndex(analysis.result, analysis.workspace);
  return { index, hits: index.at(filePath, file.lines.offset(position)) };
}

function declarations(index: SymbolIndex, host: HostModel, symbol: SymbolRef): Origin[] {
  return index
    .occurrencesOf(symbol, [host])
    .filter((occurrence) => occurrence.role === 'declaration')
    .map((occurrence) => occurrence.origin);
}

/** Where a symbol is declared in one host. */
export function definitionsOf(index: SymbolIndex, host: HostModel, symbol: SymbolRef): Origin[] {
  switch (symbol.kind) {
    case 'pool':
    case 'dataset':
      // A dataset disko does not declare has no definition (hover says so): none is made up.
      return declarations(index, host, symbol);
    case 'snapshot':
      // The `zfs snapshot` of a disko hook that takes it (an ancestor's with -r included).
      return snapshotFacts(host, symbol.name)
        .created.map((creation) => creation.origin)
        .filter((origin): origin is Origin => origin !== undefined);
    case 'unit': {
      const pool = importUnitPool(symbol.name);
      if (pool) return declarations(index, host, { kind: 'pool', name: pool });
      const mount = mountUnitPath(symbol.name);
      if (mount) {
        const entry = host.fileSystemAt(mount.mountPoint);
        return entry?.origin ? [entry.origin] : [];
      }
      return [...host.initrdUnits().units, ...host.stage2Units().units]
        .filter((unit) => `${unit.name}.service` === symbol.name && unit.origin)
        .map((unit) => unit.origin!);
    }
    case 'subvolume':
      // disko's declaration; a blank snapshot no disko key declares leads to the hook command that takes it.
      return subvolumeDefinitions(host, symbol.name, declarations(index, host, symbol));
    case 'path': {
      const entry = host.fileSystemAt(symbol.name);
      if (entry?.origin) return [entry.origin];
      return index
        .occurrencesOf(symbol, [host])
        .filter((occurrence) => occurrence.role === 'disko-mountpoint')
        .map((occurrence) => occurrence.origin);
    }
  }
}

function toLocations(workspace: Workspace, origins: Origin[]): Location[] {
  const seen = new Set<string>();
  const locations: Location[] = [];
  for (const origin of origins) {
    const key = `${origin.file}:${origin.start}:${origin.end}`;
    if (seen.has(key)) continue;
    seen.add(key);
    locations.push({ uri: pathToUri(origin.file), range: workspace.range(origin) });
  }
  return locations;
}

export function definitionAt(analysis: Analysis, filePath: string, params: DefinitionParams): Location[] {
  const found = hitsAt(analysis, filePath, params.position);
  if (!found) return [];
  const origins: Origin[] = [];
  for (const hit of found.hits) {
    let symbol = hit.occurrence.symbol;
    // The pool part of `zfs-import-<pool>.service` and the unit both lead to the pool.
    if (symbol.kind === 'pool' || symbol.kind === 'unit') symbol = importUnitPool(symbol.name) ? { kind: 'pool', name: importUnitPool(symbol.name)! } : symbol;
    origins.push(...definitionsOf(found.index, hit.index.host, symbol));
  }
  return toLocations(analysis.workspace, origins);
}

export function referencesAt(analysis: Analysis, filePath: string, params: ReferenceParams): Location[] {
  const found = hitsAt(analysis, filePath, params.position);
  if (!found || found.hits.length === 0) return [];
  const origins: Origin[] = [];
  for (const hit of found.hits) {
    for (const occurrence of found.index.occurrencesOf(hit.occurrence.symbol, [hit.index.host])) {
      if (!params.context.includeDeclaration && occurrence.role === 'declaration') continue;
      origins.push(occurrence.origin);
    }
  }
  return toLocations(analysis.workspace, origins);
}
