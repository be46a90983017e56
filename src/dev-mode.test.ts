import { existsSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseStartArgs } from './cli.js';
import { DEV_MODE_CONFIG, describeMode } from './dev-mode.js';

describe('kbroker start --dev', () => {
  it('applies dev settings with a temporary data dir', () => {
    const a = parseStartArgs(['--dev', '--port', '0'], {});
    try {
      expect(a.dev).toBe(true);
      for (const [k, v] of Object.entries(DEV_MODE_CONFIG)) expect(a.config.string(k)).toBe(v);
      expect(a.temporaryDataDir).toBeDefined();
      expect(a.config.logDir).toBe(a.temporaryDataDir);
      expect(existsSync(a.temporaryDataDir!)).toBe(true);
    } finally {
      rmSync(a.temporaryDataDir!, { recursive: true, force: true });
    }
  });

  it('lets the environment, --override and --data-dir win over dev settings', () => {
    const a = parseStartArgs(
      ['--dev', '--override', 'group.min.session.timeout.ms=2500', '--data-dir', '/tmp/kept-dir'],
      { KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '100' },
    );
    expect(a.config.int('group.initial.rebalance.delay.ms')).toBe(100);
    expect(a.config.int('group.min.session.timeout.ms')).toBe(2500);
    expect(a.config.int('offsets.topic.num.partitions')).toBe(1);
    expect(a.temporaryDataDir).toBeUndefined();
    expect(a.config.logDir).toBe('/tmp/kept-dir');
  });

  it('leaves Kafka defaults alone without --dev, and parses --http-port', () => {
    const a = parseStartArgs(['--http-port', '8080'], {});
    expect(a.dev).toBe(false);
    expect(a.httpPort).toBe(8080);
    expect(a.config.int('group.initial.rebalance.delay.ms')).toBe(3000);
    expect(a.config.int('group.min.session.timeout.ms')).toBe(6000);
    expect(() => parseStartArgs(['--http-port', 'eighty'], {})).toThrow(/--http-port/);
  });

  it('starts the admin listener (and console) on 8080 under --dev, on 127.0.0.1 unless told otherwise', () => {
    const a = parseStartArgs(['--dev', '--data-dir', '/tmp/kept-dir'], {});
    expect(a).toMatchObject({ httpPort: 8080, httpPortIsDefault: true, httpHost: '127.0.0.1' });
    const b = parseStartArgs(
      ['--dev', '--data-dir', '/tmp/kept-dir', '--http-port', '9000', '--http-host', '::1'],
      {},
    );
    expect(b).toMatchObject({ httpPort: 9000, httpPortIsDefault: false, httpHost: '::1' });
    // An explicit Kafka listener host (the Docker image's 0.0.0.0) is followed.
    const c = parseStartArgs(['--http-port', '0'], { KAFKA_LISTENERS: 'PLAINTEXT://0.0.0.0:9092' });
    expect(c.httpHost).toBe('0.0.0.0');
    expect(parseStartArgs([], {})).toMatchObject({ httpPort: undefined, httpHost: '127.0.0.1' });
    expect(() => parseStartArgs(['--http-host', ''], {})).toThrow(/--http-host/);
  });

  it('describes the mode in one line', () => {
    expect(describeMode(true, '/tmp/x', true)).toMatch(
      /^dev mode \(group\.initial\.rebalance\.delay\.ms=0 .*\), temporary data in \/tmp\/x, removed on exit$/,
    );
    expect(describeMode(false, '/data', false)).toBe("Kafka's defaults (no --dev), data in /data");
  });
});
