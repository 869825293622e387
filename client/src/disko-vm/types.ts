/**
 * Types of the "Run disko on a VM image" command. This folder holds the command's pure logic (argument arrays, the
 * generated Nix, Nix's internal-json log, the safety checks, the run itself); it never imports `vscode`, so node:test
 * covers it. The VS Code side is client/src/disko-vm-command.ts.
 */

/** What the language server tells about a host (`ephemeralRoot/vmHosts`): the protocol types live with the server. */
import type { VmHost } from '../../../server/src/lsp/vm-hosts';

export type { VmDisk, VmHost, VmHostsResult, VmLens } from '../../../server/src/lsp/vm-hosts';

/**
 * The four modes of the command:
 * - `images`: build `…config.system.build.diskoImagesScript` and run it with `--build-memory` in the work folder;
 * - `vm`: `nix run -L …config.system.build.vmWithDisko` (interactive);
 * - `standalone`: a disko file alone, wrapped by nix/standalone-disko-image.nix, then its image script;
 * - `prove`: a generated NixOS VM test (disko's installTest + checks) that proves `/` is erased and the rest kept.
 */
export type VmMode = 'images' | 'vm' | 'standalone' | 'prove';

export const MODE_LABELS: Record<VmMode, string> = {
  images: 'Format images',
  vm: 'Interactive VM',
  standalone: 'Standalone disko file',
  prove: 'Prove the ephemeral root',
};

export type ImageFormat = 'raw' | 'qcow2';

/** `ephemeralRoot.vm.*`. */
export interface VmSettings {
  /** MiB for the image builder VM (`--build-memory`) and the interactive VM (`QEMU_OPTS=-m`). */
  memory: number;
  imageFormat: ImageFormat;
  /** Absolute, already resolved; it must lie in a workspace folder or the extension's storage (work-folder.ts). */
  workFolder: string;
  /** Extra arguments put right after the `nix` subcommand (machine-scoped: a workspace cannot set them). */
  nixArgs: string[];
  /** The absolute path of `nix` (machine-scoped); empty or absent: looked up on PATH outside the workspace. */
  nixExecutable?: string;
}

/** What a run is about. */
export type VmTarget =
  | { kind: 'host'; host: VmHost }
  /** A disko file run on its own (no flake): `host` is set when the file belongs to one (for its disks). */
  | { kind: 'file'; file: string; host?: VmHost };

/** One process the run starts. */
export interface Step {
  /** The progress stage shown while it runs. */
  stage: string;
  command: string;
  args: string[];
  cwd: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Lines are Nix's `--log-format internal-json` (else plain output). */
  internalJson: boolean;
  /** This step formats images in the work folder (the image script). */
  formatsImages?: boolean;
}

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

export interface ImageInfo {
  file: string;
  format: string;
  virtualSize: number;
}

export interface ProbeResult {
  path: string;
  expect: 'erased' | 'kept';
  result: 'erased' | 'kept' | 'skipped';
  ok: boolean;
  reason?: string;
}

export interface Verdict {
  ok: boolean;
  probes: ProbeResult[];
  /** One line for a notification. */
  summary: string;
}

export type RunStatus = 'ok' | 'failed' | 'cancelled' | 'refused';

export interface RunResult {
  status: RunStatus;
  mode: VmMode;
  message: string;
  workFolder?: string;
  log?: string;
  /** The progress stages the run went through, in order. */
  stages: string[];
  /** Warnings accepted on the way (no /dev/kvm, unreadable paths). */
  warnings: string[];
  images: ImageInfo[];
  diagnostics: NixDiagnostic[];
  verdict?: Verdict;
  /** Generated or shown Nix files. */
  nixFiles: string[];
  /** The steps run, as argument arrays. */
  commands: { command: string; args: string[]; cwd: string }[];
}
