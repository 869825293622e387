/**
 * The argument arrays of each mode (F27–F30), and the files a mode generates. Nothing here runs anything.
 *
 * Every `nix` call is `nix <subcommand> <ephemeralRoot.vm.nixArgs…> -L --log-format internal-json …`: the user's
 * arguments right after the subcommand, then ours, so ours win. `-L` must come before `--log-format`: `-L` sets
 * the logger itself, and after `--log-format internal-json` it switches back to the progress bar (seen with Nix 2.8).
 * `nix` is always the absolute path found by nix-executable.ts, never a bare name looked up in a working folder.
 * Each plan also lists the entries it creates in the work folder, which work-folder.ts records (and checks that no
 * file of the user's has one of those names).
 */
import path from 'node:path';
import { hostAttrPath, imagesOverrideExpression, proveExpression } from './nix-text';
import type { Step, VmHost, VmMode, VmSettings, VmTarget } from './types';
import type { CreatedEntry } from './work-folder';

/** Names of what the command keeps in the work folder. */
export const WORK_FILES = {
  log: 'run.log',
  imagesScript: 'images-script',
  proveResult: 'prove-result',
  imagesExpression: 'images.nix',
  proveExpression: 'prove-ephemeral-root.nix',
  vmTmp: 'vm-tmp',
  /** The UEFI variables disko's image builder may leave next to the images. */
  efiVariables: 'efivars.fd',
} as const;

/** The project's wrapper for a disko file alone, relative to the extension's root. */
export const STANDALONE_EXPRESSION = path.join('nix', 'standalone-disko-image.nix');

/** The logging arguments of every `nix` call, in this order. */
export const LOG_ARGS = ['-L', '--log-format', 'internal-json'] as const;

/** What the precondition check evaluates: true iff the flakes feature is on (builtins.getFlake exists). */
export const FLAKES_PROBE_EXPRESSION = 'builtins ? getFlake';

export function flakesProbeArgs(nixArgs: string[]): string[] {
  return ['eval', ...nixArgs, '--json', '--expr', FLAKES_PROBE_EXPRESSION];
}

export interface PlanInput {
  mode: VmMode;
  target: VmTarget;
  settings: VmSettings;
  /** The extension's root folder (holds nix/standalone-disko-image.nix). */
  extensionRoot: string;
  /** The absolute path of the `nix` to run (nix-executable.ts). */
  nix: string;
  /** Makes the VM test's derivation unique, so it really runs; tests pass a fixed one. */
  nonce: string;
}

export interface GeneratedFile {
  path: string;
  text: string;
}

export interface Plan {
  mode: VmMode;
  /** A title for the progress notification. */
  title: string;
  steps: Step[];
  /** Files written into the work folder before the first step. */
  files: GeneratedFile[];
  /** A Nix file of the project the user should see (the standalone wrapper). */
  shownFiles: string[];
  /** Image file names the formatting step must leave in the work folder. */
  expectedImages: string[];
  /** Entries the run creates in the work folder (recorded, so the next run deletes them). */
  creates: CreatedEntry[];
  /** The run formats images whose names are not known ahead (a disko file that belongs to no host). */
  unknownImages: boolean;
  /** Folders Nix copies to the store (store paths in errors map back to them). */
  sourceRoots: string[];
  /** Needs the flakes feature. */
  needsFlakes: boolean;
  /** A long build: the confirmation's text. */
  confirm: { message: string; detail: string };
}

function nixCall(subcommand: 'build' | 'run', settings: VmSettings, rest: string[]): string[] {
  return [subcommand, ...settings.nixArgs, ...LOG_ARGS, ...rest];
}

/** `nix build` of a host output into `<work>/<link>`: the flake installable, or NixOS's evaluator over configuration.nix. */
function hostBuild(host: VmHost, settings: VmSettings, output: string, link: string): { args: string[]; cwd: string } {
  const outLink = path.join(settings.workFolder, link);
  if (host.flake) return { args: nixCall('build', settings, ['--out-link', outLink, `.#${hostAttrPath(host.flake.attribute, output)}`]), cwd: host.flake.dir };
  return {
    args: nixCall('build', settings, ['--out-link', outLink, '--file', '<nixpkgs/nixos>', '--argstr', 'configuration', host.root, `config.system.build.${output}`]),
    cwd: path.dirname(host.root),
  };
}

