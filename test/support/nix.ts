/** Real Nix as an oracle: `nix-instantiate --parse` accepts exactly what Nix accepts. */
import { spawnSync } from 'node:child_process';

export function nixParse(file: string): { ok: boolean; error: string } {
  const result = spawnSync('nix-instantiate', ['--parse', file], { encoding: 'utf8', timeout: 30_000 });
  if (result.error) throw new Error(`nix-instantiate is not available (${result.error.message}); install Debian's nix-bin`);
  return { ok: result.status === 0, error: result.stderr.trim() };
}
