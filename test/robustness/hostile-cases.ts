/**
 * Hostile inputs, as an attacker would write them into a repository that a stranger's CI or editor checks: reads of
 * files outside the repository, links into /proc and /dev, exponential lists and strings, unbounded recursion,
 * super-linear parses, expensive regular expressions, one pathological host beside an honest one. Each case is a
 * folder of files made by the test (nothing is copied from anywhere); the planted secrets live outside that folder.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Secrets an attacker would like to see quoted: a file outside the folder, and a variable in the environment. */
export interface Planted {
  /** A folder outside every analysed folder, holding `secret.txt`, `secret.nix` and a file named after the token. */
  folder: string;
  file: string;
  nixFile: string;
  /** The token written into the secret files (and into a file name inside `folder`). */
  fileToken: string;
  /** The name of an environment variable the analysis runs with, and its value. */
  envName: string;
  envToken: string;
}

export type HostileFile = string | { symlink: string } | { fifo: true };

export interface HostileCase {
  name: string;
  /** Files of the case folder, by relative path. */
  files: Record<string, HostileFile>;
  /** What the case must still report: a code at a file (the honest host beside a pathological one). */
  mustReport?: { code: string; file: string }[];
  /** For the language server: the file to open. */
  open: string;
}

const ZFS_ROOT = 'fileSystems."/" = { device = "rpool/local/root"; fsType = "zfs"; };\n  boot.supportedFilesystems = [ "zfs" ];';

/** A NixOS module around some settings. */
function module(body: string): string {
  return `{ config, lib, ... }:\n{\n  ${body}\n}\n`;
}

export function plantSecrets(folder: string): Planted {
  const fileToken = `FILE-SECRET-${Math.random().toString(36).slice(2)}`;
  const envToken = `ENV-SECRET-${Math.random().toString(36).slice(2)}`;
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, 'secret.txt');
  writeFileSync(file, `${fileToken}\n`);
  const nixFile = path.join(folder, 'secret.nix');
  // A Nix file with a syntax error next to the token: a reader that parses it would quote the token in the error.
  writeFileSync(nixFile, `{ networking.hostId = "${fileToken}"; fileSystems."/${fileToken}" = ; }\n`);
  writeFileSync(path.join(folder, fileToken), 'x');
  return { folder, file, nixFile, fileToken, envName: 'EPHEMERAL_ROOT_TEST_TOKEN', envToken };
}

