/**
 * Host discovery and host building.
 *
 * Hosts come from, in this order:
 * 1. flakes: `nixosConfigurations.<name>` built by `lib.nixosSystem { modules = …; }`, evaluated through local
 *    helper functions, `builtins.readDir`, `lib.genAttrs`, … and through flake-parts' `mkFlake`;
 * 2. `configuration.nix` files that nothing imports (a full host outside a flake; inside a flake repository such a
 *    file is composed with modules we could not follow, so it is read as a fragment);
 * 3. disko files: imported by a host, lying beside a host's entry file (then the host's layout, but disko's
 *    `fileSystems` are not in effect), or alone (a disko-only host: only rules about its own content);
 * 4. every other file that defines something our rules read, analysed on its own as a fragment.
 */
import path from 'node:path';
import type { SourceFile } from '../syntax/parser';
import { ConfigNode, mergeModules } from './config';
import { ConfigReference, Declarations } from './config-reference';
import { readDiskoLayout } from './disko';
import { Evaluator, FLAKE_PARTS_MARKER } from './evaluator';
import { type EvaluationFailure, HostModel, type HostKind } from './host-model';
import { type ImportFailure, type ModuleDefinition, type ModuleRoot, type ModuleSet, ModuleCollector, moduleArguments } from './modules';
import { type Release, releaseFromLock, releaseFromSetting, releaseFromUrl } from './release';
import type { ValueStore } from './value-reuse';
import { type AttrsValue, type CallSite, type Origin, type Thunk, type Value, emptyAttrs, known, str, stringText, unknown } from './values';
import { Budget, type BudgetLimits, type TimeSlices, activeBudget, isStackOverflow, withBudget } from './budget';
import { Dependencies, type ReuseCache, inheritDependencies, missingImportsOf, trackDependencies } from './dependencies';
import type { Workspace } from './workspace';
import { parseFlakeLock } from './flake-lock';

export interface HostSpec {
  name: string;
  kind: HostKind;
  /** The file a user opens as the host's configuration (or the flake for a flake host without one). */
  root: string;
  roots: ModuleRoot[];
  specialArgs?: Value;
  flake?: { file: string; outputs?: Value; input?: string; inputUrls?: ReadonlyMap<string, string> };
}

export interface AnalysisOptions {
  /** `ephemeralRoot.nixpkgsRelease` / `--release`: used when no flake tells the release. */
  release?: string;
  /** Only this host (by name). */
  host?: string;
  /**
   * The evaluation-backed mode (server/src/evaluation): given a built host's merged configuration, a configuration
   * whose unknowns are filled with values Nix evaluated, and Nix's failure to evaluate the host when it failed.
   * Undefined (the default): the static reading alone.
   */
  refine?: (host: RefineTarget, config: ConfigNode) => { config?: ConfigNode; failure?: EvaluationFailure } | undefined;
  /** Changes whenever `refine` would answer differently: hosts kept from an earlier analysis are then rebuilt. */
  refineKey?: string;
}

/** What the evaluation-backed mode is told about a host (the layer below the model cannot import its types). */
export interface RefineTarget {
  name: string;
  kind: HostKind;
  root: string;
  files: string[];
  /** The flake.nix that builds the host, for a flake host. */
  flakeFile?: string;
}

export interface Discovery<R = undefined> {
  hosts: HostModel[];
  /** `DiscoveryOptions.finish`'s result for each host, in the order of `hosts`. */
  reports: R[];
  /** Every .nix file in scope (syntax errors are reported for all of them). */
  files: string[];
  /** Imports that could not be followed, per host. */
  missing: { host: string; failure: ImportFailure }[];
  /** `import ./x.nix` expressions whose file does not exist, wherever evaluation met them (not tied to one host). */
  missingImportExpressions: ImportFailure[];
  /** Hosts (or flakes) whose analysis could not finish: nested deeper than the analysis can follow. */
  stopped: StoppedAnalysis[];
}

/** An analysis that stopped before it built its host, with the reason (for `--explain` and the JSON `unknown`). */
export interface StoppedAnalysis {
  host: string;
  what: string;
  origin: Origin;
}

/** The config keys that make a lone file worth analysing as a fragment. */
const RELEVANT_KEYS = ['fileSystems', 'boot', 'disko', 'environment', 'preservation', 'systemd', 'system', 'networking', 'virtualisation'];

