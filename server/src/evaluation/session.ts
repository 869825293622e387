/**
 * The evaluation-backed mode, for one analysis context (a CLI run, a language-server workspace folder): which hosts to
 * ask Nix about, asking it (or the cache), and handing the answers to the model (`AnalysisOptions.refine`).
 *
 * A host is evaluated when it is a NixOS host — built by a flake, or a configuration.nix outside any flake (through
 * `<nixpkgs/nixos>` with `NIXOS_CONFIG`) — and the static reading left something unknown that a rule asked about
 * (`HostModel.unknowns`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ConfigNode } from '../model/config';
import type { HostModel } from '../model/host-model';
import type { RefineTarget } from '../model/hosts';
import type { HostFinding } from '../rules/engine';
import { type CachedOutcome, EvaluationCache, cacheKey } from './cache';
import { type Disagreement, type MergeContext, mergeEvaluated, originKey } from './merge';
import { type EvalSource, type NixTool, runEvaluation } from './runner';

export interface SessionOptions {
  /** `nix` and its PATH, or why there is none (then every evaluation is a fault). */
  tool: NixTool | { error: string };
  cache?: EvaluationCache;
  timeoutMs?: number;
}

export interface HostEvaluation {
  host: string;
  /** The flake.nix, or the configuration.nix of a host outside any flake. */
  source: EvalSource;
  key: string;
  outcome: CachedOutcome;
  /** Whether the outcome came from the cache (no Nix ran). */
  cached: boolean;
  /** Milliseconds Nix ran (0 when cached). */
  ms: number;
}

export interface EvaluationReport {
  evaluated: HostEvaluation[];
  /** Faults of ours or of the machine (no nix, a timeout, output we cannot read): never silent. */
  faults: { host: string; message: string }[];
}

/** The flake.nix that builds a host, when it is a flake host. */
export function flakeFileOf(host: { files: string[]; root: string }): string | undefined {
  const flakes = host.files.filter((file) => path.basename(file) === 'flake.nix').sort((a, b) => a.length - b.length);
  return flakes[0];
}

/** What Nix evaluates for a host: its flake, or its configuration.nix when it is a NixOS host outside any flake. */
export function sourceOf(host: { files: string[]; root: string; kind: string }): EvalSource | undefined {
  const flake = flakeFileOf(host);
  if (flake) return { kind: 'flake', file: flake };
  if (host.kind === 'nixos' && path.basename(host.root) === 'configuration.nix') return { kind: 'classic', file: host.root };
  return undefined;
}

function identity(source: EvalSource, host: string): string {
  return `${source.kind}:${source.file}#${host}`;
}

export class EvaluationSession {
  readonly cache: EvaluationCache;
  private readonly results = new Map<string, HostEvaluation>();
  /** Disagreements between the static reading and Nix found by the last refined analysis (bugs of ours). */
  disagreements: Disagreement[] = [];
  private readonly contexts = new Map<string, MergeContext>();
  /** How many times Nix was started for an evaluation (the cache test counts them through a wrapper too). */
  nixRuns = 0;

  constructor(readonly options: SessionOptions) {
    this.cache = options.cache ?? new EvaluationCache();
  }

  /** Whether a host is one to ask Nix about. */
  wants(host: HostModel): boolean {
    return host.kind === 'nixos' && sourceOf(host) !== undefined && host.unknowns.length > 0;
  }

  /** The result kept for a host, if any (whatever the files are now: `evaluate` checks them). */
  resultFor(host: { files: string[]; root: string; kind: string; name: string }): HostEvaluation | undefined {
    const source = sourceOf(host);
    return source && this.results.get(identity(source, host.name));
  }

  /** A stamp that changes whenever the kept results change (the language server's `refineKey`). */
  get stamp(): string {
    return [...this.results.values()].map((result) => `${result.host}:${result.key}`).sort().join(',');
  }

  /** Whether a host's kept result is for the files as they are now on disk. */
  isCurrent(host: HostModel): boolean {
    const source = sourceOf(host);
    if (!source) return true;
    const kept = this.results.get(identity(source, host.name));
    return kept !== undefined && kept.key === this.keyOf(host, source);
  }

  private keyOf(host: HostModel, source: EvalSource): string {
    const nix = 'nix' in this.options.tool ? this.options.tool.nix : '';
    return cacheKey({ host: host.name, flakeDir: path.dirname(source.file), files: host.files, nix, nixPath: source.kind === 'classic' ? (process.env.NIX_PATH ?? '') : undefined });
  }

