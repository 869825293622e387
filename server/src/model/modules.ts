/**
 * The NixOS module system, as far as a static reader can follow it: which modules a host consists of.
 *
 * Starting from the host's module list, every module is evaluated (files imported, functions applied to symbolic
 * module arguments) and its `imports` followed. A module we cannot see into — a missing file, a path inside a flake
 * input, a computed import, a file outside the folders being analysed — is recorded as *opaque*: it might define
 * anything, so rules that need to know an option is unset stay silent on that host. Modules from flake inputs and nixpkgs (`inputs.x.nixosModules.y`,
 * `modulesPath + "/…"`) are *library* modules: they declare options but are assumed not to define the settings
 * our rules read, and the ones that matter (disko, impermanence, qemu-guest) are remembered by name.
 */
import path from 'node:path';
import { syntaxProblems } from '../syntax/syntax-errors';
import { ConfigReference, type DeclarationSource } from './config-reference';
import { refusalText } from './confinement';
import { isSecretsModule, knownInputModules } from './input-modules';
import type { Evaluator } from './evaluator';
import { describeUnknown } from './operators';
import { KeptOnKey } from './kept-on-key';
import { type AttrEntry, type AttrsValue, type CallSite, type Origin, type Thunk, type UnknownValue, type Value, LazyThunk, emptyAttrs, known, stringText, unknown } from './values';

/** One module's contribution: the value of its `config` (or the shorthand body), where it came from. */
export interface ModuleDefinition {
  /** The file the module is written in. */
  file: string;
  config: Thunk;
  /** A module we build on a library's behalf (the fileSystems disko emits), not one written by the user. */
  synthetic?: 'disko';
}

export interface OpaqueModule {
  what: string;
  origin?: Origin;
  /** The option paths it might define, when known (a module of a well-known flake input); else anything. */
  paths?: string[][];
}

export interface LibraryModule {
  /** A stable name such as `disko`, `impermanence`, `modulesPath/profiles/qemu-guest.nix`. */
  name: string;
  origin?: Origin;
}

export interface ImportFailure {
  path: string;
  origin?: Origin;
}

export interface ModuleSet {
  modules: ModuleDefinition[];
  opaque: OpaqueModule[];
  library: LibraryModule[];
  /** Files the host consists of, in the order they were reached. */
  files: string[];
  missing: ImportFailure[];
  /** The `options` of the modules that declare some (read after collection, config-reference.ts). */
  declarations: DeclarationSource[];
  /** The host's `config` as its modules read it: answers once the host's configuration is merged. */
  configReference: ConfigReference;
}

/** A module to start from: a value (usually a path) and the place it is listed. */
export interface ModuleRoot {
  value: Thunk;
  origin?: Origin;
  /** The file whose module list names it; relative paths in strings resolve against it. */
  listedIn?: string;
}

const SPECIAL_KEYS = new Set(['imports', 'options', 'config', '_file', 'key', 'disabledModules', 'meta', 'freeformType', '_class']);

/** Input names and module names we know the meaning of. */
function libraryName(symbolPath: string[]): string {
  const text = symbolPath.join('.').toLowerCase();
  if (text.includes('disko')) return 'disko';
  if (text.includes('impermanence')) return 'impermanence';
  if (text.includes('preservation')) return 'preservation';
  return symbolPath.join('.');
}

export function moduleArguments(specialArgs: Value | undefined, lib: Value, configReference: ConfigReference, alone = false): AttrsValue {
  const entries = new Map<string, AttrEntry>();
  entries.set('config', { thunk: known({ kind: 'symbol', path: ['config'], config: configReference }) });
  const symbols: Record<string, string[]> = {
    options: ['options'],
    pkgs: ['pkgs'],
    modulesPath: ['modulesPath'],
    utils: ['utils'],
  };
  for (const [name, symbolPath] of Object.entries(symbols)) entries.set(name, { thunk: known({ kind: 'symbol', path: symbolPath }) });
  entries.set('lib', { thunk: known(lib) });
  if (specialArgs && specialArgs.kind === 'attrs') {
    for (const [name, entry] of specialArgs.entries) entries.set(name, entry);
  }
  return {
    kind: 'attrs',
    entries,
    unknownKeys: [],
    origin: undefined,
    // A file analysed on its own has no host to pass it arguments: whatever its importer passes is unknown for that reason.
    open: alone
      ? unknown('a module argument of a file analysed on its own (whatever imports it would pass it)')
      : unknown('a module argument that is not known here (set through _module.args or specialArgs)'),
    // An argument another module sets with `_module.args.<name>`, read once the host's modules are merged. Written in
    // the literal: a closure assigned to a property of an object made in the same function was kept by V8's
    // scavenges, and with it the host's whole analysis, until the next mark-compact (docs/performance.md).
    fallback: (name, origin) => configReference.read(['_module', 'args', name], origin),
  };
}

