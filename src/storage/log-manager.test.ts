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
});
