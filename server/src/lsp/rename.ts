/**
 * Rename of a pool, dataset or snapshot everywhere it is named: the disko declaration, `fileSystems` devices,
 * rollback targets, snapshot hooks and their guards, `zfs-import-<pool>.service`, partitions, `boot.zfs.extraPools`
 * and literal mentions in other strings — across the files of every host that reads any of them, as one workspace
 * edit with versioned documents (so an editor refuses it if a document changed meanwhile).
 *
 * A dataset rename renames its children too (`zfs rename` does; disko names children by their prefix). The rename is
 * refused, with the place, when one occurrence is computed (an interpolation, a name passed in): changing every
 * other place but that one would break the host instead of renaming.
 */
import { LSPErrorCodes, type PrepareRenameParams, type Range, type RenameParams, ResponseError, type WorkspaceEdit } from 'vscode-languageserver';
import type { TextEdit } from '../fixes/nix-edit';
import type { HostModel } from '../model/host-model';
import type { Workspace } from '../model/workspace';
import type { SyntaxNode } from '../syntax/parser';
import { workspaceEdit } from './code-actions';
import type { Analysis } from './analysis';
import { type Hit, type Occurrence, type SymbolIndex, type SymbolRef, matches, relativeName, symbolIndex } from './symbols-index';

/** A rename target: the symbol, the hosts it spans, all its occurrences (children of a dataset included). */
export interface RenamePlan {
  symbol: SymbolRef;
  hosts: HostModel[];
  occurrences: Occurrence[];
}

function fail(message: string): never {
  throw new ResponseError(LSPErrorCodes.RequestFailed, message);
}

/** The refusal of a rename in a document that is no file this server reads. */
export function notReadable(): never {
  fail('The document is not a file this server reads.');
}

function renamable(hit: Hit): SymbolRef | undefined {
  const symbol = hit.occurrence.symbol;
  if (symbol.kind === 'pool' || symbol.kind === 'dataset' || symbol.kind === 'snapshot') return symbol;
  return undefined;
}

/** The hosts and occurrences a rename must cover: every host reading a file that names the symbol. */
export function planRename(index: SymbolIndex, symbol: SymbolRef, start: HostModel[]): RenamePlan {
  const hosts = new Set(start);
  const descendants = symbol.kind === 'dataset';
  let occurrences: Occurrence[] = [];
  for (let round = 0; round < 8; round++) {
    occurrences = index.occurrencesOf(symbol, [...hosts], { descendants });
    let grew = false;
    for (const file of new Set(occurrences.map((occurrence) => occurrence.origin.file))) {
      for (const host of index.hostsOf(file)) {
        if (hosts.has(host)) continue;
        if (index.hostIndex(host).occurrences.some((occurrence) => matches(occurrence.symbol, symbol, descendants))) {
          hosts.add(host);
          grew = true;
        }
      }
    }
    if (!grew) break;
  }
  // A snapshot's and a dataset's own renames: only the occurrences of the kind itself carry the editable part.
  occurrences = occurrences.filter((occurrence) => occurrence.symbol.kind === symbol.kind);
  return { symbol, hosts: [...hosts], occurrences };
}

function describe(workspace: Workspace, occurrence: Occurrence): string {
  const position = workspace.range(occurrence.origin).start;
  return `${occurrence.origin.file}:${position.line + 1}:${position.character + 1}`;
}

/** Refuses a rename that could only half apply. */
export function checkRenamable(workspace: Workspace, plan: RenamePlan): void {
  const computed = plan.occurrences.find((occurrence) => occurrence.computed);
  if (computed) {
    fail(`Cannot rename ${plan.symbol.kind} ${plan.symbol.name}: ${computed.symbol.name} is computed at ${describe(workspace, computed)} (${computed.computed}); renaming the other places would leave it behind.`);
  }
}

const RESERVED_POOL = /^(mirror|raidz[123]?|draid\d*|spare|log|dedup|special|cache)$|^c\d/;

/** The new relative name (a pool, a dataset inside its pool, a snapshot after `@`), validated. */
export function normalizeNewName(symbol: SymbolRef, newName: string): string {
  const trimmed = newName.trim();
  if (symbol.kind === 'pool') {
    if (!/^[A-Za-z][A-Za-z0-9_.:-]*$/.test(trimmed) || RESERVED_POOL.test(trimmed)) fail(`${JSON.stringify(newName)} is not a valid pool name (a letter, then letters, digits, _ - . :; not mirror, raidz, spare, log, …).`);
    return trimmed;
  }
  if (symbol.kind === 'dataset') {
    const pool = symbol.name.split('/')[0];
    const relative = trimmed.startsWith(`${pool}/`) ? trimmed.slice(pool.length + 1) : trimmed;
    if (!/^[A-Za-z0-9_.:-]+(\/[A-Za-z0-9_.:-]+)*$/.test(relative)) fail(`${JSON.stringify(newName)} is not a valid dataset name inside pool ${pool} (components of letters, digits, _ - . : separated by /).`);
    return relative;
  }
  const relative = trimmed.includes('@') ? trimmed.slice(trimmed.lastIndexOf('@') + 1) : trimmed;
  if (!/^[A-Za-z0-9_.:-]+$/.test(relative)) fail(`${JSON.stringify(newName)} is not a valid snapshot name.`);
  return relative;
}