function fileOrigin(file: string): Origin {
  return { file, start: 0, end: 0 };
}

const referenceCache = new WeakMap<SourceFile, string[]>();

/** Paths written literally in a file (without interpolation): the files it may import. Computed once per parse. */
function literalPathReferences(source: SourceFile | undefined): string[] {
  if (!source?.root) return [];
  const cached = referenceCache.get(source);
  if (cached) return cached;
  const found: string[] = [];
  const cursor = source.root.rawWalk();
  if (!cursor) return found;
  for (;;) {
    const node = cursor.currentNode;
    if (node.type === 'path_expression' && node.namedChildCount === 1) {
      const text = node.text;
      found.push(text.startsWith('/') ? path.normalize(text) : path.resolve(path.dirname(source.path), text));
    }
    if (cursor.gotoFirstChild()) continue;
    let done = false;
    while (!cursor.gotoNextSibling()) {
      if (!cursor.gotoParent()) {
        done = true;
        break;
      }
    }
    if (done) break;
  }
  cursor.delete();
  referenceCache.set(source, found);
  return found;
}

/**
 * What a collection of modules starts from, as a name that stays the same from one analysis to the next while the
 * text that lists its roots does (value-reuse.ts keeps each collection's arguments under it).
 */
function collectionStart(spec: Pick<HostSpec, 'roots' | 'flake'> & { kind?: HostKind }): string {
  const roots = spec.roots.map((root) => `${root.listedIn ?? ''}:${root.origin ? `${root.origin.file}:${root.origin.start}:${root.origin.end}` : ''}`);
  return [spec.kind ?? '', spec.flake?.file ?? '', ...roots].join('\0');
}

export class HostBuilder {
  readonly evaluator: Evaluator;

  constructor(
    readonly workspace: Workspace,
    readonly options: AnalysisOptions = {},
    /** The language server's values kept from one analysis to the next (value-reuse.ts); a builder is one analysis. */
    private readonly values?: ValueStore,
  ) {
    this.evaluator = values ? values.begin(workspace) : new Evaluator(workspace);
  }

  collect(spec: Pick<HostSpec, 'roots' | 'specialArgs' | 'flake'> & { kind?: HostKind }): ModuleSet {
    const alone = spec.kind !== undefined && spec.kind !== 'nixos';
    let reference: ConfigReference;
    let args: Thunk;
    if (this.values) {
      ({ reference, args } = this.values.argumentsFor(collectionStart(spec), spec.specialArgs, this.libValue(), alone));
    } else {
      reference = new ConfigReference();
      args = known(moduleArguments(spec.specialArgs, this.libValue(), reference, alone));
    }
    const values = this.values;
    const apply = values ? (fn: Value, argument: Thunk, site: CallSite) => values.apply(this.evaluator, fn, argument, site) : undefined;
    const collector = new ModuleCollector(this.evaluator, args, spec.flake ? path.dirname(spec.flake.file) : undefined, spec.flake?.outputs, reference, spec.flake?.inputUrls, apply);
    return collector.collect(spec.roots);
  }

  libValue(): Value {
    return this.evaluator.library();
  }

