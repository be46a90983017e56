// Builds native/*.c (sendfile for fetch responses, CRC-32C by the CPU) into build/kbroker_native.node with the C
// compiler and the headers of the Node.js running this script. Optional: without a compiler or the
// headers it says so and exits 0, and the broker serves fetches by reading into buffers instead.
// No node-gyp: it would download headers from nodejs.org; the installed Node carries its own.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
// One module: sendfile (zero-copy.c) and the CPU's CRC-32C (crc32c.c); the header they share.
const sources = ['zero-copy.c', 'crc32c.c'].map((f) => path.join(root, 'native', f));
const inputs = [...sources, path.join(root, 'native', 'kbroker-native.h')];
const out = path.join(root, 'build', 'kbroker_native.node');
const include = path.join(path.dirname(process.execPath), '..', 'include', 'node');
const cc = process.env.CC || 'cc';

// The folder exists either way (the Dockerfile copies it; an empty one means "not built").
fs.mkdirSync(path.dirname(out), { recursive: true });

function skip(why) {
  console.log(`kbroker: native zero-copy send not built (${why}); fetches are served from buffers`);
  process.exit(0);
}

if (process.platform !== 'linux') skip(`sendfile to sockets is wired for Linux, not ${process.platform}`);
if (!fs.existsSync(path.join(include, 'node_api.h'))) skip(`no Node-API headers in ${include}`);
const newest = Math.max(...inputs.map((f) => fs.statSync(f).mtimeMs));
if (fs.existsSync(out) && fs.statSync(out).mtimeMs >= newest) process.exit(0);
const args = ['-O2', '-Wall', '-shared', '-fPIC', `-I${include}`, '-o', out, ...sources];
const r = spawnSync(cc, args, { stdio: ['ignore', 'inherit', 'inherit'] });
if (r.error) skip(`${cc}: ${r.error.message}`);
if (r.status !== 0) skip(`${cc} exited with ${r.status}`);
