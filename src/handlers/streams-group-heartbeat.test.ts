/**
 * StreamsGroupHeartbeat and StreamsGroupDescribe over TCP with our codec: a member joins with a
 * topology, the handler creates the missing internal topics (with the topology's configs), the
 * next heartbeat gets every task; StreamsGroupDescribe and ListGroups show the group; a broker
 * restart keeps it (records in __consumer_offsets); ApiVersions advertises APIs 88/89 and
 * streams.version only while group.coordinator.rebalance.protocols names streams.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../protocol/generated/errors.js';
import { startTestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';

// biome-ignore lint/suspicious/noExplicitAny: decoded bodies of many message types, checked field by field
type Body = Record<string, any>;

const topology = {
  epoch: 0,
  subtopologies: [
    {
      subtopologyId: '0',
      sourceTopics: ['sg-input'],
      sourceTopicRegex: [],
      stateChangelogTopics: [
        {
          name: 'sg-app-store-changelog',
          partitions: 0,
          replicationFactor: 0,
          topicConfigs: [{ key: 'cleanup.policy', value: 'compact' }],
        },
      ],
      repartitionSinkTopics: [],
      repartitionSourceTopics: [],
      copartitionGroups: [],
    },
  ],
};

const join0 = {
  groupId: 'sg-app',
  memberId: 'member-a',
  memberEpoch: 0,
  endpointInformationEpoch: 0,
  instanceId: null,
  rackId: null,
  rebalanceTimeoutMs: 30_000,
  topology,
  activeTasks: [],
  standbyTasks: [],
  warmupTasks: [],
  processId: 'process-a',
  userEndpoint: { host: 'localhost', port: 7070 },
  clientTags: [],
  taskOffsets: null,
  taskEndOffsets: null,
  shutdownApplication: false,
};
const next = (memberEpoch: number) => ({
  ...join0,
  memberEpoch,
  rebalanceTimeoutMs: -1,
  topology: null,
  activeTasks: null,
  standbyTasks: null,
  warmupTasks: null,
  processId: null,
  userEndpoint: null,
  clientTags: null,
});

describe('StreamsGroupHeartbeat / StreamsGroupDescribe over TCP', () => {
  it('creates the internal topics, assigns every task, describes and lists the group, and keeps it across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kbroker-streams-'));
    // No initial rebalance delay nor assignment interval: the second heartbeat gets the tasks.
    const overrides = {
      'group.streams.initial.rebalance.delay.ms': '0',
      'group.streams.assignment.interval.ms': '0',
    };
    let tb = await startTestBroker(overrides, dir);
    let c = await TestClient.connect(tb.port);
    try {
      await tb.broker.controller.createTopic('sg-input', 2);
      const first = await c.request<Body>(88, 0, join0);
      expect(first).toMatchObject({
        errorCode: 0,
        memberId: 'member-a',
        memberEpoch: 1,
        heartbeatIntervalMs: 5000,
      });
      expect(first.status).toEqual([
        { statusCode: 3, statusDetail: 'Internal topics are missing: [sg-app-store-changelog]' },
      ]);
      // The handler created the changelog topic: one partition per task, compacted.
      const changelog = tb.broker.metadata.topic('sg-app-store-changelog');
      expect(changelog?.partitions.length).toBe(2);
      expect(changelog?.configs['cleanup.policy']).toBe('compact');
      const second = await c.request<Body>(88, 0, next(1));
      expect(second).toMatchObject({ errorCode: 0, memberEpoch: 2, status: [] });
      expect(second.activeTasks).toEqual([{ subtopologyId: '0', partitions: [0, 1] }]);
      expect(second.partitionsByUserEndpoint).toEqual([
        {
          userEndpoint: { host: 'localhost', port: 7070 },
          activePartitions: [{ topic: 'sg-input', partitions: [0, 1] }],
          standbyPartitions: [],
        },
      ]);
      const d = await c.request<Body>(89, 0, {
        groupIds: ['sg-app', 'missing'],
        includeAuthorizedOperations: false,
      });
      expect(d.groups[0]).toMatchObject({
        errorCode: 0,
        groupState: 'Stable',
        groupEpoch: 2,
        assignmentEpoch: 2,
      });
      expect(d.groups[0].topology.subtopologies[0].stateChangelogTopics[0]).toMatchObject({
        name: 'sg-app-store-changelog',
        partitions: 2,
      });
      expect(d.groups[0].members[0]).toMatchObject({
        memberId: 'member-a',
        processId: 'process-a',
        assignment: { activeTasks: [{ subtopologyId: '0', partitions: [0, 1] }] },
      });
      expect(d.groups[1].errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
      const listed = await c.request<Body>(16, 5, { statesFilter: [], typesFilter: ['streams'] });
      expect(listed.groups).toEqual([
        expect.objectContaining({
          groupId: 'sg-app',
          groupState: 'Stable',
          groupType: 'streams',
          protocolType: 'streams',
        }),
      ]);
      c.close();
      await tb.close();
      tb = await startTestBroker(overrides, dir);
      c = await TestClient.connect(tb.port);
      const after = await c.request<Body>(89, 0, {
        groupIds: ['sg-app'],
        includeAuthorizedOperations: false,
      });
      expect(after.groups[0]).toMatchObject({ errorCode: 0, groupEpoch: 2, assignmentEpoch: 2 });
      expect(after.groups[0].members[0].assignment.activeTasks).toEqual([
        { subtopologyId: '0', partitions: [0, 1] },
      ]);
      // The member carries on at its epoch after the restart.
      expect(await c.request<Body>(88, 0, next(2))).toMatchObject({ errorCode: 0, memberEpoch: 2 });
    } finally {
      c.close();
      await tb.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ApiVersions: APIs 88/89 and streams.version only while group.coordinator.rebalance.protocols names streams', async () => {
    for (const [protocols, on] of [
      ['classic,consumer,streams', true],
      ['classic,consumer', false],
    ] as const) {
      const tb = await startTestBroker({ 'group.coordinator.rebalance.protocols': protocols });
      const c = await TestClient.connect(tb.port);
      try {
        const v = await c.request<Body>(18, 4, { clientSoftwareName: 't', clientSoftwareVersion: '1' });
        const keys = v.apiKeys.map((k: Body) => k.apiKey);
        expect(keys.includes(88)).toBe(on);
        expect(keys.includes(89)).toBe(on);
        expect(
          v.finalizedFeatures.some((f: Body) => f.name === 'streams.version' && f.maxVersionLevel === 1),
        ).toBe(on);
        if (!on) {
          expect((await c.request<Body>(88, 0, join0)).errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
        }
      } finally {
        c.close();
        await tb.close();
      }
    }
  });
});
