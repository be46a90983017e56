import { describe, expect, it } from 'vitest';
import { startBroker } from '../index.js';
import { createLogger } from './logger.js';

function capture(level: Parameters<typeof createLogger>[0]) {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger(level, (line) => lines.push(JSON.parse(line)));
  return { log, lines };
}

describe('createLogger (pino)', () => {
  it('writes one JSON line per event with level, time, message and fields', () => {
    const { log, lines } = capture('info');
    log.debug('hidden');
    log.info('topic created', { topic: 'a', partitions: 3 });
    log.warn('careful');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 'info',
      name: 'kbroker',
      msg: 'topic created',
      topic: 'a',
      partitions: 3,
    });
    expect(typeof lines[0]!.time).toBe('string');
    expect(lines[1]).toMatchObject({ level: 'warn', msg: 'careful' });
  });

  it('serializes errors with their stack, and non-errors as messages', () => {
    const { log, lines } = capture('error');
    log.error('append failed', new Error('disk full'), { topic: 't' });
    log.error('odd', 'just a string');
    expect(lines[0]).toMatchObject({
      level: 'error',
      msg: 'append failed',
      topic: 't',
      err: { message: 'disk full' },
    });
    expect(String((lines[0]!.err as { stack: string }).stack)).toContain('disk full');
    expect(lines[1]).toMatchObject({ err: { message: 'just a string' } });
  });

  it('is silent at level silent', () => {
    const { log, lines } = capture('silent');
    log.error('x', new Error('y'));
    expect(lines).toEqual([]);
  });

  it('logs the listener and each topic created or deleted, and nothing per record', async () => {
    const { log, lines } = capture('info');
    const k = await startBroker({ logger: log });
    try {
      await k.createTopic('one', { partitions: 2 });
      const { Kafka, logLevel } = await import('kafkajs');
      const producer = new Kafka({ brokers: k.brokers, logLevel: logLevel.NOTHING }).producer();
      await producer.connect();
      for (let i = 0; i < 20; i++)
        await producer.send({ topic: 'one', messages: [{ value: `v${i}` }, { value: 'w' }] });
      await producer.disconnect();
      await k.reset();
    } finally {
      await k.close();
    }
    const msgs = lines.map((l) => String(l.msg));
    expect(msgs.filter((m) => /^listener PLAINTEXT bound to /.test(m))).toHaveLength(1);
    expect(msgs.filter((m) => /^created topic one /.test(m))).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'deleted topic one' && l.topic === 'one')).toHaveLength(1);
    expect(lines.length).toBeLessThan(15); // 40 records, 20 requests: no line for either
  });
});