/** The entries of a run: the log, the generated files, the out-link, the images (and what the image builder leaves). */
function createdEntries(work: string, files: GeneratedFile[], links: string[], images: string[], folders: string[] = []): CreatedEntry[] {
  return [
    { name: WORK_FILES.log, kind: 'file' },
    ...files.map((file) => ({ name: path.relative(work, file.path), kind: 'file' as const })),
    ...links.map((name) => ({ name, kind: 'link' as const })),
    ...images.map((name) => ({ name, kind: 'file' as const })),
    ...(images.length > 0 || links.includes(WORK_FILES.imagesScript) ? [{ name: WORK_FILES.efiVariables, kind: 'file' as const }] : []),
    ...folders.map((name) => ({ name, kind: 'folder' as const })),
  ];
}

function imagesStep(settings: VmSettings): Step {
  return {
    stage: 'Formatting the images',
    command: path.join(settings.workFolder, WORK_FILES.imagesScript),
    args: ['--build-memory', String(settings.memory)],
    cwd: settings.workFolder,
    internalJson: false,
    formatsImages: true,
  };
}

export function expectedImages(host: VmHost | undefined, settings: VmSettings): string[] {
  return (host?.disks ?? []).map((disk) => `${disk.imageName}.${settings.imageFormat}`);
}

function hostLabel(host: VmHost): string {
  return host.flake ? `${host.name} (nixosConfigurations.${host.flake.attribute})` : host.name;
}