  /** Evaluates a flake and lists its `nixosConfigurations`. */
  flakeHosts(flakeFile: string): HostSpec[] {
    const flake = this.evaluator.evalFile(flakeFile);
    if (flake.kind !== 'attrs') return [];
    const declared = flake.entries.get('inputs')?.thunk.force();
    const outputsFn = flake.entries.get('outputs')?.thunk.force();
    if (!outputsFn) return [];
    const inputs = (): AttrsValue => {
      const inputsArg = emptyAttrs();
      if (declared?.kind === 'attrs') {
        for (const name of declared.entries.keys()) inputsArg.entries.set(name, { thunk: known({ kind: 'symbol', path: ['inputs', name] }) });
      }
      inputsArg.entries.set('self', { thunk: known({ kind: 'symbol', path: ['self'] }) });
      inputsArg.open = unknown('a flake input that flake.nix does not declare');
      // Inputs not declared in `inputs` (flake registry ids like `nixpkgs`) are still flake inputs.
      if (outputsFn.kind === 'lambda') {
        const formals = outputsFn.node.childForFieldName('formals');
        for (const formal of formals?.childrenForFieldName('formal') ?? []) {
          const name = formal?.childForFieldName('name')?.text;
          if (name && !inputsArg.entries.has(name)) inputsArg.entries.set(name, { thunk: known({ kind: 'symbol', path: ['inputs', name] }) });
        }
      }
      return inputsArg;
    };
    const site = { origin: fileOrigin(flakeFile), evaluator: this.evaluator };
    const inputsArg = this.values ? this.values.inputsOf(outputsFn, declared, inputs) : known(inputs());
    const outputs = this.values ? this.values.apply(this.evaluator, outputsFn, inputsArg, site) : this.evaluator.apply(outputsFn, inputsArg, site);
    let configurations: { name: string; value: Value; origin?: Origin }[] = [];
    if (outputs.kind === 'attrs' && outputs.entries.has(FLAKE_PARTS_MARKER)) {
      configurations = this.flakePartsConfigurations(outputs, inputsArg, flakeFile);
    } else if (outputs.kind === 'attrs') {
      const nixos = outputs.entries.get('nixosConfigurations')?.thunk.force();
      if (nixos?.kind === 'attrs') {
        for (const [name, entry] of nixos.entries) configurations.push({ name, value: entry.thunk.force(), origin: entry.keyOrigin });
      }
    }
    const inputUrls = this.inputUrls(flakeFile, declared);
    const specs: HostSpec[] = [];
    for (const configuration of configurations) {
      const system = configuration.value;
      if (system.kind !== 'nixosSystem') continue;
      const args = system.args.force();
      if (args.kind !== 'attrs') continue;
      const modules = args.entries.get('modules')?.thunk.force();
      const roots: ModuleRoot[] = [];
      if (modules?.kind === 'list') for (const item of modules.items) roots.push({ value: item, origin: item.origin, listedIn: flakeFile });
      else if (modules) roots.push({ value: known(modules), origin: modules.origin, listedIn: flakeFile });
      const specialArgs = args.entries.get('specialArgs')?.thunk.force();
      specs.push({
        name: configuration.name,
        kind: 'nixos',
        root: flakeFile,
        roots,
        specialArgs,
        flake: { file: flakeFile, outputs, input: system.input ?? 'nixpkgs', inputUrls },
      });
    }
    return specs;
  }

  /** The URL of each flake input: as flake.nix writes it, else as flake.lock records where it came from. */
  private inputUrls(flakeFile: string, declared: Value | undefined): Map<string, string> {
    const urls = new Map<string, string>();
    if (declared?.kind === 'attrs') {
      for (const [name, entry] of declared.entries) {
        const input = entry.thunk.force();
        const url = input.kind === 'attrs' ? input.entries.get('url')?.thunk.force() : input;
        const text = url ? stringText(url) : undefined;
        if (text) urls.set(name, text);
      }
    }
    const lockText = this.workspace.readText(path.join(path.dirname(flakeFile), 'flake.lock'));
    if (lockText) {
      try {
        const lock = parseFlakeLock(lockText) as { nodes?: Record<string, { original?: { type?: string; owner?: string; repo?: string; url?: string } }> };
        for (const [name, node] of Object.entries(lock.nodes ?? {})) {
          const original = node.original;
          if (urls.has(name) || !original) continue;
          if (original.owner && original.repo) urls.set(name, `${original.type ?? 'github'}:${original.owner}/${original.repo}`);
          else if (original.url) urls.set(name, original.url);
        }
      } catch {
        // A broken flake.lock tells no URLs; flake.nix may still have.
      }
    }
    return urls;
  }

  private flakePartsConfigurations(marker: AttrsValue, inputsArg: Thunk, flakeFile: string): { name: string; value: Value; origin?: Origin }[] {
    const module = marker.entries.get(FLAKE_PARTS_MARKER)?.thunk;
    if (!module) return [];
    const args = emptyAttrs();
    args.entries.set('inputs', { thunk: inputsArg });
    const selfSymbol = { kind: 'symbol' as const, path: ['self'] };
    args.entries.set('self', { thunk: known(selfSymbol) });
    args.entries.set('lib', { thunk: known(this.libValue()) });
    args.entries.set('config', { thunk: known({ kind: 'symbol', path: ['config'] }) });
    args.open = unknown('a flake-parts module argument');
    const collector = new ModuleCollector(this.evaluator, known(args), path.dirname(flakeFile));
    const set = collector.collect([{ value: module, origin: fileOrigin(flakeFile), listedIn: flakeFile }]);
    const node = mergeModules(set.modules, []).at('flake', 'nixosConfigurations');
    const result: { name: string; value: Value; origin?: Origin }[] = [];
    for (const name of node.childNames()) {
      const resolved = node.child(name).scalar();
      if (resolved.state === 'known') result.push({ name, value: resolved.value, origin: resolved.definitions[0]?.keyOrigin });
    }
    return result;
  }

