#!/usr/bin/env node
// Entry point of the `kbroker` command: runs the compiled CLI (built by `npm ci` via `prepare`).
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`kbroker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
