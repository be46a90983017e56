/**
 * The Node (V8) flags every launcher of a broker process passes: `npm start`, bin/kbroker.js's
 * shebang, the container entrypoint and the benchmarks (they must run the broker as users do).
 * src/node-flags.test.ts checks that each launcher carries them.
 *
 * `--initial-old-space-size=64`, a heap-sizing choice like Kafka's `-Xms1G`: V8 starts an old-space
 * collection (incremental marking, then a mark-compact) whenever the room left under the old
 * generation's limit is smaller than the young generation's capacity. The broker's live heap is
 * ~8 MB, so the limit V8 derives from it (~16-20 MB) left less room than a grown young generation
 * (16 MB semi-spaces), and under a sustained load a mark-compact ran every ~30-50 ms: 400 in 12 s of
 * bench:rss, 7-12 % of the event loop. With the limit starting at 64 MB there were none (scavenges
 * only); bench:rss moved 422-436 instead of 339-347 MB/s each way at 0.74 instead of 0.92 cores,
 * for +0.6 MiB of idle RSS. V8 reads the flag only at start-up (v8.setFlagsFromString is too late),
 * so a test process that embeds the broker (`startBroker()`) keeps its own setting.
 */
export const BROKER_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64'];