export class ModuleCollector {
  private readonly seenKeys = new Set<string>();
  private readonly result: ModuleSet;

  constructor(
    private readonly evaluator: Evaluator,
    /** The module arguments (`moduleArguments`), as one thunk: a kept application is found by its identity. */
    private readonly args: Thunk,
    /** The folder of the flake that lists the modules, for `"${self}/…"` paths. */
    private readonly flakeRoot?: string,
    /** The flake's outputs, to follow `self.nixosModules.x`. */
    private readonly flakeOutputs?: Value,
    configReference = new ConfigReference(),
    /** The URLs of the flake's inputs, by name (for the table of well-known input modules). */
    private readonly inputUrls: ReadonlyMap<string, string> = new Map(),
    /** Applies a module function to the arguments: the language server's keeps applications (value-reuse.ts). */
    private readonly applyModule: (fn: Value, args: Thunk, site: CallSite) => Value = (fn, args, site) => evaluator.apply(fn, args, site),
  ) {
    this.result = { modules: [], opaque: [], library: [], files: [], missing: [], declarations: [], configReference };
  }

  collect(roots: ModuleRoot[]): ModuleSet {
    for (const root of roots) this.addModule(root.value, root.origin, root.listedIn, 0);
    return this.result;
  }

  private addModule(thunk: Thunk, origin: Origin | undefined, listedIn: string | undefined, depth: number): void {
    if (depth > 200) {
      this.result.opaque.push({ what: 'imports nested too deeply', origin });
      return;
    }
    const value = thunk.force();
    switch (value.kind) {
      case 'path':
        this.addFile(value.path, origin, depth);
        return;
      case 'string': {
        const symbolPiece = value.pieces.find((piece) => piece.symbol);
        const text = stringText(value);
        if (symbolPiece?.symbol) {
          const [root] = symbolPiece.symbol;
          // What follows the symbol (`/profiles/qemu-guest.nix`), when it is known text.
          const after = value.pieces.slice(value.pieces.indexOf(symbolPiece) + 1);
          const rest = after.some((piece) => piece.unknown || piece.symbol) ? '' : after.map((piece) => piece.text).join('');
          if (root === 'modulesPath' || root === '<nixpkgs>') {
            this.result.library.push({ name: `modulesPath${rest}`, origin });
            return;
          }
          if (root === 'self' && symbolPiece.symbol.length === 1 && this.flakeRoot) {
            // `"${self}/hosts/x.nix"`: self is the flake's own source tree.
            this.addFile(path.join(this.flakeRoot, rest), origin, depth);
            return;
          }
          const name = libraryName(symbolPiece.symbol);
          if (name === 'disko' || name === 'impermanence' || name === 'preservation') {
            this.result.library.push({ name, origin });
            return;
          }
          const input = root === 'inputs' ? symbolPiece.symbol[1] : root;
          if (input && isSecretsModule(input, rest)) {
            // input-modules.ts: a secrets file holds values, not the options our rules read (a documented guess).
            this.result.library.push({ name: `secrets module ${symbolPiece.symbol.join('.')}${rest}`, origin });
            return;
          }
          this.addInputModule(input, `module ${symbolPiece.symbol.join('.')}${rest} (a file inside a flake input)`, origin);
          return;
        }
        if (text !== undefined && text.startsWith('/')) {
          this.addFile(text, origin, depth);
          return;
        }
        this.result.opaque.push({ what: `module from ${describeUnknown(value)}`, origin });
        return;
      }
      case 'symbol': {
        const [root] = value.path;
        if (root === 'self' && this.flakeOutputs) {
          const resolved = this.selectPath(this.flakeOutputs, value.path.slice(1));
          if (resolved) {
            this.addModule(known(resolved), origin, listedIn, depth + 1);
            return;
          }
        }
        if (root === 'inputs' && value.path[1] === 'self' && this.flakeOutputs) {
          // `inputs.self` is the flake itself.
          const resolved = this.selectPath(this.flakeOutputs, value.path.slice(2));
          if (resolved) {
            this.addModule(known(resolved), origin, listedIn, depth + 1);
            return;
          }
        }
        const name = libraryName(value.path);
        if (root === 'inputs' && name !== 'disko' && name !== 'impermanence' && name !== 'preservation') {
          this.addInputModule(value.path[1], `module ${value.path.join('.')} of a flake input`, origin ?? value.origin);
          return;
        }
        if (root === 'inputs' || root === 'self' || root.startsWith('<') || root === 'pkgs') {
          this.result.library.push({ name, origin: origin ?? value.origin });
          return;
        }
        this.result.opaque.push({ what: `module ${value.path.join('.')}`, origin });
        return;
      }
      case 'lambda':
      case 'primop': {
        const applied = this.applyModule(value, this.args, { origin, evaluator: this.evaluator });
        this.addModuleValue(applied, origin, listedIn, depth);
        return;
      }
      default:
        this.addModuleValue(value, origin, listedIn, depth);
    }
  }

