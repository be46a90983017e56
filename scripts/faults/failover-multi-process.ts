/**
 * `npm run failover -- --multi-process --loops 20 [--partitions 3]`
 *
 * Failover loops across processes: three kbroker processes over one etcd, kill -9 of a leader's
 * process and restart each loop, under an idempotent acks=all producer, then a checker reading
 * every partition back (src/test-support/multi-process-failover.ts). Prints the counts as JSON;
 * exits 1 when an acknowledged record is lost, duplicated or out of order. `main` is exported for
 * the failover script of the in-process loops to hand `--multi-process` to.
 */
import { parseArgs } from 'node:util';
import { runMultiProcessFailover } from '../../src/test-support/multi-process-failover.js';

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'multi-process': { type: 'boolean', default: false },
      loops: { type: 'string', default: '20' },
      partitions: { type: 'string', default: '3' },
    },
    strict: true,
  });
  const loops = Number(values.loops);
  if (!Number.isInteger(loops) || loops < 1) {
    throw new Error(`--loops must be a positive integer, got ${values.loops}`);
  }
  if (!values['multi-process']) {
    process.stderr.write('failover: this entry runs the --multi-process loops only\n');
    return 2;
  }
  const report = await runMultiProcessFailover({
    loops,
    partitions: Number(values.partitions),
    log: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  const ok = report.lost === 0 && report.duplicated === 0 && report.outOfOrder === 0 && report.unknown === 0;
  process.stdout.write(ok ? 'OK: every acknowledged record exactly once, in order\n' : 'FAILED\n');
  return ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
