/**
 * Applying fixes: one quick fix, or "Fix all" (the preferred fix of every fixable finding at once). Identical edits
 * from different findings are made once; an edit that overlaps one already taken is left for the next round, and an
 * edit whose range no longer holds the text it was computed for is dropped. Two fixes that create the same new
 * module with different content overlap too: the second writes into the module the first created, next round.
 */
import type { HostModel } from '../model/host-model';
import type { Workspace } from '../model/workspace';
import type { HostFinding } from '../rules/engine';
import { type TextEdit, applyEdits } from './nix-edit';
import { NO_FILE_CREATION, fixesFor } from './registry';
import type { FixOptions } from './types';

/** The preferred edits for a set of findings, deduplicated and without overlaps. */
export function fixAllEdits(findings: HostFinding[], hosts: HostModel[], workspace: Workspace, files?: Set<string>, options: FixOptions = NO_FILE_CREATION): TextEdit[] {
  const byName = new Map(hosts.map((host) => [host.name, host]));
  const chosen: TextEdit[] = [];
  const seen = new Set<string>();
  const overlaps = (item: TextEdit) =>
    chosen.some(
      (other) =>
        other.file === item.file &&
        (item.create === true ||
          other.create === true ||
          (item.start < other.end && other.start < item.end) ||
          (item.start === other.start && item.end === other.end && item.start !== item.end)),
    );
  for (const finding of findings) {
    if (files && !files.has(finding.origin.file)) continue;
    const host = finding.host ? byName.get(finding.host) : undefined;
    if (!host) continue;
    const fix = fixesFor(finding, host, workspace, undefined, options).find((candidate) => candidate.preferred);
    if (!fix) continue;
    const fresh = fix.edits.filter((item) => !seen.has(key(item)));
    if (fresh.some(overlaps)) continue;
    for (const item of fresh) {
      seen.add(key(item));
      chosen.push(item);
    }
  }
  return chosen;
}

function key(item: TextEdit): string {
  return `${item.file}:${item.start}:${item.end}:${item.text}`;
}

/** The new text of every file the edits touch or create (stale edits dropped; a file to create that exists is left alone). */
export function editedTexts(edits: TextEdit[], workspace: Workspace): Map<string, string> {
  const byFile = new Map<string, TextEdit[]>();
  for (const item of edits) byFile.set(item.file, [...(byFile.get(item.file) ?? []), item]);
  const texts = new Map<string, string>();
  for (const [file, fileEdits] of byFile) {
    const source = workspace.source(file);
    const creates = fileEdits.some((item) => item.create);
    if (creates ? source !== undefined : !source) continue;
    texts.set(file, applyEdits(source?.text ?? '', fileEdits).text);
  }
  return texts;
}
