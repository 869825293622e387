/**
 * A lazy, three-valued partial evaluator for Nix, run directly on tree-sitter nodes.
 *
 * It computes what the source in reach determines (attribute sets, `let`, `with`, `inherit`, functions written
 * in the workspace, string interpolation, imports of workspace files and the common `builtins`/`lib` functions)
 * and returns `unknown` — with the reason and the place — for everything else: module options read through
 * `config`, packages, impure builtins, functions we do not model. It never throws on bad input: a syntax error, a
 * missing file, infinite recursion or an exhausted step budget become unknown values.
 */
import path from 'node:path';
import { type SourceFile, type SyntaxNode, unreadableText } from '../syntax/parser';
import { activeBudget, allocate, allocateString } from './budget';
import { refusalText } from './confinement';
import { globalScope, libraryForInput } from './builtins';
import { type MissingImportRecord, currentRevision, recordAnalysisLocal, recordMissingImport } from './dependencies';
import { binaryOperation, budgetReason, describeUnknown } from './operators';
import { buildString } from './strings';
import {
  type AttrEntry,
  type AttrsValue,
  type CallSite,
  type Env,
  type EvaluatorLike,
  type Origin,
  type Thunk,
  type UnknownValue,
  type Value,
  LazyThunk,
  emptyAttrs,
  known,
  stringText,
  unknown,
} from './values';

/** What the evaluator needs from the workspace: parsed files and directory listings. */
export interface FileProvider {
  /** The parsed file, or undefined when it does not exist or is a directory. */
  source(filePath: string): SourceFile | undefined;
  isDirectory(filePath: string): boolean;
  /** Whether a path exists; undefined when the path lies outside what the analysis may read. */
  exists(filePath: string): boolean | undefined;
  /** Whether a path lies outside what the analysis may read (confinement.ts). */
  isOutside(filePath: string): boolean;
  /** Entries of a directory with their type ("regular", "directory", "symlink"). */
  readDir(dirPath: string): Map<string, string> | undefined;
  /** Raw text of a small non-Nix file (for `builtins.readFile`), or undefined. */
  readText(filePath: string): string | undefined;
}

/** An import that could not be followed, remembered so that the host can report `import-not-found`. */
export type MissingImport = MissingImportRecord;


/** A file's value, with the import that reached it first in the analysis it was last asked for in. */
interface FileValue {
  thunk: Thunk;
  site: CallSite | undefined;
  revision: number;
}

export class Evaluator implements EvaluatorLike {
  private readonly fileValues = new Map<string, FileValue>();
  readonly missingImports: MissingImport[] = [];
  readonly filesRead = new Set<string>();
  private depth = 0;
  private readonly globals: Env;

  constructor(readonly files: FileProvider) {
    this.globals = { vars: globalScope() };
  }

  private readonly libraries = new Map<string, Value>();

  /**
   * The nixpkgs library reached through a symbol (`inputs.nixpkgs.lib`, `pkgs.lib`). Each flake input gets its own
   * copy whose `nixosSystem` remembers the input, so a host knows which nixpkgs (and release) builds it.
   */
  private libraryOf(owner: string[]): Value {
    const input = owner[0] === 'inputs' ? owner[1] : undefined;
    const key = input ?? '';
    let library = this.libraries.get(key);
    if (!library) {
      const base = this.lookup(this.globals, '__lib');
      library = input && base.kind === 'attrs' ? libraryForInput(base, input) : base;
      this.libraries.set(key, library);
    }
    return library;
  }

  /** The nixpkgs `lib` every module receives. */
  library(): Value {
    return this.lookup(this.globals, '__lib');
  }

  /** Consumes one step of the active host's budget (budget.ts); false once any of its limits is exceeded. */
  step(): boolean {
    return activeBudget().step();
  }

  /**
   * Enters one level of nesting; false (and nothing entered) when the budget's depth is reached, which happens well
   * before the JavaScript stack runs out, whatever the input.
   */
  private enter(): boolean {
    const budget = activeBudget();
    if (this.depth >= budget.limits.depth) {
      budget.exceed('depth');
      return false;
    }
    this.depth++;
    return true;
  }