export function hostileCases(planted: Planted): HostileCase[] {
  const cases: HostileCase[] = [
    // Leaks: what lies outside the folder is never read, listed, or told to exist.
    { name: 'readFile of a file outside as hostId', open: 'configuration.nix', files: { 'configuration.nix': module(`networking.hostId = builtins.readFile ${planted.file};\n  ${ZFS_ROOT}`) } },
    { name: 'readFile of /proc/self/environ', open: 'configuration.nix', files: { 'configuration.nix': module(`networking.hostId = builtins.readFile /proc/self/environ;\n  ${ZFS_ROOT}`) } },
    {
      name: 'a fileSystems key read from a file outside',
      open: 'configuration.nix',
      files: { 'configuration.nix': module(`fileSystems.\${builtins.readFile ${planted.file}} = { device = "rpool/x"; fsType = "zfs"; };\n  networking.hostId = "8425e349";\n  ${ZFS_ROOT}`) },
    },
    { name: 'imports of a Nix file outside, with a syntax error', open: 'configuration.nix', files: { 'configuration.nix': module(`imports = [ ${planted.nixFile} /etc/shadow ];\n  ${ZFS_ROOT}`) } },
    {
      name: 'readDir of a folder outside, its names as mount points',
      open: 'configuration.nix',
      files: { 'configuration.nix': module(`fileSystems = builtins.mapAttrs (name: type: { device = name; fsType = "zfs"; }) (builtins.readDir ${planted.folder});\n  networking.hostId = "8425e349";`) },
    },
    {
      name: 'pathExists of a file outside decides a device',
      open: 'configuration.nix',
      files: { 'configuration.nix': module(`fileSystems."/" = { device = if builtins.pathExists ${planted.file} then "${'rpool/exists'}" else "missing"; fsType = "zfs"; };\n  networking.hostId = "8425e349";`) },
    },
    {
      name: 'a link inside the folder to a secret outside, imported and read',
      open: 'configuration.nix',
      files: {
        'configuration.nix': module(`imports = [ ./hardware.nix ];\n  networking.hostId = builtins.readFile ./token.txt;\n  ${ZFS_ROOT}`),
        'hardware.nix': { symlink: planted.nixFile },
        'token.txt': { symlink: planted.file },
      },
    },
    // Hangs: special files never read.
    {
      name: 'imports of links into /proc and /dev, and a FIFO',
      open: 'configuration.nix',
      files: {
        'configuration.nix': module(`imports = [ ./hw.nix ./zero.nix ./pipe.nix ./kmsg.nix ];\n  networking.hostId = builtins.readFile ./random.txt;\n  ${ZFS_ROOT}`),
        'hw.nix': { symlink: '/proc/self/pagemap' },
        'zero.nix': { symlink: '/dev/zero' },
        'kmsg.nix': { symlink: '/proc/kmsg' },
        'random.txt': { symlink: '/dev/urandom' },
        'pipe.nix': { fifo: true },
      },
    },
    // Crashes: exponential values and unbounded recursion stay inside the host's budget.
    {
      name: 'list doubling inside fileSystems',
      open: 'configuration.nix',
      files: { 'configuration.nix': module('fileSystems = let d = n: if n == 0 then [ 1 ] else let l = d (n - 1); in l ++ l; in builtins.listToAttrs (map (x: { name = "/x"; value = { device = "a"; fsType = "zfs"; }; }) (d 30));') },
    },
    { name: 'string doubling with + in a device', open: 'configuration.nix', files: { 'configuration.nix': module('fileSystems."/" = { device = let d = n: if n == 0 then "ab" else let s = d (n - 1); in s + s; in d 40; fsType = "zfs"; };') } },
    {
      name: 'string doubling by interpolation',
      open: 'configuration.nix',
      files: { 'configuration.nix': module('fileSystems."/" = { device = let d = n: if n == 0 then "ab" else let s = d (n - 1); in "${s}${s}"; in d 40; fsType = "zfs"; };') },
    },
    {
      name: 'concatLists of genList 10000 by 10000',
      open: 'configuration.nix',
      files: { 'configuration.nix': module('fileSystems."/".options = builtins.concatLists (builtins.genList (i: builtins.genList (j: j) 10000) 10000);\n  networking.hostId = builtins.toString (builtins.length config.fileSystems."/".options);') },
    },
    {
      name: 'a module that imports itself and reads its own value',
      open: 'configuration.nix',
      files: { 'configuration.nix': 'let self = import ./configuration.nix; in { imports = [ ./configuration.nix ]; networking.hostId = self.networking.hostId; fileSystems."/" = { device = (import ./configuration.nix).fileSystems."/".device; fsType = "zfs"; }; }\n' },
    },
    { name: 'self-application as a device', open: 'configuration.nix', files: { 'configuration.nix': module('fileSystems."/" = { device = (x: x x) (x: x x); fsType = "zfs"; };') } },
    { name: 'recursion 100,000 deep', open: 'configuration.nix', files: { 'configuration.nix': module('fileSystems."/".device = let f = n: if n == 0 then "rpool/root" else f (n - 1); in f 100000;') } },
    { name: 'an infinitely nested attribute set as fileSystems', open: 'configuration.nix', files: { 'configuration.nix': module('fileSystems = let d = n: { "/a" = d (n + 1); device = "x"; }; in d 0;') } },
    { name: '50,000 nested parentheses', open: 'configuration.nix', files: { 'configuration.nix': module(`fileSystems."/".device = ${'('.repeat(50_000)}"rpool/root"${')'.repeat(50_000)};`) } },
    { name: '20,000 nested lists', open: 'configuration.nix', files: { 'configuration.nix': module(`fileSystems."/".options = ${'[ '.repeat(20_000)}"x"${' ]'.repeat(20_000)};`) } },
    { name: '20,000 nested lets', open: 'configuration.nix', files: { 'configuration.nix': module(`fileSystems."/".device = ${'let a = 1; in '.repeat(20_000)}"rpool/root";`) } },
    {
      name: 'a regular expression with exponential backtracking',
      open: 'configuration.nix',
      files: { 'configuration.nix': module(`networking.hostId = if builtins.match "(a*)*b" "${'a'.repeat(40)}" == null then "8425e349" else "x";\n  ${ZFS_ROOT}`) },
    },
    // Parsing: linear in the input, however broken.
    { name: "an unclosed '[ {' repeated 200,000 times", open: 'configuration.nix', files: { 'configuration.nix': '[ {'.repeat(200_000) } },
    { name: 'a select chain 50,000 long', open: 'configuration.nix', files: { 'configuration.nix': module(`fileSystems."/".device = x${'.a'.repeat(50_000)};`) } },
    // Budgets are per host: a pathological host does not silence an honest one.
    {
      name: 'a pathological host beside an honest host with an error',
      open: 'z/configuration.nix',
      files: {
        'a/configuration.nix': module('fileSystems."/".options = builtins.genList (i: builtins.foldl\' (x: y: x + y) 0 (builtins.genList (j: j) 10000)) 10000;\n  networking.hostId = builtins.toString (builtins.foldl\' (x: y: x + y) 0 config.fileSystems."/".options);'),
        'z/configuration.nix': module(`${ZFS_ROOT}\n  networking.hostId = "not-hex";`),
      },
      mustReport: [{ code: 'hostid-missing', file: 'z/configuration.nix' }],
    },
  ];
  return cases;
}

/** Writes a case into a folder. */
export function writeCase(folder: string, hostile: HostileCase): void {
  for (const [name, content] of Object.entries(hostile.files)) {
    const target = path.join(folder, name);
    mkdirSync(path.dirname(target), { recursive: true });
    if (typeof content === 'string') writeFileSync(target, content);
    else if ('symlink' in content) symlinkSync(content.symlink, target);
    else execFileSync('mkfifo', [target]);
  }
}