  /** Asks Nix (or the cache) about each host, one at a time. */
  async evaluate(hosts: HostModel[], progress?: { signal?: AbortSignal; onHost?: (host: string, index: number, total: number) => void }): Promise<EvaluationReport> {
    const report: EvaluationReport = { evaluated: [], faults: [] };
    for (const [index, host] of hosts.entries()) {
      if (progress?.signal?.aborted) break;
      const source = sourceOf(host);
      if (!source) continue;
      const key = this.keyOf(host, source);
      const cached = this.cache.get(key);
      if (cached) {
        const result = { host: host.name, source, key, outcome: cached, cached: true, ms: 0 };
        this.results.set(identity(source, host.name), result);
        report.evaluated.push(result);
        continue;
      }
      const tool = this.options.tool;
      if ('error' in tool) {
        report.faults.push({ host: host.name, message: tool.error });
        continue;
      }
      progress?.onHost?.(host.name, index, hosts.length);
      const started = Date.now();
      this.nixRuns++;
      const outcome = await runEvaluation(tool, {
        source,
        host: host.name,
        workDir: this.cache.folder,
        roots: [path.dirname(source.file)],
        timeoutMs: this.options.timeoutMs,
        signal: progress?.signal,
      });
      if (outcome.kind === 'fault') {
        report.faults.push({ host: host.name, message: outcome.message });
        continue;
      }
      this.cache.set(key, outcome);
      const result = { host: host.name, source, key, outcome, cached: false, ms: Date.now() - started };
      this.results.set(identity(source, host.name), result);
      report.evaluated.push(result);
    }
    return report;
  }

  /**
   * Starts a refined analysis: the disagreements logged are those of this analysis. The places of evaluated values
   * are kept per host (a host reused from an earlier analysis is not merged again, and its findings are still marked).
   */
  beginAnalysis(): void {
    this.disagreements = [];
  }

  /** `AnalysisOptions.refine`: the configuration with Nix's values in its unknowns, or Nix's failure. */
  readonly refine = (target: RefineTarget, config: ConfigNode) => {
    const source = target.flakeFile ? ({ kind: 'flake', file: target.flakeFile } as const) : sourceOf(target);
    if (!source) return undefined;
    const result = this.results.get(identity(source, target.name));
    if (!result) return undefined;
    const outcome = result.outcome;
    const error = outcome.kind === 'nix-error' ? outcome : outcome.failure;
    const failure = error && { message: error.message, origin: error.file ? this.placeOf({ file: error.file, line: error.line, column: error.column }) : undefined };
    if (outcome.kind === 'nix-error') return { failure };
    const context: MergeContext = { host: target.name, fallback: { file: target.root, start: 0, end: 0 }, disagreements: [], anchors: new Map(), filled: new Set() };
    this.contexts.set(target.name, context);
    const merged = mergeEvaluated(config, outcome.projection, context);
    this.disagreements.push(...context.disagreements);
    return { config: merged, failure };
  };

  /** Offsets of a 1-based line and column of a file on disk (Nix reads the disk). */
  private placeOf(position: { file: string; line?: number; column?: number }): { file: string; start: number; end: number } {
    let text = '';
    try {
      text = readFileSync(position.file, 'utf8');
    } catch {
      return { file: position.file, start: 0, end: 0 };
    }
    const lines = text.split('\n');
    let offset = 0;
    for (let index = 0; index < Math.min((position.line ?? 1) - 1, lines.length); index++) offset += lines[index].length + 1;
    offset += Math.max(0, (position.column ?? 1) - 1);
    const word = /^[A-Za-z0-9_'\-./"]+/.exec(text.slice(offset))?.[0].length ?? 1;
    return { file: position.file, start: Math.min(offset, text.length), end: Math.min(offset + word, text.length) };
  }

  /**
   * Says so in the message of every finding that rests on a value Nix evaluated: a finding the static reading alone
   * does not make, or one placed where an evaluated value sits.
   */
  mark(findings: HostFinding[], staticFindings: HostFinding[]): HostFinding[] {
    const identityOf = (finding: HostFinding) => `${finding.host}\0${finding.code}\0${originKey(finding.origin)}`;
    const before = new Set(staticFindings.map(identityOf));
    return findings.map((finding) => {
      if (finding.code === 'evaluation-failed' || !finding.host) return finding;
      const context = this.contexts.get(finding.host);
      if (!context || context.filled.size === 0) return finding;
      const placed = [finding.origin, ...finding.related.map((item) => item.origin)].map((origin) => context.anchors.get(originKey(origin))).find(Boolean);
      if (!placed && before.has(identityOf(finding))) return finding;
      const paths = placed ? [placed] : [...context.filled].sort();
      return { ...finding, message: `${finding.message} (This rests on values Nix evaluated for ${paths.join(', ')}, which the static reading could not know.)` };
    });
  }
}