/** The steps and files of one run. Throws on a target the mode cannot take. */
export function planRun(input: PlanInput): Plan {
  const { mode, target, settings } = input;
  const work = settings.workFolder;
  const imagesDetail = (count: number) =>
    `This builds the host's NixOS system and disko's image builder (long the first time), then formats ${count || 'the'} image file(s) in ${work} with ${settings.memory} MiB for the build VM.`;

  if (mode === 'standalone') {
    const file = target.kind === 'file' ? target.file : target.host.diskoFiles[0];
    if (!file) throw new Error(`host ${target.kind === 'host' ? target.host.name : '?'} has no disko file`);
    const host: VmHost | undefined = target.host;
    const wrapper = path.join(input.extensionRoot, STANDALONE_EXPRESSION);
    const zfs = host ? host.zfs : true;
    return {
      mode,
      title: `Standalone disko images of ${path.basename(file)}`,
      steps: [
        {
          stage: 'Building the image script',
          command: input.nix,
          args: nixCall('build', settings, [
            '--impure',
            '--out-link',
            path.join(work, WORK_FILES.imagesScript),
            '--file',
            wrapper,
            '--argstr',
            'diskoFile',
            file,
            '--argstr',
            'imageFormat',
            settings.imageFormat,
            '--arg',
            'zfs',
            zfs ? 'true' : 'false',
          ]),
          cwd: path.dirname(file),
          internalJson: true,
        },
        imagesStep(settings),
      ],
      files: [],
      shownFiles: [wrapper],
      expectedImages: expectedImages(host, settings),
      creates: createdEntries(work, [], [WORK_FILES.imagesScript], expectedImages(host, settings)),
      unknownImages: !host,
      sourceRoots: [path.dirname(file)],
      needsFlakes: false,
      confirm: {
        message: `Format disko images of ${path.basename(file)}?`,
        detail: `${path.basename(file)} is wrapped into a minimal NixOS system by ${STANDALONE_EXPRESSION} (shown in the editor). ${imagesDetail(host?.disks.length ?? 0)}`,
      },
    };
  }

  if (target.kind !== 'host') throw new Error(`mode ${mode} needs a host (a disko file alone runs as "standalone")`);
  const host = target.host;
  if (host.kind === 'disko-only') throw new Error(`${host.name} is a disko file without a host: run it as a standalone disko file`);
  const sourceRoots = [host.flake?.dir ?? path.dirname(host.root)];
  const needsFlakes = host.kind === 'flake';

  if (mode === 'images') {
    const files: GeneratedFile[] = [];
    let build: { args: string[]; cwd: string };
    if (settings.imageFormat === 'raw') {
      // disko's default format: the host's own output, exactly as disko documents it (F30).
      build = hostBuild(host, settings, 'diskoImagesScript', WORK_FILES.imagesScript);
    } else {
      const expression = path.join(work, WORK_FILES.imagesExpression);
      files.push({ path: expression, text: imagesOverrideExpression(host, settings.imageFormat) });
      build = {
        args: nixCall('build', settings, ['--impure', '--out-link', path.join(work, WORK_FILES.imagesScript), '--file', expression]),
        cwd: sourceRoots[0],
      };
    }
    return {
      mode,
      title: `Disko images of ${hostLabel(host)}`,
      steps: [{ stage: 'Building the image script', command: input.nix, args: build.args, cwd: build.cwd, internalJson: true }, imagesStep(settings)],
      files,
      shownFiles: [],
      expectedImages: expectedImages(host, settings),
      creates: createdEntries(work, files, [WORK_FILES.imagesScript], expectedImages(host, settings)),
      unknownImages: false,
      sourceRoots,
      needsFlakes,
      confirm: { message: `Format disko images of ${host.name}?`, detail: imagesDetail(host.disks.length) },
    };
  }

  if (mode === 'vm') {
    const args = host.flake
      ? nixCall('run', settings, [`.#${hostAttrPath(host.flake.attribute, 'vmWithDisko')}`])
      : nixCall('run', settings, ['--file', '<nixpkgs/nixos>', '--argstr', 'configuration', host.root, 'config.system.build.vmWithDisko']);
    return {
      mode,
      title: `Interactive VM of ${hostLabel(host)}`,
      steps: [
        {
          stage: 'Building and starting the VM (cancel to stop it)',
          command: input.nix,
          args,
          cwd: sourceRoots[0],
          // vmWithDisko formats its qcow2 images in `mktemp -d` (F28): keep them in the work folder.
          env: { TMPDIR: path.join(work, WORK_FILES.vmTmp), QEMU_OPTS: `-m ${settings.memory}` },
          internalJson: true,
        },
      ],
      files: [],
      shownFiles: [],
      expectedImages: [],
      creates: createdEntries(work, [], [], [], [WORK_FILES.vmTmp]),
      unknownImages: false,
      sourceRoots,
      needsFlakes,
      confirm: {
        message: `Start the interactive VM of ${host.name}?`,
        detail: `This builds the host with disko's vmWithDisko (long the first time) and boots it in QEMU with ${settings.memory} MiB; its disk images live in ${path.join(work, WORK_FILES.vmTmp)} while it runs.`,
      },
    };
  }

  // prove
  const expression = path.join(work, WORK_FILES.proveExpression);
  const proveFiles: GeneratedFile[] = [{ path: expression, text: proveExpression(host, input.nonce) }];
  return {
    mode,
    title: `Proving the ephemeral root of ${hostLabel(host)}`,
    steps: [
      {
        stage: 'Running the VM test: format, install, boot, write the probes, reboot, check',
        command: input.nix,
        args: nixCall('build', settings, ['--impure', '--out-link', path.join(work, WORK_FILES.proveResult), '--file', expression]),
        cwd: sourceRoots[0],
        internalJson: true,
      },
    ],
    files: proveFiles,
    shownFiles: [],
    expectedImages: [],
    creates: createdEntries(work, proveFiles, [WORK_FILES.proveResult], []),
    unknownImages: false,
    sourceRoots,
    needsFlakes,
    confirm: {
      message: `Prove the ephemeral root of ${host.name} in a VM test?`,
      detail: `This builds the host and a NixOS VM test (long the first time): disko formats the disks, the host is installed and booted, a probe file is written to ${host.ephemeral.join(', ')} and to ${host.persisted.length} persisted path(s), and after a reboot the first must be gone and the others kept. The test is ${expression}.`,
    },
  };
}
