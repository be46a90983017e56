/**
 * A log directory that fails, as Kafka's LogDirFailureChannel handles it: the first I/O error
 * that says the disk (not this one file) is broken — EIO, EACCES, EPERM, EROFS, ENODEV, ENXIO —
 * takes the whole directory offline. Every partition in it then answers KAFKA_STORAGE_ERROR
 * (the log refuses every further operation without touching its files), the owner is told once
 * (an ERROR log line naming the directory, Kafka's OfflineLogDirectoryCount metric,
 * DescribeLogDirs), and partitions in the other log.dirs keep serving. The directory stays
 * offline until the broker restarts, as in Kafka.
 *
 * A full disk (ENOSPC, EDQUOT) is not a failure here: Kafka takes a full directory offline too
 * (and stops a broker left without one), but a developer's broker does better — the write fails
 * with KAFKA_STORAGE_ERROR, nothing partial is left behind (LogSegment.append truncates), reads
 * go on, and writes resume once space is freed. The directory is only flagged full (a log line
 * and a metric name it) until the next write into it succeeds.
 *
 * Other errors (ENOENT of a segment retention just deleted, EBADF of a closed log) are bugs or
 * races of one partition, not a failing disk: they fail the request and leave the directory be.
 */
import path from 'node:path';
import { KafkaError } from '../protocol/kafka-error.js';

/** errno codes that mean the directory's disk or mount is failing. */
const FAILED_DIR_CODES = new Set(['EIO', 'EACCES', 'EPERM', 'EROFS', 'ENODEV', 'ENXIO']);
/** errno codes that mean the directory's file system is full. */
const FULL_DIR_CODES = new Set(['ENOSPC', 'EDQUOT']);

function errnoCode(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const { code, syscall } = err as NodeJS.ErrnoException;
  return typeof code === 'string' && typeof syscall === 'string' ? code : undefined;
}

/** Whether `err` is a file-system error that takes a log directory offline. */
export function isLogDirFailure(err: unknown): boolean {
  const code = errnoCode(err);
  return code !== undefined && FAILED_DIR_CODES.has(code);
}

/** Whether `err` says the log directory's file system is full. */
export function isLogDirFull(err: unknown): boolean {
  const code = errnoCode(err);
  return code !== undefined && FULL_DIR_CODES.has(code);
}

/** What a partition of an offline log directory answers (Kafka's KafkaStorageException). */
export class KafkaStorageError extends KafkaError {
  override name = 'KafkaStorageException';
  constructor(message: string) {
    super('KAFKA_STORAGE_ERROR', message);
  }
}

/**
 * The state of one log directory shared by every Log in it: one property read per log
 * operation tells whether it is offline.
 */
export class LogDirState {
  /** Why the directory went offline (the first failure), or null while it is online. */
  offline: { reason: string; error: string; at: number } | null = null;
  /** The time of the first write that found the file system full since the last that succeeded. */
  fullSince: number | null = null;

  constructor(
    readonly dir: string,
    private readonly channel: LogDirFailureChannel,
  ) {}

  /** Throws KAFKA_STORAGE_ERROR when the directory is offline. */
  checkOnline(what: string): void {
    if (this.offline !== null)
      throw new KafkaStorageError(`${what}: log directory ${this.dir} is offline (${this.offline.error})`);
  }

  /** Classifies an error thrown by a log operation in this directory (then rethrown by the caller). */
  failed(what: string, err: unknown): void {
    if (isLogDirFailure(err)) this.channel.maybeAddOfflineLogDir(this.dir, what, err);
    else if (isLogDirFull(err)) this.channel.logDirFull(this.dir, what, err);
  }

  /** A write into the directory succeeded: it is no longer full. */
  written(): void {
    if (this.fullSince !== null) this.channel.logDirNoLongerFull(this.dir);
  }
}

