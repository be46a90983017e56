/**
 * The baseline of the benchmarks: a bare Node TCP server that cuts the same size-prefixed
 * frames and answers each with a frame of `--reply-bytes` bytes (the size of the broker's
 * real response), echoing the correlation id. No broker work at all: what is left is the cost
 * of moving the same bytes through a loopback socket between two processes.
 *
 * `--write-file F`: also appends every byte it reads to F (one write(2) per read, as the broker
 * gathers a turn's appends into one writev): the page-cache copy that any broker keeping what it
 * was sent pays, and nothing else of a broker's work.
 */
import { openSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
};
const replyBytes = Number(arg('--reply-bytes') ?? 64);
const writeFile = arg('--write-file');
const fd = writeFile === undefined ? -1 : openSync(writeFile, 'a');
const template = Buffer.alloc(4 + replyBytes);
template.writeInt32BE(replyBytes, 0);

const server = createServer((socket) => {
  socket.setNoDelay(true);
  let chunks: Buffer[] = [];
  let buffered = 0;
  socket.on('data', (chunk: Buffer) => {
    if (fd !== -1) writeSync(fd, chunk);
    chunks.push(chunk);
    buffered += chunk.length;
    let buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    chunks = [buf];
    socket.cork();
    while (buffered >= 4 && buffered >= 4 + buf.readInt32BE(0)) {
      const size = buf.readInt32BE(0);
      const reply = Buffer.from(template);
      reply.writeInt32BE(buf.readInt32BE(4 + 4), 4); // correlation id
      socket.write(reply);
      buf = buf.subarray(4 + size);
      buffered -= 4 + size;
      chunks = buffered > 0 ? [buf] : [];
    }
    socket.uncork();
  });
  socket.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`listening on 127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
