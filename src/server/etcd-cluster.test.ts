/**
 * Multi-process clusters: three `kbroker start --node-id N --etcd URL` child processes over one
 * real etcd started here; kill -9 of the leader's process and restart, under an idempotent
 * acks=all producer with min.insync.replicas=2 (src/test-support/multi-process-failover.ts; the
 * 20-loop run is `npm run failover -- --multi-process --loops 20`).
 */
import { describe, expect, it } from 'vitest';
import { parseStartArgs } from '../cli.js';
import { etcdBinary, etcdMissingMessage } from '../test-support/etcd.js';
import { runMultiProcessFailover } from '../test-support/multi-process-failover.js';

if (!etcdBinary) console.warn(etcdMissingMessage);

describe('kbroker start --node-id N --etcd URL', () => {
  it('takes the node id and the etcd endpoints as node.id and etcd.connect', () => {
    const args = parseStartArgs(
      ['--node-id', '7', '--etcd', 'http://10.0.0.1:2379,http://10.0.0.2:2379'],
      {},
    );
    expect(args.config.nodeId).toBe(7);
    expect(args.config.string('etcd.connect')).toBe('http://10.0.0.1:2379,http://10.0.0.2:2379');
    expect(() => parseStartArgs(['--node-id', 'x'], {})).toThrow(/--node-id/);
    expect(() => parseStartArgs(['--brokers', '3', '--etcd', 'h:1'], {})).toThrow(/--brokers/);
  });

  it.skipIf(!etcdBinary)(
    'three processes: kill -9 of the leader and restart, every acknowledged record exactly once, in order',
    async () => {
      const report = await runMultiProcessFailover({ loops: 3 });
      console.log(`multi-process failover: ${JSON.stringify(report)}`);
      expect(report.killed).toHaveLength(3);
      expect(report.acknowledged).toBeGreaterThan(0);
      expect(report.lost).toBe(0);
      expect(report.duplicated).toBe(0);
      expect(report.outOfOrder).toBe(0);
      expect(report.unknown).toBe(0);
    },
    240_000,
  );
});