  /** The release of the nixpkgs that builds a host. */
  releaseFor(spec: HostSpec): Release | undefined {
    if (spec.flake) {
      const dir = path.dirname(spec.flake.file);
      const lockText = this.workspace.readText(path.join(dir, 'flake.lock'));
      const input = spec.flake.input ?? 'nixpkgs';
      const fromLock = lockText ? releaseFromLock(lockText, input) : undefined;
      if (fromLock) return fromLock;
      const flake = this.evaluator.evalFile(spec.flake.file);
      if (flake.kind === 'attrs') {
        const inputs = flake.entries.get('inputs')?.thunk.force();
        const declared = inputs?.kind === 'attrs' ? inputs.entries.get(input)?.thunk.force() : undefined;
        const url = declared?.kind === 'attrs' ? declared.entries.get('url')?.thunk.force() : declared;
        const text = url ? stringText(url) : undefined;
        const fromUrl = text ? releaseFromUrl(text) : undefined;
        if (fromUrl) return fromUrl;
      }
    }
    return releaseFromSetting(this.options.release);
  }

  private impermanenceLastModified(spec: HostSpec): number | undefined {
    if (!spec.flake) return undefined;
    const lockText = this.workspace.readText(path.join(path.dirname(spec.flake.file), 'flake.lock'));
    if (!lockText) return undefined;
    try {
      const lock = parseFlakeLock(lockText) as { nodes?: Record<string, { locked?: { lastModified?: number; repo?: string } }> };
      for (const node of Object.values(lock.nodes ?? {})) {
        if (node.locked?.repo === 'impermanence') return node.locked.lastModified;
      }
    } catch {
      return undefined;
    }
    return undefined;
  }

  /** Merged disko devices of some modules, without covers: the layout is read from what is written. */
  private diskoDevices(modules: ModuleDefinition[]): ConfigNode {
    return mergeModules(modules, []).at('disko', 'devices');
  }

  /** Builds the model of a host. `beside` are disko files next to the host's entry that it does not import. */
  build(spec: HostSpec, beside: string[] = [], moduleSet?: ModuleSet): HostModel {
    const set = moduleSet ?? this.collect(spec);
    const opaque = [...set.opaque];
    if (spec.kind !== 'nixos') opaque.push({ what: 'the rest of this host is not in reach (the file is analysed on its own)', origin: fileOrigin(spec.root) });
    const base = mergeModules(set.modules, opaque);
    // From here on `config.x` in the host's modules reads the merged configuration (config-reference.ts).
    const declarations = new Declarations(set.declarations);
    set.configReference.attach(base, declarations);
    const importedDevices = this.diskoDevices(set.modules);
    const diskoImported = importedDevices.definitions.length > 0;
    let devices: ConfigNode | undefined = diskoImported ? importedDevices : undefined;
    const diskoFiles = diskoImported ? [...new Set(importedDevices.definitions.map((definition) => definition.file))] : [];
    if (!devices && beside.length > 0) {
      const besideSet = this.collect({ roots: beside.map((file) => ({ value: known({ kind: 'path', path: file }), origin: fileOrigin(file) })) });
      devices = this.diskoDevices(besideSet.modules);
      diskoFiles.push(...beside);
    }
    const layout = devices && devices.definitions.length > 0 ? readDiskoLayout(devices) : undefined;
    let modules = set.modules;
    if (diskoImported && layout) {
      const synthetic = this.diskoFileSystemsModule(base, layout.emitted, diskoFiles[0]);
      if (synthetic) modules = [...modules, synthetic];
    }
    const merged = modules === set.modules ? base : mergeModules(modules, opaque);
    if (merged !== base) set.configReference.attach(merged, declarations);
    const files = [...new Set([...set.files, ...diskoFiles, ...(spec.flake ? [spec.flake.file] : [])])];
    const refined = this.options.refine?.({ name: spec.name, kind: spec.kind, root: spec.root, files, flakeFile: spec.flake?.file }, merged);
    const config = refined?.config ?? merged;
    const texts = [...set.files, ...(spec.flake ? [spec.flake.file] : [])].map((file) => this.workspace.source(file)?.text ?? '');
    return new HostModel({
      name: spec.name,
      kind: spec.kind,
      root: spec.root,
      files,
      config,
      evaluationFailure: refined?.failure,
      diskoDevices: devices,
      diskoFiles,
      diskoImported,
      layout,
      release: this.releaseFor(spec),
      opaque,
      library: set.library,
      missing: set.missing,
      usesVmWithDisko: texts.some((text) => text.includes('vmWithDisko')),
      impermanenceLastModified: this.impermanenceLastModified(spec),
      flakeLockText: spec.flake ? this.workspace.readText(path.join(path.dirname(spec.flake.file), 'flake.lock')) : undefined,
    });
  }