  /**
   * A module of a flake input: one of a well-known project covers only the options the table lists for it
   * (input-modules.ts); one of an input we know nothing about might set anything.
   */
  private addInputModule(input: string | undefined, what: string, origin: Origin | undefined): void {
    const url = input ? this.inputUrls.get(input) : undefined;
    const entry = knownInputModules(url);
    this.result.library.push({ name: entry ? entry.name : what, origin });
    if (entry) {
      if (entry.sets.length > 0) this.result.opaque.push({ what: `${what}: ${entry.name}, whose modules may set ${entry.sets.map((option) => option.join('.')).join(', ')}`, origin, paths: entry.sets });
      return;
    }
    this.result.opaque.push({ what: `${what}, whose modules are not known here${url ? ` (${url})` : ''}`, origin });
  }

  private selectPath(value: Value, names: string[]): Value | undefined {
    let current = value;
    for (const name of names) {
      const selected = this.evaluator.select(current, name);
      if (!selected || selected.kind === 'unknown' || selected.kind === 'symbol') return undefined;
      current = selected;
    }
    return current;
  }

  private addFile(filePath: string, origin: Origin | undefined, depth: number): void {
    const resolved = this.evaluator.resolveImportPath(filePath);
    if (this.seenKeys.has(resolved)) return;
    this.seenKeys.add(resolved);
    if (this.evaluator.files.isOutside(resolved)) {
      // Neither read nor reported missing: either would tell something about a file that is not the workspace's.
      this.result.opaque.push({ what: `module ${refusalText(resolved, 'outside')}`, origin });
      return;
    }
    const source = this.evaluator.files.source(resolved);
    if (!source) {
      this.result.missing.push({ path: resolved, origin });
      this.result.opaque.push({ what: `module ${resolved} (file not found)`, origin });
      return;
    }
    this.result.files.push(resolved);
    // Bindings inside a broken region are lost to the parser: whatever they set is unknown, not unset.
    if (source.unreadable || syntaxProblems(source, 1).length > 0) {
      this.result.opaque.push({ what: `${resolved} has syntax errors; what they hide is unknown`, origin: { file: resolved, start: 0, end: 0 } });
    }
    const value = new LazyThunk(() => this.evaluator.evalFile(resolved, { origin, evaluator: this.evaluator }));
    const forced = value.force();
    if (forced.kind === 'lambda' || forced.kind === 'primop') {
      const fileOrigin = { file: resolved, start: 0, end: 0 };
      this.addModuleValue(this.applyModule(forced, this.args, { origin: fileOrigin, evaluator: this.evaluator }), fileOrigin, resolved, depth, resolved);
    } else this.addModuleValue(forced, origin, resolved, depth, resolved);
  }

  private addModuleValue(value: Value, origin: Origin | undefined, listedIn: string | undefined, depth: number, file?: string): void {
    const moduleFile = file ?? value.origin?.file ?? listedIn ?? origin?.file ?? '<unknown>';
    if (value.kind !== 'attrs') {
      const reason = value.kind === 'unknown' ? value.reason : describeUnknown(value);
      this.result.opaque.push({ what: `module whose value is ${reason}`, origin: value.origin ?? origin });
      return;
    }
    const imports = value.entries.get('imports');
    if (imports) this.addImports(imports.thunk, moduleFile, depth);
    const structured = value.entries.has('config') || value.entries.has('options');
    const options = value.entries.get('options');
    if (options) this.result.declarations.push({ file: moduleFile, options: options.thunk });
    let config: Thunk;
    if (structured) {
      config = value.entries.get('config')?.thunk ?? known(emptyAttrs(value.origin));
    } else config = bodyOf(value);
    this.result.modules.push({ file: moduleFile, config });
  }

  private addImports(imports: Thunk, file: string, depth: number): void {
    const value = imports.force();
    if (value.kind !== 'list') {
      this.result.opaque.push({ what: `imports computed from ${describeUnknown(value)}`, origin: imports.origin ?? value.origin });
      return;
    }
    for (const item of value.items) this.addModule(item, item.origin, file, depth + 1);
  }
}

/**
 * The `config` of a module written without `config =`: its attributes but `imports`, `options` and the other special
 * ones. One per module value, so that a module kept from the last analysis (value-reuse.ts) hands the merge the same
 * thunk, whose expansion the merge keeps (config.ts, `Expansion`).
 */
const bodies = new KeptOnKey<AttrsValue, Thunk>('module body');

function bodyOf(module: AttrsValue): Thunk {
  const kept = bodies.get(module);
  if (kept) return kept;
  const body = emptyAttrs(module.origin);
  for (const [name, entry] of module.entries) if (!SPECIAL_KEYS.has(name)) body.entries.set(name, entry);
  body.unknownKeys = module.unknownKeys;
  const thunk = known(body);
  bodies.set(module, thunk);
  return thunk;
}

export type { UnknownValue };
