import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { LogManager } from './log-manager.js';
import { newTopicId } from './partition-metadata.js';
import { batch, ManualClock, testConfig, tmpDir } from './test-helpers.js';

const openMgr = (dir: string) =>
  LogManager.open({
    logDirs: dir,
    nodeId: 1,
    defaultConfig: testConfig(),
    clock: new ManualClock(),
  });

/** Opens (or creates) partitions 0..n-1 of a topic, as the replica manager does for the metadata. */
const openTopic = (m: LogManager, name: string, partitions: number, topicId: string, config = testConfig()) =>
  Array.from({ length: partitions }, (_, p) => m.getOrCreateLog(name, p, topicId, config));

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

  it('creates logs with partition.metadata and reopens them with data, checkpoints and clean marker', () => {
    const dir = tmpDir();
    const m = openMgr(dir);
    expect(m.hadCleanShutdown).toBe(false);
    const id = newTopicId();
    openTopic(m, 'orders', 2, id, testConfig({ retentionMs: 1000 }));
    expect(fs.readFileSync(path.join(dir, 'orders-1', 'partition.metadata'), 'utf8')).toBe(
      `version: 0\ntopic_id: ${id}`,
    );
    const log = m.getLog('orders', 0)!;
    expect(log.config.retentionMs).toBe(1000);
    log.appendAsLeader(batch(3), 0);
    log.updateHighWatermark(3);
    expect(m.getOrCreateLog('orders', 0, id, testConfig())).toBe(log); // the open log
    m.close();
    expect(fs.existsSync(path.join(dir, '.kafka_cleanshutdown'))).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'replication-offset-checkpoint'), 'utf8')).toBe(
      '0\n2\norders 0 3\norders 1 0\n',
    );

    const m2 = openMgr(dir);
    expect(m2.hadCleanShutdown).toBe(true);
    expect(fs.existsSync(path.join(dir, '.kafka_cleanshutdown'))).toBe(false);
    expect(m2.getLog('orders', 0)).toBeUndefined(); // opened when the metadata names it
    openTopic(m2, 'orders', 3, id);
    expect(m2.startupComplete()).toEqual([]);
    expect(m2.getLog('orders', 0)!.logEndOffset).toBe(3);
    expect(m2.getLog('orders', 0)!.highWatermark).toBe(3);
    expect(m2.getLog('orders', 2)!.logEndOffset).toBe(0);
    m2.deleteLogs(m2.allLogs());
    expect(fs.existsSync(path.join(dir, 'orders-0'))).toBe(false);
    expect(m2.allLogs()).toEqual([]);
    m2.close();
  });

  // Found by scripts/faults/torn-writes.ts: a torn checkpoint stopped the broker from starting.
  it('a torn or garbage log-dir checkpoint is reset with a warning (Kafka LogManager.loadLogs), the data kept', () => {
    const dir = tmpDir();
    const m = openMgr(dir);
    const id = newTopicId();
    openTopic(m, 'orders', 1, id)[0]!.appendAsLeader(batch(5), 0);
    m.close();
    fs.writeFileSync(path.join(dir, 'recovery-point-offset-checkpoint'), '0\n1\norders 0 \u0000\u00ff');
    fs.truncateSync(path.join(dir, 'log-start-offset-checkpoint'), 4);
    fs.writeFileSync(path.join(dir, 'replication-offset-checkpoint'), Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    fs.rmSync(path.join(dir, '.kafka_cleanshutdown'));
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (msg: string) => warnings.push(msg) };
    const again = LogManager.open({
      logDirs: dir,
      nodeId: 1,
      defaultConfig: testConfig(),
      clock: new ManualClock(),
      log: logger,
    });
    const log = again.getOrCreateLog('orders', 0, id, testConfig());
    expect(log.logEndOffset).toBe(5);
    expect(log.logStartOffset).toBe(0);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/recovery-point-offset-checkpoint .* resetting the recovery checkpoint to 0/);
    again.close();
  });

  it('a directory left by an earlier topic of the same name is a stray: replaced, or deleted at start', () => {
    const dir = tmpDir();
    const m = openMgr(dir);
    const oldId = newTopicId();
    openTopic(m, 'reborn', 2, oldId);
    m.getLog('reborn', 1)!.appendAsLeader(batch(4), 0);
    m.close();
    // A deletion cut short after it was recorded: the directories stay on disk.
    const m2 = openMgr(dir);
    const newId = newTopicId();
    openTopic(m2, 'reborn', 2, newId);
    expect(m2.getLog('reborn', 1)!.logEndOffset).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'reborn-1', 'partition.metadata'), 'utf8')).toContain(newId);
    m2.close();
    const m3 = openMgr(dir);
    openTopic(m3, 'reborn', 1, newId);
    // reborn-1 of the new topic is not in the metadata any more (say): a stray, deleted at start.
    expect(m3.startupComplete()).toEqual(['reborn-1']);
    expect(fs.existsSync(path.join(dir, 'reborn-1'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'reborn-0'))).toBe(true);
    m3.close();
  });

  it('persists logStartOffset when records are deleted', () => {
    const dir = tmpDir();
    const m = openMgr(dir);
    const id = newTopicId();
    openTopic(m, 'a', 1, id);
    const log = m.getLog('a', 0)!;
    log.appendAsLeader(batch(5), 0);
    log.updateHighWatermark(5);
    log.deleteRecordsBefore(3);
    expect(fs.readFileSync(path.join(dir, 'log-start-offset-checkpoint'), 'utf8')).toBe('0\n1\na 0 3\n');
    m.abandon(); // crash: no close, no clean marker (the appends' writes had reached the page cache)
    const m2 = openMgr(dir);
    expect(m2.getOrCreateLog('a', 0, id, testConfig()).logStartOffset).toBe(3);
  });

  it('deleted logs go with one checkpoint rewrite per batch; a name reused in the batch gets a fresh directory', () => {
    const dir = tmpDir();
    const m = openMgr(dir);
    const ids = Object.fromEntries(['keep', 'a', 'b'].map((n) => [n, newTopicId()]));
    for (const n of ['keep', 'a', 'b']) openTopic(m, n, 1, ids[n]!);
    m.checkpointAll();
    const starts = () => fs.readFileSync(path.join(dir, 'log-start-offset-checkpoint'), 'utf8');
    m.batchUpdates(() => {
      m.deleteLogs([m.getLog('a', 0)!, m.getLog('b', 0)!]);
      expect(fs.existsSync(path.join(dir, 'a-0'))).toBe(true); // at the end of the batch
      expect(starts()).toMatch(/^b 0 0$/m);
      openTopic(m, 'a', 1, newTopicId()); // the old a-0 goes first
      m.getLog('a', 0)!.appendAsLeader(batch(2), 0);
    });
    expect(fs.existsSync(path.join(dir, 'b-0'))).toBe(false);
    expect(m.getLog('a', 0)!.logEndOffset).toBe(2);
    expect(fs.existsSync(path.join(dir, 'a-0'))).toBe(true);
    expect(starts()).not.toMatch(/^b /m);
    expect(
      m
        .allLogs()
        .map((l) => l.topic)
        .sort(),
    ).toEqual(['a', 'keep']);
  });

  it('a log start offset moved by retention is checkpointed by the periodic pass and derived again after a crash', () => {
    const dir = tmpDir();
    const m = LogManager.open({
      logDirs: dir,
      nodeId: 1,
      defaultConfig: testConfig({ segmentBytes: batch(1).length, retentionMs: 1000 }),
      clock: new ManualClock(1_700_000_000_000 + 86_400_000),
    });
    const id = newTopicId();
    openTopic(m, 'r', 1, id, testConfig({ segmentBytes: batch(1).length, retentionMs: 1000 }));
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
    expect(m2.getOrCreateLog('r', 0, id, testConfig()).logStartOffset).toBe(4);
    m2.checkpointLogStartOffsets();
    expect(fs.readFileSync(path.join(dir, 'log-start-offset-checkpoint'), 'utf8')).toBe('0\n1\nr 0 4\n');
  });

  it('a DeleteRecords inside a batch is checkpointed once, when the batch ends', () => {
    const dir = tmpDir();
    const m = openMgr(dir);
    const id = newTopicId();
    openTopic(m, 'd', 2, id);
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
    m.abandon(); // crash (the appends' writes had reached the page cache)
    const m2 = openMgr(dir);
    const [d0, d1] = openTopic(m2, 'd', 2, id);
    expect([d0!.logStartOffset, d1!.logStartOffset]).toEqual([2, 3]);
  });

  it("the scheduler's checkpoints are written off the event loop, with the offsets of the call", async () => {
    const dir = tmpDir();
    const m = openMgr(dir);
    const [log] = openTopic(m, 'bg', 1, newTopicId());
    log!.appendAsLeader(batch(4), 0);
    log!.updateHighWatermark(4);
    const hw = () => fs.readFileSync(path.join(dir, 'replication-offset-checkpoint'), 'utf8');
    const fsyncSync = vi.spyOn(fs, 'fsyncSync');
    try {
      const written = m.checkpointHighWatermarksInBackground();
      log!.appendAsLeader(batch(2), 0);
      log!.updateHighWatermark(6); // after the call: the next pass's
      await written;
      // No fsync ran on the loop: they went to libuv's thread pool.
      expect(fsyncSync).not.toHaveBeenCalled();
    } finally {
      fsyncSync.mockRestore();
    }
    expect(hw()).toBe('0\n1\nbg 0 4\n');
    await m.checkpointRecoveryPointsInBackground();
    await m.checkpointLogStartOffsetsInBackground();
    expect(fs.readFileSync(path.join(dir, 'log-start-offset-checkpoint'), 'utf8')).toBe('0\n1\nbg 0 0\n');
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    m.close();
  });

  it('a background checkpoint overtaken by a synchronous write of the same file, or by close, is dropped', async () => {
    const dir = tmpDir();
    const m = openMgr(dir);
    const [log] = openTopic(m, 'd', 1, newTopicId());
    log!.appendAsLeader(batch(5), 0);
    log!.updateHighWatermark(5);
    const lso = () => fs.readFileSync(path.join(dir, 'log-start-offset-checkpoint'), 'utf8');
    // The pass takes log start offset 0; a DeleteRecords (written synchronously) moves it to 3 meanwhile.
    const stale = m.checkpointLogStartOffsetsInBackground();
    m.batchUpdates(() => log!.deleteRecordsBefore(3));
    expect(lso()).toBe('0\n1\nd 0 3\n');
    await stale;
    expect(lso()).toBe('0\n1\nd 0 3\n'); // not renamed back to 0
    // A pass still writing when the manager closes: close's own checkpoint is the one kept.
    const hw = m.checkpointHighWatermarksInBackground();
    log!.appendAsLeader(batch(1), 0);
    log!.updateHighWatermark(6);
    m.close();
    await hw;
    expect(fs.readFileSync(path.join(dir, 'replication-offset-checkpoint'), 'utf8')).toBe('0\n1\nd 0 6\n');
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('backgroundSettled waits for a background checkpoint still running at close (its temp file gone)', async () => {
    const dir = tmpDir();
    const m = openMgr(dir);
    const [log] = openTopic(m, 'c', 1, newTopicId());
    log!.appendAsLeader(batch(2), 0);
    log!.updateHighWatermark(2);
    let done = false;
    void m.checkpointHighWatermarksInBackground().then(() => {
      done = true;
    });
    m.close();
    await m.backgroundSettled();
    expect(done).toBe(true);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    fs.rmSync(dir, { recursive: true }); // nothing is written into it any more
  });

  it('a background pass over a file still being written by the previous one is skipped', async () => {
    const dir = tmpDir();
    const m = openMgr(dir);
    const [log] = openTopic(m, 's', 1, newTopicId());
    log!.appendAsLeader(batch(2), 0);
    log!.updateHighWatermark(2);
    const first = m.checkpointHighWatermarksInBackground();
    log!.updateHighWatermark(1); // (any change the skipped pass would have written)
    const second = m.checkpointHighWatermarksInBackground();
    await Promise.all([first, second]);
    expect(fs.readFileSync(path.join(dir, 'replication-offset-checkpoint'), 'utf8')).toBe('0\n1\ns 0 2\n');
    await m.checkpointHighWatermarksInBackground();
    expect(fs.readFileSync(path.join(dir, 'replication-offset-checkpoint'), 'utf8')).toBe('0\n1\ns 0 1\n');
    m.close();
  });
});
