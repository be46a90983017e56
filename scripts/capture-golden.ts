/**
 * Records real clients' request frames as golden bytes for the codec tests.
 *
 * Starts a broker in-process, puts a recording TCP proxy in front of it, runs each client's
 * scenario through the proxy, and writes the first frame seen per (client, api, version) to
 * src/protocol/golden/<client>/<ApiName>-v<N>.hex. Usage: tsx scripts/capture-golden.ts
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { requestSpecs } from '../src/protocol/generated/messages.js';
import { startTestBroker } from '../src/test-support/broker.js';

const outRoot = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'protocol', 'golden');

const PYTHON_SCENARIO = `
import sys
from confluent_kafka import Producer, Consumer, TopicPartition
b = sys.argv[1]
p = Producer({'bootstrap.servers': b, 'compression.type': 'lz4'})
p.produce('golden', key=b'k', value=b'v', headers=[('h', b'x')])
p.flush(10)
c = Consumer({'bootstrap.servers': b, 'group.id': 'unused', 'enable.auto.commit': False})
c.assign([TopicPartition('golden', 0, 0)])
c.poll(2)
c.get_watermark_offsets(TopicPartition('golden', 0), timeout=5)
c.close()
`;

async function main() {
  let client = 'none';
  let brokerPort = 0;
  const seen = new Set<string>();
  const proxy = createServer((down) => {
    const up = connect({ port: brokerPort, host: '127.0.0.1' });
    let buf = Buffer.alloc(0);
    down.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const frame = buf.subarray(4, 4 + buf.readInt32BE(0));
        buf = buf.subarray(4 + frame.length);
        const api = requestSpecs.get(frame.readInt16BE(0))?.name.replace(/Request$/, '') ?? 'Unknown';
        const key = `${client}/${api}-v${frame.readInt16BE(2)}`;
        if (!seen.has(key)) {
          seen.add(key);
          mkdirSync(join(outRoot, client), { recursive: true });
          writeFileSync(join(outRoot, `${key}.hex`), `${frame.toString('hex')}\n`);
        }
      }
      up.write(chunk);
    });
    up.on('data', (c) => down.write(c));
    up.on('close', () => down.destroy());
    down.on('close', () => up.destroy());
    up.on('error', () => down.destroy());
    down.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const addr = proxy.address();
  const proxyPort = typeof addr === 'object' && addr ? addr.port : 0;
  const bootstrap = `127.0.0.1:${proxyPort}`;
  // Clients must reach the broker only through the proxy, so it is what Metadata advertises.
  const tb = await startTestBroker({
    'num.partitions': '1',
    'advertised.listeners': `PLAINTEXT://${bootstrap}`,
  });
  brokerPort = tb.port;

  client = 'kafkajs-2.2.4';
  const kafka = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: 'golden',
    compression: CompressionTypes.GZIP,
    messages: [{ key: 'k', value: 'v', headers: { h: 'x' } }],
  });
  await producer.send({ topic: 'golden', acks: 1, messages: [{ value: 'plain' }] });
  await producer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.fetchTopicOffsets('golden');
  await admin.fetchTopicOffsetsByTimestamp('golden', Date.now() - 60_000);
  await admin.disconnect();

  client = 'librdkafka-kcat';
  // The broker and the proxy run in this process: the clients must run asynchronously.
  const run = promisify(execFile);
  const kcat = async (args: string[], input?: string) => {
    const p = run('kcat', ['-b', bootstrap, ...args], { timeout: 20_000 });
    if (input !== undefined) p.child.stdin!.end(input);
    await p;
  };
  await kcat(['-P', '-t', 'golden', '-z', 'snappy', '-K:', '-H', 'h=v'], 'k1:v1\nk2:v2\n');
  await kcat(['-C', '-t', 'golden', '-o', 'beginning', '-e', '-q']);
  await kcat(['-L']);
  await kcat(['-Q', '-t', `golden:0:${Date.now() - 60_000}`]);

  client = 'confluent-kafka-python-debian';
  await run('/usr/bin/python3', ['-c', PYTHON_SCENARIO, bootstrap], { timeout: 30_000 });

  proxy.close();
  await tb.close();
  console.log(`captured ${seen.size} request frames:\n${[...seen].sort().join('\n')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
