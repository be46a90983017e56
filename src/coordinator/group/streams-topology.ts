/**
 * A streams group's topology against the topics that exist (Kafka's InternalTopicManager
 * .configureTopics): the number of tasks of each subtopology, the partition counts of its internal
 * topics, and what stops the group from being assigned tasks.
 *
 * - Every source topic must exist and every source regular expression must match a topic (a full
 *   match of the name) — else MISSING_SOURCE_TOPICS.
 * - A repartition topic with no fixed partition count gets the largest task count of the
 *   subtopologies writing to it (resolved until nothing changes); copartitioned topics must agree
 *   — external source topics with different counts are INCORRECTLY_PARTITIONED_TOPICS, an
 *   unfixed repartition topic in the group takes the group's count.
 * - A subtopology has as many tasks as its largest source topic (repartition sources included);
 *   its changelog topics have one partition per task.
 * - An internal topic (repartition or changelog) that does not exist is to be created (the
 *   heartbeat handler creates it with the partitions, replication factor and configs the topology
 *   gives; MISSING_INTERNAL_TOPICS until it is there); one that exists with another partition count
 *   is INCORRECTLY_PARTITIONED_TOPICS.
 *
 * The group is ready (tasks are assigned) only when nothing is missing or wrong.
 */
import type { StreamsTopology } from './streams-group.js';

/** The topics as the metadata knows them now (the consumer groups' TopicsView, by name). */
export interface StreamsTopicsView {
  topic(name: string): { topicId: string; numPartitions: number } | undefined;
  topicNames(): readonly string[];
}

/** Kafka's StreamsGroupHeartbeatResponse.Status codes. */
export const StreamsStatus = {
  STALE_TOPOLOGY: 0,
  MISSING_SOURCE_TOPICS: 1,
  INCORRECTLY_PARTITIONED_TOPICS: 2,
  MISSING_INTERNAL_TOPICS: 3,
  SHUTDOWN_APPLICATION: 4,
} as const;

export interface InternalTopicToCreate {
  name: string;
  numPartitions: number;
  /** -1: the broker's default. */
  replicationFactor: number;
  configs: { name: string; value: string }[];
}

export interface ConfiguredSubtopology {
  subtopologyId: string;
  numTasks: number;
  /** Source topics, regular expressions resolved. */
  sourceTopics: string[];
  repartitionSourceTopics: { name: string; partitions: number }[];
  repartitionSinkTopics: string[];
  stateChangelogTopics: { name: string; partitions: number }[];
}

export interface ConfiguredTopology {
  /** Set when the group can be assigned tasks. */
  subtopologies: ConfiguredSubtopology[] | null;
  /** What stops it (a status code and Kafka-style detail), when not ready. */
  problem: { status: number; detail: string } | null;
  toCreate: InternalTopicToCreate[];
}

function fullMatch(regex: string): RegExp | null {
  try {
    return new RegExp(`^(?:${regex})$`, 'u');
  } catch {
    return null;
  }
}

