// The sendfile path of fetch responses (zero-copy-sender.ts, native/zero-copy.c) over real TCP
// sockets: bytes and file ranges leave in order and byte for byte; a reader that stops makes the
// pool thread give up and the rest go through the event loop; a file cut short closes the
// connection; a closed connection releases what it had queued. Then a kafkajs consumer and kcat
// (librdkafka, CRCs checked) read a broker's topics through it.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net, { type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ZeroCopy, zeroCopy } from '../common/native.js';
import { FileRegion } from '../storage/file-region.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { until } from '../test-support/until.js';
import { ZeroCopySender } from './zero-copy-sender.js';

// npm ci builds the helper on Linux (scripts/build-native.mjs); a missing one must fail here, not skip.
const native = zeroCopy() as ZeroCopy;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zero-copy-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A connected pair: `sending` is the broker's side, `reading` the client's. */
async function socketPair(): Promise<{ sending: Socket; reading: Socket; received: Buffer[] }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const reading = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const sending = await accepted;
  server.close();
  const received: Buffer[] = [];
  reading.on('data', (c: Buffer) => received.push(c));
  return { sending, reading, received };
}

/** Cleanups of the rigs of the test running (afterEach). */
const teardowns: (() => void)[] = [];
afterEach(() => {
  for (const t of teardowns.splice(0)) t();
});

/**
 * A file holding `bytes`, a connected socket pair, and a sender on its broker side whose `fail` is a
 * spy; all closed after the test. `region` makes a range of the file (with its own descriptor).
 */
async function rig(bytes: Buffer) {
  const file = path.join(dir, `f${Math.random()}`);
  fs.writeFileSync(file, bytes);
  const fd = fs.openSync(file, 'r');
  const { sending, reading, received } = await socketPair();
  const fail = vi.fn();
  const sender = new ZeroCopySender(sending, native, { uncork: () => {}, fail });
  teardowns.push(() => {
    sender.close();
    reading.destroy();
    sending.destroy();
    fs.closeSync(fd);
  });
  const region = (position: number, length: number) => new FileRegion(native.dup(fd), position, length, 0, 0);
  return { sending, reading, received, fail, sender, region };
}

function total(chunks: Buffer[]): number {
  return chunks.reduce((n, c) => n + c.length, 0);
}

describe('ZeroCopySender', () => {
  it('the native helper is built (npm ci on Linux)', () => {
    expect(process.platform).toBe('linux');
    expect(native).not.toBeNull();
  });

  it('sends bytes and file ranges in order, byte for byte, and releases the ranges', async () => {
    const data = randomBytes(3 * 1024 * 1024);
    const { received, fail, sender, region } = await rig(data);
    const head = Buffer.from('head');
    const mid = randomBytes(5000);
    const a = region(0, 1024 * 1024);
    const b = region(1024 * 1024 + 5, 2 * 1024 * 1024 - 5);
    const tail = Buffer.from('after: bytes only, queued behind the ranges');
    await sender.send([head, a, mid, b]);
    await sender.send([tail]);
    const expected = Buffer.concat([
      head,
      data.subarray(0, 1024 * 1024),
      mid,
      data.subarray(1024 * 1024 + 5),
      tail,
    ]);
    await until(() => total(received) >= expected.length, 10_000);
    expect(Buffer.concat(received).equals(expected)).toBe(true);
    expect(a.released && b.released).toBe(true);
    expect(fail).not.toHaveBeenCalled();
  });

  it('a reader that stops: the pool thread gives up and the rest goes through the event loop, in order', async () => {
    const size = 32 * 1024 * 1024; // far more than loopback socket buffers hold
    const data = randomBytes(size);
    const { sending, reading, received, fail, sender, region } = await rig(data);
    reading.pause();
    const r = region(0, size);
    const after = Buffer.from('next response');
    await sender.send([Buffer.from('h'), r]);
    await sender.send([after]);
    // The native send stops after STALL_MS without progress; the rest was read into a buffer.
    await until(() => r.released, 10_000);
    expect(sending.writableLength).toBeGreaterThan(0);
    reading.resume();
    await until(() => total(received) >= size + 1 + after.length, 20_000);
    expect(Buffer.concat(received).equals(Buffer.concat([Buffer.from('h'), data, after]))).toBe(true);
    expect(fail).not.toHaveBeenCalled();
  });

  it('a file that ends before its range (truncated meanwhile) closes the connection', async () => {
    const { fail, sender, region } = await rig(randomBytes(100_000));
    const r = region(0, 200_000);
    await sender.send([Buffer.from('h'), r]);
    await until(() => fail.mock.calls.length > 0, 10_000);
    expect(fail.mock.calls[0]![0]).toMatch(/truncated/);
    expect(r.released).toBe(true);
  });

  it('a range the helper refuses closes the connection, releases it, and rejects nothing', async () => {
    const { fail, sender, region } = await rig(randomBytes(1000));
    const bad = region(-1, 10); // a negative position: refused
    await sender.send([Buffer.from('h'), bad]);
    await until(() => fail.mock.calls.length > 0, 10_000);
    expect(fail.mock.calls[0]![0]).toMatch(/sending a response failed: a file part needs/);
    expect(bad.released).toBe(true);
  });

  it('closing releases the queued ranges; a send after the close only releases', async () => {
    const { reading, sender, region } = await rig(randomBytes(64 * 1024 * 1024));
    reading.pause();
    const first = region(0, 64 * 1024 * 1024);
    const queued = region(0, 1000);
    await sender.send([first]);
    await sender.send([queued]);
    sender.close();
    expect(queued.released).toBe(true);
    const late = region(0, 10);
    await sender.send([late]);
    expect(late.released).toBe(true);
    await until(() => first.released, 10_000);
  });
});

