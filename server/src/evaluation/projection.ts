/**
 * The one Nix expression the evaluation-backed mode runs per host: the host's `config` projected to the few option
 * paths the rules read, each path evaluated on its own under `builtins.tryEval`, so that one attribute that fails
 * (a `throw`, an `assert`, an option used but not defined) does not lose the others.
 *
 * It is written to a file of ours (the cache folder) and its text is handed to `nix eval --apply`: in pure
 * evaluation (the default for flakes) Nix refuses to `import` a file outside the flake, and we do not turn purity
 * off. The host name goes in as a Nix string literal, escaped here, never spliced in as code.
 *
 * What comes back is JSON: `{ "<path>": { "ok": true, "value": … } | { "ok": true, "absent": true } | { "ok": false } }`.
 * Values are made JSON-safe in Nix: a package becomes its store path (evaluated, never built), a function `null`,
 * and password hashes and clear-text passwords become `"<set>"`, so that no secret reaches the cache on disk.
 */
import { createHash } from 'node:crypto';

/** The option paths the rules read (RULES.md), in the order they are reported. */
export const PROJECTED_PATHS: readonly string[][] = [
  ['fileSystems'],
  ['boot', 'initrd', 'systemd', 'enable'],
  ['boot', 'initrd', 'systemd', 'services'],
  ['boot', 'initrd', 'preDeviceCommands'],
  ['boot', 'initrd', 'postDeviceCommands'],
  ['boot', 'initrd', 'postResumeCommands'],
  ['boot', 'initrd', 'postMountCommands'],
  ['boot', 'initrd', 'preLVMCommands'],
  ['boot', 'initrd', 'supportedFilesystems'],
  ['boot', 'supportedFilesystems'],
  ['boot', 'zfs', 'devNodes'],
  ['boot', 'zfs', 'forceImportRoot'],
  ['networking', 'hostId'],
  ['environment', 'persistence'],
  ['preservation', 'preserveAt'],
  ['sops', 'age'],
  ['sops', 'secrets'],
  ['age', 'identityPaths'],
  ['age', 'secrets'],
  ['services', 'openssh', 'enable'],
  ['services', 'openssh', 'hostKeys'],
  ['users', 'mutableUsers'],
  ['users', 'users'],
  ['disko', 'devices'],
  ['system', 'stateVersion'],
];

/** Fields of an initrd unit the rules read; the rest of NixOS's unit submodule is never evaluated. */
const UNIT_FIELDS = ['enable', 'description', 'after', 'before', 'wants', 'requires', 'wantedBy', 'requiredBy', 'conflicts', 'unitConfig', 'serviceConfig', 'script', 'preStart', 'path'];
/** Fields of a user the rules read; the secret ones are replaced by a marker. */
const USER_FIELDS = ['isNormalUser', 'isSystemUser', 'hashedPasswordFile', 'passwordFile'];
const SECRET_USER_FIELDS = ['hashedPassword', 'password', 'initialPassword', 'initialHashedPassword'];

/** A Nix string literal holding `text` exactly (no interpolation can happen inside it). */
export function nixString(text: string): string {
  return `"${text.replace(/[\\"$]/g, (char) => `\\${char}`).replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
}

function nixList(items: string[]): string {
  return `[ ${items.map(nixString).join(' ')} ]`;
}

/** The version of the expression: part of every cache key, so that a changed projection is never answered from an old one. */
export const PROJECTION_VERSION = 1;

/** The `--apply` function for `nixosConfigurations`: selects the host and returns the projection. */
export function projectionExpression(host: string, strictPath?: readonly string[]): string {
  const paths = PROJECTED_PATHS.map((entry) => nixList(entry)).join('\n      ');
  return `# Written by nixos-ephemeral-root (evaluation-backed mode, projection version ${PROJECTION_VERSION}).
configurations:
let
  host = ${nixString(host)};
  config = configurations.\${host}.config;
  unitFields = ${nixList(UNIT_FIELDS)};
  userFields = ${nixList(USER_FIELDS)};
  secretUserFields = ${nixList(SECRET_USER_FIELDS)};
  strict = ${strictPath ? nixList([...strictPath]) : 'null'};
  # JSON-safe, to a bounded depth: packages become store paths, functions null.
  clean = depth: value:
    if depth > 24 then null
    else if builtins.isFunction value then null
    else if builtins.isAttrs value then
      (if value ? outPath then builtins.toString value.outPath
       else builtins.mapAttrs (name: item: clean (depth + 1) item) (builtins.removeAttrs value [ "_module" ]))
    else if builtins.isList value then map (clean (depth + 1)) value
    else if builtins.isPath value then builtins.toString value
    else value;
  only = fields: set: builtins.intersectAttrs (builtins.listToAttrs (map (name: { inherit name; value = null; }) fields)) set;
  units = services: builtins.mapAttrs (name: unit: only unitFields unit) services;
  users = all: builtins.mapAttrs (name: user:
    only userFields user
    // builtins.listToAttrs (map (field: { name = field; value = if (user.\${field} or null) == null then null else "<set>"; })
         (builtins.filter (field: user ? \${field}) secretUserFields))) all;
  shape = path: value:
    if path == [ "boot" "initrd" "systemd" "services" ] then units value
    else if path == [ "users" "users" ] then users value
    else value;
  # One step down the path; a missing attribute is "absent" (the option does not exist), never an error.
  step = strictStep: found: name:
    if !found.ok || found.absent then found
    else
      let
        test = builtins.isAttrs found.value && found.value ? \${name};
        attempt = if strictStep then { success = true; value = test; } else builtins.tryEval test;
      in if !attempt.success then { ok = false; absent = false; }
      else if attempt.value then { ok = true; absent = false; value = found.value.\${name}; }
      else { ok = true; absent = true; };
  project = path:
    let
      found = builtins.foldl' (step (path == strict)) { ok = true; absent = false; value = config; } path;
      cleaned = clean 0 (shape path found.value);
      # Without tryEval for the one path whose error is wanted (the runner asks again when a path failed).
      attempt = if path == strict then { success = true; value = builtins.deepSeq cleaned cleaned; } else builtins.tryEval (builtins.deepSeq cleaned cleaned);
    in {
      name = builtins.concatStringsSep "." path;
      value =
        if !found.ok then { ok = false; }
        else if found.absent then { ok = true; absent = true; }
        else if attempt.success then { ok = true; value = attempt.value; }
        else { ok = false; };
    };
in
builtins.listToAttrs (map project [
      ${paths}
])
`;
}

/** The hash of the expression for a host (part of the cache key). */
export function projectionHash(host: string): string {
  return createHash('sha256').update(projectionExpression(host)).digest('hex');
}
