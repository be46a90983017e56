// The body of one cleaner thread (Kafka's CleanerThread): a worker thread that runs cleaning rounds
// (clean.ts) sent by LogCleaner, one at a time, with its own offset map of
// at most log.cleaner.dedupe.buffer.size / log.cleaner.threads bytes (no more than the dirty range can fill). Reading and rewriting
// segments happens here, off the event loop that serves requests; the swap stays with the log's owner.
import { parentPort } from 'node:worker_threads';
import {
  CleaningAbortedError,
  type CleanResult,
  type CleanTask,
  cleanLog,
  offsetMapBytesFor,
} from './clean.js';
import { SkimpyOffsetMap } from './offset-map.js';
import { Throttler } from './throttler.js';

export interface CleanRequest {
  id: number;
  task: CleanTask;
  dedupeBufferBytes: number;
  ioMaxBytesPerSecond: number;
  /** Int32 flag set to 1 by the owner to stop the round. */
  abort: SharedArrayBuffer;
}

export type CleanReply =
  | { id: number; result: CleanResult }
  | { id: number; error: string; aborted: boolean };

let map: SkimpyOffsetMap | null = null;
let mapBytes = 0;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

parentPort?.on('message', (req: CleanRequest) => {
  const port = parentPort!;
  try {
    const want = offsetMapBytesFor(req.task, req.dedupeBufferBytes);
    if (map === null || mapBytes < want || mapBytes > req.dedupeBufferBytes) {
      map = null; // let the old one go before the new one is allocated
      map = new SkimpyOffsetMap(want);
      mapBytes = want;
    }
    const flag = new Int32Array(req.abort);
    const throttler = new Throttler(req.ioMaxBytesPerSecond, Date.now, sleepSync);
    const result = cleanLog(req.task, map, {
      throttle: (bytes) => throttler.maybeThrottle(bytes),
      aborted: () => Atomics.load(flag, 0) !== 0,
    });
    port.postMessage({ id: req.id, result } satisfies CleanReply);
  } catch (e) {
    port.postMessage({
      id: req.id,
      error: e instanceof Error ? (e.stack ?? e.message) : String(e),
      aborted: e instanceof CleaningAbortedError,
    } satisfies CleanReply);
  }
});