  /**
   * Forgets the missing imports recorded so far. An evaluator kept from one analysis to the next (value-reuse.ts)
   * starts each analysis with none; what its kept values met is handed on through their dependencies instead.
   */
  forgetMissingImports(): void {
    this.missingImports.length = 0;
  }

  /**
   * The value of a whole file, evaluated once per evaluator (files are closed terms), and kept by an evaluator that
   * outlives its analysis while what it read holds (value-reuse.ts). A file that cannot be evaluated is unknown at
   * the import that reached it first in the current analysis.
   */
  evalFile(filePath: string, site?: CallSite): Value {
    const resolved = this.resolveImportPath(filePath);
    let file = this.fileValues.get(resolved);
    if (!file) {
      const created: FileValue = { site, revision: currentRevision(), thunk: new LazyThunk(() => this.computeFile(resolved, created.site?.origin)) };
      this.fileValues.set(resolved, (file = created));
    } else if (file.revision !== currentRevision()) {
      file.revision = currentRevision();
      file.site = site;
    }
    return file.thunk.force();
  }

  /** `import ./dir` means `./dir/default.nix`. */
  resolveImportPath(filePath: string): string {
    if (this.files.isDirectory(filePath)) return path.join(filePath, 'default.nix');
    return filePath;
  }

  private computeFile(filePath: string, origin?: Origin): Value {
    const failed = (reason: string): Value => {
      // The value names the import that reached the file first in this analysis, which may be another in the next.
      recordAnalysisLocal();
      return unknown(reason, origin);
    };
    // A path outside the folders being analysed is neither read nor reported missing: that would tell whether it exists.
    if (this.files.isOutside(filePath)) return failed(refusalText(filePath, 'outside'));
    const source = this.files.source(filePath);
    if (!source) {
      const failure = { path: filePath, origin };
      this.missingImports.push(failure);
      recordMissingImport(failure);
      return failed(`file not found: ${filePath}`);
    }
    this.filesRead.add(filePath);
    if (source.unreadable) return failed(`${filePath} is not analysed: ${unreadableText(source.unreadable)}`);
    const expression = source.expression;
    if (!expression) return failed(`${filePath} has no expression`);
    return this.eval(expression, this.globals, filePath);
  }

  importFile(filePath: string, site: CallSite): Value {
    return this.evalFile(filePath, site);
  }

  readDir(dirPath: string): Map<string, string> | string {
    if (this.files.isOutside(dirPath)) return refusalText(dirPath, 'outside');
    return this.files.readDir(dirPath) ?? `${dirPath} is not a readable directory`;
  }

  pathExists(filePath: string): boolean | string {
    return this.files.exists(filePath) ?? refusalText(filePath, 'outside');
  }

  readText(filePath: string): string | { refused: string } {
    if (this.files.isOutside(filePath)) return { refused: refusalText(filePath, 'outside') };
    return this.files.readText(filePath) ?? { refused: `${filePath} is not a readable file` };
  }

  /** A node's place; one object per node, shared by every value that points there (nodes belong to one file). */
  origin(node: SyntaxNode, file: string): Origin {
    const cached = node.origin;
    if (cached && cached.file === file) return cached;
    const origin = { file, start: node.startIndex, end: node.endIndex };
    node.origin = origin;
    return origin;
  }

  thunk(node: SyntaxNode, env: Env, file: string): Thunk {
    // Literals need no laziness; everything else is computed on first use.
    return new LazyThunk(() => this.eval(node, env, file), this.origin(node, file));
  }

  eval(node: SyntaxNode, env: Env, file: string): Value {
    const origin = this.origin(node, file);
    if (!this.step()) return unknown(budgetReason(), origin);
    if (!this.enter()) return unknown(budgetReason(), origin);
    try {
      return this.evalNode(node, env, file, origin);
    } finally {
      this.depth--;
    }
  }

