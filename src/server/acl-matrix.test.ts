import { rmSync } from 'node:fs';
// The ACL matrix of issue 15 with kafkajs over SASL/PLAIN: with StandardAuthorizer, a principal
// allowed to WRITE topics `a-*` (prefixed) and READ group `g` can do exactly that and gets Kafka's
// errors for everything else; the ACLs are managed by a super user through CreateAcls /
// DescribeAcls / DeleteAcls and persist across a restart.
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  type Admin,
  Kafka,
  logLevel,
  ResourcePatternTypes,
} from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';

const JAAS =
  'org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-secret" user_alice="alice-secret" user_bob="bob-secret";';

const config = {
  listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
  'sasl.enabled.mechanisms': 'PLAIN',
  'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
  'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
  'super.users': 'User:admin',
  'connection.failed.authentication.delay.ms': '0',
};

let tb: TestBroker;
const kafkaAs = (user: string) =>
  new Kafka({
    clientId: `acl-${user}`,
    brokers: [tb.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    sasl: { mechanism: 'plain', username: user, password: `${user}-secret` },
  });
let admin: Admin;
let alice: Admin;

const aliceAcls = [
  {
    resourceType: AclResourceTypes.TOPIC,
    resourceName: 'a-',
    resourcePatternType: ResourcePatternTypes.PREFIXED,
    principal: 'User:alice',
    host: '*',
    operation: AclOperationTypes.WRITE,
    permissionType: AclPermissionTypes.ALLOW,
  },
  {
    resourceType: AclResourceTypes.GROUP,
    resourceName: 'g',
    resourcePatternType: ResourcePatternTypes.LITERAL,
    principal: 'User:alice',
    host: '*',
    operation: AclOperationTypes.READ,
    permissionType: AclPermissionTypes.ALLOW,
  },
];

beforeAll(async () => {
  tb = await startTestBroker(config);
  admin = kafkaAs('admin').admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic: 'a-1', numPartitions: 1 },
      { topic: 'b-1', numPartitions: 1 },
    ],
  });
  await admin.createAcls({ acl: aliceAcls });
  alice = kafkaAs('alice').admin();
  await alice.connect();
});
afterAll(async () => {
  await alice?.disconnect();
  await admin?.disconnect();
  await tb.close();
  // A test below restarts the broker on the same directory, which close() then leaves to its owner.
  rmSync(tb.dataDir, { recursive: true, force: true });
});

describe('ACL matrix (kafkajs, SASL/PLAIN, StandardAuthorizer)', () => {
  it('lets the super user list the ACLs it created', async () => {
    const described = await admin.describeAcls({
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    });
    expect(described.resources.map((r) => [r.resourceType, r.resourceName, r.resourcePatternType])).toEqual(
      expect.arrayContaining([
        [AclResourceTypes.TOPIC, 'a-', ResourcePatternTypes.PREFIXED],
        [AclResourceTypes.GROUP, 'g', ResourcePatternTypes.LITERAL],
      ]),
    );
  });

  it('alice writes to a-1 but not to b-1', async () => {
    const producer = kafkaAs('alice').producer();
    await producer.connect();
    try {
      const [r] = await producer.send({ topic: 'a-1', messages: [{ value: 'ok' }] });
      expect(r!.errorCode).toBe(0);
      await expect(producer.send({ topic: 'b-1', messages: [{ value: 'no' }] })).rejects.toMatchObject({
        cause: { type: 'TOPIC_AUTHORIZATION_FAILED' },
      });
    } finally {
      await producer.disconnect();
    }
  });

  it('alice sees only the topics she may describe (WRITE implies DESCRIBE)', async () => {
    expect((await alice.listTopics()).sort()).toEqual(['a-1']);
    const md = await alice.fetchTopicMetadata({ topics: ['a-1'] });
    expect(md.topics.map((t) => t.name)).toEqual(['a-1']);
    await expect(alice.fetchTopicMetadata({ topics: ['b-1'] })).rejects.toMatchObject({
      type: 'TOPIC_AUTHORIZATION_FAILED',
    });
  });

  it('alice may not create, delete or reconfigure topics, nor touch ACLs', async () => {
    await expect(alice.createTopics({ topics: [{ topic: 'a-2' }] })).rejects.toMatchObject({
      errors: [expect.objectContaining({ type: 'TOPIC_AUTHORIZATION_FAILED' })],
    });
    await expect(alice.deleteTopics({ topics: ['a-1'] })).rejects.toThrow();
    await expect(
      alice.describeAcls({
        resourceType: AclResourceTypes.ANY,
        resourcePatternType: ResourcePatternTypes.ANY,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      }),
    ).rejects.toMatchObject({ type: 'CLUSTER_AUTHORIZATION_FAILED' });
    await expect(alice.createAcls({ acl: aliceAcls })).rejects.toThrow();
    expect(await admin.listTopics()).toContain('a-1');
  });

  it('alice describes group g (READ implies DESCRIBE) but not group h', async () => {
    const { groups } = await alice.describeGroups(['g']);
    expect((groups[0] as unknown as { errorCode: number }).errorCode).toBe(0);
    // FindCoordinator for h answers GROUP_AUTHORIZATION_FAILED, which kafkajs reports as no coordinator.
    await expect(alice.fetchOffsets({ groupId: 'h', topics: ['a-1'] })).rejects.toMatchObject({
      name: 'KafkaJSGroupCoordinatorNotFound',
    });
  });

  it('alice cannot read a-1: consuming needs READ on the topic too', async () => {
    await expect(alice.fetchOffsets({ groupId: 'g', topics: ['a-1'] })).resolves.toBeDefined();
    const consumer = kafkaAs('alice').consumer({ groupId: 'g', retry: { retries: 0 } });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: 'a-1', fromBeginning: true });
      const crashed = new Promise<string>((resolve) => {
        consumer.on(consumer.events.CRASH, (e) => resolve(String(e.payload.error)));
      });
      await consumer.run({ eachMessage: async () => {} });
      expect(await crashed).toContain('Not authorized to access topics: [Topic authorization failed]');
    } finally {
      await consumer.disconnect();
    }
  });

  it("bob (no ACLs) is denied and DeleteAcls removes alice's rights; ACLs survive a restart", async () => {
    const bob = kafkaAs('bob').admin();
    await bob.connect();
    expect(await bob.listTopics()).toEqual([]);
    await bob.disconnect();
    const dir = tb.dataDir;
    await admin.disconnect();
    await alice.disconnect();
    await tb.broker.close();
    tb = await startTestBroker(config, dir);
    admin = kafkaAs('admin').admin();
    await admin.connect();
    alice = kafkaAs('alice').admin();
    await alice.connect();
    expect(await alice.listTopics()).toEqual(['a-1']);
    const deleted = await admin.deleteAcls({
      filters: [
        {
          resourceType: AclResourceTypes.TOPIC,
          resourceName: 'a-',
          resourcePatternType: ResourcePatternTypes.PREFIXED,
          principal: 'User:alice',
          host: '*',
          operation: AclOperationTypes.ANY,
          permissionType: AclPermissionTypes.ANY,
        },
      ],
    });
    expect(deleted.filterResponses[0]!.matchingAcls).toHaveLength(1);
    expect(await alice.listTopics()).toEqual([]);
  });
});
