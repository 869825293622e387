/**
 * flake.lock, parsed once per text. Several model parts read the same lock (input URLs, the nixpkgs release, the
 * versions of impermanence, sops-nix and agenix), and the language server reads it again after every keystroke in
 * any file of the host, while the lock itself almost never changes. The parsed object is shared: callers only read it.
 */

/** The most recent locks by text; a workspace has a handful of flakes, so a few entries hold all of them. */
const parsed = new Map<string, unknown>();
const KEPT = 8;

/** The parsed lock, or undefined when the text is not JSON (a broken lock tells nothing). */
export function parseFlakeLock(text: string): unknown {
  if (parsed.has(text)) return parsed.get(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (parsed.size >= KEPT) parsed.delete(parsed.keys().next().value as string);
  parsed.set(text, value);
  return value;
}
