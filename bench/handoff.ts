/**
 * What would handing a produced batch to a storage worker cost the event loop, against writing
 * it in place? Measures, on the calling thread, per batch of `--batch-bytes`:
 *   - write(2) of the batch at the end of a file (what `Log.append` does today, into page cache);
 *   - copy into a SharedArrayBuffer ring + Atomics.notify to a worker that writes it (the
 *     cheapest hand-over there is: the batch arrives inside a socket chunk it shares with other
 *     frames, so it must be copied out before another thread may own it);
 *   - postMessage of a copied ArrayBuffer, transferred (no second copy), to a worker that writes it.
 * The worker's own time is not the loop's, so only the calling thread's CPU time is compared.
 *
 *   tsx bench/handoff.ts [--batch-bytes 10240] [--batches 50000]
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { statCpuSeconds } from '../src/common/proc-stat.js';

const { values } = parseArgs({
  options: {
    'batch-bytes': { type: 'string', default: '10240' },
    batches: { type: 'string', default: '50000' },
  },
});
const batchBytes = Number(values['batch-bytes']);
const batches = Number(values.batches);
const dir = mkdtempSync(join(tmpdir(), 'kbroker-handoff-'));
// A socket chunk holding several frames; the batch is a view into it, as in a produce request.
const chunk = Buffer.alloc(65536, 7);
const batch = chunk.subarray(100, 100 + batchBytes);

/** This (main) thread's CPU µs, not the worker's: /proc/PID/task/PID/stat, 10 ms ticks. */
function cpuMicros(): number {
  return statCpuSeconds(`/proc/${process.pid}/task/${process.pid}/stat`) * 1e6;
}

// Worker: writes what it is handed, from the ring (mode 'ring') or from messages (mode 'msg').
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, writeSync, closeSync } = require('node:fs');
const fd = openSync(workerData.path, 'w');
if (workerData.mode === 'ring') {
  const ctl = new Int32Array(workerData.ctl);
  const ring = Buffer.from(workerData.ring);
  const slot = workerData.slot, slots = workerData.slots;
  let read = 0;
  for (;;) {
    while (Atomics.load(ctl, 0) === read) Atomics.wait(ctl, 0, read);
    const written = Atomics.load(ctl, 0);
    if (written < 0) break;
    for (; read < written; read++) {
      const at = (read % slots) * slot;
      writeSync(fd, ring, at, slot);
    }
    Atomics.store(ctl, 1, read);
    Atomics.notify(ctl, 1);
  }
  closeSync(fd);
  parentPort.postMessage('done');
} else {
  let n = 0;
  parentPort.on('message', (m) => {
    if (m === 'end') { closeSync(fd); parentPort.postMessage(n); return; }
    writeSync(fd, new Uint8Array(m));
    n++;
  });
}
`;

async function inPlace(): Promise<number> {
  const fd = openSync(join(dir, 'inplace.log'), 'w');
  const t0 = cpuMicros();
  for (let i = 0; i < batches; i++) writeSync(fd, batch);
  const t = cpuMicros() - t0;
  closeSync(fd);
  return t / batches;
}

async function ring(): Promise<number> {
  const slots = 256;
  const ctl = new SharedArrayBuffer(8);
  const ringBuf = new SharedArrayBuffer(slots * batchBytes);
  const w = new Worker(workerSource, {
    eval: true,
    workerData: { mode: 'ring', path: join(dir, 'ring.log'), ctl, ring: ringBuf, slot: batchBytes, slots },
  });
  const c = new Int32Array(ctl);
  const r = Buffer.from(ringBuf);
  const done = new Promise((res) => w.once('message', res));
  const t0 = cpuMicros();
  for (let i = 0; i < batches; i++) {
    // Wait for a free slot (the worker lags): the wait is not CPU time of this thread.
    while (i - Atomics.load(c, 1) >= slots) Atomics.wait(c, 1, Atomics.load(c, 1), 1);
    batch.copy(r, (i % slots) * batchBytes);
    Atomics.store(c, 0, i + 1);
    Atomics.notify(c, 0);
  }
  const t = cpuMicros() - t0;
  while (Atomics.load(c, 1) < batches) Atomics.wait(c, 1, Atomics.load(c, 1), 10);
  Atomics.store(c, 0, -1);
  Atomics.notify(c, 0);
  await done;
  await w.terminate();
  return t / batches;
}

async function messages(): Promise<number> {
  const w = new Worker(workerSource, { eval: true, workerData: { mode: 'msg', path: join(dir, 'msg.log') } });
  const done = new Promise<number>((res) => w.once('message', res));
  const t0 = cpuMicros();
  for (let i = 0; i < batches; i++) {
    const ab = new ArrayBuffer(batchBytes);
    new Uint8Array(ab).set(batch);
    w.postMessage(ab, [ab]);
    // Let the message port deliver in step, as a broker between requests would.
    if (i % 64 === 63) await new Promise((res) => setImmediate(res));
  }
  w.postMessage('end');
  const t = cpuMicros() - t0;
  const n = await done;
  if (n !== batches) throw new Error(`worker wrote ${n} of ${batches}`);
  await w.terminate();
  return t / batches;
}

try {
  const rows: [string, number[]][] = [
    ['write(2) in place', []],
    ['copy to SAB ring + notify', []],
    ['postMessage (copy, transfer)', []],
  ];
  for (let round = 0; round < 3; round++) {
    rows[0]![1].push(await inPlace());
    rows[1]![1].push(await ring());
    rows[2]![1].push(await messages());
  }
  console.log(`calling thread CPU µs per ${batchBytes}-byte batch (3 rounds, alternating):`);
  for (const [name, v] of rows) console.log(`${name.padEnd(32)} ${v.map((x) => x.toFixed(2)).join('  ')}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
