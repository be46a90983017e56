// kafkajs (the devDependency, 2.2.4) against kbroker.  usage: node scenario.mjs BOOTSTRAP [feature...]
// kafkajs has no assign(): every consumer is a group member, so reading back what was produced
// uses a group. It ships only the gzip codec (snappy/lz4/zstd need third-party plugins).
import { createRequire } from 'node:module';
import { CheckFailed, check, runFeatures, sleep, until } from '../lib/features.mjs';

const require = createRequire(import.meta.url);
const { Kafka, logLevel, CompressionTypes, ConfigResourceTypes } = require('kafkajs');
const version = require('kafkajs/package.json').version;

const [bootstrap, ...only] = process.argv.slice(2);
const prefix = `kjs-${Date.now() % 100000}`;
const PARTITIONS = 3; // kbroker started with num.partitions=3 for auto-created topics

const kafka = new Kafka({
  clientId: 'kbroker-compat',
  brokers: [bootstrap],
  logLevel: process.env.COMPAT_DEBUG ? logLevel.DEBUG : logLevel.NOTHING,
  retry: { retries: 5, initialRetryTime: 100 },
  connectionTimeout: 5000,
  requestTimeout: 15000,
});

function messages(n, tag) {
  const base = Date.now() - 60_000;
  return Array.from({ length: n }, (_, i) => ({
    key: i % 17 === 3 ? null : `key-${i % 7}`,
    value: `${tag}-value-${i}-${'x'.repeat(i % 50)}`,
    headers: { h: `hv-${i}` },
    timestamp: String(base + i),
    ...(i % 17 === 3 ? { partition: i % PARTITIONS } : {}),
  }));
}

async function produce(topic, msgs, opts = {}, producerOpts = {}) {
  const p = kafka.producer({ allowAutoTopicCreation: true, ...producerOpts });
  await p.connect();
  try {
    for (let i = 0; i < msgs.length; i += 50) {
      await p.send({ topic, acks: -1, messages: msgs.slice(i, i + 50), ...opts });
    }
  } finally {
    await p.disconnect();
  }
}

/** Consumes with a fresh group from the beginning until n messages arrived. */
async function consumeAll(topic, n, consumerOpts = {}) {
  const c = kafka.consumer({ groupId: `${prefix}-read-${Math.random()}`, ...consumerOpts });
  const got = [];
  await c.connect();
  try {
    await c.subscribe({ topic, fromBeginning: true });
    await c.run({
      eachMessage: async ({ partition, message }) => {
        got.push({ partition, ...message });
      },
    });
    await until(`${n} messages (have ${got.length})`, () => got.length >= n, 30_000);
    await sleep(300); // anything beyond n would show up here
  } finally {
    await c.disconnect();
  }
  return got;
}

function compare(sent, got) {
  check(got.length === sent.length, `consumed ${got.length} messages, produced ${sent.length}`);
  const byValue = new Map(sent.map((m) => [m.value, m]));
  const last = new Map();
  for (const r of got) {
    const m = byValue.get(r.value?.toString());
    const where = `${r.partition}@${r.offset}`;
    check(m, `unexpected message at ${where}`);
    check((r.key?.toString() ?? null) === m.key, `key differs at ${where}`);
    check(r.timestamp === m.timestamp, `timestamp differs at ${where}: ${r.timestamp} vs ${m.timestamp}`);
    check(r.headers?.h?.toString() === m.headers.h, `header differs at ${where}`);
    const prev = last.get(r.partition);
    check(
      prev === undefined || BigInt(prev) + 1n === BigInt(r.offset),
      `offsets not consecutive in ${r.partition}`,
    );
    last.set(r.partition, r.offset);
  }
  check(last.size === PARTITIONS, `only ${last.size} partitions used`);
}

async function withAdmin(fn) {
  const a = kafka.admin();
  await a.connect();
  try {
    return await fn(a);
  } finally {
    await a.disconnect();
  }
}

