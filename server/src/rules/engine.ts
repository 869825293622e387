/**
 * The analysis engine: discovers the hosts under the given paths, runs every rule on every host, and adds the
 * file-level findings (syntax errors, imports that could not be followed). One rule failing on one host is
 * recorded and skipped; the other rules and hosts still report.
 */
import path from 'node:path';
import type { HostModel, UnknownNote } from '../model/host-model';
import { SliceExpired, type TimeSlices, activeBudget } from '../model/budget';
import { ReuseCache } from '../model/dependencies';
import { type AnalysisOptions, type HostBuilder, type HostOutcome, discoverHosts } from '../model/hosts';
import type { ImportFailure } from '../model/modules';
import { ValueStore } from '../model/value-reuse';
import type { Origin } from '../model/values';
import type { Workspace } from '../model/workspace';
import { unreadableText } from '../syntax/parser';
import { syntaxProblems } from '../syntax/syntax-errors';
import { RULES, RULES_BY_CODE } from './registry';
import { applyPragmas } from './pragmas';
import { q } from './support';
import type { Finding, Rule } from './types';
import { editDistance } from '../model/edit-distance';

export interface HostFinding extends Finding {
  /** The host the finding belongs to; undefined for file-level findings (syntax errors). */
  host?: string;
}

export interface RuleFault {
  code: string;
  host: string;
  error: string;
}

export interface AnalysisResult {
  hosts: HostModel[];
  /** Every .nix file in scope. */
  files: string[];
  findings: HostFinding[];
  unknowns: { host: string; note: UnknownNote }[];
  faults: RuleFault[];
}

function ruleFor(code: Finding['code']): Rule {
  return RULES_BY_CODE.get(code)!;
}

/**
 * A rule the tests make fail on purpose, to prove through the real server and CLI that one failing rule is logged and
 * skipped while the others still report: `EPHEMERAL_ROOT_INJECT_FAULT=<code>` fails every run of that rule,
 * `<code>@<n>` every run from the n-th on (a server whose rule starts failing after a first good analysis).
 */
const [injectedFault, injectedFrom] = (process.env.EPHEMERAL_ROOT_INJECT_FAULT ?? '').split('@');
let injectedRuns = 0;

/** Runs one rule, isolating its failures. */
export function runRule(rule: Rule, host: HostModel, faults: RuleFault[]): Finding[] {
  try {
    if (rule.code === injectedFault && ++injectedRuns >= Number(injectedFrom ?? 1)) throw new Error(`fault injected into ${rule.code} (EPHEMERAL_ROOT_INJECT_FAULT)`);
    return rule.check(host);
  } catch (error) {
    // A time slice that ended is no fault of the rule: the analysis resumes later (budget.ts).
    if (error instanceof SliceExpired) throw error;
    faults.push({ code: rule.code, host: host.name, error: error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error) });
    return [];
  }
}

/** What the rules found on one host: computed inside the host's dependency frame, kept with the host. */
interface HostReport {
  findings: HostFinding[];
  unknowns: AnalysisResult['unknowns'];
  faults: RuleFault[];
}

/**
 * Hosts kept between analyses (see `ReuseCache`), and inside a host the lazy values its analysis computed
 * (value-reuse.ts): the language server keeps one per workspace folder.
 */
export class HostReuse extends ReuseCache<HostOutcome<HostReport>> {
  readonly values = new ValueStore();
}

export function createHostReuse(): HostReuse {
  return new HostReuse();
}

/** How modules.ts names a secrets file of a flake input among the host's library modules. */
const SECRETS_MODULE = 'secrets module ';

function reportOn(host: HostModel): HostReport {
  const report: HostReport = { findings: [], unknowns: [], faults: [] };
  // A secrets file of a flake input cannot be read and is taken to set none of the options the rules read
  // (input-modules.ts isSecretsModule): every finding on such a host rests on that guess, and says so.
  const secrets = host.input.library.filter((module) => module.name.startsWith(SECRETS_MODULE));
  const guess = secrets.length > 0 ? ` (Unless an unreadable module enables it: ${secrets.map((module) => module.name.slice(SECRETS_MODULE.length)).join(', ')} cannot be read and is taken, as a secrets file, to set none of the options the rules read.)` : '';
  for (const rule of RULES) {
    for (const finding of runRule(rule, host, report.faults)) report.findings.push({ ...finding, message: finding.message + guess, host: host.name });
  }
  // Rules run inside the host's budget (hosts.ts). A host whose budget ran out was read only in part, and a finding
  // about what it lacks could be one that the unread part disproves: it reports nothing but why it stopped.
  const stopped = activeBudget().reason;
  if (stopped) return { findings: [], unknowns: [{ host: host.name, note: { what: stopped, origin: { file: host.root, start: 0, end: 0 } } }], faults: report.faults };
  for (const note of host.unknowns) report.unknowns.push({ host: host.name, note });
  return report;
}

