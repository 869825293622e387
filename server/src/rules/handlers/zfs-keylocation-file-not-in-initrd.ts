/**
 * # zfs-keylocation-file-not-in-initrd
 *
 * **What.** A disko dataset (or a pool's `rootFsOptions`) of a root pool has `keylocation = "file://P"`, stage 1 is
 * asked for its key (`boot.zfs.requestEncryptionCredentials`, true by default), and nothing puts `P` into the initrd:
 * no `boot.initrd.secrets."P"`, no `boot.initrd.systemd.contents."P"`, no initrd hook or unit that writes it, and no
 * disko hook that switches the key location (`zfs set keylocation=…`) after creation.
 *
 * **Why.** The import of a root pool runs in stage 1 and calls `zfs load-key` for every dataset whose key is
 * unavailable and whose location is not `prompt` (F55). The file disko read at installation (`/tmp/secret.key` in
 * disko's example) is not part of the initrd (F55, F56). A root pool is one with a needed-for-boot zfs mount (F6).
 *
 * **At boot.** "Key load error: Failed to open key material file" and the initrd's emergency shell (nixpkgs#434524,
 * nixpkgs#527478, nixos-anywhere#161).
 *
 * **Fix.** None automatic (a security choice). Either switch to a prompt after creation, or ship the key:
 *
 * ```nix
 * # before
 * options.keylocation = "file:///tmp/secret.key";
 * # after (disko: prompt at boot)
 * options.keylocation = "file:///tmp/secret.key";
 * postCreateHook = "zfs set keylocation=prompt rpool/crypt";
 * # or: boot.initrd.secrets."/tmp/secret.key" = "/persist/secret.key";
 * ```
 */
import type { Dataset } from '../../model/disko';
import { findInvocations, UNKNOWN_CHAR } from '../../model/shell';
import { scriptText } from '../../model/disko';
import { stringText, type StringValue } from '../../model/values';
import { finding, q, related } from '../support';
import type { Finding, Rule } from '../types';

/** Whether the root pool asks for the dataset's key in stage 1: true, false, or undefined when unknown. */
function requested(host: Parameters<Rule['check']>[0], dataset: Dataset): boolean | undefined {
  const node = host.config.at('boot', 'zfs', 'requestEncryptionCredentials');
  const value = node.scalar();
  if (value.state === 'absent') return true;
  if (value.state !== 'known') return undefined;
  if (value.value.kind === 'bool') return value.value.value;
  const list = node.list();
  if (list.open) return undefined;
  const names = list.items.map((item) => stringText(item.thunk.force()));
  if (names.some((name) => name === undefined)) return undefined;
  // A list names datasets or encryption roots: the dataset itself or one of its parents.
  return names.some((name) => dataset.fullName === name || dataset.fullName.startsWith(`${name}/`)) ? true : undefined;
}

/** Whether some text writes or names the key file, or switches key locations: true, or undefined when unreadable. */
function textsMention(texts: { value: StringValue }[], open: boolean, file: string): boolean | undefined {
  let unreadable = open;
  for (const { value } of texts) {
    const text = scriptText(value);
    if (text.includes(UNKNOWN_CHAR)) unreadable = true;
    if (text.includes(file)) return true;
  }
  return unreadable ? undefined : false;
}

export const rule: Rule = {
  code: 'zfs-keylocation-file-not-in-initrd',
  severity: 'error',
  summary: 'A root-pool dataset loads its key from a file:// location that the initrd does not contain.',
  facts: ['F55', 'F56', 'F6'],
  check(host) {
    const layout = host.layout;
    if (!host.isNixosHost || !layout) return [];
    const findings: Finding[] = [];
    const { entries, open } = host.fileSystems();
    if (open) return [];
    for (const dataset of layout.datasets) {
      const optionsNode = dataset.isPoolRoot ? dataset.node.child('rootFsOptions') : dataset.node.child('options');
      const location = optionsNode.child('keylocation').string();
      if (location.state !== 'known' || !location.value.startsWith('file://')) continue;
      const file = location.value.slice('file://'.length);
      // A root pool: one of its datasets is a zfs mount that stage 1 mounts (F6).
      const rootPool = entries.some((entry) => !entry.conditional && entry.fsType.state === 'known' && entry.fsType.value === 'zfs' && entry.device.state === 'known' && entry.device.value.split('/')[0] === dataset.pool.name && host.neededForBoot(entry) === true);
      if (!rootPool || requested(host, dataset) !== true) continue;
      // The initrd gets the file from boot.initrd.secrets or systemd contents.
      const secrets = host.config.at('boot', 'initrd', 'secrets');
      const contents = host.config.at('boot', 'initrd', 'systemd', 'contents');
      if (secrets.unknownNames().length > 0 || contents.unknownNames().length > 0) continue;
      if (secrets.childNames().includes(file) || contents.childNames().includes(file)) continue;
      // disko's documented switch to a prompt after creation (F55), in the dataset's or the pool's hooks.
      const hooks = [...dataset.hooks, ...dataset.pool.root.hooks];
      let switched: boolean | undefined = false;
      for (const hook of hooks) {
        if (hook.open) switched = undefined;
        for (const fragment of hook.fragments) {
          const text = scriptText(fragment.value as StringValue);
          if (text.includes(UNKNOWN_CHAR)) switched = undefined;
          if (findInvocations(text, 'zfs').some((invocation) => invocation.subcommand === 'set' && invocation.operands.some((operand) => operand.text.startsWith('keylocation=')))) switched = true;
        }
        if (switched) break;
      }
      if (switched !== false) continue;
      // A scripted hook or an initrd unit that writes the file (disko's own tests do so in preDeviceCommands).
      const hookTexts = host.scriptedHooks().flatMap((hook) => hook.fragments.map((definition) => ({ value: definition.value as StringValue })));
      const hooksOpen = host.scriptedHooks().some((hook) => hook.open);
      const { units, open: unitsOpen } = host.initrdUnits();
      const unitTexts = units.flatMap((unit) => unit.scripts.map((script) => ({ value: script.value })));
      if (textsMention([...hookTexts, ...unitTexts], hooksOpen || unitsOpen || units.some((unit) => unit.scriptsOpen), file) !== false) continue;
      const origin = location.definitions[0]?.origin;
      if (!origin) continue;
      findings.push(
        finding(this, origin, `${q(dataset.fullName)} loads its key from ${q(location.value)}, and its pool ${q(dataset.pool.name)} is imported in stage 1, which runs zfs load-key for it — but nothing puts ${q(file)} into the initrd: the import fails ("Failed to open key material file") and the boot stops in the initrd. Switch to a prompt after creation (postCreateHook = "zfs set keylocation=prompt ${dataset.fullName}";) or ship the key with boot.initrd.secrets.${JSON.stringify(file)} from persistent storage.`, {
          related: [related(dataset.origin, 'the encrypted dataset')],
        }),
      );
    }
    return findings;
  },
};
