/**
 * Consumer-group benchmark: (1) group join — JoinGroup v5 (MEMBER_ID_REQUIRED), JoinGroup with
 * the id, SyncGroup from the leader, until the group is Stable, with
 * group.initial.rebalance.delay.ms=0 (the dev setting); (2) OffsetCommit v8 throughput, one
 * request at a time, 1 and 50 partitions per request. Each is printed beside a baseline measured
 * in the same run on the same connection: a bare ApiVersions v3 round trip.
 *
 *   npx tsx bench/groups.ts [--groups 2000] [--commits 10000]
 */
import { startTestBroker } from '../src/test-support/broker.js';
import { TestClient } from '../src/test-support/client.js';

// biome-ignore lint/suspicious/noExplicitAny: decoded bodies of many message types, checked field by field
type Body = Record<string, any>;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

async function timeIt(n: number, op: (i: number) => Promise<void>): Promise<number> {
  for (let i = 0; i < Math.min(200, n); i++) await op(-1 - i); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await op(i);
  return Number(process.hrtime.bigint() - t0) / 1e6 / n; // ms per op
}

async function main(): Promise<void> {
  const groups = arg('groups', 2000);
  const commits = arg('commits', 10_000);
  const tb = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' });
  await tb.broker.controller.createTopic('bench', 50);
  const c = await TestClient.connect(tb.port);
  c.socket.setNoDelay(true);

  const baseline = await timeIt(commits, async () => {
    await c.request(18, 3, { clientSoftwareName: 'bench', clientSoftwareVersion: '1' });
  });

  const join = await timeIt(groups, async (i) => {
    const groupId = `bench-${i}`;
    const base = {
      groupId,
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 30_000,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.from([0, 0]) }],
    };
    const first = await c.request<Body>(11, 5, { ...base, memberId: '' });
    const joined = await c.request<Body>(11, 5, { ...base, memberId: first.memberId });
    if (joined.errorCode !== 0) throw new Error(`join failed: ${joined.errorCode}`);
    const s = await c.request<Body>(14, 3, {
      groupId,
      generationId: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: null,
      assignments: [{ memberId: joined.memberId, assignment: Buffer.from([0, 0]) }],
    });
    if (s.errorCode !== 0 || tb.broker.groupCoordinator.group(groupId)?.state !== 'Stable') {
      throw new Error(`group ${groupId} not Stable`);
    }
  });

  const commit = (partitions: number) => async (i: number) => {
    const r = await c.request<Body>(8, 8, {
      groupId: 'bench-committer',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [
        {
          name: 'bench',
          partitions: Array.from({ length: partitions }, (_, p) => ({
            partitionIndex: p,
            committedOffset: Math.max(i, 0),
            committedLeaderEpoch: -1,
            committedMetadata: null,
          })),
        },
      ],
    });
    if (r.topics[0].partitions[0].errorCode !== 0) throw new Error('commit failed');
  };
  const commit1 = await timeIt(commits, commit(1));
  const commit50 = await timeIt(Math.ceil(commits / 5), commit(50));

  const row = (name: string, ms: number, unit: string, perOp = 1) =>
    `${name.padEnd(38)} ${ms.toFixed(3).padStart(8)} ms/op ${((1000 / ms) * perOp).toFixed(0).padStart(9)} ${unit}/s   ${(ms / baseline).toFixed(2).padStart(6)}× baseline`;
  console.log(`kbroker consumer groups, Node ${process.version}, one connection, one request in flight`);
  console.log(row('baseline: ApiVersions v3 round trip', baseline, 'req'));
  console.log(row('group join → Stable (2 Join + 1 Sync)', join, 'groups'));
  console.log(row('OffsetCommit v8, 1 partition', commit1, 'offsets'));
  console.log(row('OffsetCommit v8, 50 partitions', commit50, 'offsets', 50));

  c.close();
  await tb.close();
}

await main();