  /**
   * The `fileSystems` disko's NixOS module adds (F23, F26): `fileSystems = mkIf cfg.enableConfig …`, at normal
   * priority, so the module system merges them with what the host writes by hand.
   */
  private diskoFileSystemsModule(base: ConfigNode, emitted: ReturnType<typeof readDiskoLayout>['emitted'], file: string): ModuleDefinition | undefined {
    if (emitted.length === 0) return undefined;
    const enable = base.at('disko', 'enableConfig').bool();
    if (enable.state === 'known' && !enable.value) return undefined;
    const fileSystems = emptyAttrs();
    for (const mount of emitted) {
      const entry = emptyAttrs(mount.origin);
      if (mount.device) entry.entries.set('device', { thunk: known(str(mount.device, mount.dataset?.origin ?? mount.origin)) });
      entry.entries.set('fsType', { thunk: known(str(mount.fsType, mount.origin)) });
      entry.entries.set('options', { thunk: known({ kind: 'list', items: mount.options.map((option) => known(str(option))), origin: mount.origin }) });
      fileSystems.entries.set(mount.mountPoint, { thunk: known(entry), keyOrigin: mount.origin });
    }
    const config = emptyAttrs();
    config.entries.set('fileSystems', { thunk: known(fileSystems) });
    let value: Thunk = known(config);
    if (enable.state === 'unknown') value = known({ kind: 'mkIf', condition: known(unknown(enable.what)), content: value });
    return { file, config: value, synthetic: 'disko' };
  }

  /** Results finished in an earlier time slice of the analysis this builder serves, with what computing them read. */
  private readonly finished = new Map<string, { value: unknown; dependencies: Dependencies }>();

  /**
   * A result computed once per builder, for an analysis in time slices: a slice that ends throws out of whatever it
   * was computing, and the next one asks again. The builder lives as long as the analysis of one text, so the kept
   * result holds; what computing it read is handed on each time it is used, so the hosts built from it keep their
   * dependencies for the language server's reuse as if it had been computed there.
   */
  resumable<T>(key: string, compute: () => T): T {
    const kept = this.finished.get(key);
    if (kept) {
      inheritDependencies(kept.dependencies);
      return kept.value as T;
    }
    const { value, dependencies } = trackDependencies(compute);
    this.finished.set(key, { value, dependencies });
    return value;
  }

  /** A module set read from one file alone; `fragment` when it is analysed on its own (no host passes it arguments). */
  collectFile(file: string, fragment = false): ModuleSet {
    return this.collect({ roots: [{ value: known({ kind: 'path', path: file }), origin: fileOrigin(file) }], kind: fragment ? 'fragment' : undefined });
  }

  /** Whether a file alone defines anything a rule reads. */
  isRelevant(set: ModuleSet): boolean {
    if (set.modules.length === 0) return false;
    const merged = mergeModules(set.modules, []);
    return RELEVANT_KEYS.some((key) => merged.child(key).definitions.length > 0 || merged.child(key).covers.length > 0);
  }

  definesDisko(set: ModuleSet): boolean {
    return this.diskoDevices(set.modules).definitions.length > 0;
  }
}