  private evalNode(node: SyntaxNode, env: Env, file: string, origin: Origin): Value {
    switch (node.type) {
      case 'parenthesized_expression': {
        const inner = node.childForFieldName('expression');
        return inner ? this.eval(inner, env, file) : unknown('empty parentheses', origin);
      }
      case 'integer_expression':
        return { kind: 'int', value: Number.parseInt(node.text, 10), origin };
      case 'float_expression':
        return { kind: 'float', value: Number.parseFloat(node.text), origin };
      case 'string_expression':
      case 'indented_string_expression':
        return buildString(node, file, (expression) => this.charged(this.eval(expression, env, file)));
      case 'uri_expression':
        return { kind: 'string', pieces: [{ text: node.text, origin }], origin };
      case 'path_expression':
      case 'hpath_expression':
        return this.evalPath(node, env, file, origin);
      case 'spath_expression':
        return { kind: 'symbol', path: [node.text], origin };
      case 'variable_expression': {
        const name = node.childForFieldName('name')?.text ?? '';
        return this.lookup(env, name, origin);
      }
      case 'select_expression':
        return this.evalSelect(node, env, file, origin);
      case 'has_attr_expression':
        return this.evalHasAttr(node, env, file, origin);
      case 'apply_expression': {
        const fnNode = node.childForFieldName('function');
        const argNode = node.childForFieldName('argument');
        if (!fnNode || !argNode) return unknown('incomplete function application', origin);
        const fn = this.eval(fnNode, env, file);
        return this.apply(fn, this.thunk(argNode, env, file), { origin, evaluator: this });
      }
      case 'function_expression':
        return { kind: 'lambda', node, env, file, origin };
      case 'let_expression': {
        const scope = this.recursiveScope(node, env, file);
        const body = node.childForFieldName('body');
        return body ? this.eval(body, scope, file) : unknown('let without body', origin);
      }
      case 'with_expression': {
        const scopeNode = node.childForFieldName('environment');
        const body = node.childForFieldName('body');
        if (!scopeNode || !body) return unknown('incomplete with expression', origin);
        return this.eval(body, { withScope: this.thunk(scopeNode, env, file), parent: env }, file);
      }
      case 'if_expression':
        return this.evalIf(node, env, file, origin);
      case 'assert_expression': {
        const body = node.childForFieldName('body');
        return body ? this.eval(body, env, file) : unknown('assert without body', origin);
      }
      case 'attrset_expression':
        return this.buildAttrs(node, env, file, false);
      case 'rec_attrset_expression':
        return this.buildAttrs(node, env, file, true);
      case 'let_attrset_expression': {
        const attrs = this.buildAttrs(node, env, file, true);
        if (attrs.kind !== 'attrs') return attrs;
        const body = attrs.entries.get('body');
        return body ? body.thunk.force() : unknown('let { } without body', origin);
      }
      case 'list_expression': {
        const items = node.childrenForFieldName('element').filter((child): child is SyntaxNode => child !== null);
        if (!allocate(items.length)) return unknown(budgetReason(), origin);
        return { kind: 'list', items: items.map((item) => this.thunk(item, env, file)), origin };
      }
      case 'unary_expression':
        return this.evalUnary(node, env, file, origin);
      case 'binary_expression':
        return this.evalBinary(node, env, file, origin);
      case 'ERROR':
        return unknown('syntax error', origin);
      default:
        return unknown(`unsupported syntax ${node.type}`, origin);
    }
  }

  /** An interpolated string value, once its copy into the enclosing string fits the host's budget. */
  private charged(value: Value): Value {
    if (value.kind === 'string' && !allocateString(value.pieces)) return unknown(budgetReason(), value.origin);
    return value;
  }

  private evalPath(node: SyntaxNode, env: Env, file: string, origin: Origin): Value {
    let text = '';
    for (const child of node.namedChildren) {
      if (!child) continue;
      if (child.type === 'path_fragment') text += child.text;
      else if (child.type === 'interpolation') {
        const expression = child.childForFieldName('expression');
        const value = expression ? this.eval(expression, env, file) : unknown('empty interpolation', origin);
        const piece = stringText(value);
        if (piece === undefined) return unknown(`path ${node.text} depends on ${describeUnknown(value)}`, origin);
        text += piece;
      }
    }
    if (node.type === 'hpath_expression') return unknown(`home-relative path ${text}`, origin);
    const resolved = text.startsWith('/') ? path.normalize(text) : path.resolve(path.dirname(file), text);
    return { kind: 'path', path: resolved, origin };
  }

