/**
 * The outline of a file: for a disko file, each pool with its datasets and their mount points; for a configuration,
 * its `fileSystems` entries, initrd units and persistent storage roots. Read from the host model of every host that
 * reads the file, so what the outline shows is what the analysis sees.
 */
import { type DocumentSymbol, SymbolKind } from 'vscode-languageserver';
import type { Dataset } from '../model/disko';
import type { HostModel } from '../model/host-model';
import type { Origin } from '../model/values';
import type { Workspace } from '../model/workspace';
import { datasetFacts, poolFacts, verdict } from './facts';
import type { Analysis } from './analysis';
import { bindingOf, symbolIndex } from './symbols-index';

function symbol(workspace: Workspace, name: string, detail: string, kind: SymbolKind, key: Origin, children?: DocumentSymbol[]): DocumentSymbol {
  const whole = bindingOf(workspace, key) ?? key;
  const range = workspace.range({ file: key.file, start: Math.min(whole.start, key.start), end: Math.max(whole.end, key.end) });
  return { name, detail, kind, range, selectionRange: workspace.range(key), ...(children ? { children } : {}) };
}

function mountDetail(dataset: Dataset): string {
  const mountpoint = dataset.mountpoint;
  const mp = mountpoint.state === 'known' ? (mountpoint.value ?? 'no mountpoint') : mountpoint.state === 'absent' ? 'no mountpoint' : 'mountpoint computed';
  const property = dataset.zfsMountpoint.state === 'known' ? ` · ${dataset.zfsMountpoint.value}` : '';
  return `${mp}${property}`;
}

function diskoSymbols(workspace: Workspace, host: HostModel, file: string): DocumentSymbol[] {
  const symbols: DocumentSymbol[] = [];
  for (const pool of host.layout?.pools ?? []) {
    if (pool.origin?.file !== file) continue;
    const children = pool.datasets
      .filter((dataset) => dataset.origin?.file === file)
      .map((dataset) => symbol(workspace, dataset.attrName, `${mountDetail(dataset)} · ${verdict(datasetFacts(host, dataset.fullName))}`, dataset.type === 'zfs_volume' ? SymbolKind.File : SymbolKind.Struct, dataset.origin!))
      .sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
    const imported = poolFacts(host, pool.name).import.state;
    const detail = `zpool · ${pool.datasets.length} datasets · ${imported === 'stage1' ? 'imported in stage 1' : imported === 'stage2' ? 'imported in stage 2' : imported === 'none' ? 'never imported' : 'import unknown'}`;
    symbols.push(symbol(workspace, pool.name, detail, SymbolKind.Namespace, pool.origin, children));
  }
  return symbols;
}

function configSymbols(workspace: Workspace, host: HostModel, file: string): DocumentSymbol[] {
  const symbols: DocumentSymbol[] = [];
  for (const entry of host.fileSystems().entries) {
    for (const definition of entry.writtenDefinitions) {
      if (definition.keyOrigin?.file !== file) continue;
      const device = entry.device.state === 'known' ? entry.device.value : entry.device.state === 'unknown' ? 'device computed' : 'no device';
      const needed = host.neededForBoot(entry);
      const stage = needed === true ? 'stage 1' : needed === false ? 'stage 2' : 'stage unknown';
      symbols.push(symbol(workspace, `fileSystems."${entry.mountPoint}"`, `${device}${entry.fsType.state === 'known' ? ` (${entry.fsType.value})` : ''} · ${stage}`, SymbolKind.Field, definition.keyOrigin));
    }
  }
  for (const unit of host.initrdUnits().units) {
    for (const definition of unit.node.definitions) {
      if (definition.keyOrigin?.file !== file) continue;
      const rollbacks = host.rollbacks().rollbacks.filter((rollback) => rollback.place.kind === 'initrd-unit' && rollback.place.unit === unit);
      const detail = rollbacks.length > 0 ? `initrd unit · zfs rollback ${rollbacks.map((rollback) => rollback.target ?? '(computed)').join(', ')}` : 'initrd unit';
      symbols.push(symbol(workspace, `boot.initrd.systemd.services.${unit.name}`, detail, SymbolKind.Event, definition.keyOrigin));
    }
  }
  for (const root of host.persistence()) {
    if (root.origin?.file !== file) continue;
    symbols.push(symbol(workspace, `${root.module === 'impermanence' ? 'environment.persistence' : 'preservation.preserveAt'}."${root.path}"`, `${root.entries.length} paths${root.entriesOpen ? ' (and computed ones)' : ''}`, SymbolKind.Module, root.origin));
  }
  return symbols;
}

export function documentSymbolsFor(analysis: Analysis, filePath: string): DocumentSymbol[] {
  const { result, workspace } = analysis;
  if (!workspace.source(filePath)) return [];
  const index = symbolIndex(result, workspace);
  const symbols: DocumentSymbol[] = [];
  const seen = new Set<string>();
  for (const host of index.hostsOf(filePath)) {
    for (const item of [...diskoSymbols(workspace, host, filePath), ...configSymbols(workspace, host, filePath)]) {
      const key = `${item.name}:${item.selectionRange.start.line}:${item.selectionRange.start.character}`;
      if (seen.has(key)) continue;
      seen.add(key);
      symbols.push(item);
    }
  }
  return symbols.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
}
