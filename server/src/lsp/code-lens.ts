/**
 * A code lens above each disko dataset, pool and btrfs subvolume: what the host does with it — "erased on every boot",
 * "persisted · mounted in stage 1", "persisted · mounted in stage 2", "root pool · imported in stage 1", or
 * "unknown" when the host does not say. When several hosts read the file and disagree, each is named.
 */
import type { CodeLens } from 'vscode-languageserver';
import type { HostModel } from '../model/host-model';
import type { Origin } from '../model/values';
import { datasetFacts, poolFacts, verdict } from './facts';
import type { Analysis } from './analysis';
import { symbolIndex } from './symbols-index';
import { subvolumeFacts, subvolumeVerdict } from './btrfs-facts';

export const LENS_COMMAND = '';

function poolVerdict(host: HostModel, name: string): string {
  const facts = poolFacts(host, name);
  switch (facts.import.state) {
    case 'stage1':
      return 'root pool · imported in stage 1';
    case 'stage2':
      return 'data pool · imported in stage 2';
    case 'none':
      return 'never imported';
    case 'unknown':
      return 'import stage unknown';
  }
}

export function codeLensesFor(analysis: Analysis, filePath: string): CodeLens[] {
  const { result, workspace } = analysis;
  if (!workspace.source(filePath)) return [];
  const index = symbolIndex(result, workspace);
  const lenses = new Map<string, { origin: Origin; verdicts: { host: string; text: string }[] }>();
  const add = (origin: Origin | undefined, host: HostModel, text: string) => {
    if (!origin || origin.file !== filePath) return;
    const key = `${origin.start}`;
    const lens = lenses.get(key) ?? { origin, verdicts: [] };
    lens.verdicts.push({ host: host.name, text });
    lenses.set(key, lens);
  };
  for (const host of index.hostsOf(filePath)) {
    for (const pool of host.layout?.pools ?? []) {
      add(pool.origin, host, poolVerdict(host, pool.name));
      for (const dataset of pool.datasets) add(dataset.origin, host, verdict(datasetFacts(host, dataset.fullName)));
    }
    // btrfs subvolumes get the same kind of verdict (btrfs-facts.ts).
    for (const subvolume of host.btrfsLayout().subvolumes) add(subvolume.origin, host, subvolumeVerdict(host, subvolumeFacts(host, subvolume.name)));
  }
  const list: CodeLens[] = [];
  for (const { origin, verdicts } of lenses.values()) {
    const distinct = [...new Set(verdicts.map((item) => item.text))];
    const title = distinct.length === 1 ? distinct[0] : verdicts.map((item) => `${item.host}: ${item.text}`).join(' | ');
    list.push({ range: workspace.range(origin), command: { title, command: LENS_COMMAND } });
  }
  return list.sort((a, b) => a.range.start.line - b.range.start.line);
}
