/**
 * Nix's `--log-format internal-json` log (read by the VM command, client/src/disko-vm, and by the evaluation-backed
 * mode, evaluation/runner.ts): one `@nix {json}` line per event on stderr (anything else is plain
 * output, such as the program `nix run` starts). The shapes, as real Nix writes them:
 *
 *   @nix {"action":"start","id":1,"level":3,"text":"building '/nix/store/…-x.drv'","type":105,"fields":[…]}
 *   @nix {"action":"result","id":1,"type":101,"fields":["a line of the build log"]}
 *   @nix {"action":"result","id":1,"type":104,"fields":["buildPhase"]}
 *   @nix {"action":"stop","id":1}
 *   @nix {"action":"msg","level":0,"msg":"\u001b[31;1merror:\u001b[0m …","raw_msg":"…",
 *         "file":"/nix/store/…-source/disko.nix","line":12,"column":7,
 *         "trace":[{"raw_msg":"while evaluating …","file":…,"line":…,"column":…}]}
 *
 * Positions are 1-based. A flake is evaluated from its copy in the store (`/nix/store/<hash>-source/…`), newer Nix
 * may write `«git+file:///…»/file.nix`: `mapNixFile` maps both back to the workspace.
 */
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';

/** A 0-based position (LSP). */
export interface Position {
  line: number;
  character: number;
}

/** A Nix error turned into a diagnostic on a workspace file (0-based line and character). */
export interface NixDiagnostic {
  file: string;
  range: { start: Position; end: Position };
  message: string;
  severity: 'error' | 'warning';
  /** Frames of `--show-trace`, outermost last, with their positions when they are workspace files. */
  related: { file: string; range: { start: Position; end: Position }; message: string }[];
}

export interface NixPosition {
  file?: string;
  line?: number;
  column?: number;
}

export type NixEvent =
  | { kind: 'plain'; text: string }
  /** A line of a build log (result type 101). */
  | { kind: 'log'; text: string }
  /** An activity with a text (building, copying, querying …). */
  | { kind: 'activity'; text: string; type: number }
  /** A build phase started (result type 104). */
  | { kind: 'phase'; phase: string }
  | { kind: 'msg'; level: number; text: string; raw: string; position: NixPosition; trace: (NixPosition & { raw: string })[] }
  | { kind: 'ignore' };

const ANSI = /\u001b\[[0-9;?]*[A-Za-z]|\u001b\][^\u0007]*\u0007/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

function position(value: Record<string, unknown>): NixPosition {
  return {
    file: typeof value.file === 'string' ? value.file : undefined,
    line: typeof value.line === 'number' ? value.line : undefined,
    column: typeof value.column === 'number' ? value.column : undefined,
  };
}

/** One line of output, classified. */
export function parseNixLine(line: string): NixEvent {
  if (!line.startsWith('@nix ')) return { kind: 'plain', text: stripAnsi(line) };
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(line.slice(5)) as Record<string, unknown>;
  } catch {
    return { kind: 'plain', text: stripAnsi(line) };
  }
  if (typeof event !== 'object' || event === null) return { kind: 'plain', text: line };
  const fields = Array.isArray(event.fields) ? event.fields : [];
  switch (event.action) {
    case 'msg': {
      const text = stripAnsi(String(event.msg ?? ''));
      const level = typeof event.level === 'number' ? event.level : 0;
      const trace = Array.isArray(event.trace)
        ? event.trace.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null).map((item) => ({ ...position(item), raw: stripAnsi(String(item.raw_msg ?? item.msg ?? '')) }))
        : [];
      return {
        kind: 'msg',
        // Nix 2.8 logs some warnings at the error level (0) with a "warning:" prefix, e.g. "warning: the group
        // 'nixbld' specified in 'build-users-group' does not exist" on a machine without that group: such a
        // message is a warning, whatever its level says.
        level: level === 0 && /^warning:/.test(text) ? 1 : level,
        text,
        raw: stripAnsi(String(event.raw_msg ?? event.msg ?? '')),
        position: position(event),
        trace,
      };
    }
    case 'start':
      return typeof event.text === 'string' && event.text.length > 0 ? { kind: 'activity', text: stripAnsi(event.text), type: Number(event.type ?? 0) } : { kind: 'ignore' };
    case 'result':
      if (event.type === 101 && typeof fields[0] === 'string') return { kind: 'log', text: stripAnsi(fields[0]) };
      if (event.type === 104 && typeof fields[0] === 'string') return { kind: 'phase', phase: fields[0] };
      return { kind: 'ignore' };
    default:
      return { kind: 'ignore' };
  }
}