  lookup(env: Env, name: string, origin?: Origin): Value {
    for (let scope: Env | undefined = env; scope; scope = scope.parent) {
      const found = scope.vars?.get(name);
      if (found) return found.force();
    }
    for (let scope: Env | undefined = env; scope; scope = scope.parent) {
      if (!scope.withScope) continue;
      const withValue = scope.withScope.force();
      if (withValue.kind === 'attrs') {
        const entry = withValue.entries.get(name);
        if (entry) return entry.thunk.force();
        if (withValue.unknownKeys.length > 0 || withValue.open) return unknown(`${name} from a with-scope with unknown names`, origin);
        continue;
      }
      if (withValue.kind === 'symbol') return { kind: 'symbol', path: [...withValue.path, name], origin };
      return unknown(`${name} from an unknown with-scope`, origin);
    }
    return unknown(`undefined variable ${name}`, origin);
  }

  /** Names of an attrpath, each known or unknown. */
  private attrNames(attrpath: SyntaxNode, env: Env, file: string): readonly AttrName[] {
    if (attrpath.derived) return attrpath.derived as readonly AttrName[];
    const names: AttrName[] = [];
    let identifiersOnly = true;
    for (const attr of attrpath.childrenForFieldName('attr')) {
      if (!attr) continue;
      identifiersOnly &&= attr.type === 'identifier';
      names.push(this.attrName(attr, env, file));
    }
    // Names written with identifiers only depend on no environment: they are kept with the node (SyntaxNode.derived).
    if (identifiersOnly) attrpath.derived = names;
    return names;
  }

  attrName(attr: SyntaxNode, env: Env, file: string): AttrName {
    if (attr.type === 'identifier') return { name: attr.text, node: attr };
    let value: Value;
    if (attr.type === 'interpolation') {
      const expression = attr.childForFieldName('expression');
      value = expression ? this.eval(expression, env, file) : unknown('empty interpolation', this.origin(attr, file));
    } else value = this.eval(attr, env, file);
    const text = stringText(value);
    if (text !== undefined && value.kind === 'string') return { name: text, node: attr };
    return {
      node: attr,
      reason: unknown(`attribute name ${attr.text} depends on ${describeUnknown(value)}`, this.origin(attr, file)),
    };
  }

  private evalSelect(node: SyntaxNode, env: Env, file: string, origin: Origin): Value {
    const target = node.childForFieldName('expression');
    const attrpath = node.childForFieldName('attrpath');
    const fallback = node.childForFieldName('default');
    if (!target || !attrpath) return unknown('incomplete selection', origin);
    let value = this.eval(target, env, file);
    for (const attr of this.attrNames(attrpath, env, file)) {
      if (attr.name === undefined) return attr.reason ?? unknown('unknown attribute name', origin);
      const next = this.select(value, attr.name, origin);
      if (next === undefined) {
        if (fallback) return this.eval(fallback, env, file);
        return unknown(`attribute ${attr.name} missing in ${target.text.slice(0, 60)}`, origin);
      }
      value = next;
    }
    return value;
  }

  /**
   * Selects one attribute. Returns undefined when the attribute is known to be absent, so `or` can take over.
   */
  select(value: Value, name: string, origin?: Origin): Value | undefined {
    switch (value.kind) {
      case 'attrs': {
        const entry = value.entries.get(name);
        if (entry) return entry.thunk.force();
        if (value.unknownKeys.length > 0) return unknown(`attribute ${name} of a set with computed names`, origin);
        if (value.open) return value.fallback?.(name, origin) ?? unknown(`${name}: ${value.open.reason}`, origin);
        return undefined;
      }
      case 'symbol': {
        // `inputs.nixpkgs.lib`, `pkgs.lib` and `nixpkgs.lib` are the nixpkgs library we model.
        if (name === 'lib' && isLibraryOwner(value.path)) return this.libraryOf(value.path);
        // A flake's `self.inputs.x` is the same input as `inputs.x`.
        if (value.path.length === 2 && value.path[0] === 'self' && value.path[1] === 'inputs') return { kind: 'symbol', path: ['inputs', name], origin };
        if (value.config) {
          // `config.x.y` of a host whose modules are merged: the merged value (or the option's default), when known.
          const path = [...value.path, name];
          return value.config.read(path.slice(1), origin) ?? { kind: 'symbol', path, origin, config: value.config };
        }
        return { kind: 'symbol', path: [...value.path, name], origin };
      }
      case 'unknown':
        return value;
      case 'nixosSystem':
        return unknown(`attribute ${name} of a nixosSystem`, origin);
      default:
        return unknown(`cannot select ${name} from ${value.kind}`, origin);
    }
  }

