/**
 * Generates docs/rules/<code>.md from each rule's header comment, and docs/rules/README.md as the index.
 * `npm run docs` writes them; the docs test fails when a committed page differs from what this produces.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RULES } from '../server/src/rules/registry';

const ROOT = path.resolve(__dirname, '..', '..');
const HANDLERS = path.join(ROOT, 'server', 'src', 'rules', 'handlers');
export const DOCS = path.join(ROOT, 'docs', 'rules');

const SEVERITY_WORD = { error: 'error', warning: 'warning', information: 'information', hint: 'hint' } as const;

/** The leading `/** … *\/` comment of a rule file as Markdown. */
export function headerOf(code: string): string {
  const source = readFileSync(path.join(HANDLERS, `${code}.ts`), 'utf8');
  const match = /^\/\*\*\n([\s\S]*?)\n \*\//.exec(source);
  if (!match) throw new Error(`${code}.ts has no header comment`);
  return match[1]
    .split('\n')
    .map((line) => line.replace(/^ \* ?/, '').replace(/^ \*$/, ''))
    .join('\n')
    .replace(/\*\\\//g, '*/');
}

export function renderedPages(): Map<string, string> {
  const pages = new Map<string, string>();
  for (const rule of RULES) {
    const facts = rule.facts.length ? rule.facts.join(', ') : '—';
    const footer = [
      '',
      '---',
      '',
      `Default severity: **${SEVERITY_WORD[rule.severity]}** (change it with the setting \`ephemeralRoot.rules.${rule.code}.severity\`, \`off\` included).`,
      `Facts: ${facts} in [FACTS](../facts.md). Suppress one place with \`# ephemeral-root: ignore ${rule.code}\` on the line above the binding.`,
      '',
    ].join('\n');
    pages.set(`${rule.code}.md`, `${headerOf(rule.code).trim()}\n${footer}`);
  }
  const index = [
    '# Rules',
    '',
    'Every diagnostic has one of these codes, `source` `ephemeral-root`, and a link to its page.',
    '',
    '| code | severity | what |',
    '|---|---|---|',
    ...RULES.map((rule) => `| [\`${rule.code}\`](${rule.code}.md) | ${rule.severity} | ${rule.summary.replace(/\|/g, '\\|')} |`),
    '',
  ].join('\n');
  pages.set('README.md', index);
  return pages;
}

if (require.main === module) {
  mkdirSync(DOCS, { recursive: true });
  for (const [name, text] of renderedPages()) writeFileSync(path.join(DOCS, name), text);
  console.log(`docs: wrote ${RULES.length} rule pages and the index to docs/rules/`);
}