function renamedFull(symbol: SymbolRef, relative: string): string {
  if (symbol.kind === 'pool') return relative;
  if (symbol.kind === 'dataset') return `${symbol.name.split('/')[0]}/${relative}`;
  return `${symbol.name.slice(0, symbol.name.indexOf('@'))}@${relative}`;
}

function isIdentifier(text: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_'-]*$/.test(text) && !['if', 'then', 'else', 'let', 'in', 'with', 'rec', 'inherit', 'assert', 'or'].includes(text);
}

/** The bare identifier of an attribute path holding an offset, if the name is written as one. */
function bareKeyAt(workspace: Workspace, file: string, offset: number): SyntaxNode | undefined {
  const node = workspace.source(file)?.root?.descendantForIndex(offset, offset);
  if (node?.type === 'identifier' && node.parent?.type === 'attrpath') return node;
  return undefined;
}

/** The text edits of a rename (every place checked to still hold the old name). */
export function renameEdits(workspace: Workspace, plan: RenamePlan, newRelative: string): TextEdit[] {
  const oldRelative = relativeName(plan.symbol);
  const edits: TextEdit[] = [];
  const seen = new Set<string>();
  for (const occurrence of plan.occurrences) {
    const file = workspace.source(occurrence.origin.file);
    if (!file) fail(`Cannot rename: ${occurrence.origin.file} cannot be read.`);
    const start = occurrence.nameStart;
    const end = start + oldRelative.length;
    const written = file.text.slice(start, end);
    // For a child dataset, the renamed part is the prefix of its name, followed by `/`.
    const follows = file.text[end];
    if (written !== oldRelative || (occurrence.symbol.name !== plan.symbol.name && follows !== '/')) {
      fail(`Cannot rename: ${describe(workspace, occurrence)} no longer holds ${JSON.stringify(oldRelative)}; save or re-open the file and retry.`);
    }
    const key = `${file.path}:${start}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const bare = bareKeyAt(workspace, file.path, start);
    if (bare) {
      const keyText = bare.text;
      const replaced = keyText.slice(0, start - bare.startIndex) + newRelative + keyText.slice(end - bare.startIndex);
      if (!isIdentifier(replaced)) {
        edits.push({ file: file.path, start: bare.startIndex, end: bare.endIndex, text: JSON.stringify(replaced), expected: keyText });
        continue;
      }
    }
    edits.push({ file: file.path, start, end, text: newRelative, expected: written });
  }
  return edits;
}

function hitsAt(analysis: Analysis, filePath: string, position: { line: number; character: number }): { index: SymbolIndex; hits: Hit[] } {
  const file = analysis.workspace.source(filePath);
  if (!file) notReadable();
  const index = symbolIndex(analysis.result, analysis.workspace);
  return { index, hits: index.at(filePath, file.lines.offset(position)) };
}

function target(hits: Hit[]): { symbol: SymbolRef; hits: Hit[] } {
  const usable = hits.filter((hit) => renamable(hit));
  if (usable.length === 0) {
    if (hits.some((hit) => hit.occurrence.symbol.kind === 'unit')) fail('Put the cursor on the pool name inside the unit name to rename the pool; unit names are not renamed.');
    fail('Only ZFS pools, datasets and snapshots can be renamed here.');
  }
  const symbol = renamable(usable[0])!;
  return { symbol, hits: usable.filter((hit) => hit.occurrence.symbol.kind === symbol.kind && hit.occurrence.symbol.name === symbol.name) };
}

export function prepareRenameAt(analysis: Analysis, filePath: string, params: PrepareRenameParams): { range: Range; placeholder: string } | null {
  const { workspace } = analysis;
  const { index, hits } = hitsAt(analysis, filePath, params.position);
  const { symbol, hits: mine } = target(hits);
  const plan = planRename(index, symbol, mine.map((hit) => hit.index.host));
  checkRenamable(workspace, plan);
  const occurrence = mine[0].occurrence;
  const placeholder = relativeName(symbol);
  const range = workspace.range({ file: occurrence.origin.file, start: occurrence.nameStart, end: occurrence.nameStart + placeholder.length });
  return { range, placeholder };
}

export function renameAt(analysis: Analysis, filePath: string, params: RenameParams): WorkspaceEdit {
  const { workspace } = analysis;
  const { index, hits } = hitsAt(analysis, filePath, params.position);
  const { symbol, hits: mine } = target(hits);
  const plan = planRename(index, symbol, mine.map((hit) => hit.index.host));
  checkRenamable(workspace, plan);
  const relative = normalizeNewName(symbol, params.newName);
  if (relative === relativeName(symbol)) return { documentChanges: [] };
  const full = renamedFull(symbol, relative);
  // The new names (children of a dataset move along) must not be names the hosts already use.
  const renamed = new Set(plan.occurrences.map((occurrence) => occurrence.symbol.name));
  const wanted = new Set([...renamed].map((name) => full + name.slice(symbol.name.length)));
  for (const host of plan.hosts) {
    const taken = index.hostIndex(host).occurrences.find((occurrence) => occurrence.symbol.kind === symbol.kind && wanted.has(occurrence.symbol.name) && !renamed.has(occurrence.symbol.name));
    if (taken) fail(`Cannot rename ${symbol.name} to ${full}: host ${host.name} already names ${taken.symbol.name} (${describe(workspace, taken)}).`);
  }
  return workspaceEdit(analysis, renameEdits(workspace, plan, relative));
}
