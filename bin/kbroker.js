#!/usr/bin/env -S node --initial-old-space-size=64
// Entry point of the `kbroker` command: runs the compiled CLI (built by `npm ci` via `prepare`),
// bundled into a few files by `npm run bundle`: loading ~180 separate modules cost the broker about
// a third of its start-up time (resolving and reading each file) and some idle memory. The bundle
// is ASCII with comments and indentation stripped (--charset=ascii --minify-whitespace): V8 keeps
// each module's source text on the heap, as two bytes a character if one comment holds an arrow
// or a dash, which cost 2.2 MB; names stay, and `node --enable-source-maps` maps stacks to src/.
// pino and its dependencies are bundled too (every other dependency stays external: the list is in
// package.json's `bundle` script, a new dependency must be added there or it is bundled): loaded
// from node_modules as ~20 CommonJS files they cost 30-40 ms of start-up and about 6 MB of idle
// RSS. The banner gives the bundled CommonJS code the `require` it calls for Node's built-ins.
import { main } from '../dist/bundle/cli.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`kbroker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