/** The name a host gets from its entry file, made unique among the names taken so far (without taking it). */
function uniqueHostName(file: string, folder: string, taken: Set<string>, kind: HostKind): string {
  const relative = path.relative(folder, file) || path.basename(file);
  let name: string;
  if (kind === 'nixos' && path.basename(file) === 'configuration.nix') name = path.basename(path.dirname(file)) || 'configuration';
  else name = relative.replace(/\.nix$/, '');
  if (name === '' || name === '.') name = relative;
  let unique = name;
  for (let index = 2; taken.has(unique); index++) unique = `${name}-${index}`;
  return unique;
}

function hostNameFor(file: string, folder: string, taken: Set<string>, kind: HostKind): string {
  const name = uniqueHostName(file, folder, taken, kind);
  taken.add(name);
  return name;
}

/** One host's part of a discovery: kept whole by a `ReuseCache` from one analysis to the next. */
export interface HostOutcome<R> {
  /** The files the host's modules reach (no other host or fragment is made of them). */
  reached: string[];
  /** Undefined for a file that turned out to define nothing a rule reads. */
  host?: HostModel;
  missing: ImportFailure[];
  /** What the caller computed from the host (`DiscoveryOptions.finish`), for example its findings. */
  report?: R;
  /** Set when the host's analysis stopped before the host was built. */
  stopped?: StoppedAnalysis;
}

export interface DiscoveryOptions<R> extends AnalysisOptions {
  /** The limits of each host's budget (budget.ts); the defaults when absent. */
  limits?: BudgetLimits;
  /**
   * The language server's time slices: evaluation throws `SliceExpired` when a slice is over; the caller answers
   * pending requests and analyses again with the same `slices` and `builder`, reusing every value finished so far.
   */
  slices?: TimeSlices;
  /** The host builder of an analysis resumed after `SliceExpired` (its evaluator holds the values finished so far). */
  builder?: HostBuilder;
  /**
   * Values kept from one analysis to the next (value-reuse.ts): the language server's, with `reuse`. A builder made
   * here takes its evaluator from it; one given in `builder` must have been made with the same store.
   */
  values?: ValueStore;
  /** Called on every host built, inside the host's dependency frame: what it reads decides when to recompute. */
  finish?: (host: HostModel) => R;
  /** Hosts kept from the previous analysis (the language server's): reused while nothing they read changed. */
  reuse?: ReuseCache<HostOutcome<R>>;
}

/** Finds and builds every host under the given paths (folders are searched; files are analysed as given). */
export function discoverHosts<R = undefined>(workspace: Workspace, scopes: string[], options: DiscoveryOptions<R> = {}): Discovery<R> {
  const reuse = options.reuse;
  if (!reuse) return findHosts(workspace, scopes, options);
  reuse.begin(JSON.stringify({ release: options.release, host: options.host, refine: options.refineKey }));
  // Tracking covers the whole discovery, so that every lazy value keeps what it read, whichever host forces it.
  const track = () => trackDependencies(() => findHosts(workspace, scopes, options));
  const { value, dependencies } = options.values ? options.values.during(workspace, track) : track();
  reuse.end();
  options.values?.end(reuse.reused);
  value.missingImportExpressions = [...missingImportsOf([dependencies])].filter((failure) => failure.origin !== undefined);
  return value;
}

