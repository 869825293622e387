/**
 * Reuse inside a host (value-reuse.ts): the language server keeps lazy values from one analysis to the next. An edit
 * applies again only the module functions of the files it changed, a value that read `config` follows what the edit
 * did to the merged configuration, and whatever the edits, the reusing analysis says what a fresh one says.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Workspace } from '../../server/src/model/workspace';
import { analyze, createHostReuse } from '../../server/src/rules/engine';
import { SourceFile, initSyntax } from '../../server/src/syntax/parser';
import { GENERATED_DISKO, generatedConfiguration } from '../bench/generate';
import { editArbitrary, holdsHostileShape, offsets } from '../fuzz/edit-fuzzer';
import { CORPUS, REPO_ROOT, analysisSummary } from '../support/engine';

const SEED = path.join(REPO_ROOT, 'examples', 'seed');

/**
 * The seed host with its rollback's snapshot moved into an option of its own: `options.nix` declares
 * `rollback.snapshot`, `snapshot.nix` sets it, and configuration.nix reads it through `config`.
 */
function writeSnapshotOptionHost(folder: string): void {
  cpSync(path.join(SEED, 'disko.nix'), path.join(folder, 'disko.nix'));
  const seed = readFileSync(path.join(SEED, 'configuration.nix'), 'utf8');
  const configuration = seed
    .replace('{ lib, pkgs, ... }:\n{\n', '{ config, lib, pkgs, ... }:\n{\n  imports = [ ./options.nix ./snapshot.nix ];\n')
    .replace('script = "zfs rollback -r rpool/nixos/empty@start";', 'script = "zfs rollback -r ${config.rollback.snapshot}";');
  assert.ok(configuration.includes('config.rollback.snapshot') && configuration.includes('./snapshot.nix'), 'the seed configuration still has the shape this test edits');
  writeFileSync(path.join(folder, 'configuration.nix'), configuration);
  writeFileSync(path.join(folder, 'options.nix'), '{ lib, ... }:\n{\n  options.rollback.snapshot = lib.mkOption { type = lib.types.str; };\n}\n');
  writeFileSync(path.join(folder, 'snapshot.nix'), '{\n  rollback.snapshot = "rpool/nixos/empty@start";\n}\n');
}

function edit(workspace: Workspace, file: string, change: (text: string) => string): void {
  workspace.setOverlay(SourceFile.fromText(file, change(workspace.source(file)?.text ?? '')));
}

