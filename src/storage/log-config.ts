import { systemTime, type Time } from '../common/time.js';

// Per-topic log settings with Kafka's defaults and the topic-config names that map onto them.
// Mirrors the storage part of Kafka's LogConfig / TopicConfig.
export interface LogConfig {
  segmentBytes: number;
  segmentMs: number;
  segmentJitterMs: number;
  indexIntervalBytes: number;
  flushMessages: number;
  flushMs: number;
  retentionMs: number;
  retentionBytes: number;
  fileDeleteDelayMs: number;
  messageTimestampType: 'CreateTime' | 'LogAppendTime';
  /**
   * `cleanup.policy`: with `delete`, retention.ms / retention.bytes delete old segments; `compact`
   * alone keeps every segment (Kafka's LogConfig.delete / LogConfig.compact).
   */
  cleanupPolicy: readonly CleanupPolicy[];
  /** `delete.retention.ms`: how long the cleaner keeps a tombstone (and an empty transaction's marker) after it first passed it. */
  deleteRetentionMs: number;
  /** `min.compaction.lag.ms`: segments with a record newer than this are not cleaned yet. */
  minCompactionLagMs: number;
  /** `max.compaction.lag.ms`: a dirty segment older than this is cleaned whatever the dirty ratio. */
  maxCompactionLagMs: number;
  /** `min.cleanable.dirty.ratio`: the dirty share of a log above which the cleaner picks it. */
  minCleanableDirtyRatio: number;
}

export type CleanupPolicy = 'delete' | 'compact';
const CLEANUP_POLICIES: readonly string[] = ['delete', 'compact'];

/** The broker's `Time`, as storage uses it: the wall clock, and file.delete.delay.ms timers. */
export type Clock = Time;

export const systemClock: Clock = systemTime;

export const defaultLogConfig: LogConfig = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 60 * 60 * 1000,
  segmentJitterMs: 0,
  indexIntervalBytes: 4096,
  flushMessages: Number.MAX_SAFE_INTEGER,
  flushMs: Number.MAX_SAFE_INTEGER,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  retentionBytes: -1,
  fileDeleteDelayMs: 60000,
  messageTimestampType: 'CreateTime',
  cleanupPolicy: Object.freeze(['delete'] as CleanupPolicy[]),
  deleteRetentionMs: 86_400_000,
  minCompactionLagMs: 0,
  maxCompactionLagMs: Number.MAX_SAFE_INTEGER,
  minCleanableDirtyRatio: 0.5,
});

/** Whether retention.ms / retention.bytes delete segments of a log with this config (Kafka's LogConfig.delete). */
export function deletesByRetention(config: LogConfig): boolean {
  return config.cleanupPolicy.includes('delete');
}

/** Whether the log cleaner compacts a log with this config (Kafka's LogConfig.compact). */
export function compacts(config: LogConfig): boolean {
  return config.cleanupPolicy.includes('compact');
}

/** A new segment's roll jitter: random in [0, min(segment.jitter.ms, segment.ms)) (Kafka's LogConfig.randomSegmentJitter). */
export function randomSegmentJitter(config: LogConfig): number {
  const max = Math.min(config.segmentJitterMs, config.segmentMs);
  return max > 0 ? Math.floor(Math.random() * max) : 0;
}

/** `cleanup.policy` as Kafka's list type reads it: comma-separated, trimmed, each `delete` or `compact`. */
export function parseCleanupPolicy(raw: string): CleanupPolicy[] {
  const out: CleanupPolicy[] = [];
  for (const part of raw.split(',')) {
    const v = part.trim();
    if (v === '') continue;
    if (!CLEANUP_POLICIES.includes(v)) throw new Error(`invalid cleanup.policy: ${raw}`);
    if (!out.includes(v as CleanupPolicy)) out.push(v as CleanupPolicy);
  }
  return out;
}

/** Kafka topic config name -> LogConfig field. */
export const TOPIC_CONFIG_NAMES: Readonly<Record<string, keyof LogConfig>> = {
  'segment.bytes': 'segmentBytes',
  'segment.ms': 'segmentMs',
  'segment.jitter.ms': 'segmentJitterMs',
  'index.interval.bytes': 'indexIntervalBytes',
  'flush.messages': 'flushMessages',
  'flush.ms': 'flushMs',
  'retention.ms': 'retentionMs',
  'retention.bytes': 'retentionBytes',
  'file.delete.delay.ms': 'fileDeleteDelayMs',
  'message.timestamp.type': 'messageTimestampType',
  'cleanup.policy': 'cleanupPolicy',
  'delete.retention.ms': 'deleteRetentionMs',
  'min.compaction.lag.ms': 'minCompactionLagMs',
  'max.compaction.lag.ms': 'maxCompactionLagMs',
  'min.cleanable.dirty.ratio': 'minCleanableDirtyRatio',
};

/** Applies Kafka-named overrides (e.g. {"retention.ms": "1000"}) to a base config; unknown names are ignored. */
export function logConfigFromProps(base: LogConfig, props: Readonly<Record<string, string>>): LogConfig {
  const out: LogConfig = { ...base };
  for (const [name, raw] of Object.entries(props)) {
    const field = TOPIC_CONFIG_NAMES[name];
    if (field === undefined) continue;
    if (field === 'messageTimestampType') {
      if (raw !== 'CreateTime' && raw !== 'LogAppendTime') throw new Error(`invalid ${name}: ${raw}`);
      out.messageTimestampType = raw;
      continue;
    }
    if (field === 'cleanupPolicy') {
      out.cleanupPolicy = parseCleanupPolicy(raw);
      continue;
    }
    if (field === 'minCleanableDirtyRatio') {
      const r = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(r) || r < 0 || r > 1)
        throw new Error(`invalid ${name}: ${raw}`);
      out.minCleanableDirtyRatio = r;
      continue;
    }
    const v = Number(raw);
    if (!Number.isInteger(v)) throw new Error(`invalid ${name}: ${raw}`);
    // Kafka's Long.MAX_VALUE "never" values do not fit a double exactly; clamp them.
    out[field] = Math.min(v, Number.MAX_SAFE_INTEGER);
  }
  return out;
}
