#!/usr/bin/env -S node --max-semi-space-size=4 --max-old-space-size=512
'use strict';
// The flags on the first line keep V8's young generation small and give it a heap size to aim for: a language
// server stays up for days, and with them its RSS stays flat over thousands of edits instead of climbing.
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
require(server);