/**
 * Every message of a run's output, in order. Nix may print warnings before the error that matters (the missing
 * nixbld group, an untrusted substituter), so a reader must never take just the first message.
 */
export function nixMessages(lines: string[]): Extract<NixEvent, { kind: 'msg' }>[] {
  return lines.map(parseNixLine).filter((event): event is Extract<NixEvent, { kind: 'msg' }> => event.kind === 'msg');
}

/** The errors among a run's messages (level 0 once warnings are recognised), in order. */
export function nixErrors(lines: string[]): Extract<NixEvent, { kind: 'msg' }>[] {
  return nixMessages(lines).filter((message) => message.level === 0);
}

const STORE_SOURCE = /^\/nix\/store\/[0-9a-df-np-sv-z]{32}-[^/]+\/(.+)$/;
const LAZY_TREE = /^«[^»]*»\/(.+)$/;

/**
 * The workspace file a position in a Nix message refers to: a file under one of `roots` (the flake folder, the
 * folder of the built file), directly or through its copy in the store. Undefined for anything else
 * (nixpkgs, disko, other inputs).
 */
export function mapNixFile(file: string | undefined, roots: string[], exists: (file: string) => boolean = existsSync): string | undefined {
  if (!file) return undefined;
  const relative = STORE_SOURCE.exec(file)?.[1] ?? LAZY_TREE.exec(file)?.[1];
  if (relative !== undefined) {
    for (const root of roots) {
      const candidate = path.join(root, relative);
      if (exists(candidate)) return candidate;
    }
    return undefined;
  }
  if (!path.isAbsolute(file)) return undefined;
  const real = (() => {
    try {
      return realpathSync(file);
    } catch {
      return path.normalize(file);
    }
  })();
  for (const root of roots) {
    for (const candidate of [path.normalize(file), real]) {
      if ((candidate === root || candidate.startsWith(`${root}${path.sep}`)) && exists(candidate)) return candidate;
    }
  }
  return undefined;
}

/** The range of the word at a 1-based position (an identifier, path or number), else one character. */
export function wordRange(text: string | undefined, line: number, column: number): { start: Position; end: Position } {
  const start = { line: Math.max(0, line - 1), character: Math.max(0, column - 1) };
  const lineText = text?.split(/\r?\n/)[start.line];
  if (lineText === undefined) return { start, end: { line: start.line, character: start.character + 1 } };
  const match = /^[A-Za-z0-9_'\-./]+/.exec(lineText.slice(start.character));
  const length = match ? match[0].length : 1;
  return { start, end: { line: start.line, character: Math.min(lineText.length, start.character + length) || start.character + 1 } };
}

/**
 * A Nix error or warning as a diagnostic on a workspace file: at the message's own position when that is a
 * workspace file, else at the innermost `--show-trace` frame that is. The other frames become related information.
 */
export function diagnosticFromMessage(
  event: Extract<NixEvent, { kind: 'msg' }>,
  roots: string[],
  readText: (file: string) => string | undefined,
  exists?: (file: string) => boolean,
): NixDiagnostic | undefined {
  if (event.level > 1) return undefined; // 0 error, 1 warning; the rest is information
  const frames = [event.position, ...event.trace].map((frame, index) => ({
    file: mapNixFile(frame.file, roots, exists),
    line: frame.line,
    column: frame.column,
    raw: index === 0 ? event.raw : (frame as { raw: string }).raw,
  }));
  const primary = frames.find((frame) => frame.file && frame.line);
  if (!primary?.file || !primary.line) return undefined;
  const message = event.raw.trim() || event.text.replace(/^(error|warning):\s*/, '').split('\n')[0];
  const related = frames
    .filter((frame) => frame !== primary && frame.file && frame.line)
    .map((frame) => ({ file: frame.file!, range: wordRange(readText(frame.file!), frame.line!, frame.column ?? 1), message: frame.raw || 'here' }));
  return {
    file: primary.file,
    range: wordRange(readText(primary.file), primary.line, primary.column ?? 1),
    message: primary === frames[0] ? message : `${message} (${primary.raw})`,
    severity: event.level === 0 ? 'error' : 'warning',
    related,
  };
}
