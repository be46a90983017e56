/**
 * `npm run bench`: every benchmark, each printed beside a baseline measured in the same run.
 * Numbers from one noisy machine: compare ratios, not absolute values.
 *
 *   produce/fetch   bench/produce-fetch.ts  throughput and latency vs a bare loopback server
 *   start-up        bench/startup.ts        launch time, startBroker(), idle RSS vs bare Node
 *   groups          bench/groups.ts         group join and OffsetCommit vs an ApiVersions round trip
 *   replication     bench/replication.ts    acks=-1 on 3 replicas in one process vs acks=1 on 1 replica
 *
 * Run on its own (`npm run bench:checkpoints`): bench/checkpoints.ts, the longest event-loop stall with
 * 2,000 topics during a broker-level AlterConfigs, a retention pass and the checkpoint writes.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printRows, run as produceFetch } from './produce-fetch.js';

const here = dirname(fileURLToPath(import.meta.url));
const records = Number(process.env.BENCH_RECORDS ?? 1_000_000);
printRows(
  `produce/fetch: ${records} records of 100 B in batches of 100, raw frames (Produce v7, Fetch v11), 8 in flight; latency 1 in flight`,
  await produceFetch({ records }),
);

for (const file of ['startup.ts', 'groups.ts', 'replication.ts']) {
  console.log('');
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, file)], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = 1;
}
