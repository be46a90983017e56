// The console's admin API over real HTTP against an in-process broker: every endpoint, its bad
// input and the same-origin (CSRF) and Host checks; records written by kafkajs (gzip batches,
// aborted transactions) read back through the records browser.
import { createRequire } from 'node:module';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedBroker, startBroker } from '../index.js';
import { until } from '../test-support/until.js';
import { murmur2, partitionForKey } from './murmur2.js';
import { MAX_FIELD_BYTES, showBytes } from './records-view.js';

let k: EmbeddedBroker;
let base: string;
const kafka = () => new Kafka({ brokers: k.brokers, logLevel: logLevel.NOTHING, clientId: 'console-test' });

beforeAll(async () => {
  k = await startBroker({ httpPort: 0, 'auto.create.topics.enable': false });
  base = k.httpUrl!;
});
afterAll(() => k.close());

const WRITE_HEADERS = { 'x-kbroker-console': '1', 'content-type': 'application/json' };

async function call(method: string, path: string, body?: unknown) {
  const headers = WRITE_HEADERS;
  const res = await fetch(`${base}${path}`, {
    method,
    headers: method === 'GET' ? {} : body === undefined ? { 'x-kbroker-console': '1' } : headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the tests read arbitrary JSON answers
  const json = (await res.json()) as Record<string, any>;
  return { status: res.status, json };
}

describe('same-origin and Host checks', () => {
  it('refuses a state-changing request without the console header, from another origin, or not JSON', async () => {
    const body = JSON.stringify({ name: 'csrf' });
    let res = await fetch(`${base}/api/topics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toMatch(
      /x-kbroker-console header \(CSRF check\)/,
    );
    res = await fetch(`${base}/api/topics`, {
      method: 'POST',
      headers: { ...WRITE_HEADERS, origin: 'http://evil.example' },
      body,
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toMatch(
      /cross-origin request from http:\/\/evil\.example/,
    );
    // A form post (the CSRF classic) is refused even with the header.
    res = await fetch(`${base}/api/topics`, {
      method: 'POST',
      headers: { 'x-kbroker-console': '1', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=csrf',
    });
    expect(res.status).toBe(415);
    // The same origin passes.
    res = await fetch(`${base}/api/topics`, {
      method: 'POST',
      headers: { ...WRITE_HEADERS, origin: base },
      body: JSON.stringify({ name: 'same-origin', partitions: 1 }),
    });
    expect(res.status).toBe(201);
    // Nothing was created by the refused ones.
    expect(k.topics()).not.toContain('csrf');
    // A cross-origin DELETE is refused too; no CORS preflight is ever granted.
    res = await fetch(`${base}/api/topics/same-origin`, {
      method: 'DELETE',
      headers: { origin: 'http://evil.example' },
    });
    expect(res.status).toBe(403);
    res = await fetch(`${base}/api/topics/same-origin`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(k.topics()).toContain('same-origin');
  });

  it('refuses a non-loopback Host on a loopback listener (DNS rebinding)', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${base}/api/topics`, { headers: { host: 'rebind.example:80' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });
});

describe('topics', () => {
  it('creates, refuses duplicates and bad names/configs with Kafka messages, adds partitions, deletes', async () => {
    let r = await call('POST', '/api/topics', {
      name: 'orders',
      partitions: 2,
      configs: { 'retention.ms': 60000 },
    });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ name: 'orders', partitions: 2, replicationFactor: 1 });
    r = await call('POST', '/api/topics', { name: 'orders' });
    expect(r).toMatchObject({
      status: 409,
      json: { errorCode: 'TOPIC_ALREADY_EXISTS', error: "Topic 'orders' already exists." },
    });
    r = await call('POST', '/api/topics', { name: 'bad name!' });
    expect(r.status).toBe(400);
    expect(r.json.errorCode).toBe('INVALID_TOPIC_EXCEPTION');
    r = await call('POST', '/api/topics', { name: 'cfg', configs: { 'cleanup.policy': 'sometimes' } });
    expect(r.status).toBe(400);
    expect(r.json.errorCode).toBe('INVALID_CONFIG');
    expect(r.json.error).toMatch(/cleanup\.policy/);
    r = await call('POST', '/api/topics', { name: 'rf', replicationFactor: 3 });
    expect(r.json).toMatchObject({ errorCode: 'INVALID_REPLICATION_FACTOR' });
    r = await call('POST', '/api/topics', { name: 'p', partitions: 'many' });
    expect(r).toMatchObject({ status: 400, json: { error: 'partitions must be an integer, got "many"' } });
    r = await call('POST', '/api/topics', '[1,2]');
    expect(r).toMatchObject({ status: 400, json: { error: 'the request body must be a JSON object' } });
    r = await call('POST', '/api/topics', '{"name":');
    expect(r.status).toBe(400);

    const listed = await call('GET', '/api/topics/orders');
    expect(listed.json).toMatchObject({
      replicationFactor: 1,
      retentionMs: '60000',
      cleanupPolicy: 'delete',
    });

    r = await call('POST', '/api/topics/orders/partitions', { count: 1 });
    expect(r).toMatchObject({ status: 400, json: { errorCode: 'INVALID_PARTITIONS' } });
    r = await call('POST', '/api/topics/orders/partitions', { count: 4 });
    expect(r.status).toBe(200);
    expect(k.broker.metadata.topic('orders')!.partitions).toHaveLength(4);
    r = await call('POST', '/api/topics/nope/partitions', { count: 4 });
    expect(r).toMatchObject({ status: 404, json: { errorCode: 'UNKNOWN_TOPIC_OR_PARTITION' } });

    r = await call('DELETE', '/api/topics/orders');
    expect(r).toMatchObject({ status: 200, json: { deleted: 'orders' } });
    expect(k.topics()).not.toContain('orders');
    r = await call('DELETE', '/api/topics/orders');
    expect(r).toMatchObject({ status: 404, json: { errorCode: 'UNKNOWN_TOPIC_OR_PARTITION' } });
  });

  it('describes configs with sources and documentation, and alters them as IncrementalAlterConfigs', async () => {
    await k.createTopic('conf', { partitions: 1 });
    let r = await call('GET', '/api/topics/conf/configs');
    const retention = r.json.configs.find((c: { name: string }) => c.name === 'retention.ms');
    expect(retention).toMatchObject({ value: '604800000', source: 'DEFAULT_CONFIG', type: 'LONG' });
    expect(retention.documentation).toBeTruthy();
    r = await call('PATCH', '/api/topics/conf/configs', { set: { 'retention.ms': '1000' } });
    expect(r.status).toBe(200);
    expect(r.json.configs.find((c: { name: string }) => c.name === 'retention.ms')).toMatchObject({
      value: '1000',
      source: 'DYNAMIC_TOPIC_CONFIG',
    });
    r = await call('PATCH', '/api/topics/conf/configs', { set: { 'retention.ms': 'soon' } });
    expect(r).toMatchObject({ status: 400, json: { errorCode: 'INVALID_CONFIG' } });
    expect(r.json.error).toMatch(/retention\.ms/);
    r = await call('PATCH', '/api/topics/conf/configs', { set: { 'no.such.config': '1' } });
    expect(r.json.errorCode).toBe('INVALID_CONFIG');
    r = await call('PATCH', '/api/topics/conf/configs', { delete: ['retention.ms'] });
    expect(r.json.configs.find((c: { name: string }) => c.name === 'retention.ms').source).toBe(
      'DEFAULT_CONFIG',
    );
    r = await call('PATCH', '/api/topics/conf/configs', {});
    expect(r).toMatchObject({ status: 400, json: { error: 'nothing to change: give set and/or delete' } });
    r = await call('GET', '/api/topics/nope/configs');
    expect(r).toMatchObject({ status: 404, json: { errorCode: 'UNKNOWN_TOPIC_OR_PARTITION' } });
  });
});

describe('produce and browse records', () => {
  it('produces from the API (key → murmur2 partition) and reads JSON, text and hex back with headers', async () => {
    await k.createTopic('rec', { partitions: 3 });
    let r = await call('POST', '/api/topics/rec/records', {
      key: 'user-1',
      value: '{"n":1}',
      headers: [{ key: 'trace', value: 'abc' }],
    });
    expect(r.status).toBe(201);
    expect(r.json.partition).toBe(partitionForKey(Buffer.from('user-1'), 3));
    const p = r.json.partition;
    await call('POST', '/api/topics/rec/records', { partition: p, key: null, value: 'plain text' });
    const producer = kafka().producer();
    await producer.connect();
    await producer.send({ topic: 'rec', messages: [{ partition: p, value: Buffer.from([0, 1, 2, 0xff]) }] });
    await producer.disconnect();

    r = await call('GET', `/api/topics/rec/partitions/${p}/records?from=start`);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ logStartOffset: 0, highWatermark: 3, nextOffset: 3 });
    const [a, b, c] = r.json.records;
    expect(a).toMatchObject({
      offset: 0,
      key: { format: 'text', data: 'user-1' },
      value: { format: 'json', data: '{"n":1}' },
      headers: [{ key: 'trace', value: { format: 'text', data: 'abc' } }],
    });
    expect(b).toMatchObject({ offset: 1, key: null, value: { format: 'text', data: 'plain text' } });
    expect(c).toMatchObject({ offset: 2, value: { format: 'hex', data: '000102ff', size: 4 } });

    r = await call('POST', '/api/topics/rec/records', { partition: 3, value: 'x' });
    expect(r).toMatchObject({ status: 400, json: { error: 'partition must be between 0 and 2, got 3' } });
    r = await call('POST', '/api/topics/ghost/records', { value: 'x' });
    expect(r).toMatchObject({ status: 404, json: { errorCode: 'UNKNOWN_TOPIC_OR_PARTITION' } });
    expect(k.topics()).not.toContain('ghost');
    r = await call('POST', '/api/topics/rec/records', { value: 'x'.repeat(1024 * 1024 + 1) });
    expect(r.status).toBe(413);
    r = await call('POST', '/api/topics/rec/records', { value: 5 });
    expect(r).toMatchObject({ status: 400, json: { error: 'value must be a string or null' } });
  });

  it('matches kafkajs’ murmur2 (Java’s default partitioner)', () => {
    const require = createRequire(import.meta.url);
    const jsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (
      k: Buffer,
    ) => number;
    for (const key of [
      '',
      'a',
      'ab',
      'abc',
      '21',
      'foobar',
      'a-little-bit-long-string',
      'ü→ key',
      'x'.repeat(1000),
    ]) {
      expect(murmur2(Buffer.from(key))).toBe(jsMurmur2(Buffer.from(key)));
    }
  });

  it('pages through a partition from start, end, an offset and a timestamp, with bounded page sizes', async () => {
    await k.createTopic('paged', { partitions: 1 });
    const producer = kafka().producer();
    await producer.connect();
    const t0 = Date.now() - 100_000;
    for (let b = 0; b < 10; b++) {
      await producer.send({
        topic: 'paged',
        compression: CompressionTypes.GZIP,
        messages: Array.from({ length: 25 }, (_, i) => ({
          key: `k${(b * 25 + i) % 7}`,
          value: `v${b * 25 + i}`,
          timestamp: String(t0 + (b * 25 + i) * 100),
        })),
      });
    }
    await producer.disconnect();
    const get = (q: string) => call('GET', `/api/topics/paged/partitions/0/records?${q}`);
    let r = await get('from=start&limit=30');
    expect(r.json.records.map((x: { offset: number }) => x.offset)).toEqual(
      Array.from({ length: 30 }, (_, i) => i),
    );
    expect(r.json.records[0]).toMatchObject({ compression: 'gzip', value: { data: 'v0' } });
    expect(r.json.nextOffset).toBe(30);
    r = await get(`from=offset&offset=${r.json.nextOffset}&limit=30`);
    expect(r.json.records[0].offset).toBe(30);
    expect(r.json.records[29].offset).toBe(59);
    r = await get('from=end&limit=20');
    expect(r.json.records.map((x: { offset: number }) => x.offset)).toEqual(
      Array.from({ length: 20 }, (_, i) => 230 + i),
    );
    expect(r.json.nextOffset).toBe(250);
    r = await get(`from=timestamp&timestamp=${t0 + 120 * 100}&limit=5`);
    expect(r.json.records.map((x: { offset: number }) => x.offset)).toEqual([120, 121, 122, 123, 124]);
    r = await get(`from=timestamp&timestamp=${new Date(t0 + 200 * 100).toISOString()}&limit=1`);
    expect(r.json.records[0].offset).toBe(200);
    r = await get(`from=timestamp&timestamp=${Date.now() + 3_600_000}`);
    expect(r.json).toMatchObject({ records: [], startOffset: 250 });
    // Search by key inside a range.
    r = await get('from=start&key=k3&limit=500');
    expect(r.json.records.length).toBe(36);
    expect(r.json.records.every((x: { key: { data: string } }) => x.key.data === 'k3')).toBe(true);

    // Bad input: clear 4xx, nothing read.
    expect((await get('limit=100000')).json).toEqual({
      error: 'limit must be between 1 and 500, got 100000',
    });
    expect((await get('limit=0')).status).toBe(400);
    expect((await get('from=offset&offset=12abc')).json).toEqual({
      error: 'offset must be an integer, got "12abc"',
    });
    expect((await get('from=offset')).status).toBe(400);
    const out = await get('from=offset&offset=999');
    expect(out.status).toBe(416);
    expect(out.json.error).toMatch(
      /offset 999 is out of range: partition 0 of 'paged' holds offsets 0 to 249/,
    );
    expect((await get('from=yesterday')).json.error).toMatch(
      /from must be start, end, offset, before or timestamp/,
    );
    expect((await get('from=timestamp&timestamp=noon')).status).toBe(400);
    expect((await call('GET', '/api/topics/paged/partitions/5/records')).json).toMatchObject({
      errorCode: 'UNKNOWN_TOPIC_OR_PARTITION',
      error: "Topic 'paged' has 1 partition(s); there is no partition 5.",
    });
    expect((await call('GET', '/api/topics/none/partitions/0/records')).status).toBe(404);
    expect((await call('GET', '/api/topics/paged/partitions/-1/records')).status).toBe(400);
  });

  it('pages back by exactly `limit` records across transaction markers (from=before, from=end)', async () => {
    await k.createTopic('gaps', { partitions: 1 });
    const producer = kafka().producer({
      transactionalId: 'gaps-tx',
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await producer.connect();
    // 6 transactions of 4 records: every fifth offset is a commit marker (offsets 4, 9, …, 29).
    for (let t = 0; t < 6; t++) {
      const txn = await producer.transaction();
      await txn.send({
        topic: 'gaps',
        messages: Array.from({ length: 4 }, (_, i) => ({
          key: `k${(t * 4 + i) % 3}`,
          value: `v${t * 4 + i}`,
        })),
      });
      await txn.commit();
    }
    await producer.disconnect();
    const get = (q: string) => call('GET', `/api/topics/gaps/partitions/0/records?${q}`);
    const values = (r: Awaited<ReturnType<typeof call>>) =>
      r.json.records.map((x: { value: { data: string } }) => x.value.data);
    // The newest 10 records: 10 of them, though they span 12 offsets.
    let r = await get('from=end&limit=10');
    expect(values(r)).toEqual(Array.from({ length: 10 }, (_, i) => `v${14 + i}`));
    expect(r.json).toMatchObject({ startOffset: 17, nextOffset: 30, highWatermark: 30 });
    // Older, and older again: exact pages, each ending where the newer one started.
    r = await get(`from=before&offset=${r.json.startOffset}&limit=10`);
    expect(values(r)).toEqual(Array.from({ length: 10 }, (_, i) => `v${4 + i}`));
    expect(r.json.nextOffset).toBe(17);
    r = await get(`from=before&offset=${r.json.startOffset}&limit=10`);
    expect(values(r)).toEqual(['v0', 'v1', 'v2', 'v3']);
    expect(r.json.startOffset).toBe(0);
    // With control records, markers count as records of the page.
    r = await get('from=before&offset=30&limit=5&control=true');
    expect(r.json.records.map((x: { offset: number }) => x.offset)).toEqual([25, 26, 27, 28, 29]);
    expect(r.json.records[4].control).toBe('COMMIT');
    // By key, back from the end: the 5 newest records with key k1, wherever they lie.
    r = await get('from=before&offset=30&limit=5&key=k1');
    expect(values(r)).toEqual(['v7', 'v10', 'v13', 'v16', 'v19', 'v22'].slice(1));
    // Bad input.
    expect((await get('from=before')).json.error).toBe('offset must be an integer, got undefined');
    expect((await get('from=before&offset=31')).status).toBe(416);
    expect((await get('from=before&offset=5&control=maybe')).json.error).toBe(
      'control must be true or false, got "maybe"',
    );
  });

  it('reads at most 8 MiB for an older page of large records, and returns the newest of them', async () => {
    await k.createTopic('large', { partitions: 1 });
    const producer = kafka().producer();
    await producer.connect();
    for (let i = 0; i < 12; i++) {
      await producer.send({ topic: 'large', messages: [{ value: Buffer.alloc(900 * 1024, 0x41 + i) }] });
    }
    await producer.disconnect();
    const r = await call('GET', '/api/topics/large/partitions/0/records?from=end&limit=50');
    const offsets = r.json.records.map((x: { offset: number }) => x.offset);
    expect(offsets.length).toBeGreaterThan(0);
    expect(offsets.length).toBeLessThan(12);
    // The newest ones, contiguous up to the end; the next older page continues below them.
    expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, i) => 12 - offsets.length + i));
    expect(r.json).toMatchObject({ startOffset: offsets[0], nextOffset: 12, scanLimitReached: true });
    expect(r.json.scannedBytes).toBeLessThanOrEqual(8 * 1024 * 1024 + 1024 * 1024);
    const older = await call(
      'GET',
      `/api/topics/large/partitions/0/records?from=before&offset=${offsets[0]}&limit=50`,
    );
    expect(older.json.records.at(-1).offset).toBe(offsets[0] - 1);
    // Across partitions the same bound holds.
    const all = await call('GET', '/api/topics/large/records?from=end&limit=50');
    expect(all.json.records.length).toBeLessThan(12);
    expect(all.json.scanLimitReached).toBe(true);
    expect(all.json.records.at(-1)).toMatchObject({ partition: 0, offset: 11 });
  });

  it('shares the 8 MiB between partitions when searching all of them by key, so paging on always progresses', async () => {
    await k.createTopic('sparse', { partitions: 2 });
    const producer = kafka().producer();
    await producer.connect();
    await producer.send({ topic: 'sparse', messages: [{ partition: 0, key: 'x', value: 'first' }] });
    for (let i = 0; i < 12; i++) {
      await producer.send({
        topic: 'sparse',
        messages: [{ partition: 0, key: 'big', value: Buffer.alloc(900 * 1024, 0x61 + i) }],
      });
    }
    await producer.send({ topic: 'sparse', messages: [{ partition: 1, key: 'x', value: 'second' }] });
    await producer.disconnect();
    const found: string[] = [];
    let r = await call('GET', '/api/topics/sparse/records?from=start&key=x&limit=10');
    for (let pages = 1; ; pages++) {
      expect(r.json.scannedBytes).toBeLessThanOrEqual(9 * 1024 * 1024);
      found.push(
        ...r.json.records.map(
          (x: { partition: number; value: { data: string } }) => `${x.partition}:${x.value.data}`,
        ),
      );
      if (!r.json.hasNewer) break;
      expect(pages).toBeLessThan(5);
      r = await call(
        'GET',
        `/api/topics/sparse/records?from=after&cursor=${r.json.endCursor}&key=x&limit=10`,
      );
    }
    expect(found).toEqual(['0:first', '1:second']);
  });

  it('browses all partitions merged by timestamp, paging forward and back with cursors', async () => {
    await k.createTopic('merged', { partitions: 3 });
    const producer = kafka().producer();
    await producer.connect();
    const t0 = Date.now() - 100_000;
    // Record n goes to partition n % 3 with timestamp t0 + 10n: merged, they are 0, 1, 2, … 29.
    for (let p = 0; p < 3; p++) {
      await producer.send({
        topic: 'merged',
        messages: Array.from({ length: 10 }, (_, i) => ({
          partition: p,
          key: `k${(i * 3 + p) % 4}`,
          value: `n${i * 3 + p}`,
          timestamp: String(t0 + (i * 3 + p) * 10),
        })),
      });
    }
    await producer.disconnect();
    const get = (q: string) => call('GET', `/api/topics/merged/records?${q}`);
    const ns = (r: Awaited<ReturnType<typeof call>>) =>
      r.json.records.map((x: { value: { data: string } }) => Number(x.value.data.slice(1)));
    let r = await get('from=start&limit=7');
    expect(ns(r)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(r.json.records.map((x: { partition: number; offset: number }) => [x.partition, x.offset])).toEqual(
      [
        [0, 0],
        [1, 0],
        [2, 0],
        [0, 1],
        [1, 1],
        [2, 1],
        [0, 2],
      ],
    );
    expect(r.json).toMatchObject({
      startCursor: '0:0,1:0,2:0',
      endCursor: '0:3,1:2,2:2',
      hasOlder: false,
      hasNewer: true,
    });
    expect(r.json.partitions).toHaveLength(3);
    // Forward to the end: every record once, in order.
    const seen: number[] = [...ns(r)];
    while (r.json.hasNewer) {
      r = await get(`from=after&cursor=${r.json.endCursor}&limit=7`);
      seen.push(...ns(r));
    }
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => i));
    // The newest page, then back to the start.
    r = await get('from=end&limit=8');
    expect(ns(r)).toEqual([22, 23, 24, 25, 26, 27, 28, 29]);
    expect(r.json).toMatchObject({ endCursor: '0:10,1:10,2:10', hasNewer: false, hasOlder: true });
    const back: number[] = [...ns(r)];
    while (r.json.hasOlder) {
      r = await get(`from=before&cursor=${r.json.startCursor}&limit=8`);
      back.unshift(...ns(r));
    }
    expect(back).toEqual(Array.from({ length: 30 }, (_, i) => i));
    // Newer from an older page comes back to where it was.
    r = await get('from=before&cursor=0:5,1:5,2:5&limit=4');
    expect(ns(r)).toEqual([11, 12, 13, 14]);
    r = await get(`from=after&cursor=${r.json.endCursor}&limit=4`);
    expect(ns(r)).toEqual([15, 16, 17, 18]);
    // From a timestamp (each partition from its own ListOffsets answer), and by key.
    r = await get(`from=timestamp&timestamp=${t0 + 125}&limit=3`);
    expect(ns(r)).toEqual([13, 14, 15]);
    r = await get('from=start&key=k2&limit=500');
    expect(ns(r)).toEqual([2, 6, 10, 14, 18, 22, 26]);
    // A cursor below the log start or above the high watermark is clamped; a missing partition starts at its start.
    r = await get('from=after&cursor=0:99,2:0&limit=3');
    expect(ns(r)).toEqual([1, 2, 4]);

    // Bad input: clear 4xx.
    expect((await get('from=after')).json.error).toMatch(
      /^cursor is required with from=after or from=before/,
    );
    expect((await get('from=after&cursor=0-1')).json.error).toMatch(
      /^cursor must be partition:offset pairs separated by commas/,
    );
    expect((await get('from=before&cursor=7:0')).json.error).toBe(
      'cursor names partition 7, but the topic has 3 partition(s)',
    );
    expect((await get('from=offset&offset=3')).json.error).toMatch(/^from=offset needs one partition/);
    expect((await get('from=tomorrow')).json.error).toMatch(
      /^from must be start, end, timestamp, after or before/,
    );
    expect((await get('limit=501')).json.error).toBe('limit must be between 1 and 500, got 501');
    expect((await get('from=timestamp&timestamp=noon')).status).toBe(400);
    expect((await get('from=after&cursor=1:4,1:5')).json.error).toBe('cursor names partition 1 twice');
    expect(await call('GET', '/api/topics/nope/records')).toMatchObject({
      status: 404,
      json: { errorCode: 'UNKNOWN_TOPIC_OR_PARTITION' },
    });
  });

  it('marks aborted and open transactional records, and shows control records only when asked', async () => {
    await k.createTopic('tx', { partitions: 1 });
    const client = kafka();
    const producer = client.producer({
      transactionalId: 'console-tx',
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await producer.connect();
    let txn = await producer.transaction();
    await txn.send({ topic: 'tx', messages: [{ value: 'kept' }] });
    await txn.commit();
    txn = await producer.transaction();
    await txn.send({ topic: 'tx', messages: [{ value: 'dropped-1' }, { value: 'dropped-2' }] });
    await txn.abort();
    txn = await producer.transaction();
    await txn.send({ topic: 'tx', messages: [{ value: 'open' }] });

    let r = await call('GET', '/api/topics/tx/partitions/0/records?from=start');
    const rows = r.json.records.map((x: { value: { data: string }; aborted: boolean; pending: boolean }) => [
      x.value.data,
      x.aborted,
      x.pending,
    ]);
    expect(rows).toEqual([
      ['kept', false, false],
      ['dropped-1', true, false],
      ['dropped-2', true, false],
      ['open', false, true],
    ]);
    r = await call('GET', '/api/topics/tx/partitions/0/records?from=start&control=true');
    expect(r.json.records.map((x: { control: string | null }) => x.control)).toEqual([
      null,
      'COMMIT',
      null,
      null,
      'ABORT',
      null,
    ]);

    // The transactions page: the open transaction with its partition, and the producer.
    r = await call('GET', '/api/transactions');
    // (Other tests' transactional producers are there too: look at this one's.)
    r.json.transactions = r.json.transactions.filter(
      (x: { transactionalId: string }) => x.transactionalId === 'console-tx',
    );
    r.json.producers = r.json.producers.filter((x: { topic: string }) => x.topic === 'tx');
    expect(r.json.transactions).toEqual([
      expect.objectContaining({
        transactionalId: 'console-tx',
        state: 'Ongoing',
        partitions: [{ topic: 'tx', partition: 0 }],
      }),
    ]);
    expect(r.json.transactions[0].ageMs).toBeGreaterThanOrEqual(0);
    expect(r.json.producers).toEqual([
      expect.objectContaining({ topic: 'tx', partition: 0, currentTxnStartOffset: 5 }),
    ]);
    await txn.abort();
    await producer.disconnect();
  });

  it('shows bytes as JSON, text or hex and cuts long fields', () => {
    expect(showBytes(Buffer.from('[1, 2]'))).toMatchObject({ format: 'json' });
    expect(showBytes(Buffer.from('{not json'))).toMatchObject({ format: 'text' });
    expect(showBytes(Buffer.from('tab\tand\nnewline'))).toMatchObject({ format: 'text' });
    expect(showBytes(Buffer.from([0xc3, 0x28]))).toMatchObject({ format: 'hex', data: 'c328' });
    expect(showBytes(Buffer.from('bell\u0007'))).toMatchObject({ format: 'hex' });
    const long = showBytes(Buffer.from('é'.repeat(MAX_FIELD_BYTES)))!;
    expect(long).toMatchObject({ format: 'text', truncated: true, size: 2 * MAX_FIELD_BYTES });
    expect(long.data.length).toBe(MAX_FIELD_BYTES / 2);
    expect(showBytes(null)).toBeNull();
  });
});

describe('consumer groups', () => {
  it('refuses to reset or delete a group with members, as Kafka; resets and deletes it once empty', async () => {
    await k.createTopic('g-topic', { partitions: 2 });
    const client = kafka();
    const producer = client.producer();
    await producer.connect();
    await producer.send({
      topic: 'g-topic',
      messages: Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, value: `m${i}` })),
    });
    await producer.disconnect();
    const consumer = client.consumer({ groupId: 'g1', sessionTimeout: 6000, heartbeatInterval: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'g-topic', fromBeginning: true });
    let seen = 0;
    await consumer.run({
      eachMessage: async () => {
        seen++;
      },
    });
    const lagOf = async () => (await call('GET', '/api/groups/g1')).json;
    let g = await lagOf();
    await until(
      async () => {
        g = await lagOf();
        return g.state === 'Stable' && g.lag?.length === 2 && g.totalLag === 0;
      },
      20_000,
      () => `g1 stable with no lag: ${JSON.stringify(g)}`,
      100,
    );
    expect(seen).toBe(10);
    expect(g).toMatchObject({ state: 'Stable', totalLag: 0 });

    let r = await call('POST', '/api/groups/g1/reset-offsets', { to: 'earliest' });
    expect(r).toMatchObject({
      status: 409,
      json: {
        error:
          "Assignments can only be reset if the group 'g1' is inactive, but the current state is Stable.",
      },
    });
    r = await call('DELETE', '/api/groups/g1');
    expect(r).toMatchObject({
      status: 409,
      json: { errorCode: 'NON_EMPTY_GROUP', error: 'The group is not empty.' },
    });
    await consumer.disconnect();

    r = await call('POST', '/api/groups/g1/reset-offsets', { to: 'sometime' });
    expect(r.status).toBe(400);
    r = await call('POST', '/api/groups/g1/reset-offsets', { to: 'timestamp', timestamp: 'noon' });
    expect(r.status).toBe(400);
    r = await call('POST', '/api/groups/g1/reset-offsets', { to: 'earliest' });
    expect(r.status).toBe(200);
    expect(r.json.offsets).toEqual([
      { topic: 'g-topic', partition: 0, offset: 0 },
      { topic: 'g-topic', partition: 1, offset: 0 },
    ]);
    g = await lagOf();
    expect(g).toMatchObject({ state: 'Empty', totalLag: 10 });
    r = await call('POST', '/api/groups/g1/reset-offsets', { to: 'offset', offset: 3, topic: 'g-topic' });
    expect(r.json.offsets.map((o: { offset: number }) => o.offset)).toEqual([3, 3]);
    r = await call('POST', '/api/groups/g1/reset-offsets', { to: 'offset', offset: 99 });
    expect(r.json.offsets.map((o: { offset: number }) => o.offset)).toEqual([5, 5]); // clamped to the end
    r = await call('POST', '/api/groups/g1/reset-offsets', {
      to: 'timestamp',
      timestamp: Date.now() + 60_000,
    });
    expect(r.json.offsets.map((o: { offset: number }) => o.offset)).toEqual([5, 5]);
    r = await call('POST', '/api/groups/g1/reset-offsets', { to: 'latest', topic: 'nope' });
    expect(r.status).toBe(404);

    r = await call('DELETE', '/api/groups/g1');
    expect(r).toMatchObject({ status: 200, json: { deleted: 'g1' } });
    r = await call('DELETE', '/api/groups/g1');
    expect(r).toMatchObject({ status: 404, json: { errorCode: 'GROUP_ID_NOT_FOUND' } });
  });
});

