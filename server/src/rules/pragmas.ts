/**
 * Suppression comments: `# ephemeral-root: ignore <code> [<code> …]`.
 *
 * - Before any code in a file, the comment ignores the codes in the whole file.
 * - On the line above a binding (or at the end of the binding's first line), it ignores them inside that binding.
 *
 * A finding is dropped when its start lies in an ignored range for its code.
 */
import type { Workspace } from '../model/workspace';
import type { SyntaxNode } from '../syntax/parser';
import type { Finding } from './types';

export const PRAGMA = /#\s*ephemeral-root:\s*ignore\s+([a-z0-9 ,-]+)/;

interface IgnoredRange {
  codes: Set<string>;
  start: number;
  end: number;
}

function bindingFor(comment: SyntaxNode): SyntaxNode | undefined {
  // The binding this comment annotates: the next sibling binding, or the binding on whose first line it trails.
  let next = comment.nextNamedSibling;
  while (next && next.type === 'comment') next = next.nextNamedSibling;
  const previous = comment.previousNamedSibling;
  if (previous && (previous.type === 'binding' || previous.type === 'inherit' || previous.type === 'inherit_from') && previous.endPosition.row === comment.startPosition.row) {
    return previous;
  }
  if (next && (next.type === 'binding' || next.type === 'inherit' || next.type === 'inherit_from')) return next;
  return comment.parent ?? undefined;
}

/** The ranges a file's pragmas ignore. */
export function ignoredRanges(root: SyntaxNode | undefined, text: string): IgnoredRange[] {
  if (!root || !text.includes('ephemeral-root:')) return [];
  const ranges: IgnoredRange[] = [];
  const firstCode = root.namedChildren.find((child) => child && child.type !== 'comment');
  const cursor = root.walk();
  for (;;) {
    const node = cursor.currentNode;
    if (node.type === 'comment') {
      const match = PRAGMA.exec(node.text);
      if (match) {
        const codes = new Set(match[1].split(/[\s,]+/).filter(Boolean));
        if (!firstCode || node.endIndex <= firstCode.startIndex) ranges.push({ codes, start: 0, end: text.length });
        else {
          const target = bindingFor(node);
          if (target) ranges.push({ codes, start: target.startIndex, end: target.endIndex });
        }
      }
    }
    if (cursor.gotoFirstChild()) continue;
    while (!cursor.gotoNextSibling()) {
      if (!cursor.gotoParent()) {
        cursor.delete();
        return ranges;
      }
    }
  }
}

export function applyPragmas<T extends Finding>(workspace: Workspace, findings: T[]): T[] {
  const cache = new Map<string, IgnoredRange[]>();
  return findings.filter((finding) => {
    const file = finding.origin.file;
    let ranges = cache.get(file);
    if (!ranges) {
      const source = workspace.source(file);
      ranges = source ? ignoredRanges(source.root, source.text) : [];
      cache.set(file, ranges);
    }
    return !ranges.some((range) => range.codes.has(finding.code) && finding.origin.start >= range.start && finding.origin.start <= range.end);
  });
}
