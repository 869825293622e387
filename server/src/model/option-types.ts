/**
 * `lib.types` as far as option declarations need it: `types.submodule` (and `submoduleWith`) and `types.attrsOf` /
 * `lazyAttrsOf` are followed, so an option whose type is a submodule, or a set of submodules, declares the options
 * of that submodule below its own path (config-reference.ts reads their defaults). Every other type (`str`, `bool`,
 * `listOf …`, …) stays the name `lib.types.<name>`, as before: a type tells nothing the rules need.
 *
 * A type value is an attribute set, as in nixpkgs: `_type = "option-type"` and `name`; a submodule carries the
 * `options` its modules declare (read lazily, only when a declaration is read), a set of them its `nestedTypes.elemType`.
 */
import type { AttrsValue, CallSite, PrimopValue, Thunk, Value } from './values';
import { LazyThunk, attrsOf, emptyAttrs, known, str, stringText, unknown } from './values';

/** The options a submodule type declares, or the element type of `attrsOf`, when the value is such a type. */
export type OptionType = { kind: 'submodule'; options: Thunk[] } | { kind: 'attrsOf'; element: Thunk } | undefined;

const SUBMODULE_OPTIONS = '__submoduleOptions';

export function optionTypeOf(value: Value): OptionType {
  if (value.kind !== 'attrs') return undefined;
  const marker = value.entries.get('_type')?.thunk.force();
  if (!marker || stringText(marker) !== 'option-type') return undefined;
  const name = value.entries.get('name')?.thunk.force();
  const text = name ? stringText(name) : undefined;
  if (text === 'submodule') {
    const options = value.entries.get(SUBMODULE_OPTIONS)?.thunk.force();
    return options?.kind === 'list' ? { kind: 'submodule', options: options.items } : undefined;
  }
  if (text === 'attrsOf' || text === 'lazyAttrsOf') {
    const nested = value.entries.get('nestedTypes')?.thunk.force();
    const element = nested?.kind === 'attrs' ? nested.entries.get('elemType')?.thunk : undefined;
    return element ? { kind: 'attrsOf', element } : undefined;
  }
  return undefined;
}

type Primop = (name: string, arity: number, impl: (args: Thunk[], site: CallSite) => Value) => PrimopValue;

/**
 * The `options` of one submodule module: a set, or a function called as the module system calls it (`name` and the
 * submodule's `config` are not known here; `lib` is the library).
 */
function moduleOptions(module: Thunk, lib: Thunk, site: CallSite): Thunk {
  return new LazyThunk(() => {
    let value = module.force();
    if (value.kind === 'lambda' || value.kind === 'primop') {
      const args = emptyAttrs(site.origin);
      args.entries.set('lib', { thunk: lib });
      args.entries.set('name', { thunk: known(unknown('the name of a submodule element', site.origin)) });
      args.open = unknown('an argument of a submodule (only lib is known)', site.origin);
      value = site.evaluator.apply(value, known(args), site);
    }
    if (value.kind !== 'attrs') return emptyAttrs(site.origin);
    return value.entries.get('options')?.thunk.force() ?? emptyAttrs(site.origin);
  }, site.origin);
}

function typeValue(name: string, entries: Record<string, Thunk>, site: CallSite): Value {
  const type = attrsOf({ _type: str('option-type'), name: str(name) }, site.origin);
  for (const [key, thunk] of Object.entries(entries)) type.entries.set(key, { thunk });
  return type;
}

export function optionTypes(primop: Primop, lib: Thunk): AttrsValue {
  const submodule = primop('submodule', 1, ([module], site) =>
    typeValue('submodule', { [SUBMODULE_OPTIONS]: known({ kind: 'list', items: [moduleOptions(module, lib, site)], origin: site.origin }) }, site),
  );
  const submoduleWith = primop('submoduleWith', 1, ([spec], site) => {
    const options = new LazyThunk(() => {
      const value = spec.force();
      const modules = value.kind === 'attrs' ? value.entries.get('modules')?.thunk.force() : undefined;
      if (modules?.kind !== 'list') return { kind: 'list', items: [], origin: site.origin };
      return { kind: 'list', items: modules.items.map((module) => moduleOptions(module, lib, site)), origin: site.origin };
    }, site.origin);
    return typeValue('submodule', { [SUBMODULE_OPTIONS]: options }, site);
  });
  const setOf = (name: string) => primop(name, 1, ([element], site) => withElement(name, element, site));
  const types = attrsOf({ submodule, submoduleWith, attrsOf: setOf('attrsOf'), lazyAttrsOf: setOf('lazyAttrsOf') });
  // Every other type is its name, as `lib.types` was before: nothing the rules read depends on it.
  types.open = unknown('an option type');
  types.fallback = (name, origin) => ({ kind: 'symbol', path: ['lib', 'types', name], origin });
  return types;
}

function withElement(name: string, element: Thunk, site: CallSite): Value {
  const nested = emptyAttrs(site.origin);
  nested.entries.set('elemType', { thunk: element });
  return typeValue(name, { nestedTypes: known(nested) }, site);
}
