/**
 * The quick fixes, one per fixable code. The CLI's `fixable` flag and the language server's code actions both read
 * this registry, so a code is called fixable only when a fix is actually implemented for it.
 */
import type { Finding, RuleCode } from '../rules/types';

export interface FixRegistration {
  code: RuleCode;
  /** Whether this particular finding can be fixed (some need facts the model could not provide). */
  applies(finding: Finding): boolean;
}

const FIXES = new Map<RuleCode, FixRegistration>();

export function registerFix(fix: FixRegistration): void {
  FIXES.set(fix.code, fix);
}

export function isFixable(finding: Finding): boolean {
  return FIXES.get(finding.code)?.applies(finding) ?? false;
}
