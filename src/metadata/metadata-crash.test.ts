/**
 * kill -9 of a broker process while clients create and delete topics: every change a client saw
 * acknowledged is there after the restart (topic ids included), a torn tail of the metadata log
 * loads as its valid prefix, and the broker takes changes again.
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { TestClient } from '../test-support/client.js';
import { spawnBroker } from '../test-support/process.js';
import { METADATA_DIR, METADATA_LOG_FILE } from './metadata-log.js';

const dir = mkdtempSync(join(tmpdir(), 'kbroker-meta-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const args = ['start', '--port', '0', '--host', '127.0.0.1', '--data-dir', dir];

/** Topic name → id, as Metadata v10 answers them (kafkajs does not show ids). */
async function topicIds(port: number): Promise<Record<string, string>> {
  const c = await TestClient.connect(port);
  try {
    const res = await c.request<{ topics: { name: string; topicId: string }[] }>(3, 10, {
      topics: null,
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    return Object.fromEntries(
      res.topics.filter((t) => t.name.startsWith('crash-')).map((t) => [t.name, t.topicId]),
    );
  } finally {
    c.close();
  }
}

describe('metadata after kill -9', () => {
  it('keeps every acknowledged topic change, with its id, across kill -9 and a torn tail', async () => {
    const first = await spawnBroker(args);
    const kafka = new Kafka({ brokers: [`127.0.0.1:${first.port}`], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const created: string[] = [];
    for (let i = 0; i < 20; i++) {
      const name = `crash-${i}`;
      await admin.createTopics({ topics: [{ topic: name, numPartitions: 1 + (i % 3) }] });
      created.push(name);
    }
    await admin.deleteTopics({ topics: ['crash-0', 'crash-1'] });
    await admin.createPartitions({ topicPartitions: [{ topic: 'crash-2', count: 5 }] });
    const before = await admin.fetchTopicMetadata({ topics: created.slice(2) });
    const ids = await topicIds(first.port);
    await admin.disconnect();
    first.child.kill('SIGKILL');
    await first.exited;

    // A crash in the middle of the next append: half a line, no newline.
    appendFileSync(
      join(dir, METADATA_DIR, METADATA_LOG_FILE),
      '1a2b3c4d {"offset":999,"records":[{"type":"Topi',
    );

    const second = await spawnBroker(args);
    try {
      const k2 = new Kafka({ brokers: [`127.0.0.1:${second.port}`], logLevel: logLevel.NOTHING });
      const a2 = k2.admin();
      await a2.connect();
      const names = (await a2.listTopics()).filter((n) => n.startsWith('crash-')).sort();
      expect(names).toEqual(created.slice(2).sort());
      const after = await a2.fetchTopicMetadata({ topics: created.slice(2) });
      expect(after.topics.map((t) => [t.name, t.partitions.length]).sort()).toEqual(
        before.topics.map((t) => [t.name, t.partitions.length]).sort(),
      );
      expect(after.topics.find((t) => t.name === 'crash-2')!.partitions).toHaveLength(5);
      expect(await topicIds(second.port)).toEqual(ids);
      // Changes are taken again after the cut tail.
      await a2.createTopics({ topics: [{ topic: 'crash-0', numPartitions: 2 }] });
      expect((await a2.fetchTopicMetadata({ topics: ['crash-0'] })).topics[0]!.partitions).toHaveLength(2);
      await a2.disconnect();
    } finally {
      second.child.kill('SIGKILL');
      await second.exited;
    }
    // And once more: the change made after the cut survived too.
    const third = await spawnBroker(args);
    try {
      const k3 = new Kafka({ brokers: [`127.0.0.1:${third.port}`], logLevel: logLevel.NOTHING });
      const a3 = k3.admin();
      await a3.connect();
      expect((await a3.listTopics()).filter((n) => n.startsWith('crash-'))).toContain('crash-0');
      await a3.disconnect();
    } finally {
      third.child.kill('SIGKILL');
      await third.exited;
    }
  }, 60_000);
});
