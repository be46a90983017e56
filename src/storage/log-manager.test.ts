import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LogManager } from './log-manager.js';
import { batch, ManualClock, testConfig, tmpDir } from './test-helpers.js';

const openMgr = (dir: string) =>
  LogManager.open({
    logDirs: `${dir},/ignored`,
    nodeId: 1,
    defaultConfig: testConfig(),
    clock: new ManualClock(),
  });

describe('LogManager', () => {
  it('creates meta.properties once and keeps cluster.id stable', () => {
    const dir = tmpDir();
    const m = openMgr(dir);
    const meta = fs.readFileSync(path.join(dir, 'meta.properties'), 'utf8');
    expect(meta).toMatch(/^version=1$/m);
    expect(meta).toMatch(/^node\.id=1$/m);
    m.close();
    expect(openMgr(dir).clusterId).toBe(m.clusterId);
    expect(() => LogManager.open({ logDirs: dir, nodeId: 2 })).toThrow(/node.id/);
  });

  it('creates topics with partition.metadata and reopens them with data, checkpoints and clean marker', () => {
    const dir = tmpDir();
    const m = openMgr(dir);
    expect(m.hadCleanShutdown).toBe(false);
    const t = m.createTopic('orders', 2, { 'retention.ms': '1000' });
    expect(fs.readFileSync(path.join(dir, 'orders-1', 'partition.metadata'), 'utf8')).toBe(
      `version: 0\ntopic_id: ${t.topicId}`,
    );
    const log = m.getLog('orders', 0)!;
    expect(log.config.retentionMs).toBe(1000);
    log.appendAsLeader(batch(3), 0);
    log.updateHighWatermark(3);
    expect(() => m.createTopic('orders', 1)).toThrow();
    m.close();
    expect(fs.existsSync(path.join(dir, '.kafka_cleanshutdown'))).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'replication-offset-checkpoint'), 'utf8')).toBe(
      '0\n2\norders 0 3\norders 1 0\n',
    );

    const m2 = openMgr(dir);
    expect(m2.hadCleanShutdown).toBe(true);
    expect(fs.existsSync(path.join(dir, '.kafka_cleanshutdown'))).toBe(false);
    expect(m2.topics()).toEqual([
      { name: 'orders', topicId: t.topicId, partitions: 2, configs: { 'retention.ms': '1000' } },
    ]);
    expect(m2.getLog('orders', 0)!.logEndOffset).toBe(3);
    expect(m2.getLog('orders', 0)!.highWatermark).toBe(3);
    m2.addPartitions('orders', 3);
    expect(m2.getLog('orders', 2)!.logEndOffset).toBe(0);
    m2.deleteTopic('orders');
    expect(fs.existsSync(path.join(dir, 'orders-0'))).toBe(false);
    expect(m2.topics()).toEqual([]);
    m2.close();
  });

  // Found by scripts/faults/torn-writes.ts: a torn checkpoint stopped the broker from starting.
  it('a torn or garbage log-dir checkpoint is reset with a warning (Kafka LogManager.loadLogs), the data kept', () => {
    const dir = tmpDir();
    const m = openMgr(dir);
    m.createTopic('orders', 1, {});
    m.getLog('orders', 0)!.appendAsLeader(batch(5), 0);
    m.close();
    fs.writeFileSync(path.join(dir, 'recovery-point-offset-checkpoint'), '0\n1\norders 0 \u0000\u00ff');
    fs.truncateSync(path.join(dir, 'log-start-offset-checkpoint'), 4);
    fs.writeFileSync(path.join(dir, 'replication-offset-checkpoint'), Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    fs.rmSync(path.join(dir, '.kafka_cleanshutdown'));
    const warnings: string[] = [];
    const log = { debug() {}, info() {}, error() {}, warn: (msg: string) => warnings.push(msg) };
    const again = LogManager.open({
      logDirs: dir,
      nodeId: 1,
      defaultConfig: testConfig(),
      clock: new ManualClock(),
      log,
    });
    expect(again.getLog('orders', 0)!.logEndOffset).toBe(5);
    expect(again.getLog('orders', 0)!.logStartOffset).toBe(0);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/recovery-point-offset-checkpoint .* resetting the recovery checkpoint to 0/);
    again.close();
  });

  it('grows a topic over directories left by an earlier topic of the same name', () => {
    const dir = tmpDir();
    const m = openMgr(dir);
    const old = m.createTopic('reborn', 2);
    m.getLog('reborn', 1)!.appendAsLeader(batch(4), 0);
    m.close();
    // A deletion cut short after the topics file was written: reborn-1 stays on disk.
    const stray = path.join(tmpDir(), 'reborn-1');
    fs.cpSync(path.join(dir, 'reborn-1'), stray, { recursive: true });
    const m2 = openMgr(dir);
    m2.deleteTopic('reborn');
    fs.cpSync(stray, path.join(dir, 'reborn-1'), { recursive: true });
    const t = m2.createTopic('reborn', 1);
    expect(t.topicId).not.toBe(old.topicId);
    m2.addPartitions('reborn', 2);
    expect(m2.getLog('reborn', 1)!.logEndOffset).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'reborn-1', 'partition.metadata'), 'utf8')).toContain(t.topicId);
    m2.close();
    const m3 = openMgr(dir);
    expect(m3.getLog('reborn', 1)!.logEndOffset).toBe(0);
    m3.close();
  });

  it('persists logStartOffset when records are deleted', () => {
    const dir = tmpDir();
    const m = openMgr(dir);
    m.createTopic('a', 1);
    const log = m.getLog('a', 0)!;
    log.appendAsLeader(batch(5), 0);
    log.updateHighWatermark(5);
    log.deleteRecordsBefore(3);
    expect(fs.readFileSync(path.join(dir, 'log-start-offset-checkpoint'), 'utf8')).toBe('0\n1\na 0 3\n');
    // crash: no close, no clean marker
    const m2 = openMgr(dir);
    expect(m2.getLog('a', 0)!.logStartOffset).toBe(3);
  });

  it('writes the topic registry and the checkpoints a request makes due once per batch', () => {
    const dir = tmpDir();
    const m = openMgr(dir);
    const registry = () => fs.readFileSync(path.join(dir, 'kbroker-topics.json'), 'utf8');
    m.createTopic('keep', 1);
    const before = registry();
    m.batchUpdates(() => {
      for (const name of ['a', 'b', 'c']) m.createTopic(name, 1);
      m.setTopicConfigs('keep', { 'cleanup.policy': 'compact' });
      expect(registry()).toBe(before); // nothing written inside the batch
    });
    expect(JSON.parse(registry()).topics.map((t: { name: string }) => t.name)).toEqual([
      'keep',
      'a',
      'b',
      'c',
    ]);
    expect(m.getLog('keep', 0)!.config.cleanupPolicy).toEqual(['compact']);

    m.batchUpdates(() => {
      m.deleteTopic('a');
      m.deleteTopic('b');
      expect(fs.existsSync(path.join(dir, 'a-0'))).toBe(true); // after the registry is written
      m.createTopic('a', 1); // a name reused in the same batch gets a fresh directory
    });
    expect(fs.existsSync(path.join(dir, 'b-0'))).toBe(false);
    expect(m.topics().map((t) => t.name)).toEqual(['keep', 'c', 'a']);
    expect(JSON.parse(registry()).topics.map((t: { name: string }) => t.name)).toEqual(['keep', 'c', 'a']);
    expect(fs.readFileSync(path.join(dir, 'log-start-offset-checkpoint'), 'utf8')).not.toMatch(/^b /m);
  });

  it('new broker defaults reach every log without rewriting the registry', () => {
    const dir = tmpDir();
    const m = openMgr(dir);
    m.createTopic('plain', 1);
    m.createTopic('internal', 1, { 'cleanup.policy': 'compact' });
    const file = path.join(dir, 'kbroker-topics.json');
    fs.utimesSync(file, 1000, 1000); // a mark that any rewrite would change
    const marked = fs.statSync(file).mtimeMs;
    m.setDefaultConfig(testConfig({ cleanupPolicy: ['compact', 'delete'], retentionMs: 5 }));
    expect(fs.statSync(file).mtimeMs).toBe(marked);
    expect(m.getLog('plain', 0)!.config).toMatchObject({
      cleanupPolicy: ['compact', 'delete'],
      retentionMs: 5,
    });
    expect(m.getLog('internal', 0)!.config).toMatchObject({ cleanupPolicy: ['compact'], retentionMs: 5 });
  });

  it('a log start offset moved by retention is checkpointed by the periodic pass and derived again after a crash', () => {
    const dir = tmpDir();
    const m = LogManager.open({
      logDirs: dir,
      nodeId: 1,
      defaultConfig: testConfig({ segmentBytes: batch(1).length, retentionMs: 1000 }),
      clock: new ManualClock(1_700_000_000_000 + 86_400_000),
    });
    m.createTopic('r', 1);
    const log = m.getLog('r', 0)!;
    for (let i = 0; i < 4; i++) log.appendAsLeader(batch(1), 0);
    log.updateHighWatermark(4);
    m.checkpointAll();
    const checkpoint = () => fs.readFileSync(path.join(dir, 'log-start-offset-checkpoint'), 'utf8');
    expect(log.applyRetention()).toBe(4);
    expect(log.logStartOffset).toBe(4);
    expect(checkpoint()).toBe('0\n1\nr 0 0\n'); // not once per partition: at the next pass
    // crash: no close, no checkpoint; the first remaining segment gives the start back
    const m2 = openMgr(dir);
    expect(m2.getLog('r', 0)!.logStartOffset).toBe(4);
    m2.checkpointLogStartOffsets();
    expect(fs.readFileSync(path.join(dir, 'log-start-offset-checkpoint'), 'utf8')).toBe('0\n1\nr 0 4\n');
  });

  it('a DeleteRecords inside a batch is checkpointed once, when the batch ends', () => {
    const dir = tmpDir();
    const m = openMgr(dir);
    m.createTopic('d', 2);
    for (const p of [0, 1]) {
      m.getLog('d', p)!.appendAsLeader(batch(5), 0);
      m.getLog('d', p)!.updateHighWatermark(5);
    }
    m.checkpointAll();
    const checkpoint = () => fs.readFileSync(path.join(dir, 'log-start-offset-checkpoint'), 'utf8');
    m.batchUpdates(() => {
      m.getLog('d', 0)!.deleteRecordsBefore(2);
      m.getLog('d', 1)!.deleteRecordsBefore(3);
      expect(checkpoint()).toBe('0\n2\nd 0 0\nd 1 0\n');
    });
    expect(checkpoint()).toBe('0\n2\nd 0 2\nd 1 3\n');
    const m2 = openMgr(dir); // crash
    expect([m2.getLog('d', 0)!.logStartOffset, m2.getLog('d', 1)!.logStartOffset]).toEqual([2, 3]);
  });
});
