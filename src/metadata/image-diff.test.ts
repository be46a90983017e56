import { describe, expect, it } from 'vitest';
import { type MetadataDelta, MetadataImage } from './image.js';
import { imageDelta } from './image-diff.js';
import type { MetadataRecord } from './records.js';

const endpoint = (port: number) => [{ name: 'PLAINTEXT', host: 'h', port, securityProtocol: 'PLAINTEXT' }];
const acl = (id: string, principal: string): MetadataRecord => ({
  type: 'AccessControlEntryRecord',
  id,
  resourceType: 2,
  resourceName: 't',
  patternType: 3,
  principal,
  host: '*',
  operation: 3,
  permissionType: 3,
});
const scram = (name: string, salt: string): MetadataRecord => ({
  type: 'UserScramCredentialRecord',
  name,
  mechanism: 1,
  salt,
  storedKey: 'AAAA',
  serverKey: 'BBBB',
  iterations: 4096,
});

/** The same delta whatever the order of its lists. */
function normalized(d: MetadataDelta) {
  const by = <T>(xs: readonly T[], k: (x: T) => string) => [...xs].sort((a, b) => k(a).localeCompare(k(b)));
  return {
    createdTopics: by(d.createdTopics, (t) => t.topicId),
    deletedTopics: by(d.deletedTopics, (t) => t.topicId),
    changedPartitions: by(d.changedPartitions, (p) => `${p.topic.topicId}:${p.partition.partitionId}`),
    changedConfigs: by(d.changedConfigs, (c) => `${c.resourceType}:${c.resourceName}`),
    changedBrokers: [...d.changedBrokers].sort(),
    security: {
      changedScram: by(d.security.changedScram, (c) => `${c.mechanism}:${c.name}`),
      addedAcls: by(d.security.addedAcls, (a) => a.id),
      removedAcls: by(d.security.removedAcls, (a) => a.id),
    },
  };
}

const base = MetadataImage.EMPTY.apply([
  {
    type: 'RegisterBrokerRecord',
    brokerId: 1,
    brokerEpoch: 1,
    rack: null,
    endpoints: endpoint(1),
    fenced: false,
  },
  {
    type: 'RegisterBrokerRecord',
    brokerId: 2,
    brokerEpoch: 2,
    rack: null,
    endpoints: endpoint(2),
    fenced: false,
  },
  { type: 'TopicRecord', name: 'a', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' },
  {
    type: 'PartitionRecord',
    topicId: 'AAAAAAAAAAAAAAAAAAAAAQ',
    partitionId: 0,
    replicas: [1, 2],
    isr: [1, 2],
    leader: 1,
    leaderEpoch: 0,
    partitionEpoch: 0,
  },
  {
    type: 'PartitionRecord',
    topicId: 'AAAAAAAAAAAAAAAAAAAAAQ',
    partitionId: 1,
    replicas: [2, 1],
    isr: [2, 1],
    leader: 2,
    leaderEpoch: 0,
    partitionEpoch: 0,
  },
  { type: 'TopicRecord', name: 'gone', topicId: 'AAAAAAAAAAAAAAAAAAAAAg' },
  { type: 'ConfigRecord', resourceType: 'BROKER', resourceName: '', name: 'x', value: '1' },
  scram('alice', 'c2FsdA=='),
  acl('acl-1', 'User:alice'),
]).image;

const steps: MetadataRecord[][] = [
  // A leader change and an ISR shrink.
  [
    { type: 'PartitionChangeRecord', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitionId: 0, leader: 2, isr: [2] },
    { type: 'BrokerRegistrationChangeRecord', brokerId: 1, brokerEpoch: 1, fenced: true },
  ],
  // A topic deleted, one created (with a config and a partition), one deleted and created again.
  [
    { type: 'RemoveTopicRecord', topicId: 'AAAAAAAAAAAAAAAAAAAAAg' },
    { type: 'TopicRecord', name: 'gone', topicId: 'AAAAAAAAAAAAAAAAAAAAAw' },
    { type: 'TopicRecord', name: 'b', topicId: 'AAAAAAAAAAAAAAAAAAAABA' },
    {
      type: 'PartitionRecord',
      topicId: 'AAAAAAAAAAAAAAAAAAAABA',
      partitionId: 0,
      replicas: [2],
      isr: [2],
      leader: 2,
      leaderEpoch: 0,
      partitionEpoch: 0,
    },
    { type: 'ConfigRecord', resourceType: 'TOPIC', resourceName: 'b', name: 'retention.ms', value: '5' },
  ],
  // Configs changed and removed, a broker re-registered, credentials and ACLs changed.
  [
    { type: 'ConfigRecord', resourceType: 'BROKER', resourceName: '', name: 'x', value: null },
    { type: 'ConfigRecord', resourceType: 'BROKER', resourceName: '2', name: 'y', value: '2' },
    { type: 'ConfigRecord', resourceType: 'TOPIC', resourceName: 'a', name: 'retention.ms', value: '9' },
    {
      type: 'RegisterBrokerRecord',
      brokerId: 1,
      brokerEpoch: 7,
      rack: null,
      endpoints: endpoint(11),
      fenced: true,
    },
    scram('alice', 'bmV3'),
    scram('bob', 'c2FsdA=='),
    { type: 'RemoveAccessControlEntryRecord', id: 'acl-1' },
    acl('acl-2', 'User:bob'),
  ],
];

describe('imageDelta', () => {
  it('equals the delta of apply for each single step', () => {
    let image = base;
    for (const records of steps) {
      const { image: next, delta } = image.apply(records);
      expect(normalized(imageDelta(image, next))).toEqual(normalized(delta));
      image = next;
    }
  });

  it('over several steps, says what a broker that missed them must act on', () => {
    let last = base;
    for (const records of steps) last = last.apply(records).image;
    const d = imageDelta(base, last);
    expect(d.createdTopics.map((t) => t.name).sort()).toEqual(['b', 'gone']);
    expect(d.deletedTopics.map((t) => t.topicId)).toEqual(['AAAAAAAAAAAAAAAAAAAAAg']);
    expect(d.changedPartitions.map((p) => `${p.topic.name}-${p.partition.partitionId}`).sort()).toEqual([
      'a-0',
      'b-0',
    ]);
    expect(d.changedPartitions.find((p) => p.topic.name === 'a')!.previous!.leader).toBe(1);
    expect(normalized(d).changedConfigs).toEqual([
      { resourceType: 'BROKER', resourceName: '' },
      { resourceType: 'BROKER', resourceName: '2' },
      { resourceType: 'TOPIC', resourceName: 'a' },
      { resourceType: 'TOPIC', resourceName: 'b' },
    ]);
    expect(d.changedBrokers).toEqual([1]);
    expect(normalized(d).security.changedScram.map((c) => c.name)).toEqual(['alice', 'bob']);
    expect(d.security.addedAcls.map((a) => a.id)).toEqual(['acl-2']);
    expect(d.security.removedAcls.map((a) => a.id)).toEqual(['acl-1']);
  });

  it('is empty between equal images', () => {
    expect(normalized(imageDelta(base, base))).toEqual(normalized(MetadataImage.EMPTY.apply([]).delta));
  });
});