describe('overview and the page itself', () => {
  it('reports cluster totals and samples of the /metrics counters', async () => {
    const r = await call('GET', '/api/overview');
    expect(r.json).toMatchObject({ controllerId: 1, brokers: [{ nodeId: 1 }], sampleIntervalMs: 2000 });
    expect(r.json.samples.length).toBeGreaterThanOrEqual(1);
    expect(r.json.now.messagesIn).toBe(k.broker.metrics.totals.messagesIn);
    // Messages out: what the earlier tests' kafkajs consumers fetched, the same total /metrics exports.
    expect(r.json.now.messagesOut).toBeGreaterThan(0);
    expect(r.json.now.messagesOut).toBe(k.broker.metrics.totals.messagesOut);
    expect(await k.metrics()).toContain(
      `kbroker_server_brokertopicmetrics_messagesout_total ${k.broker.metrics.totals.messagesOut}`,
    );
    expect(r.json.now.bytesOnDisk).toBeGreaterThan(0);
    expect(r.json.partitions).toBe(k.broker.metadata.topics().reduce((n, t) => n + t.partitions.length, 0));
  });

  it('serves the console with a CSP that allows only its own origin', async () => {
    expect(k.consoleUrl).toBe(`${base}/ui/`);
    const res = await fetch(k.consoleUrl!);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    expect(html).not.toMatch(/https?:\/\//);
    expect((await fetch(`${base}/ui/app.js`)).headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${base}/ui/../package.json`)).status).toBe(404);
    expect((await fetch(`${base}/ui/nothing.js`)).status).toBe(404);
    const redirect = await fetch(`${base}/ui`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
  });
});
