#!/usr/bin/env node
'use strict';
// The `ephemeral-root` command: the bundled CLI (npm run build creates it).
const bundle = require('node:path').join(__dirname, '..', 'dist', 'cli.js');
if (!require('node:fs').existsSync(bundle)) {
  process.stderr.write('ephemeral-root: the CLI is not built; run: npm run build\n');
  process.exit(2);
}
// The heap may grow by half of what a full collection left alive before the next one, not by V8's usual factor of
// up to four: a run over many hosts drops each batch's models after its report, and with the usual factor the
// garbage of several batches piled up first (peak RSS over 1,000 hosts 280–360 MB; with this 200–215 MB, in the same
// time). V8 flags are per process, so the worker threads follow it too. Set here, not on the first line, so that it
// holds however the command is started (`node bin/ephemeral-root.js …` ignores the first line).
require('node:v8').setFlagsFromString('--heap-growing-percent=50');
// Through V8's code cache (code-cache.js): a run in CI or a pre-commit hook is mostly start-up.
const cli = require('./code-cache').loadWithCodeCache(bundle);
cli.main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`ephemeral-root: ${error && error.message ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