describe('fetches with sendfile', () => {
  let tb: TestBroker;
  beforeAll(async () => {
    tb = await startTestBroker({
      'num.partitions': '2',
      'group.initial.rebalance.delay.ms': '0',
      'socket.sendfile.enable': 'true',
    });
  });
  afterAll(async () => {
    await tb.close();
  });

  it('a kafkajs consumer reads every value byte-identical, in order, from responses sent with sendfile', async () => {
    const sends = vi.spyOn(native, 'sendParts');
    const kafka = new Kafka({ brokers: [tb.bootstrap], clientId: 'zero-copy', logLevel: logLevel.NOTHING });
    const topic = 'zero-copy';
    const values = Array.from({ length: 60 }, () => randomBytes(50 * 1024));
    const producer = kafka.producer();
    await producer.connect();
    for (let i = 0; i < values.length; i += 3) {
      await producer.send({
        topic,
        messages: [0, 1, 2].map((k) => ({
          partition: (i / 3) % 2,
          key: String(i + k),
          value: values[i + k]!,
        })),
      });
    }
    await producer.disconnect();
    const consumer = kafka.consumer({
      groupId: 'zc',
      maxBytesPerPartition: 200 * 1024,
      maxWaitTimeInMs: 100,
    });
    const seen: number[][] = [[], []];
    let mismatches = 0;
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const i = Number(message.key!.toString());
        if (!message.value!.equals(values[i]!)) mismatches++;
        seen[partition]!.push(i);
      },
    });
    try {
      await until(() => seen[0]!.length + seen[1]!.length >= values.length, 20_000);
    } finally {
      await consumer.disconnect();
    }
    expect(mismatches).toBe(0);
    const expected = (p: number) => values.map((_, i) => i).filter((i) => Math.floor(i / 3) % 2 === p);
    expect(seen[0]).toEqual(expected(0));
    expect(seen[1]).toEqual(expected(1));
    expect(sends).toHaveBeenCalled();
    sends.mockRestore();
  }, 30_000);

  it('kcat (librdkafka) reads 20,000 numbered records from two partitions, each once, in order, through sendfile', async () => {
    const sends = vi.spyOn(native, 'sendParts');
    const run = promisify(execFile);
    const topic = 'zero-copy-kcat';
    const lines = Array.from({ length: 20_000 }, (_, i) => `${i}:${'v'.repeat(200)}`);
    for (const p of [0, 1]) {
      const producer = run('kcat', ['-b', tb.bootstrap, '-P', '-t', topic, '-p', String(p)], {
        timeout: 30_000,
      });
      producer.child.stdin!.end(`${lines.filter((_, i) => i % 2 === p).join('\n')}\n`);
      await producer;
    }
    for (const p of [0, 1]) {
      const consumed = await run(
        'kcat',
        [
          '-b',
          tb.bootstrap,
          '-C',
          '-t',
          topic,
          '-p',
          String(p),
          '-o',
          'beginning',
          '-e',
          '-q',
          '-X',
          'check.crcs=true',
        ],
        { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 },
      );
      expect(consumed.stdout).toBe(`${lines.filter((_, i) => i % 2 === p).join('\n')}\n`);
    }
    expect(sends).toHaveBeenCalled();
    sends.mockRestore();
  }, 60_000);
});
