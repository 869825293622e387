/** Test helpers: a parsed workspace and an analysis over a folder, the way the CLI runs one. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Workspace } from '../../server/src/model/workspace';
import { type AnalysisResult, analyze } from '../../server/src/rules/engine';
import { initSyntax } from '../../server/src/syntax/parser';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures');
/** Real configurations from public repositories, outside this repository (EPHEMERAL_ROOT_CORPUS overrides the place). */
export const CORPUS = process.env.EPHEMERAL_ROOT_CORPUS ?? path.resolve(REPO_ROOT, '..', 'shared', 'corpus');

export async function analyzeFolder(folder: string, options: { release?: string } = {}): Promise<{ result: AnalysisResult; workspace: Workspace }> {
  await initSyntax();
  const workspace = new Workspace();
  return { result: analyze(workspace, [folder], options), workspace };
}

export function listNix(folder: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(folder)) {
    const full = path.join(folder, entry);
    if (statSync(full).isDirectory()) found.push(...listNix(full));
    else if (entry.endsWith('.nix')) found.push(full);
  }
  return found.sort();
}

/** The nixpkgs release a fixture folder asks for in its optional `release` file. */
export function fixtureRelease(folder: string): string | undefined {
  try {
    return readFileSync(path.join(folder, 'release'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * What an analysis says, in a form two analyses can be compared by: hosts with their files, findings, unknowns and the
 * number of rule faults (paths relative to `root`). Tests of reuse compare a reusing analysis with a fresh one by it.
 */
export function analysisSummary(result: AnalysisResult, root: string): string {
  const relative = (file: string) => path.relative(root, file);
  return JSON.stringify({
    hosts: result.hosts.map((host) => [host.name, host.kind, relative(host.root), [...host.files].map(relative).sort()]),
    findings: result.findings
      .map((finding) => JSON.stringify([finding.code, finding.severity, finding.host, relative(finding.origin.file), finding.origin.start, finding.origin.end, finding.message, finding.related.map((item) => [relative(item.origin.file), item.origin.start, item.message])]))
      .sort(),
    unknowns: result.unknowns.map((item) => JSON.stringify([item.host, item.note.what, item.note.origin && [relative(item.note.origin.file), item.note.origin.start]])).sort(),
    faults: result.faults.length,
  });
}