describe('reusing values inside a host', () => {
  let folder: string;
  before(async () => {
    await initSyntax();
    folder = mkdtempSync(path.join(os.tmpdir(), 'value-reuse-'));
    writeSnapshotOptionHost(folder);
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  it('applies again only the module of the file an edit changed', () => {
    const workspace = new Workspace();
    workspace.watched = true;
    const reuse = createHostReuse();
    analyze(workspace, [folder], { reuse });
    edit(workspace, path.join(folder, 'options.nix'), (text) => `${text}# a comment\n`);
    analyze(workspace, [folder], { reuse });
    const { asked, computed } = reuse.values.applied;
    // Both module functions are asked for; configuration.nix's application is kept, options.nix is a new parse.
    assert.equal(asked, 2);
    assert.equal(computed, 1);
  });

  it('keeps the module applications of a host that an analysis reused whole', () => {
    const workspace = new Workspace();
    workspace.watched = true;
    const reuse = createHostReuse();
    analyze(workspace, [folder], { reuse });
    // Nothing changed (as when an editor opens a file with the text on disk): the host is reused whole and applies
    // no module, and the edit after it still finds configuration.nix's application kept.
    analyze(workspace, [folder], { reuse });
    assert.equal(reuse.reused.length, 1);
    assert.equal(reuse.values.applied.asked, 0);
    edit(workspace, path.join(folder, 'options.nix'), (text) => `${text}# a comment\n`);
    analyze(workspace, [folder], { reuse });
    assert.deepEqual(reuse.values.applied, { asked: 2, computed: 1 });
  });

  it('keeps the module applications of a host while an edit of another host in the folder is analysed', () => {
    const twoHosts = mkdtempSync(path.join(os.tmpdir(), 'value-reuse-two-'));
    try {
      for (const name of ['alpha', 'beta']) {
        mkdirSync(path.join(twoHosts, name));
        writeSnapshotOptionHost(path.join(twoHosts, name));
      }
      const workspace = new Workspace();
      workspace.watched = true;
      const reuse = createHostReuse();
      analyze(workspace, [twoHosts], { reuse });
      edit(workspace, path.join(twoHosts, 'alpha', 'options.nix'), (text) => `${text}# a comment\n`);
      analyze(workspace, [twoHosts], { reuse });
      assert.equal(reuse.reused.length, 1, 'beta is reused whole while alpha is rebuilt');
      assert.deepEqual(reuse.values.applied, { asked: 2, computed: 1 });
      edit(workspace, path.join(twoHosts, 'beta', 'options.nix'), (text) => `${text}# a comment\n`);
      analyze(workspace, [twoHosts], { reuse });
      // beta's configuration.nix is applied as it was two analyses ago: only its edited options.nix is computed.
      assert.deepEqual(reuse.values.applied, { asked: 2, computed: 1 });
    } finally {
      rmSync(twoHosts, { recursive: true, force: true });
    }
  });

  it('computes a value that read config again when another module changes the option', () => {
    const workspace = new Workspace();
    workspace.watched = true;
    const reuse = createHostReuse();
    const mismatches = () => {
      const kept = analyze(workspace, [folder], { reuse });
      assert.equal(analysisSummary(kept, folder), analysisSummary(analyze(workspace, [folder]), folder));
      return kept.findings.filter((finding) => finding.code === 'rollback-snapshot-mismatch').length;
    };
    assert.equal(mismatches(), 0);
    edit(workspace, path.join(folder, 'snapshot.nix'), (text) => text.replace('@start', '@blank'));
    assert.equal(mismatches(), 1);
    edit(workspace, path.join(folder, 'snapshot.nix'), (text) => text.replace('@blank', '@start'));
    assert.equal(mismatches(), 0);
  });

  it('keeps a value that read config while what it read answers the same', () => {
    const workspace = new Workspace();
    workspace.watched = true;
    const reuse = createHostReuse();
    /** The rollback script of the analysis as a value: the string configuration.nix builds from `config`. */
    const rollbackScript = () => {
      const [host] = analyze(workspace, [folder], { reuse }).hosts;
      const unit = host.initrdUnits().units.find((candidate) => candidate.name === 'initrd-rollback-root');
      assert.ok(unit && unit.scripts.length === 1, 'the host still has its rollback unit with one script');
      return unit.scripts[0].value;
    };
    const first = rollbackScript();
    // options.nix changes (a new parse, new declarations), but `config.rollback.snapshot` answers the same value.
    edit(workspace, path.join(folder, 'options.nix'), (text) => `${text}# a comment\n`);
    assert.equal(rollbackScript(), first);
    // snapshot.nix changes what it answers: the script is computed again.
    edit(workspace, path.join(folder, 'snapshot.nix'), (text) => text.replace('@start', '@blank'));
    const changed = rollbackScript();
    assert.notEqual(changed, first);
    assert.match(JSON.stringify(changed), /@blank/);
    edit(workspace, path.join(folder, 'snapshot.nix'), (text) => text.replace('@blank', '@start'));
  });

  it('reports a file that cannot be evaluated at the import that reaches it in this analysis', () => {
    const workspace = new Workspace();
    workspace.watched = true;
    const reuse = createHostReuse();
    const check = () => assert.equal(analysisSummary(analyze(workspace, [folder], { reuse }), folder), analysisSummary(analyze(workspace, [folder]), folder));
    edit(workspace, path.join(folder, 'snapshot.nix'), () => '# nothing but a comment\n');
    check();
    // The import moves: the unknown it causes must point at the new place, not at the one a kept value remembers.
    edit(workspace, path.join(folder, 'configuration.nix'), (text) => text.replace('imports = [', '\n\n  imports = ['));
    check();
  });
});

describe('reusing values inside a host agrees with a fresh analysis (property)', () => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'value-reuse-property-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  /** Random edits (the fuzzer's) on one file of a folder; after each, the reusing analysis equals a fresh one. */
  function agreesUnderEdits(root: string, file: string, numRuns: number): void {
    fc.assert(
      fc.property(fc.array(editArbitrary, { minLength: 1, maxLength: 8 }), (edits) => {
        const workspace = new Workspace();
        workspace.watched = true;
        const reuse = createHostReuse();
        let text = readFileSync(file, 'utf8');
        analyze(workspace, [root], { reuse });
        for (const change of edits) {
          const { start, end } = offsets(text, change);
          text = text.slice(0, start) + change.insert + text.slice(end);
          // A hostile shape spends a host's whole budget, and a kept value spends none: the two may stop apart.
          if (holdsHostileShape(text)) return;
          workspace.setOverlay(SourceFile.fromText(file, text));
          assert.equal(analysisSummary(analyze(workspace, [root], { reuse }), root), analysisSummary(analyze(workspace, [root]), root));
        }
      }),
      { seed: 20261206, numRuns },
    );
  }

  before(async () => {
    await initSyntax();
    writeSnapshotOptionHost(scratch);
  });

  it('on the seed host', () => {
    agreesUnderEdits(SEED, path.join(SEED, 'configuration.nix'), 40);
    agreesUnderEdits(SEED, path.join(SEED, 'disko.nix'), 25);
  });

  it('on a host that reads its snapshot through config', () => {
    agreesUnderEdits(scratch, path.join(scratch, 'configuration.nix'), 25);
    agreesUnderEdits(scratch, path.join(scratch, 'snapshot.nix'), 25);
  });

  it('on a host whose modules change what they declare, define and read through config', () => {
    // Whole-file variants, each a valid module: edits that change answers of `config` across files (a late
    // condition, a set of options read as a whole, a default, a priority) rather than the syntax around them.
    const variants: Record<string, string[]> = {
      'options.nix': [
        '{ lib, ... }:\n{\n  options.rollback.snapshot = lib.mkOption { type = lib.types.str; };\n}\n',
        '{ lib, ... }:\n{\n  options.rollback.snapshot = lib.mkOption { type = lib.types.str; default = "rpool/nixos/empty@start"; };\n}\n',
        '{ lib, ... }:\n{\n  options.rollback = {\n    enable = lib.mkEnableOption "rollback";\n    snapshot = lib.mkOption { type = lib.types.str; default = "rpool/nixos/empty@blank"; };\n  };\n}\n',
        '{ lib, ... }:\n{\n  options.rollback.enable = lib.mkOption { type = lib.types.bool; default = true; };\n  options.rollback.snapshot = lib.mkOption { type = lib.types.str; };\n}\n',
      ],
      'snapshot.nix': [
        '{\n  rollback.snapshot = "rpool/nixos/empty@start";\n}\n',
        '{\n  rollback.snapshot = "rpool/nixos/empty@blank";\n}\n',
        '{ lib, ... }:\n{\n  rollback.snapshot = lib.mkDefault "rpool/nixos/empty@start";\n}\n',
        '{ }\n',
        '{\n  rollback.enable = true;\n  rollback.snapshot = "rpool/nixos/empty@start";\n}\n',
        '{ config, lib, ... }:\n{\n  rollback.enable = lib.mkDefault false;\n  rollback.snapshot = lib.mkIf config.rollback.enable "rpool/nixos/empty@start";\n}\n',
      ],
      'configuration.nix': [
        'script = "zfs rollback -r ${config.rollback.snapshot}";',
        'script = let cfg = config.rollback; in "zfs rollback -r ${cfg.snapshot}";',
        'script = lib.mkIf config.rollback.enable "zfs rollback -r ${config.rollback.snapshot}";',
        'script = "zfs rollback -r rpool/nixos/empty@start";',
      ],
    };
    const host = mkdtempSync(path.join(os.tmpdir(), 'value-reuse-modules-'));
    try {
      writeSnapshotOptionHost(host);
      const configuration = readFileSync(path.join(host, 'configuration.nix'), 'utf8');
      const scriptLine = variants['configuration.nix'][0];
      assert.ok(configuration.includes(scriptLine), 'the configuration still has the script line this test varies');
      const files = Object.keys(variants);
      const step = fc.record({ file: fc.constantFrom(...files), variant: fc.nat() });
      fc.assert(
        fc.property(fc.array(step, { minLength: 1, maxLength: 10 }), (steps) => {
          const workspace = new Workspace();
          workspace.watched = true;
          const reuse = createHostReuse();
          analyze(workspace, [host], { reuse });
          for (const { file, variant } of steps) {
            const chosen = variants[file][variant % variants[file].length];
            const text = file === 'configuration.nix' ? configuration.replace(scriptLine, chosen) : chosen;
            workspace.setOverlay(SourceFile.fromText(path.join(host, file), text));
            assert.equal(analysisSummary(analyze(workspace, [host], { reuse }), host), analysisSummary(analyze(workspace, [host]), host));
          }
        }),
        { seed: 20261207, numRuns: 60 },
      );
    } finally {
      rmSync(host, { recursive: true, force: true });
    }
  });

  it('on a generated 2,000-line host (one file of many bindings)', () => {
    const generated = mkdtempSync(path.join(os.tmpdir(), 'value-reuse-generated-'));
    try {
      writeFileSync(path.join(generated, 'configuration.nix'), generatedConfiguration(2000));
      writeFileSync(path.join(generated, 'disko.nix'), GENERATED_DISKO);
      agreesUnderEdits(generated, path.join(generated, 'configuration.nix'), 10);
    } finally {
      rmSync(generated, { recursive: true, force: true });
    }
  });

  it('on the largest corpus host', { skip: !existsSync(path.join(CORPUS, 'notthebee__nix-config__aria-2025-01')) }, () => {
    const aria = path.join(CORPUS, 'notthebee__nix-config__aria-2025-01');
    agreesUnderEdits(aria, path.join(aria, 'machines', 'nixos', 'aria', 'filesystems', 'default.nix'), 15);
    agreesUnderEdits(aria, path.join(aria, 'machines', 'nixos', 'aria', 'default.nix'), 10);
  });
});
