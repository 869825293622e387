/**
 * `npm run bench`, rows of bench.js: what a scavenge keeps after back-to-back edits (docs/performance.md, "Scavenges
 * kept analyses that were already dead" and "Pretenuring kept dead analyses alive"). Run by bench.js in a process of its
 * own for each host and each setting of V8's allocation-site pretenuring, with `--expose-gc` and semi-spaces large
 * enough that no scavenge runs between the edits:
 *
 *   node --expose-gc --min-semi-space-size=64 --max-semi-space-size=64 [--no-allocation-site-pretenuring] \
 *     out/test/bench/young-retention.js seed|aria
 *
 * After a full collection, the host is edited E times in a row (a space typed and deleted at the start of a line of
 * one file: the seed's `configuration.nix`, or the `filesystems/default.nix` of the largest corpus host), analysed as
 * the language server does, keeping values between analyses; then one scavenge runs and the bytes left in the young
 * generation are what it kept. Only the last analysis is alive, so the figure should not grow with E; when it does,
 * every edit leaves its dead analysis for each scavenge to copy and promote. Prints one JSON line: the median of five
 * measurements for each E (nothing for the corpus host when the corpus is not there).
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { Workspace } from '../../server/src/model/workspace';
import { analyze, createHostReuse } from '../../server/src/rules/engine';
import { SourceFile, initSyntax } from '../../server/src/syntax/parser';
import { CORPUS, REPO_ROOT } from '../support/engine';

const collect = (globalThis as { gc?: (options?: { type: 'minor' | 'major' }) => void }).gc;

function youngBytes(): number {
  return v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_used_size ?? Number.NaN;
}

/** The hosts measured: the bundled seed, and the largest corpus host (read where the corpus is, never copied in). */
const HOSTS: Record<string, { folder: string; file: string }> = {
  seed: { folder: path.join(REPO_ROOT, 'examples', 'seed'), file: 'configuration.nix' },
  aria: { folder: path.join(CORPUS, 'notthebee__nix-config__aria-2025-01'), file: path.join('machines', 'nixos', 'aria', 'filesystems', 'default.nix') },
};

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

async function main(): Promise<void> {
  if (!collect) throw new Error('young-retention needs node --expose-gc');
  const host = HOSTS[process.argv[2] ?? 'seed'];
  if (!host) throw new Error(`young-retention: no host ${process.argv[2]} (${Object.keys(HOSTS).join(' or ')})`);
  if (!existsSync(host.folder)) return;
  await initSyntax();
  const folder = mkdtempSync(path.join(os.tmpdir(), 'young-retention-'));
  try {
    cpSync(host.folder, folder, { recursive: true });
    const file = path.join(folder, host.file);
    const workspace = new Workspace();
    workspace.watched = true;
    const reuse = createHostReuse();
    let source = SourceFile.fromText(file, readFileSync(file, 'utf8'));
    workspace.setOverlay(source);
    analyze(workspace, [folder], { reuse });
    const at = source.lines.offset({ line: 5, character: 0 });
    let edits = 0;
    const edit = () => {
      const insert = edits++ % 2 === 0;
      source = source.withChanges([{ start: at, end: insert ? at : at + 1, text: insert ? ' ' : '' }]);
      workspace.setOverlay(source);
      analyze(workspace, [folder], { reuse });
    };
    // Warm: the figures are for the steady state of an editing session, not for code that is still being compiled.
    for (let index = 0; index < 300; index++) edit();
    const kept: Record<string, number> = {};
    for (const count of [1, 9]) {
      const samples: number[] = [];
      for (let run = 0; run < 5; run++) {
        collect({ type: 'major' });
        await nextTurn();
        for (let index = 0; index < count; index++) edit();
        await nextTurn();
        collect({ type: 'minor' });
        samples.push(youngBytes());
      }
      kept[`after${count}`] = samples.sort((a, b) => a - b)[2];
    }
    console.log(JSON.stringify(kept));
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`young-retention: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