  private evalHasAttr(node: SyntaxNode, env: Env, file: string, origin: Origin): Value {
    const target = node.childForFieldName('expression');
    const attrpath = node.childForFieldName('attrpath');
    if (!target || !attrpath) return unknown('incomplete ? expression', origin);
    let value = this.eval(target, env, file);
    for (const attr of this.attrNames(attrpath, env, file)) {
      if (attr.name === undefined) return unknown('unknown attribute name', origin);
      if (value.kind !== 'attrs') return value.kind === 'unknown' || value.kind === 'symbol' ? unknown(`? on ${value.kind}`, origin) : { kind: 'bool', value: false, origin };
      const next = this.select(value, attr.name, origin);
      if (next === undefined) return { kind: 'bool', value: false, origin };
      if (next.kind === 'unknown' && !value.entries.has(attr.name)) return unknown('? on a set with unknown names', origin);
      value = next;
    }
    return { kind: 'bool', value: true, origin };
  }

  private evalIf(node: SyntaxNode, env: Env, file: string, origin: Origin): Value {
    const condition = node.childForFieldName('condition');
    const consequence = node.childForFieldName('consequence');
    const alternative = node.childForFieldName('alternative');
    if (!condition || !consequence || !alternative) return unknown('incomplete if expression', origin);
    const value = this.eval(condition, env, file);
    if (value.kind === 'bool') return this.eval(value.value ? consequence : alternative, env, file);
    return unknown(`value chosen by the condition ${condition.text.slice(0, 60)}`, origin);
  }

  private evalUnary(node: SyntaxNode, env: Env, file: string, origin: Origin): Value {
    const argument = node.childForFieldName('argument');
    const operator = node.childForFieldName('operator')?.type ?? node.child(0)?.type;
    if (!argument) return unknown('incomplete unary expression', origin);
    const value = this.eval(argument, env, file);
    if (operator === '!') return value.kind === 'bool' ? { kind: 'bool', value: !value.value, origin } : unknown(`negation of ${describeUnknown(value)}`, origin);
    if (value.kind === 'int' || value.kind === 'float') return { kind: value.kind, value: -value.value, origin };
    return unknown(`arithmetic on ${describeUnknown(value)}`, origin);
  }

  private evalBinary(node: SyntaxNode, env: Env, file: string, origin: Origin): Value {
    const leftNode = node.childForFieldName('left');
    const rightNode = node.childForFieldName('right');
    const operator = node.childForFieldName('operator')?.type;
    if (!leftNode || !rightNode || !operator) return unknown('incomplete binary expression', origin);
    if (operator === '&&' || operator === '||' || operator === '->') {
      const left = this.eval(leftNode, env, file);
      if (left.kind === 'bool') {
        if (operator === '&&' && !left.value) return { kind: 'bool', value: false, origin };
        if (operator === '||' && left.value) return { kind: 'bool', value: true, origin };
        if (operator === '->' && !left.value) return { kind: 'bool', value: true, origin };
        const right = this.eval(rightNode, env, file);
        return right.kind === 'bool' ? { kind: 'bool', value: right.value, origin } : unknown(`condition ${rightNode.text.slice(0, 60)}`, origin);
      }
      const right = this.eval(rightNode, env, file);
      if (right.kind === 'bool' && operator === '&&' && !right.value) return { kind: 'bool', value: false, origin };
      if (right.kind === 'bool' && operator === '||' && right.value) return { kind: 'bool', value: true, origin };
      return unknown(`condition ${leftNode.text.slice(0, 60)}`, origin);
    }
    const left = this.eval(leftNode, env, file);
    const right = this.eval(rightNode, env, file);
    return binaryOperation(operator, left, right, origin);
  }

