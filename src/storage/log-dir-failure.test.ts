import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkSimulatedIoFault,
  clearSimulatedIoFaults,
  isLogDirFailure,
  isLogDirFull,
  KafkaStorageError,
  LogDirFailureChannel,
  simulateIoFault,
} from './log-dir-failure.js';
import { LogManager } from './log-manager.js';
import { newTopicId } from './partition-metadata.js';
import { batch, ManualClock, testConfig, tmpDir } from './test-helpers.js';

const errno = (code: string, syscall = 'write') => Object.assign(new Error(code), { code, syscall });

afterEach(() => clearSimulatedIoFaults());

describe('log dir failure classification', () => {
  it('a failing disk, a full one, and errors that are neither', () => {
    for (const code of ['EIO', 'EACCES', 'EPERM', 'EROFS']) expect(isLogDirFailure(errno(code))).toBe(true);
    expect(isLogDirFailure(errno('ENOSPC'))).toBe(false);
    expect(isLogDirFull(errno('ENOSPC'))).toBe(true);
    expect(isLogDirFull(errno('EDQUOT'))).toBe(true);
    // A file retention just removed, a closed handle, a non-system error: not the directory's fault.
    expect(isLogDirFailure(errno('ENOENT', 'open'))).toBe(false);
    expect(isLogDirFailure(errno('EBADF', 'read'))).toBe(false);
    expect(isLogDirFailure(Object.assign(new Error('x'), { code: 'EIO' }))).toBe(false); // no syscall
  });

  it('the channel tells its listeners once per directory', () => {
    const channel = new LogDirFailureChannel(() => 42);
    const heard: string[] = [];
    channel.listen({
      offline: (d) => heard.push(`offline ${d}`),
      full: (d) => heard.push(`full ${d}`),
      notFull: (d) => heard.push(`ok ${d}`),
    });
    const s = channel.state('/x/a');
    s.failed('append', errno('ENOSPC'));
    s.failed('append', errno('ENOSPC'));
    s.written();
    s.written();
    s.failed('append', errno('EIO'));
    s.failed('read', errno('EIO'));
    expect(heard).toEqual(['full /x/a', 'ok /x/a', 'offline /x/a']);
    expect(channel.offlineLogDirs()).toEqual(['/x/a']);
    expect(s.offline).toMatchObject({ reason: 'append', at: 42 });
    expect(() => s.checkOnline('read t-0')).toThrow(KafkaStorageError);
    expect(channel.isOffline('/x/b')).toBe(false);
  });

  it('simulated faults hit only their directory and operations', () => {
    simulateIoFault('/data/b', 'EIO', ['write']);
    expect(() => checkSimulatedIoFault('/data/b/t-0/0.log', 'write')).toThrow(/EIO/);
    expect(() => checkSimulatedIoFault('/data/b/t-0/0.log', 'read')).not.toThrow();
    expect(() => checkSimulatedIoFault('/data/bb/t-0/0.log', 'write')).not.toThrow();
    try {
      checkSimulatedIoFault('/data/b/t-0/0.log', 'write');
    } catch (err) {
      expect(isLogDirFailure(err)).toBe(true);
    }
    clearSimulatedIoFaults('/data/b');
    expect(() => checkSimulatedIoFault('/data/b/t-0/0.log', 'write')).not.toThrow();
  });
});

describe('LogManager over several log.dirs', () => {
  const open = (dirs: string[]) =>
    LogManager.open({
      logDirs: dirs.join(','),
      nodeId: 1,
      defaultConfig: testConfig(),
      clock: new ManualClock(),
    });

  it('places new partitions in the directory holding the fewest, finds them there again, checkpoints each directory', () => {
    const a = tmpDir();
    const b = tmpDir();
    const m = open([a, b]);
    const id = newTopicId();
    const logs = [0, 1, 2, 3].map((p) => m.getOrCreateLog('t', p, id, testConfig()));
    expect(logs.map((l) => path.dirname(l.dir))).toEqual([a, b, a, b]);
    logs[1]!.appendAsLeader(batch(1), 0);
    m.close();
    // Each directory has its own meta.properties (one cluster), marker and checkpoints with its own partitions.
    for (const d of [a, b]) expect(fs.existsSync(path.join(d, '.kafka_cleanshutdown'))).toBe(true);
    expect(fs.readFileSync(path.join(b, 'recovery-point-offset-checkpoint'), 'utf8')).toContain('t 1 1');
    expect(fs.readFileSync(path.join(a, 'recovery-point-offset-checkpoint'), 'utf8')).not.toContain('t 1 ');
    const again = open([a, b]);
    expect(again.clusterId).toBe(m.clusterId);
    expect(again.hadCleanShutdown).toBe(true);
    const reopened = again.getOrCreateLog('t', 1, id, testConfig());
    expect(path.dirname(reopened.dir)).toBe(b);
    expect(reopened.logEndOffset).toBe(1);
    again.close();
  });

  it('a directory that fails: its logs are let go and refuse work, new partitions go elsewhere, no clean marker for it', () => {
    const a = tmpDir();
    const b = tmpDir();
    const m = open([a, b]);
    const id = newTopicId();
    const [onA, onB] = [0, 1].map((p) => m.getOrCreateLog('t', p, id, testConfig()));
    simulateIoFault(b, 'EIO', ['write']);
    expect(() => onB!.appendAsLeader(batch(1), 0)).toThrow(/EIO/);
    expect(m.failureChannel.offlineLogDirs()).toEqual([b]);
    expect(m.allLogs()).toEqual([onA]);
    clearSimulatedIoFaults();
    expect(() => onB!.read(0, 100, true)).toThrow(KafkaStorageError);
    expect(onB!.applyRetention()).toBe(0); // background passes skip it quietly
    expect(onA!.appendAsLeader(batch(1), 0).baseOffset).toBe(0);
    expect(path.dirname(m.getOrCreateLog('u', 0, newTopicId(), testConfig()).dir)).toBe(a);
    expect(() => m.getOrCreateLog('t', 1, id, testConfig())).toThrow(KafkaStorageError);
    m.close();
    expect(fs.existsSync(path.join(a, '.kafka_cleanshutdown'))).toBe(true);
    expect(fs.existsSync(path.join(b, '.kafka_cleanshutdown'))).toBe(false);
  });
});
