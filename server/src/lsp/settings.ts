/**
 * The `ephemeralRoot.*` settings, per workspace folder, and how they shape published diagnostics.
 */
import { RULE_CODES, type RuleCode, type Severity } from '../rules/types';

export type SeveritySetting = Severity | 'off' | 'default';

export interface Settings {
  /** `ephemeralRoot.rules.<code>.severity` */
  rules: Partial<Record<RuleCode, { severity?: SeveritySetting }>>;
  /** `ephemeralRoot.nixpkgsRelease`: used when no flake.lock tells the release. */
  nixpkgsRelease: string;
  /** `ephemeralRoot.syntaxErrors`: auto = off when nix-ide's language server already reports them. */
  syntaxErrors: 'auto' | 'on' | 'off';
  /** Whether nix-ide's language server (nil or nixd) is enabled for the folder (`nix.enableLanguageServer`). */
  nixIdeServer: boolean;
  /** `ephemeralRoot.evaluate`: the evaluation-backed mode (lsp/evaluation.ts). */
  evaluate: 'off' | 'onSave' | 'onOpen';
  /** `ephemeralRoot.vm.nixExecutable`: the `nix` to run (user settings only), empty for PATH. */
  nixExecutable: string;
}

export const DEFAULT_SETTINGS: Settings = { rules: {}, nixpkgsRelease: '', syntaxErrors: 'auto', nixIdeServer: false, evaluate: 'off', nixExecutable: '' };

const SEVERITIES = new Set(['error', 'warning', 'information', 'hint', 'off', 'default']);

/** Reads the raw `ephemeralRoot` section; anything malformed falls back to the default rather than failing. */
export function readSettings(section: unknown, nixSection: unknown): Settings {
  const raw = (section && typeof section === 'object' ? section : {}) as Record<string, unknown>;
  const rules: Settings['rules'] = {};
  const rawRules = raw.rules && typeof raw.rules === 'object' ? (raw.rules as Record<string, unknown>) : {};
  for (const code of RULE_CODES) {
    const entry = rawRules[code];
    const severity = entry && typeof entry === 'object' ? (entry as { severity?: unknown }).severity : undefined;
    if (typeof severity === 'string' && SEVERITIES.has(severity)) rules[code] = { severity: severity as SeveritySetting };
  }
  const syntaxErrors = raw.syntaxErrors === 'on' || raw.syntaxErrors === 'off' ? raw.syntaxErrors : 'auto';
  const nix = (nixSection && typeof nixSection === 'object' ? nixSection : {}) as Record<string, unknown>;
  return {
    rules,
    nixpkgsRelease: typeof raw.nixpkgsRelease === 'string' ? raw.nixpkgsRelease : '',
    syntaxErrors,
    nixIdeServer: nix.enableLanguageServer === true,
    evaluate: raw.evaluate === 'onSave' || raw.evaluate === 'onOpen' ? raw.evaluate : 'off',
    nixExecutable: (() => {
      const vm = raw.vm && typeof raw.vm === 'object' ? (raw.vm as Record<string, unknown>) : {};
      return typeof vm.nixExecutable === 'string' ? vm.nixExecutable : '';
    })(),
  };
}

/** The severity a finding is published with, or undefined when the user turned its code off. */
export function effectiveSeverity(settings: Settings, code: RuleCode, severity: Severity): Severity | undefined {
  if (code === 'syntax-error') {
    const reportSyntax = settings.syntaxErrors === 'on' || (settings.syntaxErrors === 'auto' && !settings.nixIdeServer);
    if (!reportSyntax) return undefined;
  }
  const configured = settings.rules[code]?.severity;
  if (configured === 'off') return undefined;
  if (!configured || configured === 'default') return severity;
  return configured;
}