  /** `let` bindings and `rec { }`: a scope in which the bindings see each other. */
  private recursiveScope(node: SyntaxNode, env: Env, file: string): Env {
    const vars = new Map<string, Thunk>();
    const scope: Env = { vars, parent: env };
    const attrs = this.collectBindings(node, scope, env, file);
    for (const [name, entry] of attrs.entries) vars.set(name, entry.thunk);
    return scope;
  }

  /**
   * Builds an attribute set from a node holding a `binding_set`. Values are evaluated in `valueEnv`; `inherit x;`
   * looks `x` up in `inheritEnv` (the enclosing scope, as Nix does even in `rec` and `let`).
   */
  private collectBindings(node: SyntaxNode, valueEnv: Env, inheritEnv: Env, file: string): AttrsValue {
    const root = emptyAttrs(this.origin(node, file));
    const bindingSet = node.namedChildren.find((child) => child?.type === 'binding_set');
    if (bindingSet) this.addBindings(root, bindingSet.namedChildren, valueEnv, inheritEnv, file);
    return root;
  }

  /** Adds `binding`, `inherit` and `inherit_from` nodes to a set under construction. */
  private addBindings(root: AttrsValue, bindings: SyntaxNode[], valueEnv: Env, inheritEnv: Env, file: string): void {
    for (const binding of bindings) {
      if (!binding) continue;
      if (binding.type === 'binding') this.addBinding(root, binding, valueEnv, file);
      else if (binding.type === 'inherit') {
        const attrs = binding.childForFieldName('attrs');
        for (const attr of attrs?.childrenForFieldName('attr') ?? []) {
          if (!attr) continue;
          const name = attr.text;
          const attrOrigin = this.origin(attr, file);
          root.entries.set(name, { thunk: new LazyThunk(() => this.lookup(inheritEnv, name, attrOrigin), attrOrigin), keyOrigin: attrOrigin });
        }
      } else if (binding.type === 'inherit_from') {
        const sourceNode = binding.childForFieldName('expression');
        const attrs = binding.childForFieldName('attrs');
        if (!sourceNode) continue;
        const sourceThunk = this.thunk(sourceNode, valueEnv, file);
        for (const attr of attrs?.childrenForFieldName('attr') ?? []) {
          if (!attr) continue;
          const name = attr.text;
          const attrOrigin = this.origin(attr, file);
          root.entries.set(name, {
            thunk: new LazyThunk(
              () => this.select(sourceThunk.force(), name, attrOrigin) ?? unknown(`inherit (${sourceNode.text.slice(0, 40)}) ${name}: missing`, attrOrigin),
              attrOrigin,
            ),
            keyOrigin: attrOrigin,
          });
        }
      }
    }
  }

  private addBinding(root: AttrsValue, binding: SyntaxNode, env: Env, file: string): void {
    const attrpath = binding.childForFieldName('attrpath');
    const expression = binding.childForFieldName('expression');
    if (!attrpath || !expression) return;
    const names = this.attrNames(attrpath, env, file);
    let target = root;
    for (let index = 0; index < names.length; index++) {
      const attr = names[index];
      const keyOrigin = this.origin(attr.node, file);
      const last = index === names.length - 1;
      if (attr.name === undefined) {
        // The rest of the path hangs below a name we cannot compute.
        const rest = names.slice(index + 1);
        const thunk = rest.length === 0 ? this.thunk(expression, env, file) : known(this.nestUnder(rest, expression, env, file));
        const retry = () => this.attrName(attr.node, env, file).name;
        target.unknownKeys.push({ reason: attr.reason ?? unknown('unknown attribute name', keyOrigin), thunk, keyOrigin, retry });
        return;
      }
      const existing = target.entries.get(attr.name) as BuilderEntry | undefined;
      if (last) {
        if (existing && existing.thunk instanceof NestedAttrs && isPlainAttrset(expression)) {
          this.mergeLiteralInto(existing.thunk.attrs, expression, env, file);
        } else if (existing && existing.thunk instanceof NestedAttrs) {
          target.entries.set(attr.name, { thunk: known(unknown(`attribute ${attr.name} defined twice`, keyOrigin)), keyOrigin });
        } else if (existing && isPlainAttrset(expression) && existing.literal) {
          const nested = new NestedAttrs(emptyAttrs(this.origin(existing.literal, file)));
          this.mergeLiteralInto(nested.attrs, existing.literal, env, file);
          this.mergeLiteralInto(nested.attrs, expression, env, file);
          target.entries.set(attr.name, { thunk: nested, keyOrigin: existing.keyOrigin });
        } else {
          const entry: BuilderEntry = { thunk: this.thunk(expression, env, file), keyOrigin };
          if (isPlainAttrset(expression)) entry.literal = expression;
          target.entries.set(attr.name, entry);
        }
        return;
      }
      if (existing && existing.thunk instanceof NestedAttrs) {
        target = existing.thunk.attrs;
        continue;
      }
      const nested = new NestedAttrs(emptyAttrs(keyOrigin));
      const literal = existing?.literal;
      if (literal) this.mergeLiteralInto(nested.attrs, literal, env, file);
      else if (existing) {
        target.entries.set(attr.name, { thunk: known(unknown(`attribute ${attr.name} defined twice`, keyOrigin)), keyOrigin });
        return;
      }
      target.entries.set(attr.name, { thunk: nested, keyOrigin: existing?.keyOrigin ?? keyOrigin });
      target = nested.attrs;
    }
  }

