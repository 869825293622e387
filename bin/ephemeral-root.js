#!/usr/bin/env node
'use strict';
// The `ephemeral-root` command: the bundled CLI (npm run build creates it).
const bundle = require('node:path').join(__dirname, '..', 'dist', 'cli.js');
if (!require('node:fs').existsSync(bundle)) {
  process.stderr.write('ephemeral-root: the CLI is not built; run: npm run build\n');
  process.exit(2);
}
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
