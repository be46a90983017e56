/**
 * The delta between two images that are not one `apply` apart (Kafka's MetadataDelta built from a
 * snapshot: a broker too far behind the metadata log loads the controller's latest image and acts
 * on what differs from the one it had). A broker cut off from the controller (`Cluster.isolate`)
 * keeps its last image; when the link is back it moves to the current one through this delta, so
 * what it holds while cut off is one image, not every change it missed.
 *
 * The delta says what `from.apply(records)` would for any records leading from `from` to `to`:
 * topics created and deleted (by topic id, so a topic deleted and created again under its name is
 * both), partitions new or whose registration differs, configs that differ, brokers whose
 * registration differs or went away, credentials and ACLs that differ.
 */
import type { MetadataDelta, MetadataImage, PartitionDelta, PartitionState } from './image.js';
import type { AclImage } from './security-image.js';

const sameList = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

const samePartition = (a: PartitionState, b: PartitionState) =>
  a.leader === b.leader &&
  a.leaderEpoch === b.leaderEpoch &&
  a.partitionEpoch === b.partitionEpoch &&
  sameList(a.isr, b.isr) &&
  sameList(a.replicas, b.replicas);

const sameRecord = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
};

export function imageDelta(from: MetadataImage, to: MetadataImage): MetadataDelta {
  const createdTopics = to.topics().filter((t) => from.topicById(t.topicId) === undefined);
  const deletedTopics = from.topics().filter((t) => to.topicById(t.topicId) === undefined);
  const changedPartitions: PartitionDelta[] = [];
  const changedConfigs: MetadataDelta['changedConfigs'][number][] = [];
  for (const topic of to.topics()) {
    const before = from.topicById(topic.topicId);
    for (const partition of topic.partitions) {
      const previous = before?.partitions[partition.partitionId];
      if (previous === undefined || !samePartition(previous, partition))
        changedPartitions.push({ topic, partition, previous });
    }
    if (!sameRecord(before?.configs ?? {}, topic.configs))
      changedConfigs.push({ resourceType: 'TOPIC', resourceName: topic.name });
  }
  for (const name of new Set([...from.brokerConfigs.keys(), ...to.brokerConfigs.keys()])) {
    if (!sameRecord(from.brokerConfigs.get(name) ?? {}, to.brokerConfigs.get(name) ?? {}))
      changedConfigs.push({ resourceType: 'BROKER', resourceName: name });
  }
  const changedBrokers: number[] = [];
  for (const id of new Set([...from.brokers.keys(), ...to.brokers.keys()])) {
    const a = from.brokers.get(id);
    const b = to.brokers.get(id);
    if (a === undefined || b === undefined || JSON.stringify(a) !== JSON.stringify(b))
      changedBrokers.push(id);
  }
  const changedScram: { name: string; mechanism: number }[] = [];
  const key = (c: { name: string; mechanism: number }) => `${c.mechanism}:${c.name}`;
  const scramBefore = new Map(from.security.scramCredentials().map((c) => [key(c), c]));
  const scramAfter = new Map(to.security.scramCredentials().map((c) => [key(c), c]));
  for (const [k, c] of [...scramBefore, ...scramAfter]) {
    if (changedScram.some((x) => key(x) === k)) continue;
    const a = scramBefore.get(k);
    const b = scramAfter.get(k);
    const same =
      a !== undefined &&
      b !== undefined &&
      a.iterations === b.iterations &&
      a.salt.equals(b.salt) &&
      a.storedKey.equals(b.storedKey) &&
      a.serverKey.equals(b.serverKey);
    if (!same) changedScram.push({ name: c.name, mechanism: c.mechanism });
  }
  const sameAcl = (a: AclImage, b: AclImage | undefined) =>
    b !== undefined && JSON.stringify(a) === JSON.stringify(b);
  const addedAcls = to.security.acls().filter((a) => !sameAcl(a, from.security.acl(a.id)));
  const removedAcls = from.security.acls().filter((a) => !sameAcl(a, to.security.acl(a.id)));
  return {
    createdTopics,
    deletedTopics,
    changedPartitions,
    changedConfigs,
    changedBrokers,
    security: { changedScram, addedAcls, removedAcls },
  };
}
