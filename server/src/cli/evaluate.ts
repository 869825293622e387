/**
 * `ephemeral-root check --eval`: the static analysis, then Nix asked about the hosts whose unknowns matter to a rule
 * (server/src/evaluation), then the analysis again with Nix's values in those unknowns.
 *
 * What goes to stderr, one line each: every host asked about (evaluated, and how long it took, or answered from the
 * cache), every fault of the evaluated path (no `nix`, a timeout, output we cannot read: the run then exits 2, never a
 * silent 0), and every disagreement between the static reading and Nix (a bug of ours, with both values). Nix failing
 * to evaluate the user's configuration is neither: it is an `evaluation-failed` finding on the host.
 */
import { analyze, type AnalysisResult } from '../rules/engine';
import type { AnalysisOptions } from '../model/hosts';
import type { Workspace } from '../model/workspace';
import { resolveNixExecutable, safePathVariable } from '../evaluation/nix-executable';
import { EvaluationSession } from '../evaluation/session';

export interface EvaluatedAnalysis {
  result: AnalysisResult;
  /** Faults of the evaluated path, one sentence each. */
  faults: string[];
}

function timeoutFromEnvironment(): number | undefined {
  const seconds = Number(process.env.EPHEMERAL_ROOT_EVAL_TIMEOUT ?? '');
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

export async function analyzeWithEvaluation(workspace: Workspace, scopes: string[], options: AnalysisOptions, projectRoots: string[]): Promise<EvaluatedAnalysis> {
  const staticResult = analyze(workspace, scopes, options);
  // `nix` is never taken from inside the project being checked (a repository could ship its own).
  const resolution = resolveNixExecutable({ pathVariable: process.env.PATH ?? '', workspaceFolders: projectRoots });
  const tool = resolution.nix ? { nix: resolution.nix, pathVariable: safePathVariable(process.env.PATH ?? '', projectRoots) } : { error: resolution.error ?? 'no nix executable' };
  const session = new EvaluationSession({ tool, timeoutMs: timeoutFromEnvironment() });
  const wanted = staticResult.hosts.filter((host) => session.wants(host));
  const report = await session.evaluate(wanted, { onHost: (host) => process.stderr.write(`ephemeral-root: evaluating host '${host}' with nix…\n`) });
  for (const item of report.evaluated) {
    const how = item.cached ? 'answered from the cache' : `evaluated in ${(item.ms / 1000).toFixed(1)} s`;
    const what = item.outcome.kind === 'nix-error' ? 'Nix could not evaluate it (an evaluation-failed note)' : 'its unknowns are filled';
    process.stderr.write(`ephemeral-root: host '${item.host}' ${how}: ${what}\n`);
  }
  const faults = report.faults.map((fault) => `evaluation of host '${fault.host}' failed: ${fault.message}`);
  if (report.evaluated.length === 0) return { result: staticResult, faults };
  session.beginAnalysis();
  const refined = analyze(workspace, scopes, { ...options, refine: session.refine });
  for (const disagreement of session.disagreements) {
    process.stderr.write(`ephemeral-root: the static reading and Nix disagree on host '${disagreement.host}' at ${disagreement.path}: static ${disagreement.static}, Nix ${disagreement.evaluated} (a bug of ours; the static value is kept)\n`);
  }
  return { result: { ...refined, findings: session.mark(refined.findings, staticResult.findings) }, faults };
}