function findHosts<R>(workspace: Workspace, scopes: string[], options: DiscoveryOptions<R>): Discovery<R> {
  for (const scope of scopes) workspace.allowScope(scope);
  const builder = options.builder ?? new HostBuilder(workspace, options, options.reuse ? options.values : undefined);
  const reuse = options.reuse;
  // Dependencies are tracked only for a caller that keeps results: the CLI, which analyses once, pays nothing.
  const track = <T>(compute: () => T): { value: T; dependencies: Dependencies } => (reuse ? trackDependencies(compute) : { value: compute(), dependencies: new Dependencies() });
  const files = new Set<string>();
  // The listing decides which disko files lie beside a host: every host depends on it.
  const { dependencies: listing } = track(() => {
    for (const scope of scopes) {
      if (workspace.isDirectory(scope)) for (const file of workspace.listNixFiles(scope)) files.add(file);
      else files.add(path.resolve(scope));
    }
  });
  const folder = scopes.length === 1 && workspace.isDirectory(scopes[0]) ? path.resolve(scopes[0]) : process.cwd();
  const sorted = [...files].sort();
  const byFolder = new Map<string, string[]>();
  for (const file of sorted) {
    const dir = path.dirname(file);
    byFolder.set(dir, [...(byFolder.get(dir) ?? []), file]);
  }
  const hosts: HostModel[] = [];
  const reports: R[] = [];
  const missing: Discovery<R>['missing'] = [];
  const stopped: StoppedAnalysis[] = [];
  const reached = new Set<string>();
  const taken = new Set<string>();
  const flakeDirs = sorted.filter((file) => path.basename(file) === 'flake.nix').map((file) => path.dirname(file));
  /** A configuration.nix inside a flake's tree is composed by that flake with modules we may not have followed. */
  const insideFlake = (file: string) => flakeDirs.some((dir) => file.startsWith(`${dir}${path.sep}`));

  /** Builds a host (and the caller's report on it), or reuses what the last analysis built when nothing changed. */
  const outcome = (key: string, alsoDependsOn: Dependencies[], name: string, root: string, compute: () => HostOutcome<R>): HostOutcome<R> => {
    const contained = () => budgeted(key, compute, (reason) => ({ reached: [], missing: [], stopped: { host: name, what: reason, origin: fileOrigin(root) } }));
    if (!reuse) return contained();
    const values = options.values;
    return reuse.obtain(key, workspace, [listing, ...alsoDependsOn], values ? () => values.building(key, contained) : contained);
  };
  /** Runs a computation under a budget of its own; a stack overflow (a guard that did not hold) stops only it. */
  const budgeted = <T>(key: string, compute: () => T, stop: (reason: string) => T): T => {
    const budget = options.slices ? options.slices.budgetFor(key) : new Budget(options.limits);
    return withBudget(budget, () => {
      try {
        return compute();
      } catch (error) {
        if (!isStackOverflow(error)) throw error;
        activeBudget().exceed('stack');
        return stop(activeBudget().reason ?? 'nested too deeply');
      }
    });
  };
  /**
   * In time slices, what a slice finished stays finished: a host's module set and model are kept by the builder (which
   * lives as long as the analysis of one text), so a host interrupted while its rules ran resumes at its rules, with
   * every value they had forced already, instead of collecting and merging its modules again.
   */
  const resumable = <T>(key: string, compute: () => T): T => (options.slices ? builder.resumable(key, compute) : compute());
  /** A host that `--host` leaves out is still collected (the files it reaches are no roots of their own), not built. */
  const built = (key: string, spec: HostSpec, set: ModuleSet, beside: string[] = []): HostOutcome<R> => {
    const files = [...set.files, ...beside];
    if (options.host && options.host !== spec.name) return { reached: files, missing: [] };
    const host = resumable(`${key}\0model`, () => builder.build(spec, beside, set));
    return { reached: files, host, missing: set.missing, report: options.finish?.(host) };
  };
  const add = (result: HostOutcome<R>, name: string) => {
    for (const file of result.reached) reached.add(file);
    if (result.stopped) stopped.push(result.stopped);
    if (!result.host) return;
    hosts.push(result.host);
    if (result.report !== undefined) reports.push(result.report);
    for (const failure of result.missing) missing.push({ host: name, failure });
  };

  // 1. Flake hosts.
  for (const flakeFile of sorted.filter((file) => path.basename(file) === 'flake.nix')) {
    reached.add(flakeFile);
    const { value: specs, dependencies: flake } = track(() =>
      budgeted(
        `flake\0${flakeFile}`,
        () => resumable(`flake\0${flakeFile}`, () => builder.flakeHosts(flakeFile)),
        (reason) => {
          stopped.push({ host: path.relative(folder, flakeFile) || flakeFile, what: `the hosts of this flake are unknown: ${reason}`, origin: fileOrigin(flakeFile) });
          return [];
        },
      ),
    );
    for (const spec of specs) {
      taken.add(spec.name);
      const key = `flake\0${flakeFile}\0${spec.name}`;
      const compute = (): HostOutcome<R> => {
        const set = resumable(`${key}\0modules`, () => builder.collect(spec));
        // The host's own file: one whose path below the flake names the host (a folder named like the host above
        // the flake must not count).
        const flakeDir = path.dirname(flakeFile);
        const own = set.files.find((file) => path.relative(flakeDir, file).split(path.sep).includes(spec.name)) ?? set.files[0];
        spec.root = own ?? flakeFile;
        const beside = diskoBeside(builder, spec.root, byFolder, set);
        return built(key, spec, set, beside);
      };
      add(outcome(key, [flake], spec.name, flakeFile, compute), spec.name);
    }
  }

  // 2-4. Files no flake host reaches. A file that another one names by a literal path is not a root of its own.
  const referencesOf = (files: string[]) => {
    const referenced = new Set<string>();
    for (const file of files) {
      for (const target of literalPathReferences(workspace.source(file))) {
        referenced.add(target);
        referenced.add(path.join(target, 'default.nix'));
      }
    }
    return referenced;
  };
  const unreached = () => sorted.filter((file) => !reached.has(file) && path.basename(file) !== 'flake.nix');
  // Only a file that spells out "configuration.nix" can import one by a literal path (a folder path means default.nix).
  const namingConfigurations = referencesOf(unreached().filter((file) => workspace.source(file)?.text.includes('configuration.nix')));
  const configurationRoots = unreached().filter((file) => path.basename(file) === 'configuration.nix' && !namingConfigurations.has(file));
  for (const file of configurationRoots) {
    if (reached.has(file)) continue;
    const kind: HostKind = insideFlake(file) ? 'fragment' : 'nixos';
    const name = hostNameFor(file, folder, taken, 'nixos');
    const key = `configuration\0${file}\0${name}\0${kind}`;
    const compute = (): HostOutcome<R> => {
      const spec: HostSpec = { name, kind, root: file, roots: [{ value: known({ kind: 'path', path: file }), origin: fileOrigin(file) }] };
      const set = resumable(`${key}\0modules`, () => builder.collectFile(file, kind === 'fragment'));
      const beside = diskoBeside(builder, file, byFolder, set);
      return built(key, spec, set, beside);
    };
    add(outcome(key, [], name, file, compute), name);
  }
  // What is still unreached: the files named by other unreached files come last, so their referrers claim them.
  const referenced = referencesOf(unreached());
  const remaining = unreached().sort((a, b) => Number(referenced.has(a)) - Number(referenced.has(b)));
  for (const file of remaining) {
    if (reached.has(file)) continue;
    // The name the file gets if it defines anything (taken only then).
    const name = uniqueHostName(file, folder, taken, 'fragment');
    const key = `file\0${file}\0${name}`;
    const compute = (): HostOutcome<R> => {
      const set = resumable(`${key}\0modules`, () => builder.collectFile(file, true));
      if (!builder.isRelevant(set)) return { reached: [], missing: [] };
      const kind: HostKind = builder.definesDisko(set) && set.modules.length > 0 && onlyDisko(set) ? 'disko-only' : 'fragment';
      const spec: HostSpec = { name, kind, root: file, roots: [{ value: known({ kind: 'path', path: file }), origin: fileOrigin(file) }] };
      return built(key, spec, set);
    };
    const result = outcome(key, [], name, file, compute);
    if (result.reached.length > 0) taken.add(name);
    add(result, name);
  }
  const missingImportExpressions = builder.evaluator.missingImports.filter((failure) => failure.origin !== undefined);
  return { hosts, reports, files: sorted, missing, missingImportExpressions, stopped };
}

/** A module set that defines nothing but the disko layout. */
function onlyDisko(set: ModuleSet): boolean {
  const merged = mergeModules(set.modules, []);
  return RELEVANT_KEYS.filter((key) => key !== 'disko').every((key) => merged.child(key).definitions.length === 0);
}

/** Disko files in the host entry's folder that the host does not import. */
function diskoBeside(builder: HostBuilder, entry: string, byFolder: Map<string, string[]>, set: ModuleSet): string[] {
  const imported = new Set(set.files);
  return (byFolder.get(path.dirname(entry)) ?? []).filter((file) => {
    if (imported.has(file) || file === entry) return false;
    const source = builder.workspace.source(file);
    if (!source || !/\bdisko\b/.test(source.text)) return false;
    return builder.definesDisko(builder.collectFile(file));
  });
}

