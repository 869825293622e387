/**
 * Counts what the CLI could not decide over every case of a corpus, by cause: it runs `ephemeral-root check <case>
 * --explain --format json` as a user would and classifies each unknown's reason with this tree's `unknownCause`, so a
 * build of an older commit (which may not give a cause in its JSON) is counted by the same groups as the current one.
 * Unknowns of files analysed on their own are left out of the total, as issue 14 measures them.
 *
 *   node out/scripts/count-unknowns.js [--bin path/to/bin/ephemeral-root.js] [--corpus folder] [--cases] [--list CAUSE]
 *
 * Defaults: this repository's built CLI and EPHEMERAL_ROOT_CORPUS or ../shared/corpus. `--cases` adds a line per case;
 * `--list` prints every unknown whose cause contains the given text (to see what a group is made of). Two more totals
 * follow: distinct places (one unknown met by several hosts of a case counts once) and the unknowns of full NixOS
 * hosts only (leaving out every unknown of a file analysed on its own, not just the note that says so).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { unknownCause } from '../server/src/model/unknown-causes';

const ALONE = 'a file analysed on its own (the rest of its host is out of reach)';

interface Unknown {
  host: string;
  file: string;
  what: string;
  range?: { start: { line: number } };
}

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const repoRoot = path.resolve(__dirname, '..', '..');
const bin = path.resolve(option('--bin') ?? path.join(repoRoot, 'bin', 'ephemeral-root.js'));
const corpus = path.resolve(option('--corpus') ?? process.env.EPHEMERAL_ROOT_CORPUS ?? path.join(repoRoot, '..', 'shared', 'corpus'));
const perCase = process.argv.includes('--cases');
const list = option('--list');

const cases = readdirSync(corpus)
  .filter((name) => existsSync(path.join(corpus, name, 'expected.json')))
  .sort();
const byCause = new Map<string, number>();
let total = 0;
let alone = 0;
const distinct = new Set<string>();
let ofHosts = 0;
for (const name of cases) {
  const folder = path.join(corpus, name);
  const run = spawnSync(process.execPath, [bin, 'check', '.', '--explain', '--format', 'json'], { cwd: folder, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 300_000 });
  if (run.status !== 0 && run.status !== 1) {
    console.error(`${name}: the CLI exited with ${run.status ?? run.signal}: ${run.stderr.trim().split('\n')[0] ?? ''}`);
    continue;
  }
  const report = JSON.parse(run.stdout) as { unknown: Unknown[]; hosts: { name: string; kind: string }[] };
  const unknowns = report.unknown;
  const nixosHosts = new Set(report.hosts.filter((host) => host.kind === 'nixos').map((host) => host.name));
  let counted = 0;
  for (const unknown of unknowns) {
    const cause = unknownCause(unknown.what);
    if (cause === ALONE) {
      alone++;
      continue;
    }
    counted++;
    byCause.set(cause, (byCause.get(cause) ?? 0) + 1);
    distinct.add(`${name}\0${unknown.file}\0${unknown.range?.start.line}\0${unknown.what}`);
    if (nixosHosts.has(unknown.host)) ofHosts++;
    if (list !== undefined && cause.includes(list)) console.log(`  ${name}/${unknown.file}:${(unknown.range?.start.line ?? -1) + 1}: ${unknown.what}`);
  }
  total += counted;
  if (perCase) console.log(`${String(counted).padStart(5)}  ${name}`);
}
console.log(`cases: ${cases.length} from ${corpus}; CLI: ${bin}`);
for (const [cause, count] of [...byCause].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) console.log(`${String(count).padStart(5)}  ${cause}`);
console.log(`${String(total).padStart(5)}  total (not counting ${alone} of files analysed on their own)`);
console.log(`${String(distinct.size).padStart(5)}  distinct places (an unknown several hosts meet counted once)`);
console.log(`${String(ofHosts).padStart(5)}  of full NixOS hosts only (no unknown of a file analysed on its own)`);
