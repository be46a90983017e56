/**
 * A streams topology configured against the topics: task counts, derived repartition and
 * changelog partition counts, copartitioning, and what keeps the group from being ready.
 */
import { describe, expect, it } from 'vitest';
import type { StreamsTopology } from './streams-group.js';
import {
  configureTopology,
  StreamsStatus,
  type StreamsTopicsView,
  topologyError,
} from './streams-topology.js';

const view = (counts: Record<string, number>): StreamsTopicsView => ({
  topic: (n) => (counts[n] === undefined ? undefined : { topicId: n, numPartitions: counts[n]! }),
  topicNames: () => Object.keys(counts),
});
const info = (name: string, partitions = 0) => ({ name, partitions, replicationFactor: 0, topicConfigs: [] });
const sub = (id: string, over: Partial<StreamsTopology['subtopologies'][number]>) => ({
  subtopologyId: id,
  sourceTopics: [],
  sourceTopicRegex: [],
  stateChangelogTopics: [],
  repartitionSinkTopics: [],
  repartitionSourceTopics: [],
  copartitionGroups: [],
  ...over,
});

describe('configureTopology', () => {
  const join: StreamsTopology = {
    epoch: 0,
    subtopologies: [
      sub('0', { sourceTopics: ['clicks'], repartitionSinkTopics: ['r'] }),
      sub('1', {
        sourceTopics: ['users'],
        repartitionSourceTopics: [info('r')],
        stateChangelogTopics: [info('store-changelog')],
        copartitionGroups: [{ sourceTopics: [0], sourceTopicRegex: [], repartitionSourceTopics: [0] }],
      }),
    ],
  };

  it('derives the repartition topic from its copartitioned source, changelogs from the task count', () => {
    const c = configureTopology(join, view({ clicks: 8, users: 5 }));
    expect(c.problem?.status).toBe(StreamsStatus.MISSING_INTERNAL_TOPICS);
    expect(c.toCreate.map((t) => [t.name, t.numPartitions])).toEqual([
      ['r', 5],
      ['store-changelog', 5],
    ]);
    const ready = configureTopology(join, view({ clicks: 8, users: 5, r: 5, 'store-changelog': 5 }));
    expect(ready.problem).toBeNull();
    expect(ready.subtopologies!.map((s) => [s.subtopologyId, s.numTasks])).toEqual([
      ['0', 8],
      ['1', 5],
    ]);
  });

  it('an internal topic with the wrong partition count, a missing source, a regex matching nothing', () => {
    expect(
      configureTopology(join, view({ clicks: 8, users: 5, r: 4, 'store-changelog': 5 })).problem?.status,
    ).toBe(StreamsStatus.INCORRECTLY_PARTITIONED_TOPICS);
    expect(configureTopology(join, view({ users: 5 })).problem).toEqual({
      status: StreamsStatus.MISSING_SOURCE_TOPICS,
      detail: 'Source topics clicks are missing.',
    });
    const regex: StreamsTopology = { epoch: 0, subtopologies: [sub('0', { sourceTopicRegex: ['in-.*'] })] };
    expect(configureTopology(regex, view({ other: 1 })).problem?.status).toBe(
      StreamsStatus.MISSING_SOURCE_TOPICS,
    );
    expect(configureTopology(regex, view({ 'in-a': 2, 'in-b': 3 })).subtopologies![0]!.numTasks).toBe(3);
  });

  it('copartitioned external sources with different counts are INCORRECTLY_PARTITIONED_TOPICS', () => {
    const t: StreamsTopology = {
      epoch: 0,
      subtopologies: [
        sub('0', {
          sourceTopics: ['a', 'b'],
          copartitionGroups: [{ sourceTopics: [0, 1], sourceTopicRegex: [], repartitionSourceTopics: [] }],
        }),
      ],
    };
    expect(configureTopology(t, view({ a: 2, b: 3 })).problem?.status).toBe(
      StreamsStatus.INCORRECTLY_PARTITIONED_TOPICS,
    );
    expect(configureTopology(t, view({ a: 3, b: 3 })).problem).toBeNull();
  });

  it('topologyError: duplicate subtopologies, copartition indexes out of range, unknown repartition sink', () => {
    expect(topologyError(join)).toBeNull();
    expect(topologyError({ epoch: 0, subtopologies: [sub('0', {}), sub('0', {})] })).toMatch(/Duplicate/);
    expect(
      topologyError({
        epoch: 0,
        subtopologies: [
          sub('0', {
            copartitionGroups: [{ sourceTopics: [3], sourceTopicRegex: [], repartitionSourceTopics: [] }],
          }),
        ],
      }),
    ).toMatch(/Copartition/);
    expect(topologyError({ epoch: 0, subtopologies: [sub('0', { repartitionSinkTopics: ['x'] })] })).toMatch(
      /sink/,
    );
  });
});
