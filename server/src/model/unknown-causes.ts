/**
 * Why something stayed unknown, in a few causes a user can act on: `--explain` groups and counts by them, the language
 * server's status bar tooltip shows the count, and the JSON report gives each unknown its cause. The cause is read from
 * the reason text, which every unknown value carries; the first pattern that matches decides, most specific first.
 */

export const UNKNOWN_CAUSES = [
  { cause: 'the analysis budget of the host ran out', pattern: /analysis of this host stopped|budget is exhausted/ },
  { cause: 'a file analysed on its own (the rest of its host is out of reach)', pattern: /analysed on its own/ },
  { cause: 'a path outside the folders being analysed', pattern: /outside the folders being analysed/ },
  { cause: 'a file that does not exist', pattern: /file not found|does not exist/ },
  { cause: 'a file with syntax errors, or one that is not analysed', pattern: /syntax error|is not analysed:|has no expression/ },
  { cause: 'a module inside a flake input', pattern: /a file inside a flake input|inputs\.[\w.-]+\.(nixosModules|modules)/ },
  { cause: 'a module argument that is not known (specialArgs, _module.args)', pattern: /module argument|function argument \S+ not given/ },
  { cause: 'an option that NixOS or an unread module defines', pattern: /config\.[\w.-]+|value of module option/ },
  { cause: 'a package or store path', pattern: /\bpkgs\.|store path/ },
  { cause: 'a library function that is not modelled', pattern: /is not modelled|result of calling lib\.|lib\.[\w']+ of /i },
  { cause: 'a condition that could not be decided', pattern: /under a condition|value chosen by the condition|condition / },
  { cause: 'an impure builtin (environment, network, time)', pattern: /not evaluated by a static analysis|currentSystem|fetch/ },
] as const;

export const OTHER_CAUSE = 'something else the static reading cannot follow';

export function unknownCause(what: string): string {
  return UNKNOWN_CAUSES.find((entry) => entry.pattern.test(what))?.cause ?? OTHER_CAUSE;
}

/** Unknowns grouped by cause, the largest group first. */
export function groupByCause<T>(items: T[], what: (item: T) => string): { cause: string; items: T[] }[] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const cause = unknownCause(what(item));
    groups.set(cause, [...(groups.get(cause) ?? []), item]);
  }
  return [...groups].map(([cause, grouped]) => ({ cause, items: grouped })).sort((a, b) => b.items.length - a.items.length || a.cause.localeCompare(b.cause));
}