const state = {};

const features = [
  [
    'metadata',
    async () => {
      const topic = `${prefix}-meta`;
      await produce(topic, [{ key: 'k', value: 'v' }]);
      await withAdmin(async (a) => {
        const md = await a.fetchTopicMetadata({ topics: [topic] });
        check(md.topics[0].partitions.length === PARTITIONS, `${md.topics[0].partitions.length} partitions`);
        const cluster = await a.describeCluster();
        check(
          cluster.brokers.length === 1 && cluster.controller !== null,
          `describeCluster: ${JSON.stringify(cluster)}`,
        );
        check((await a.listTopics()).includes(topic), 'listTopics lacks the topic');
      });
    },
  ],
  [
    'produce',
    async () => {
      const topic = `${prefix}-plain`;
      const sent = messages(300, 'plain');
      await produce(topic, sent);
      state.produced = sent;
      compare(sent, await consumeAll(topic, sent.length));
    },
  ],
  [
    'list-offsets',
    async () => {
      check(state.produced, 'produce did not run');
      const topic = `${prefix}-plain`;
      await withAdmin(async (a) => {
        const offs = await a.fetchTopicOffsets(topic);
        check(offs.length === PARTITIONS, `${offs.length} partitions`);
        check(
          offs.every((o) => o.low === '0'),
          `low offsets ${JSON.stringify(offs)}`,
        );
        const total = offs.reduce((s, o) => s + Number(o.high), 0);
        check(total === state.produced.length, `high offsets add up to ${total}`);
        const early = await a.fetchTopicOffsetsByTimestamp(topic, 1000);
        check(
          early.every((o) => o.offset === '0'),
          `offsets for timestamp 1000: ${JSON.stringify(early)}`,
        );
        const late = await a.fetchTopicOffsetsByTimestamp(topic, Date.now() + 3_600_000);
        check(
          late.every((o) => o.offset === offs.find((x) => x.partition === o.partition).high),
          `offsets for a future timestamp: ${JSON.stringify(late)}`,
        );
      });
    },
  ],
  [
    'compression-gzip',
    async () => {
      const topic = `${prefix}-gzip`;
      const sent = messages(200, 'gzip');
      await produce(topic, sent, { compression: CompressionTypes.GZIP });
      compare(sent, await consumeAll(topic, sent.length));
    },
  ],
  [
    'consumer-group',
    async () => {
      const topic = `${prefix}-group`;
      const groupId = `${prefix}-g`;
      const sent = messages(300, 'group');
      await produce(topic, sent);
      const seen = new Map();
      const assigned = new Map();
      const members = [];
      for (let i = 0; i < 3; i++) {
        const c = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000 });
        c.on(c.events.GROUP_JOIN, (e) => assigned.set(i, e.payload.memberAssignment[topic] ?? []));
        await c.connect();
        await c.subscribe({ topic, fromBeginning: true });
        await c.run({
          eachMessage: async ({ partition, message }) => {
            seen.set(`${partition}@${message.offset}`, message);
          },
        });
        members.push(c);
      }
      try {
        await until(
          'all messages read with one partition per member',
          () =>
            seen.size >= sent.length &&
            assigned.size === 3 &&
            [...assigned.values()].every((p) => p.length === 1),
          60_000,
        );
        check(seen.size === sent.length, `group read ${seen.size} of ${sent.length}`);
      } finally {
        await Promise.all(members.map((c) => c.disconnect())); // commits on the way out
      }
      const more = messages(30, 'group-more');
      await produce(topic, more);
      const got = [];
      const c = kafka.consumer({ groupId });
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      await c.run({ eachMessage: async ({ message }) => got.push(message.value.toString()) });
      try {
        await until(`${more.length} new messages`, () => got.length >= more.length, 30_000);
        await sleep(500);
      } finally {
        await c.disconnect();
      }
      check(
        got.length === more.length && got.every((v) => v.startsWith('group-more-')),
        `after restart read ${got.length} messages, want the ${more.length} new ones only`,
      );
    },
  ],
  [
    'manual-commit',
    async () => {
      const topic = `${prefix}-commit`;
      const groupId = `${prefix}-manual`;
      await produce(
        topic,
        messages(30, 'commit').map((m) => ({ ...m, partition: 0 })),
      );
      const c = kafka.consumer({ groupId });
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      let n = 0;
      await c.run({
        autoCommit: false,
        eachMessage: async () => {
          n++;
        },
      });
      try {
        await until('5 messages', () => n >= 5);
        await c.commitOffsets([{ topic, partition: 0, offset: '5' }]);
      } finally {
        await c.disconnect();
      }
      await withAdmin(async (a) => {
        const offs = await a.fetchOffsets({ groupId, topics: [topic] });
        const p0 = offs[0].partitions.find((p) => p.partition === 0);
        check(p0?.offset === '5', `fetchOffsets: ${JSON.stringify(offs)}`);
      });
      const c2 = kafka.consumer({ groupId });
      const first = [];
      await c2.connect();
      await c2.subscribe({ topic, fromBeginning: true });
      await c2.run({ autoCommit: false, eachMessage: async ({ message }) => first.push(message.offset) });
      try {
        await until('a message after restart', () => first.length > 0);
      } finally {
        await c2.disconnect();
      }
      check(first[0] === '5', `resumed at ${first[0]}, want 5`);
    },
  ],
  [
    'admin-topics',
    async () => {
      const topic = `${prefix}-admin`;
      await withAdmin(async (a) => {
        const created = await a.createTopics({
          topics: [
            {
              topic,
              numPartitions: 2,
              replicationFactor: 1,
              configEntries: [{ name: 'retention.ms', value: '3600000' }],
            },
          ],
          waitForLeaders: true,
        });
        check(created === true, 'createTopics did not report creation');
        check(
          (await a.createTopics({ topics: [{ topic, numPartitions: 1 }] })) === false,
          'existing topic created again',
        );
        let md = await a.fetchTopicMetadata({ topics: [topic] });
        check(md.topics[0].partitions.length === 2, `${md.topics[0].partitions.length} partitions`);
        await a.createPartitions({ topicPartitions: [{ topic, count: 4 }] });
        md = await a.fetchTopicMetadata({ topics: [topic] });
        check(
          md.topics[0].partitions.length === 4,
          `after createPartitions: ${md.topics[0].partitions.length}`,
        );
        await a.deleteTopics({ topics: [topic] });
        await until('the topic gone', async () => !(await a.listTopics()).includes(topic), 15_000, 200);
      });
    },
  ],
  [
    'admin-configs',
    async () => {
      const topic = `${prefix}-cfg`;
      await produce(topic, [{ key: 'k', value: 'v' }]);
      await withAdmin(async (a) => {
        const get = async () => {
          const r = await a.describeConfigs({
            resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
            includeSynonyms: false,
          });
          return Object.fromEntries(r.resources[0].configEntries.map((e) => [e.configName, e.configValue]));
        };
        let cfg = await get();
        check(cfg['cleanup.policy'] === 'delete', `cleanup.policy: ${cfg['cleanup.policy']}`);
        await a.alterConfigs({
          resources: [
            {
              type: ConfigResourceTypes.TOPIC,
              name: topic,
              configEntries: [{ name: 'retention.ms', value: '7200000' }],
            },
          ],
        });
        cfg = await get();
        check(cfg['retention.ms'] === '7200000', `retention.ms after alterConfigs: ${cfg['retention.ms']}`);
      });
    },
  ],
  [
    'admin-groups',
    async () => {
      const topic = `${prefix}-ag`;
      const groupId = `${prefix}-ag`;
      await produce(topic, messages(30, 'ag'));
      const c = kafka.consumer({ groupId });
      let joined = false;
      c.on(c.events.GROUP_JOIN, () => {
        joined = true;
      });
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      await c.run({ autoCommit: false, eachMessage: async () => {} });
      try {
        await until('joined', () => joined);
        await c.commitOffsets([{ topic, partition: 0, offset: '3' }]);
        await withAdmin(async (a) => {
          const { groups } = await a.listGroups();
          check(
            groups.some((g) => g.groupId === groupId),
            `listGroups: ${JSON.stringify(groups)}`,
          );
          const d = await a.describeGroups([groupId]);
          check(
            d.groups[0].members.length === 1 && d.groups[0].state === 'Stable',
            `describeGroups: ${JSON.stringify(d.groups[0])}`,
          );
        });
      } finally {
        await c.disconnect();
      }
      await withAdmin(async (a) => {
        await a.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '1' }] });
        const offs = await a.fetchOffsets({ groupId, topics: [topic] });
        check(
          offs[0].partitions.find((p) => p.partition === 0).offset === '1',
          `after setOffsets: ${JSON.stringify(offs)}`,
        );
        await a.resetOffsets({ groupId, topic, earliest: true });
        const reset = await a.fetchOffsets({ groupId, topics: [topic] });
        // kafkajs commits the sentinel -2 (EARLIEST) for resetOffsets({ earliest: true }), as against Kafka.
        check(
          reset[0].partitions.every((p) => p.offset === '-2'),
          `after resetOffsets: ${JSON.stringify(reset)}`,
        );
        await a.deleteGroups([groupId]);
        const { groups } = await a.listGroups();
        check(!groups.some((g) => g.groupId === groupId), 'deleted group still listed');
      });
    },
  ],
  [
    'produce-idempotent',
    async () => {
      const topic = `${prefix}-idem`;
      const sent = messages(200, 'idem');
      await produce(topic, sent, {}, { idempotent: true, maxInFlightRequests: 1 });
      compare(sent, await consumeAll(topic, sent.length));
    },
  ],
  [
    'transactions',
    async () => {
      const topic = `${prefix}-txn`;
      const p = kafka.producer({ transactionalId: `${prefix}-tx`, idempotent: true, maxInFlightRequests: 1 });
      await p.connect();
      try {
        for (const [tag, commit] of [
          ['committed-1', true],
          ['aborted', false],
          ['committed-2', true],
        ]) {
          const tx = await p.transaction();
          await tx.send({
            topic,
            messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `${tag}-${i}` })),
          });
          await (commit ? tx.commit() : tx.abort());
        }
      } finally {
        await p.disconnect();
      }
      const committed = await consumeAll(topic, 60, { readUncommitted: false });
      check(committed.length === 60, `read_committed read ${committed.length}, want 60`);
      check(
        committed.every((m) => m.value.toString().startsWith('committed-')),
        'read_committed saw aborted messages',
      );
      const all = await consumeAll(topic, 90, { readUncommitted: true });
      check(all.length === 90, `read_uncommitted read ${all.length}, want 90`);
    },
  ],
  [
    'delete-records',
    async () => {
      const topic = `${prefix}-del`;
      await produce(
        topic,
        messages(30, 'del').map((m) => ({ ...m, partition: 0 })),
      );
      await withAdmin(async (a) => {
        // kafkajs' deleteTopicRecords needs the topic's metadata in the admin's cache first
        // (else KafkaJSTopicMetadataNotLoaded): a client quirk, not a broker answer.
        await a.fetchTopicMetadata({ topics: [topic] });
        await a.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '4' }] });
        const offs = await a.fetchTopicOffsets(topic);
        const p0 = offs.find((o) => o.partition === 0);
        check(p0.low === '4', `low offset after deleteTopicRecords: ${JSON.stringify(p0)}`);
      });
    },
  ],
];

console.log(`kafkajs ${version} -> ${bootstrap}`);
await runFeatures(`kafkajs ${version}`, features, only);
process.exit(0);

export { CheckFailed };
