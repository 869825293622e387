#!/usr/bin/env node
'use strict';
// The `ephemeral-root` command: the bundled CLI (npm run build creates it).
let cli;
try {
  cli = require('../dist/cli.js');
} catch (error) {
  process.stderr.write(`ephemeral-root: the CLI is not built (${error.code || error.message}); run: npm run build\n`);
  process.exit(2);
}
cli.main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`ephemeral-root: ${error && error.message ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
