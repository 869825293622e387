/**
 * The CLI's three output formats over one analysis result: text for people, JSON for scripts (DESIGN.md's contract),
 * SARIF 2.1.0 for code-scanning services.
 */
import path from 'node:path';
import type { Log, ReportingDescriptor, Result } from 'sarif';
import { isFixable } from '../fixes/registry';
import { groupByCause, unknownCause } from '../model/unknown-causes';
import type { Origin } from '../model/values';
import type { Workspace } from '../model/workspace';
import type { AnalysisResult, HostFinding } from '../rules/engine';
import { RULES } from '../rules/registry';
import { type Severity, docsUrl } from '../rules/types';

export interface Position {
  line: number;
  character: number;
}
export interface Range {
  start: Position;
  end: Position;
}

function rangeOf(workspace: Workspace, origin: Origin): Range {
  return workspace.range(origin);
}

function relative(file: string, cwd: string): string {
  return path.relative(cwd, file) || path.basename(file);
}

const SEVERITY_ORDER: Severity[] = ['error', 'warning', 'information', 'hint'];

function sortFindings(findings: HostFinding[]): HostFinding[] {
  return [...findings].sort(
    (a, b) =>
      a.origin.file.localeCompare(b.origin.file) ||
      a.origin.start - b.origin.start ||
      SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) ||
      a.code.localeCompare(b.code) ||
      (a.host ?? '').localeCompare(b.host ?? ''),
  );
}

export function toJson(result: AnalysisResult, workspace: Workspace, cwd: string): unknown {
  const hosts = new Map(result.hosts.map((host) => [host.name, host]));
  return {
    version: 1,
    hosts: result.hosts.map((host) => ({
      name: host.name,
      kind: host.kind,
      root: relative(host.root, cwd),
      files: host.files.map((file) => relative(file, cwd)),
      release: host.release?.version ?? null,
    })),
    diagnostics: sortFindings(result.findings).map((finding) => ({
      file: relative(finding.origin.file, cwd),
      host: finding.host ?? null,
      code: finding.code,
      severity: finding.severity,
      message: finding.message,
      range: rangeOf(workspace, finding.origin),
      related: finding.related.map((item) => ({ file: relative(item.origin.file, cwd), range: rangeOf(workspace, item.origin), message: item.message })),
      fixable: isFixable(finding, finding.host ? hosts.get(finding.host) : undefined, workspace),
    })),
    unknown: result.unknowns
      .filter(({ note }) => note.origin)
      .map(({ host, note }) => ({ file: relative(note.origin!.file, cwd), host, range: rangeOf(workspace, note.origin!), what: note.what, cause: unknownCause(note.what) })),
  };
}

export function toText(result: AnalysisResult, workspace: Workspace, cwd: string, explain: boolean): string {
  const lines: string[] = [];
  for (const finding of sortFindings(result.findings)) {
    const range = rangeOf(workspace, finding.origin);
    const where = `${relative(finding.origin.file, cwd)}:${range.start.line + 1}:${range.start.character + 1}`;
    const host = finding.host ? ` (host ${finding.host})` : '';
    lines.push(`${where}: ${finding.severity} [${finding.code}] ${finding.message}${host}`);
    for (const item of finding.related) {
      const relatedRange = rangeOf(workspace, item.origin);
      lines.push(`    ${relative(item.origin.file, cwd)}:${relatedRange.start.line + 1}:${relatedRange.start.character + 1}: ${item.message}`);
    }
  }
  const count = (severity: Severity) => result.findings.filter((finding) => finding.severity === severity).length;
  lines.push(
    `${count('error')} error(s), ${count('warning')} warning(s), ${count('information') + count('hint')} note(s) in ${result.hosts.length} host(s), ${result.files.length} file(s).`,
  );
  if (explain) {
    lines.push('', `What could not be decided statically (rules stay silent about these): ${result.unknowns.length}, by cause`);
    if (result.unknowns.length === 0) lines.push('  nothing');
    for (const group of groupByCause(result.unknowns, (item) => item.note.what)) {
      lines.push(`  ${group.cause}: ${group.items.length}`);
      for (const { host, note } of group.items) {
        const where = note.origin ? `${relative(note.origin.file, cwd)}:${rangeOf(workspace, note.origin).start.line + 1}` : '-';
        lines.push(`    [${host}] ${where}: ${note.what}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

const SARIF_LEVEL: Record<Severity, Result.level> = { error: 'error', warning: 'warning', information: 'note', hint: 'note' };

export function toSarif(result: AnalysisResult, workspace: Workspace, cwd: string, version: string): Log {
  const rules: ReportingDescriptor[] = RULES.map((rule) => ({
    id: rule.code,
    name: rule.code.replace(/(^|-)([a-z0-9])/g, (_match, _dash, char: string) => char.toUpperCase()),
    shortDescription: { text: rule.summary },
    helpUri: docsUrl(rule.code),
    defaultConfiguration: { level: SARIF_LEVEL[rule.severity] },
    properties: { facts: rule.facts },
  }));
  const ruleIndex = new Map(RULES.map((rule, index) => [rule.code, index]));
  const hosts = new Map(result.hosts.map((host) => [host.name, host]));
  const location = (origin: Origin, message?: string) => {
    const range = rangeOf(workspace, origin);
    return {
      physicalLocation: {
        artifactLocation: { uri: relative(origin.file, cwd).split(path.sep).join('/'), uriBaseId: '%SRCROOT%' },
        region: { startLine: range.start.line + 1, startColumn: range.start.character + 1, endLine: range.end.line + 1, endColumn: range.end.character + 1 },
      },
      ...(message ? { message: { text: message } } : {}),
    };
  };
  return {
    version: '2.1.0',
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    runs: [
      {
        tool: { driver: { name: 'ephemeral-root', version, informationUri: 'https://github.com/nixos-ephemeral-root/nixos-ephemeral-root', rules } },
        originalUriBaseIds: { '%SRCROOT%': { uri: `file://${cwd.split(path.sep).join('/')}/` } },
        results: sortFindings(result.findings).map((finding) => ({
          ruleId: finding.code,
          ruleIndex: ruleIndex.get(finding.code),
          level: SARIF_LEVEL[finding.severity],
          message: { text: finding.message },
          locations: [location(finding.origin)],
          relatedLocations: finding.related.map((item, index) => ({ id: index, ...location(item.origin, item.message) })),
          properties: { host: finding.host ?? null, fixable: isFixable(finding, finding.host ? hosts.get(finding.host) : undefined, workspace) },
        })),
      },
    ],
  };
}
