/**
 * `npm run failover -- --multi-process --loops 20`
 *
 * Failover loops with kill -9 under an idempotent acks=all producer, then a checker reading every
 * partition back. `--multi-process`: three kbroker processes over one etcd
 * (src/test-support/multi-process-failover.ts). Prints the counts as JSON; exits 1 when an acknowledged
 * record is lost, duplicated or out of order.
 */
import { parseArgs } from 'node:util';
import { runMultiProcessFailover } from '../src/test-support/multi-process-failover.js';

const { values } = parseArgs({
  options: {
    'multi-process': { type: 'boolean', default: false },
    loops: { type: 'string', default: '20' },
    partitions: { type: 'string', default: '3' },
  },
  strict: true,
});
const loops = Number(values.loops);
if (!Number.isInteger(loops) || loops < 1)
  throw new Error(`--loops must be a positive integer, got ${values.loops}`);
if (!values['multi-process']) {
  process.stderr.write('failover: only --multi-process is implemented in this script\n');
  process.exit(2);
}
const report = await runMultiProcessFailover({
  loops,
  partitions: Number(values.partitions),
  log: (line) => process.stdout.write(`${line}\n`),
});
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
const ok = report.lost === 0 && report.duplicated === 0 && report.outOfOrder === 0 && report.unknown === 0;
process.stdout.write(ok ? 'OK: every acknowledged record exactly once, in order\n' : 'FAILED\n');
process.exit(ok ? 0 : 1);