export function analyze(workspace: Workspace, scopes: string[], options: AnalysisOptions & { reuse?: HostReuse; slices?: TimeSlices; builder?: HostBuilder } = {}): AnalysisResult {
  const discovery = discoverHosts(workspace, scopes, { ...options, values: options.reuse?.values, finish: reportOn });
  const findings: HostFinding[] = [];
  const faults: RuleFault[] = [];

  // Syntax errors: every file in scope and every file a host reads.
  const files = new Set(discovery.files);
  for (const host of discovery.hosts) for (const file of host.files) files.add(file);
  for (const file of files) {
    const source = workspace.source(file);
    if (!source) continue;
    const rule = ruleFor('syntax-error');
    if (source.unreadable) {
      findings.push({
        code: rule.code,
        severity: rule.severity,
        message: `This file is not analysed: ${unreadableText(source.unreadable)}.`,
        origin: { file, start: 0, end: 0 },
        related: [],
      });
      continue;
    }
    for (const problem of syntaxProblems(source)) {
      findings.push({ code: rule.code, severity: rule.severity, message: problem.message, origin: { file, start: problem.start, end: problem.end }, related: [] });
    }
  }

  // Imports that could not be followed, once per place and path.
  const seenMissing = new Set<string>();
  const missing: { host?: string; failure: ImportFailure }[] = [...discovery.missing, ...discovery.missingImportExpressions.map((failure) => ({ failure }))];
  for (const { host, failure } of missing) {
    const origin: Origin = failure.origin ?? { file: host ?? failure.path, start: 0, end: 0 };
    const key = `${origin.file}:${origin.start}:${failure.path}`;
    if (seenMissing.has(key)) continue;
    seenMissing.add(key);
    const rule = ruleFor('import-not-found');
    findings.push({
      code: rule.code,
      severity: rule.severity,
      message: `${missingImportProblem(workspace, failure.path, origin.file)} The host is analysed without it, and rules that would need what it defines stay silent.`,
      origin,
      related: [],
      host,
    });
  }

  const unknowns: AnalysisResult['unknowns'] = discovery.stopped.map((stopped) => ({ host: stopped.host, note: { what: stopped.what, origin: stopped.origin } }));
  for (const report of discovery.reports) {
    findings.push(...report.findings);
    unknowns.push(...report.unknowns);
    faults.push(...report.faults);
  }

  // Findings are made only from files the analysis may read; this keeps it so whatever a rule does with an origin: no
  // diagnostic is ever published for a file outside the folders being analysed.
  const inside = findings.filter((finding) => !workspace.isOutside(finding.origin.file));
  for (const finding of inside) finding.related = finding.related.filter((item) => !workspace.isOutside(item.origin.file));
  return { hosts: discovery.hosts, files: [...files].sort(), findings: applyPragmas(workspace, inside), unknowns, faults };
}

/** What is wrong with an import path: a missing file, a folder without default.nix, with a close name when one exists. */
function missingImportProblem(workspace: Workspace, target: string, from: string): string {
  const folder = path.dirname(target);
  if (path.basename(target) === 'default.nix' && workspace.isDirectory(folder)) {
    return `${q(displayPath(folder, from))} is a folder without a ${q('default.nix')}, which is what importing a folder reads.`;
  }
  const near = closeSibling(workspace, target);
  const hint = near ? ` Did you mean ${q(displayPath(near, from))}?` : '';
  return `${q(displayPath(target, from))} does not exist.${hint}`;
}

/** A file or folder beside a missing path whose name differs by a typo or two. */
function closeSibling(workspace: Workspace, target: string): string | undefined {
  const folder = path.dirname(target);
  const wanted = path.basename(target);
  const entries = workspace.readDir(folder);
  if (!entries) return undefined;
  let best: { name: string; distance: number } | undefined;
  for (const name of entries.keys()) {
    const distance = editDistance(name, wanted);
    if (distance > 0 && distance <= Math.max(1, Math.min(2, Math.floor(wanted.length / 5))) && (!best || distance < best.distance)) best = { name, distance };
  }
  return best && path.join(folder, best.name);
}


function displayPath(target: string, from: string): string {
  const relative = path.relative(path.dirname(from), target);
  return relative.startsWith('.') ? relative : `./${relative}`;
}