export interface LogDirEvents {
  /** The directory went offline (once per directory). */
  offline?(dir: string, reason: string, err: unknown): void;
  /** A write found the directory full (once until a write succeeds again). */
  full?(dir: string, reason: string, err: unknown): void;
  /** A write succeeded in a directory flagged full. */
  notFull?(dir: string): void;
}

/** Kafka's LogDirFailureChannel: the states of the log directories and who hears of their failures. */
export class LogDirFailureChannel {
  private readonly states = new Map<string, LogDirState>();
  private readonly listeners: LogDirEvents[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** The state of `dir` (created on first use). */
  state(dir: string): LogDirState {
    const key = path.resolve(dir);
    let s = this.states.get(key);
    if (!s) {
      s = new LogDirState(key, this);
      this.states.set(key, s);
    }
    return s;
  }

  listen(events: LogDirEvents): void {
    this.listeners.push(events);
  }

  /** Takes `dir` offline; true the first time (the listeners hear of it once). */
  maybeAddOfflineLogDir(dir: string, reason: string, err: unknown): boolean {
    const s = this.state(dir);
    if (s.offline !== null) return false;
    s.offline = { reason, error: err instanceof Error ? err.message : String(err), at: this.now() };
    for (const l of this.listeners) l.offline?.(s.dir, reason, err);
    return true;
  }

  logDirFull(dir: string, reason: string, err: unknown): void {
    const s = this.state(dir);
    if (s.fullSince !== null) return;
    s.fullSince = this.now();
    for (const l of this.listeners) l.full?.(s.dir, reason, err);
  }

  logDirNoLongerFull(dir: string): void {
    const s = this.state(dir);
    if (s.fullSince === null) return;
    s.fullSince = null;
    for (const l of this.listeners) l.notFull?.(s.dir);
  }

  isOffline(dir: string): boolean {
    return this.state(dir).offline !== null;
  }

  offlineLogDirs(): string[] {
    return [...this.states.values()].filter((s) => s.offline !== null).map((s) => s.dir);
  }

  fullLogDirs(): string[] {
    return [...this.states.values()].filter((s) => s.fullSince !== null).map((s) => s.dir);
  }
}

// ---- simulated disk failures (tests) ----------------------------------------------------------------

export type SimulatedIoOp = 'read' | 'write' | 'flush';

interface SimulatedIoFault {
  dir: string;
  code: string;
  ops: ReadonlySet<SimulatedIoOp>;
}

/** Faults keyed by directory; empty in production, so the check below is one length test. */
const simulated: SimulatedIoFault[] = [];

/**
 * Makes every `ops` file operation on segments under `dir` fail with errno `code` (EIO, EACCES,
 * ENOSPC, …), as a failing disk would, until `clearSimulatedIoFaults`. Running as root ignores
 * file modes and a real EIO needs a broken device, so tests fail the disk through this seam.
 */
export function simulateIoFault(
  dir: string,
  code: string,
  ops: SimulatedIoOp[] = ['read', 'write', 'flush'],
): void {
  simulated.push({ dir: path.resolve(dir), code, ops: new Set(ops) });
}

export function clearSimulatedIoFaults(dir?: string): void {
  const key = dir === undefined ? undefined : path.resolve(dir);
  for (let i = simulated.length - 1; i >= 0; i--)
    if (key === undefined || simulated[i]!.dir === key) simulated.splice(i, 1);
}

/** Called by LogSegment before its file operations: throws the simulated error for `file`, if any. */
export function checkSimulatedIoFault(file: string, op: SimulatedIoOp): void {
  if (simulated.length === 0) return;
  for (const f of simulated) {
    if (f.ops.has(op) && file.startsWith(f.dir + path.sep)) {
      const syscall = op === 'flush' ? 'fsync' : op;
      throw Object.assign(new Error(`${f.code}: simulated i/o error, ${syscall} '${file}'`), {
        code: f.code,
        syscall,
        path: file,
      });
    }
  }
}
