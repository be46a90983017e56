// Preloaded into the kbroker process that `npm run bench:kafka` starts (NODE_OPTIONS=--require):
// server-side figures that do not depend on the load generator's CPU. On each SIGUSR2 it appends
// one JSON line to $KBROKER_BENCH_PROBE with what it saw since the previous signal, then starts
// over: event-loop delay (perf_hooks.monitorEventLoopDelay at 1 ms resolution: p50/p99/max),
// garbage-collection pauses (count, total, longest) and the time the loop spent blocked in
// fs.fsyncSync / fs.fdatasyncSync (count, total, longest: the disk's share of the loop's stalls,
// timed by wrapping those two functions; the broker's behaviour is otherwise unchanged).
//
// Under `kbroker start --threads N` the brokers are worker threads (NODE_OPTIONS preloads this into
// every thread): the main thread (the metadata host) passes the signal on over a BroadcastChannel and
// each broker thread — a worker whose workerData names a node.id (src/server/broker-thread.ts) —
// appends its own line with `nodeId`; the other workers (segment writer, cleaner) measure nothing.
const { monitorEventLoopDelay, PerformanceObserver, performance } = require('node:perf_hooks');
const { BroadcastChannel, isMainThread, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { appendFileSync } = fs;

const file = process.env.KBROKER_BENCH_PROBE;
const CHANNEL = 'kbroker-bench-probe';
const brokerThreadNodeId = isMainThread ? undefined : workerData?.raw?.['node.id'];
const threaded = process.argv.includes('--threads');
// The process's broker: the main thread without --threads, each broker thread with it.
const measures = file && (isMainThread ? !threaded : brokerThreadNodeId !== undefined);
if (file && isMainThread && threaded) {
  const channel = new BroadcastChannel(CHANNEL);
  channel.unref();
  process.on('SIGUSR2', () => channel.postMessage('report'));
}
if (measures) {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  let gc = { count: 0, totalMs: 0, maxMs: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++;
      gc.totalMs += e.duration;
      gc.maxMs = Math.max(gc.maxMs, e.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  let sync = { count: 0, totalMs: 0, maxMs: 0 };
  for (const name of ['fsyncSync', 'fdatasyncSync']) {
    const original = fs[name];
    fs[name] = function timedSync(...args) {
      const t0 = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        const ms = performance.now() - t0;
        sync.count++;
        sync.totalMs += ms;
        sync.maxMs = Math.max(sync.maxMs, ms);
      }
    };
  }
  const report = () => {
    // The histogram counts (resolution + delay) per sample; the resolution is taken off.
    const ms = (ns) => Math.max(0, ns / 1e6 - 1);
    const line = {
      ...(brokerThreadNodeId !== undefined ? { nodeId: Number(brokerThreadNodeId) } : {}),
      loopP50Ms: ms(loop.percentile(50)),
      loopP99Ms: ms(loop.percentile(99)),
      loopP999Ms: ms(loop.percentile(99.9)),
      loopMaxMs: ms(loop.max),
      gcCount: gc.count,
      gcTotalMs: gc.totalMs,
      gcMaxMs: gc.maxMs,
      fsyncOnLoopCount: sync.count,
      fsyncOnLoopTotalMs: sync.totalMs,
      fsyncOnLoopMaxMs: sync.maxMs,
    };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
    loop.reset();
    gc = { count: 0, totalMs: 0, maxMs: 0 };
    sync = { count: 0, totalMs: 0, maxMs: 0 };
  };
  if (isMainThread) process.on('SIGUSR2', report);
  else {
    const channel = new BroadcastChannel(CHANNEL);
    channel.unref();
    channel.onmessage = report;
  }
}
