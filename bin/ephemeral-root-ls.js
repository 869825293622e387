#!/usr/bin/env -S node --max-semi-space-size=8 --max-old-space-size=1536 --expose-gc --no-allocation-site-pretenuring
'use strict';
// The flags on the first line bound V8's young generation and give the heap a size to aim for: a language server
// stays up for days, and with them its RSS stays flat over thousands of edits instead of climbing. The young
// generation (8 MB semi-spaces) holds what one analysis of a large host allocates, and `--expose-gc` lets the server
// empty it between edits (server/src/lsp/idle-collection.ts). The old generation may grow to 1.5 GB
// (docs/security.md): a 20,000-line host holds some 400 MB while an edit is analysed, and at 512 MB the collector ran
// so often that an edit took twice as long. Allocation-site pretenuring is off: V8 saw that much of an analysis outlives
// a scavenge and began to allocate it straight in the old generation, where each dead analysis then waited for a
// mark-compact and, until it came, kept the next analyses' young objects alive through every scavenge
// (docs/performance.md, "Pretenuring kept dead analyses alive").
// The `ephemeral-root-ls` command: the bundled language server. Use `ephemeral-root-ls --stdio` from any editor.
const args = process.argv.slice(2);
if (!args.some((arg) => arg === '--stdio' || arg === '--node-ipc' || arg.startsWith('--socket') || arg.startsWith('--pipe') || arg === '--version' || arg === '--help')) {
  process.argv.push('--stdio');
}
const server = require('node:path').join(__dirname, '..', 'dist', 'server.js');
if (!require('node:fs').existsSync(server)) {
  process.stderr.write('ephemeral-root-ls: the server is not built; run: npm run build\n');
  process.exit(2);
}
require('./code-cache').loadWithCodeCache(server, { writeAfterMs: 10_000 });
