/**
 * The CLI's three output formats over one analysis result: text for people, JSON for scripts (DESIGN.md's contract),
 * SARIF 2.1.0 for code-scanning services. An analysis is first rendered into a `Report` (ranges read, quick fixes
 * looked up); the formats read only the report.
 */
import path from 'node:path';
import type { Log, ReportingDescriptor, Result } from 'sarif';
import { isFixable } from '../fixes/registry';
import { groupByCause, unknownCause } from '../model/unknown-causes';
import type { Workspace } from '../model/workspace';
import type { AnalysisResult, RuleFault } from '../rules/engine';
import { RULES } from '../rules/registry';
import { type RuleCode, type Severity, docsUrl } from '../rules/types';

export interface Position {
  line: number;
  character: number;
}
export interface Range {
  start: Position;
  end: Position;
}

/**
 * What the output formats need from an analysis, with every range read and `fixable` decided while the hosts and
 * parses are alive: a report outlives its analysis, so the CLI can drop each batch of hosts as soon as it is rendered
 * (and render batches in worker threads). Paths are absolute; each format makes them relative to the current folder.
 */
export interface Report {
  hosts: { name: string; kind: string; root: string; files: string[]; release: string | null }[];
  /** Every .nix file in scope, sorted. */
  files: string[];
  findings: ReportedFinding[];
  unknowns: ReportedUnknown[];
  faults: RuleFault[];
}

export interface ReportedFinding {
  file: string;
  /** The finding's start offset, kept for the order of the output. */
  start: number;
  host?: string;
  code: RuleCode;
  severity: Severity;
  message: string;
  range: Range;
  related: { file: string; range: Range; message: string }[];
  fixable: boolean;
}

export interface ReportedUnknown {
  host: string;
  what: string;
  /** Undefined when the note has no place in a file. */
  file?: string;
  range?: Range;
}

/** Renders an analysis into a report, against the workspace that made it (for ranges and quick fixes). */
export function reportOf(result: AnalysisResult, workspace: Workspace): Report {
  const hosts = new Map(result.hosts.map((host) => [host.name, host]));
  return {
    hosts: result.hosts.map((host) => ({ name: host.name, kind: host.kind, root: host.root, files: [...host.files], release: host.release?.version ?? null })),
    files: [...result.files],
    findings: result.findings.map((finding) => ({
      file: finding.origin.file,
      start: finding.origin.start,
      host: finding.host,
      code: finding.code,
      severity: finding.severity,
      message: finding.message,
      range: workspace.range(finding.origin),
      related: finding.related.map((item) => ({ file: item.origin.file, range: workspace.range(item.origin), message: item.message })),
      fixable: isFixable(finding, finding.host ? hosts.get(finding.host) : undefined, workspace),
    })),
    unknowns: result.unknowns.map(({ host, note }) => ({ host, what: note.what, ...(note.origin ? { file: note.origin.file, range: workspace.range(note.origin) } : {}) })),
    faults: [...result.faults],
  };
}

function relative(file: string, cwd: string): string {
  return path.relative(cwd, file) || path.basename(file);
}

const SEVERITY_ORDER: Severity[] = ['error', 'warning', 'information', 'hint'];

function sortFindings(findings: ReportedFinding[]): ReportedFinding[] {
  return [...findings].sort(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      a.start - b.start ||
      SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) ||
      a.code.localeCompare(b.code) ||
      (a.host ?? '').localeCompare(b.host ?? ''),
  );
}

export function toJson(report: Report, cwd: string): unknown {
  return {
    version: 1,
    hosts: report.hosts.map((host) => ({
      name: host.name,
      kind: host.kind,
      root: relative(host.root, cwd),
      files: host.files.map((file) => relative(file, cwd)),
      release: host.release,
    })),
    diagnostics: sortFindings(report.findings).map((finding) => ({
      file: relative(finding.file, cwd),
      host: finding.host ?? null,
      code: finding.code,
      severity: finding.severity,
      message: finding.message,
      range: finding.range,
      related: finding.related.map((item) => ({ file: relative(item.file, cwd), range: item.range, message: item.message })),
      fixable: finding.fixable,
    })),
    unknown: report.unknowns
      .filter((item) => item.file !== undefined)
      .map((item) => ({ file: relative(item.file!, cwd), host: item.host, range: item.range, what: item.what, cause: unknownCause(item.what) })),
  };
}

export function toText(report: Report, cwd: string, explain: boolean): string {
  const lines: string[] = [];
  for (const finding of sortFindings(report.findings)) {
    const where = `${relative(finding.file, cwd)}:${finding.range.start.line + 1}:${finding.range.start.character + 1}`;
    const host = finding.host ? ` (host ${finding.host})` : '';
    lines.push(`${where}: ${finding.severity} [${finding.code}] ${finding.message}${host}`);
    for (const item of finding.related) {
      lines.push(`    ${relative(item.file, cwd)}:${item.range.start.line + 1}:${item.range.start.character + 1}: ${item.message}`);
    }
  }
  const count = (severity: Severity) => report.findings.filter((finding) => finding.severity === severity).length;
  lines.push(
    `${count('error')} error(s), ${count('warning')} warning(s), ${count('information') + count('hint')} note(s) in ${report.hosts.length} host(s), ${report.files.length} file(s).`,
  );
  if (explain) {
    lines.push('', `What could not be decided statically (rules stay silent about these): ${report.unknowns.length}, by cause`);
    if (report.unknowns.length === 0) lines.push('  nothing');
    for (const group of groupByCause(report.unknowns, (item) => item.what)) {
      lines.push(`  ${group.cause}: ${group.items.length}`);
      for (const item of group.items) {
        const where = item.file !== undefined && item.range ? `${relative(item.file, cwd)}:${item.range.start.line + 1}` : '-';
        lines.push(`    [${item.host}] ${where}: ${item.what}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

const SARIF_LEVEL: Record<Severity, Result.level> = { error: 'error', warning: 'warning', information: 'note', hint: 'note' };

export function toSarif(report: Report, cwd: string, version: string): Log {
  const rules: ReportingDescriptor[] = RULES.map((rule) => ({
    id: rule.code,
    name: rule.code.replace(/(^|-)([a-z0-9])/g, (_match, _dash, char: string) => char.toUpperCase()),
    shortDescription: { text: rule.summary },
    helpUri: docsUrl(rule.code),
    defaultConfiguration: { level: SARIF_LEVEL[rule.severity] },
    properties: { facts: rule.facts },
  }));
  const ruleIndex = new Map(RULES.map((rule, index) => [rule.code, index]));
  const location = (file: string, range: Range, message?: string) => {
    return {
      physicalLocation: {
        artifactLocation: { uri: relative(file, cwd).split(path.sep).join('/'), uriBaseId: '%SRCROOT%' },
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
        results: sortFindings(report.findings).map((finding) => ({
          ruleId: finding.code,
          ruleIndex: ruleIndex.get(finding.code),
          level: SARIF_LEVEL[finding.severity],
          message: { text: finding.message },
          locations: [location(finding.file, finding.range)],
          relatedLocations: finding.related.map((item, index) => ({ id: index, ...location(item.file, item.range, item.message) })),
          properties: { host: finding.host ?? null, fixable: finding.fixable },
        })),
      },
    ],
  };
}