export function configureTopology(topology: StreamsTopology, topics: StreamsTopicsView): ConfiguredTopology {
  const notReady = (status: number, detail: string, toCreate: InternalTopicToCreate[] = []) => ({
    subtopologies: null,
    problem: { status, detail },
    toCreate,
  });
  const allNames = topics.topicNames();
  // Source topics (regular expressions resolved), each must exist.
  const sources = new Map<string, string[]>();
  const missing: string[] = [];
  for (const s of topology.subtopologies) {
    const names = [...s.sourceTopics];
    for (const regex of s.sourceTopicRegex) {
      const re = fullMatch(regex);
      const matched = re ? allNames.filter((n) => re.test(n)).sort() : [];
      if (matched.length === 0) missing.push(regex);
      names.push(...matched);
    }
    for (const n of s.sourceTopics) if (!topics.topic(n)) missing.push(n);
    sources.set(s.subtopologyId, [...new Set(names)]);
  }
  if (missing.length > 0) {
    return notReady(
      StreamsStatus.MISSING_SOURCE_TOPICS,
      `Source topics ${[...new Set(missing)].sort().join(', ')} are missing.`,
    );
  }
  const partitionsOf = (name: string) => topics.topic(name)?.numPartitions;

  // Repartition topics: fixed counts first, then derived from the subtopologies writing them.
  const repartition = new Map<string, number>();
  for (const s of topology.subtopologies)
    for (const t of s.repartitionSourceTopics) if (t.partitions > 0) repartition.set(t.name, t.partitions);
  const tasksOf = (subId: string): number | undefined => {
    const s = topology.subtopologies.find((x) => x.subtopologyId === subId)!;
    let n = 0;
    for (const name of sources.get(subId) ?? []) n = Math.max(n, partitionsOf(name) ?? 0);
    for (const t of s.repartitionSourceTopics) {
      const p = repartition.get(t.name);
      if (p === undefined) return undefined;
      n = Math.max(n, p);
    }
    return n;
  };
  // Copartition groups: external sources must agree; unfixed repartition topics follow them.
  const applyCopartitioning = (): string | null => {
    for (const s of topology.subtopologies) {
      for (const g of s.copartitionGroups) {
        const external = [
          ...g.sourceTopics.map((i) => s.sourceTopics[i]),
          ...g.sourceTopicRegex.flatMap((i) => {
            const re = fullMatch(s.sourceTopicRegex[i] ?? '');
            return re ? allNames.filter((n) => re.test(n)) : [];
          }),
        ].filter((n): n is string => n !== undefined);
        const counts = new Set(external.map((n) => partitionsOf(n) ?? 0));
        if (counts.size > 1) {
          return `Following topics do not have the same number of partitions: [${external.sort().join(', ')}]`;
        }
        const internal = g.repartitionSourceTopics
          .map((i) => s.repartitionSourceTopics[i])
          .filter((t) => t !== undefined);
        let count = counts.size === 1 ? [...counts][0]! : 0;
        if (count === 0) for (const t of internal) count = Math.max(count, repartition.get(t.name) ?? 0);
        if (count === 0) continue;
        for (const t of internal) {
          if (t.partitions > 0 && t.partitions !== count) {
            return `Number of partitions ${t.partitions} of repartition topic ${t.name} doesn't match number of partitions ${count} of the other topics in its copartition group.`;
          }
          repartition.set(t.name, count);
        }
      }
    }
    return null;
  };
  for (let changed = true, rounds = 0; changed && rounds <= topology.subtopologies.length + 1; rounds++) {
    changed = false;
    for (const s of topology.subtopologies) {
      const n = tasksOf(s.subtopologyId);
      if (n === undefined || n === 0) continue;
      for (const sink of s.repartitionSinkTopics) {
        const isFixed = topology.subtopologies.some((x) =>
          x.repartitionSourceTopics.some((t) => t.name === sink && t.partitions > 0),
        );
        if (isFixed) continue;
        if ((repartition.get(sink) ?? 0) < n) {
          repartition.set(sink, n);
          changed = true;
        }
      }
    }
  }
  const copartitionError = applyCopartitioning();
  if (copartitionError) return notReady(StreamsStatus.INCORRECTLY_PARTITIONED_TOPICS, copartitionError);

  const subtopologies: ConfiguredSubtopology[] = [];
  const toCreate: InternalTopicToCreate[] = [];
  const wrong: string[] = [];
  const internal = (
    name: string,
    partitions: number,
    rf: number,
    configs: readonly { key: string; value: string }[],
  ) => {
    const existing = partitionsOf(name);
    if (existing === undefined) {
      if (!toCreate.some((t) => t.name === name)) {
        toCreate.push({
          name,
          numPartitions: partitions,
          replicationFactor: rf > 0 ? rf : -1,
          configs: configs.map((c) => ({ name: c.key, value: c.value })),
        });
      }
    } else if (existing !== partitions) {
      wrong.push(
        `Existing internal topic ${name} has invalid number of partitions: expected ${partitions}, found ${existing}.`,
      );
    }
  };
  for (const s of topology.subtopologies) {
    const n = tasksOf(s.subtopologyId);
    if (n === undefined || n === 0) {
      return notReady(
        StreamsStatus.MISSING_SOURCE_TOPICS,
        `The number of partitions of the source topics of subtopology ${s.subtopologyId} could not be determined.`,
      );
    }
    const repartitionSources = s.repartitionSourceTopics.map((t) => {
      const partitions = repartition.get(t.name)!;
      internal(t.name, partitions, t.replicationFactor, t.topicConfigs);
      return { name: t.name, partitions };
    });
    const changelogs = s.stateChangelogTopics.map((t) => {
      const partitions = t.partitions > 0 ? t.partitions : n;
      internal(t.name, partitions, t.replicationFactor, t.topicConfigs);
      return { name: t.name, partitions };
    });
    subtopologies.push({
      subtopologyId: s.subtopologyId,
      numTasks: n,
      sourceTopics: sources.get(s.subtopologyId) ?? [],
      repartitionSourceTopics: repartitionSources,
      repartitionSinkTopics: [...s.repartitionSinkTopics],
      stateChangelogTopics: changelogs,
    });
  }
  if (wrong.length > 0) return notReady(StreamsStatus.INCORRECTLY_PARTITIONED_TOPICS, wrong.join(' '));
  if (toCreate.length > 0) {
    return notReady(
      StreamsStatus.MISSING_INTERNAL_TOPICS,
      `Internal topics are missing: [${toCreate.map((t) => t.name).join(', ')}]`,
      toCreate,
    );
  }
  return { subtopologies, problem: null, toCreate: [] };
}