  /** `a.b.c = v` below an unknown name: builds `{ b.c = v; }` as a value. */
  private nestUnder(names: readonly AttrName[], expression: SyntaxNode, env: Env, file: string): Value {
    let value: Value | undefined;
    for (let index = names.length - 1; index >= 0; index--) {
      const attr = names[index];
      const inner = value ? known(value) : this.thunk(expression, env, file);
      const attrs = emptyAttrs(this.origin(attr.node, file));
      if (attr.name === undefined) attrs.unknownKeys.push({ reason: attr.reason ?? unknown('unknown attribute name'), thunk: inner, keyOrigin: this.origin(attr.node, file) });
      else attrs.entries.set(attr.name, { thunk: inner, keyOrigin: this.origin(attr.node, file) });
      value = attrs;
    }
    return value ?? unknown('empty attribute path');
  }

  /** Nix merges `a = { x = 1; }; a.y = 2;`: the literal's bindings join the nested set. */
  private mergeLiteralInto(target: AttrsValue, literal: SyntaxNode, env: Env, file: string): void {
    const bindingSet = literal.namedChildren.find((child) => child?.type === 'binding_set');
    for (const binding of bindingSet?.namedChildren ?? []) {
      if (binding?.type === 'binding') this.addBinding(target, binding, env, file);
      else if (binding) this.addBindings(target, [binding], env, env, file);
    }
  }

  private buildAttrs(node: SyntaxNode, env: Env, file: string, recursive: boolean): Value {
    if (!recursive) return this.collectBindings(node, env, env, file);
    const vars = new Map<string, Thunk>();
    const scope: Env = { vars, parent: env };
    const attrs = this.collectBindings(node, scope, env, file);
    for (const [name, entry] of attrs.entries) vars.set(name, entry.thunk);
    return attrs;
  }

  apply(fn: Value, arg: Thunk, site: CallSite): Value {
    if (!this.step()) return unknown(budgetReason(), site.origin);
    switch (fn.kind) {
      case 'lambda':
        return this.applyLambda(fn, arg, site);
      case 'primop': {
        const args = [...fn.args, arg];
        if (args.length < fn.arity) return { ...fn, args };
        if (!this.enter()) return unknown(budgetReason(), site.origin);
        try {
          const result = fn.impl(args, site);
          return args.length > fn.arity ? this.apply(result, args[fn.arity], site) : result;
        } finally {
          this.depth--;
        }
      }
      case 'symbol': {
        // `import <nixpkgs> { }` / `import inputs.nixpkgs { … }` yield the package set.
        if (fn.path[fn.path.length - 1] === '<imported>') return { kind: 'symbol', path: ['pkgs'], origin: site.origin };
        // `inputs.flake-parts.lib.mkFlake { inherit inputs; } module`: kept whole, read by host discovery.
        if (fn.path.length >= 3 && fn.path[fn.path.length - 1] === 'mkFlake' && fn.path[fn.path.length - 2] === 'lib') {
          return flakePartsCall(arg, site.origin);
        }
        return unknown(`result of calling ${fn.path.join('.')}`, site.origin);
      }
      case 'attrs': {
        const functor = fn.entries.get('__functor');
        if (functor) return this.apply(this.apply(functor.thunk.force(), known(fn), site), arg, site);
        return unknown('an attribute set called as a function', site.origin);
      }
      case 'unknown':
        return unknown(`result of calling ${fn.reason}`, site.origin);
      default:
        return unknown(`cannot call ${fn.kind}`, site.origin);
    }
  }

