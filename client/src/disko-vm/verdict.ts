/**
 * The verdict of the "prove the ephemeral root" VM test, read from the `EPHEMERAL-ROOT-PROBE {…}` and
 * `EPHEMERAL-ROOT-VERDICT {…}` lines its checks print (client/src/disko-vm/nix-text.ts). Nix shows them as build
 * log lines (`vm-test-run-…> EPHEMERAL-ROOT-…`), so a marker is searched anywhere in a line.
 */
import { PROBE_MARKER, VERDICT_MARKER } from './nix-text';
import type { ProbeResult, Verdict } from './types';

export class VerdictReader {
  readonly probes: ProbeResult[] = [];
  private final: { ok: boolean; failed: string[] } | undefined;

  /** Reads one log line; true when it was a marker line. */
  read(line: string): boolean {
    for (const marker of [PROBE_MARKER, VERDICT_MARKER]) {
      const at = line.indexOf(`${marker} `);
      if (at === -1) continue;
      let value: Record<string, unknown>;
      try {
        value = JSON.parse(line.slice(at + marker.length + 1)) as Record<string, unknown>;
      } catch {
        return false;
      }
      if (marker === PROBE_MARKER) {
        const probe: ProbeResult = {
          path: String(value.path),
          expect: value.expect === 'erased' ? 'erased' : 'kept',
          result: value.result === 'erased' || value.result === 'kept' ? value.result : 'skipped',
          ok: value.ok === true,
          reason: typeof value.reason === 'string' ? value.reason : undefined,
        };
        // The first pass reports skipped paths; the second the results.
        const index = this.probes.findIndex((other) => other.path === probe.path);
        if (index >= 0) this.probes[index] = probe;
        else this.probes.push(probe);
      } else {
        this.final = { ok: value.ok === true, failed: Array.isArray(value.failed) ? value.failed.map(String) : [] };
      }
      return true;
    }
    return false;
  }

  /** The verdict, or undefined when the checks never reported one (the test failed before them). */
  verdict(): Verdict | undefined {
    if (!this.final) return undefined;
    const erased = this.probes.filter((probe) => probe.expect === 'erased' && probe.result !== 'skipped');
    const kept = this.probes.filter((probe) => probe.expect === 'kept' && probe.result !== 'skipped');
    const skipped = this.probes.filter((probe) => probe.result === 'skipped');
    const wrong = this.probes.filter((probe) => !probe.ok);
    const list = (probes: ProbeResult[]) => probes.map((probe) => probe.path).join(', ');
    let summary: string;
    if (this.final.ok && wrong.length === 0) {
      summary = `Ephemeral root proved: ${list(erased) || 'nothing'} erased after a reboot; ${kept.length ? `${list(kept)} kept` : 'no persisted path to check'}.`;
    } else {
      const lost = wrong.filter((probe) => probe.expect === 'kept');
      const survived = wrong.filter((probe) => probe.expect === 'erased');
      const parts = [];
      if (survived.length) parts.push(`${list(survived)} still held the probe after the reboot (not erased)`);
      if (lost.length) parts.push(`${list(lost)} lost the probe (not persisted)`);
      summary = `Ephemeral root NOT proved: ${parts.join('; ') || `failed: ${this.final.failed.join(', ')}`}.`;
    }
    if (skipped.length) summary += ` Skipped (not a directory on the booted host): ${list(skipped)}.`;
    return { ok: this.final.ok && wrong.length === 0, probes: [...this.probes], summary };
  }
}
