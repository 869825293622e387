/**
 * Code actions on our diagnostics: the quick fixes of the fixes layer, "Ignore <code> here" (a pragma comment above
 * the binding), and "Show documentation for <code>" (opened through `window/showDocument`, so it works in any
 * editor that supports it).
 */
import type { CodeAction, CodeActionParams, ExecuteCommandParams } from 'vscode-languageserver';
import { CodeActionKind } from 'vscode-languageserver';
import { docsUrl } from '../rules/types';
import type { SourceFile } from '../syntax/parser';
import { uriToPath } from './documents';
import type { EphemeralRootServer } from './server';

export const SHOW_DOCUMENTATION = 'ephemeralRoot.showDocumentation';
export const FIX_COMMANDS = [SHOW_DOCUMENTATION];

/** Where to write the pragma for a finding at `offset`: above the innermost binding holding it. */
export function pragmaInsertion(file: SourceFile, offset: number, code: string): { offset: number; text: string } {
  let node = file.root?.descendantForIndex(offset) ?? null;
  while (node && node.type !== 'binding' && node.type !== 'inherit' && node.type !== 'inherit_from') node = node.parent;
  if (!node) return { offset: 0, text: `# ephemeral-root: ignore ${code}\n` };
  const lineStart = file.lines.lineStart(file.lines.position(node.startIndex).line);
  const indentation = /^[ \t]*/.exec(file.text.slice(lineStart, node.startIndex))?.[0] ?? '';
  const onlyIndentBefore = indentation.length === node.startIndex - lineStart;
  if (!onlyIndentBefore) return { offset: node.startIndex, text: `# ephemeral-root: ignore ${code}\n${indentation}` };
  const newline = file.text.includes('\r\n') ? '\r\n' : '\n';
  return { offset: lineStart, text: `${indentation}# ephemeral-root: ignore ${code}${newline}` };
}

export async function codeActionsFor(server: EphemeralRootServer, params: CodeActionParams): Promise<CodeAction[]> {
  const filePath = uriToPath(params.textDocument.uri);
  if (!filePath) return [];
  const actions: CodeAction[] = [];
  const ours = params.context.diagnostics.filter((diagnostic) => diagnostic.source === 'ephemeral-root' && typeof diagnostic.code === 'string');
  const file = server.workspace.source(filePath);
  const seen = new Set<string>();
  for (const diagnostic of ours) {
    const code = diagnostic.code as string;
    if (file && !seen.has(`ignore:${code}:${diagnostic.range.start.line}`)) {
      seen.add(`ignore:${code}:${diagnostic.range.start.line}`);
      const insertion = pragmaInsertion(file, file.lines.offset(diagnostic.range.start), code);
      const position = file.lines.position(insertion.offset);
      actions.push({
        title: `Ignore ${code} here`,
        kind: CodeActionKind.QuickFix,
        diagnostics: [diagnostic],
        edit: { changes: { [params.textDocument.uri]: [{ range: { start: position, end: position }, newText: insertion.text }] } },
      });
    }
    if (!seen.has(`docs:${code}`)) {
      seen.add(`docs:${code}`);
      actions.push({ title: `Show documentation for ${code}`, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], command: { title: `Show documentation for ${code}`, command: SHOW_DOCUMENTATION, arguments: [code] } });
    }
  }
  void server;
  return actions;
}

export async function executeFixCommand(server: EphemeralRootServer, params: ExecuteCommandParams): Promise<unknown> {
  if (params.command === SHOW_DOCUMENTATION) {
    const code = String(params.arguments?.[0] ?? '');
    await server.connection.window.showDocument({ uri: docsUrl(code), external: true });
  }
  return undefined;
}
