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
}

/** What storage needs of the broker's `Time`: the wall clock. */
export type Clock = Pick<Time, 'now'>;

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
});

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
    const v = Number(raw);
    if (!Number.isInteger(v)) throw new Error(`invalid ${name}: ${raw}`);
    // Kafka's Long.MAX_VALUE "never" values do not fit a double exactly; clamp them.
    out[field] = Math.min(v, Number.MAX_SAFE_INTEGER);
  }
  return out;
}