  private applyLambda(fn: Extract<Value, { kind: 'lambda' }>, arg: Thunk, site: CallSite): Value {
    const { node, file } = fn;
    const body = node.childForFieldName('body');
    if (!body) return unknown('function without body', fn.origin);
    const vars = new Map<string, Thunk>();
    const scope: Env = { vars, parent: fn.env };
    const universal = node.childForFieldName('universal');
    if (universal) vars.set(universal.text, arg);
    const formals = node.childForFieldName('formals');
    if (formals) {
      const argValue = arg.force();
      for (const formal of formals.childrenForFieldName('formal')) {
        if (!formal) continue;
        const nameNode = formal.childForFieldName('name');
        if (!nameNode || nameNode.isMissing) continue;
        const name = nameNode.text;
        const defaultNode = formal.childForFieldName('default');
        const formalOrigin = this.origin(formal, file);
        vars.set(
          name,
          new LazyThunk(() => {
            const selected = argValue.kind === 'attrs' || argValue.kind === 'symbol' ? this.select(argValue, name, formalOrigin) : unknown(`argument ${name} of a call with ${describeUnknown(argValue)}`, formalOrigin);
            if (selected !== undefined && !(selected.kind === 'unknown' && defaultNode && argValue.kind === 'attrs' && !argValue.entries.has(name))) return selected;
            if (defaultNode) return this.eval(defaultNode, scope, file);
            return unknown(`function argument ${name} not given`, site.origin ?? formalOrigin);
          }, formalOrigin),
        );
      }
    }
    return this.eval(body, scope, file);
  }
}

/** One name of an attribute path: known, or unknown for a reason (`"${x}"` with an unknown `x`). */
interface AttrName {
  name?: string;
  node: SyntaxNode;
  reason?: UnknownValue;
}

/** Marker set returned by `mkFlake`: `__flakePartsModule` holds the flake-parts module. */
export const FLAKE_PARTS_MARKER = '__flakePartsModule';

function flakePartsCall(args: Thunk, origin?: Origin): Value {
  return {
    kind: 'primop',
    name: 'mkFlake',
    arity: 1,
    args: [],
    impl: ([module]) => {
      const marker = emptyAttrs(origin);
      marker.entries.set(FLAKE_PARTS_MARKER, { thunk: module });
      marker.entries.set('__flakePartsArgs', { thunk: args });
      return marker;
    },
    origin,
  };
}

/** While a set is built, an entry remembers the attrset literal it was bound to, so dotted bindings can join it. */
type BuilderEntry = AttrEntry & { literal?: SyntaxNode };

/** A nested attribute set built from dotted bindings, still open for more bindings while the set is built. */
class NestedAttrs implements Thunk {
  constructor(readonly attrs: AttrsValue) {}
  get origin(): Origin | undefined {
    return this.attrs.origin;
  }
  force(): Value {
    return this.attrs;
  }
}

function isPlainAttrset(node: SyntaxNode): boolean {
  return node.type === 'attrset_expression';
}


/** `pkgs.lib`, `<nixpkgs>.lib` and `inputs.<a nixpkgs input>.lib` are nixpkgs' library; other inputs' `lib` is theirs. */
function isLibraryOwner(symbolPath: string[]): boolean {
  const [root] = symbolPath;
  if (root === 'pkgs' && symbolPath.length === 1) return true;
  if (root === 'inputs' && symbolPath.length === 2) return /nixpkgs/i.test(symbolPath[1]) || /^nixos(-(stable|unstable|\d{2}\.\d{2}))?$/.test(symbolPath[1]);
  if (root === '<nixpkgs>' && symbolPath.length === 1) return true;
  return false;
}

