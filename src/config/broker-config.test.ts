// The config registry as the CLI uses it: a real server.properties, KAFKA_* environment variables
// and --override, their precedence, Kafka keys kbroker does not use, and bad values refused at start
// with a message naming the key.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { main, parseStartArgs } from '../cli.js';
import { startTestBroker } from '../test-support/broker.js';
import { BrokerConfig, ConfigError, ConfigSource, configFromEnv } from './broker-config.js';
import { brokerConfigDefs } from './definitions.js';

const dir = mkdtempSync(join(tmpdir(), 'kbroker-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Lines from Kafka 3.9's config/kraft/server.properties plus kbroker-relevant overrides.
const SERVER_PROPERTIES = `
############################# Server Basics #############################
process.roles=broker,controller
node.id=3
controller.quorum.voters=3@localhost:9093
listeners=PLAINTEXT://127.0.0.1:0
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600
log.dirs=${join(dir, 'data')}
num.partitions=4
num.recovery.threads.per.data.dir=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
log.retention.hours=72
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
`;

function writeProps(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const savedEnv = { ...process.env };
afterEach(() => {
  process.env = { ...savedEnv };
});

describe('broker config definitions', () => {
  it('define each name once (a later definition silently replaced an earlier one)', () => {
    const names = brokerConfigDefs.map((d) => d.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });
});

describe('broker configuration sources', () => {
  it('reads a real server.properties; unused Kafka keys are accepted and listed', () => {
    const { config } = parseStartArgs(['--config', writeProps('server.properties', SERVER_PROPERTIES)]);
    expect(config.nodeId).toBe(3);
    expect(config.int('num.partitions')).toBe(4);
    expect(config.retentionMs).toBe(72 * 3_600_000);
    expect(config.notUsed).toEqual(
      expect.arrayContaining(['process.roles', 'controller.quorum.voters', 'num.network.threads']),
    );
    expect(config.synonyms('log.retention.hours')).toEqual([
      { name: 'log.retention.hours', value: '72', source: ConfigSource.STATIC_BROKER_CONFIG },
      { name: 'log.retention.hours', value: '168', source: ConfigSource.DEFAULT_CONFIG },
    ]);
  });

  it('precedence: file < environment (KAFKA_LOG_RETENTION_MS style) < --override', () => {
    process.env.KAFKA_LOG_RETENTION_MS = '5000';
    process.env.KAFKA_NUM_PARTITIONS = '6';
    process.env.KAFKA_HEAP_OPTS = '-Xmx1G'; // set by Kafka's image; not a config, ignored
    const file = writeProps('p.properties', SERVER_PROPERTIES);
    const { config } = parseStartArgs(['--config', file, '--override', 'num.partitions=8']);
    expect(config.retentionMs).toBe(5000);
    expect(config.int('num.partitions')).toBe(8);
    expect(config.topicConfig()['retention.ms']).toBe('5000');
    expect(configFromEnv({ KAFKA_LOG_RETENTION_MS: '1', KAFKA_HEAP_OPTS: 'x' })).toEqual({
      'log.retention.ms': '1',
    });
  });

  it.each([
    [
      ['--override', 'log.retention.ms=soon'],
      'Invalid value soon for configuration log.retention.ms: Not a number of type LONG',
    ],
    [
      ['--override', 'num.partitions=0'],
      'Invalid value 0 for configuration num.partitions: Value must be at least 1',
    ],
    [
      ['--override', 'log.message.timestamp.type=Now'],
      'configuration log.message.timestamp.type: String must be one of: CreateTime, LogAppendTime',
    ],
    [['--override', 'auto.create.topics.enable=yes'], 'configuration auto.create.topics.enable'],
    [['--override', 'log.cleanup.policy=shred'], 'configuration log.cleanup.policy'],
    [['--override', 'no.such.key=1'], 'Unknown configuration no.such.key'],
    [
      ['--override', 'listener.name.sasl_ssl.scram-sha-512.connections.max.reauth.ms=soon'],
      'configuration listener.name.sasl_ssl.scram-sha-512.connections.max.reauth.ms',
    ],
  ])('refuses %j naming the key', (args, message) => {
    expect(() => parseStartArgs(args)).toThrow(ConfigError);
    expect(() => parseStartArgs(args)).toThrow(message);
  });

  it('refuses a bad value from the environment and from the file, naming the key', () => {
    process.env.KAFKA_LOG_SEGMENT_BYTES = 'big';
    expect(() => parseStartArgs([])).toThrow('Invalid value big for configuration log.segment.bytes');
    delete process.env.KAFKA_LOG_SEGMENT_BYTES;
    const bad = writeProps('bad.properties', 'log.retention.bytes=lots\n');
    expect(() => parseStartArgs(['--config', bad])).toThrow('configuration log.retention.bytes');
  });

  it('`kbroker start` exits 2 with the message on stderr for a bad value', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['start', '--override', 'message.max.bytes=-3'])).toBe(2);
      expect(String(err.mock.calls[0]![0])).toContain(
        'kbroker: Invalid value -3 for configuration message.max.bytes: Value must be at least 0',
      );
    } finally {
      err.mockRestore();
    }
  });

  it('static broker values are the defaults of new topics on a running broker', async () => {
    const tb = await startTestBroker({
      'log.retention.ms': '12345',
      'log.message.timestamp.type': 'LogAppendTime',
    });
    try {
      await tb.broker.controller.createTopic('cfg-defaults', 1);
      expect(tb.broker.replicaManager.topicConfig('cfg-defaults')!['retention.ms']).toBe('12345');
      expect(tb.broker.logManager.getLog('cfg-defaults', 0)!.config).toMatchObject({
        retentionMs: 12345,
        messageTimestampType: 'LogAppendTime',
      });
    } finally {
      await tb.close();
    }
  });

  it('dynamic broker configs validate keys and values and survive a restart', async () => {
    expect(BrokerConfig.validateDynamic({ 'log.retention.hours': '1' })).toBe(
      'Cannot update these configs dynamically: Set(log.retention.hours)',
    );
    expect(BrokerConfig.validateDynamic({ 'log.retention.ms': 'x' })).toMatch(/log.retention.ms/);
    const data = join(dir, 'dyn');
    let tb = await startTestBroker({}, data);
    const [set] = await tb.broker.controller.alterConfigs(
      [{ resourceType: 4, resourceName: '', configs: [{ name: 'log.segment.bytes', value: '2048' }] }],
      false,
    );
    expect(set!.errorCode).toBe(0);
    await tb.close();
    tb = await startTestBroker({}, data);
    try {
      expect(tb.broker.config.dynamicConfigs('default')).toEqual({ 'log.segment.bytes': '2048' });
      await tb.broker.controller.createTopic('after-restart', 1);
      expect(tb.broker.logManager.getLog('after-restart', 0)!.config.segmentBytes).toBe(2048);
    } finally {
      await tb.close();
    }
  });
});