/** The topics whose metadata decides the configured topology (for the group's metadata hash). */
export function topologyTopicNames(topology: StreamsTopology, topics: StreamsTopicsView): string[] {
  const names = new Set<string>();
  const all = topics.topicNames();
  for (const s of topology.subtopologies) {
    for (const n of s.sourceTopics) names.add(n);
    for (const regex of s.sourceTopicRegex) {
      const re = fullMatch(regex);
      if (re) for (const n of all) if (re.test(n)) names.add(n);
    }
    for (const t of s.repartitionSourceTopics) names.add(t.name);
    for (const t of s.stateChangelogTopics) names.add(t.name);
  }
  return [...names].sort();
}

/**
 * Kafka's STREAMS_INVALID_TOPOLOGY checks of a topology a member sends: subtopology ids unique,
 * copartition indexes within their lists, a repartition sink is a repartition source of the
 * topology. Returns the message, or null when valid.
 */
export function topologyError(topology: StreamsTopology): string | null {
  const ids = new Set<string>();
  const repartitionSources = new Set<string>();
  for (const s of topology.subtopologies) {
    if (ids.has(s.subtopologyId)) return `Duplicate subtopology id ${s.subtopologyId}.`;
    ids.add(s.subtopologyId);
    for (const t of s.repartitionSourceTopics) repartitionSources.add(t.name);
  }
  for (const s of topology.subtopologies) {
    for (const g of s.copartitionGroups) {
      const bad =
        g.sourceTopics.some((i) => i < 0 || i >= s.sourceTopics.length) ||
        g.sourceTopicRegex.some((i) => i < 0 || i >= s.sourceTopicRegex.length) ||
        g.repartitionSourceTopics.some((i) => i < 0 || i >= s.repartitionSourceTopics.length);
      if (bad)
        return `Copartition group of subtopology ${s.subtopologyId} refers to a topic that does not exist.`;
    }
    for (const sink of s.repartitionSinkTopics) {
      if (!repartitionSources.has(sink)) {
        return `Repartition sink topic ${sink} of subtopology ${s.subtopologyId} is not a repartition source topic of the topology.`;
      }
    }
  }
  return null;
}
