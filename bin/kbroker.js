#!/usr/bin/env node
// Entry point of the `kbroker` command: runs the compiled CLI (built by `npm ci` via `prepare`),
// bundled into a few files by `npm run bundle`: loading ~180 separate modules cost the broker about
// a third of its start-up time (resolving and reading each file) and some idle memory. The bundle
// is ASCII with comments and indentation stripped (--charset=ascii --minify-whitespace): V8 keeps
// each module's source text on the heap, as two bytes a character if one comment holds an arrow
// or a dash, which cost 2.2 MB; names stay, and `node --enable-source-maps` maps stacks to src/.
import { main } from '../dist/bundle/cli.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`kbroker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
