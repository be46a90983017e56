/**
 * Broker configuration: Kafka's names, read from a `server.properties` file, `--override key=value`
 * and the environment (`KAFKA_LOG_RETENTION_MS` → `log.retention.ms`, as Kafka's container image
 * maps them: `_` → `.`, `__` → `_`, `___` → `-`). Later sources win: file < env < overrides.
 * Unknown keys or invalid values throw a ConfigError naming the key.
 */
import { readFileSync } from 'node:fs';
import { brokerConfigByName, type ConfigDef, type TopicConfigDef, topicConfigByName } from './definitions.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type RawConfig = Record<string, string>;

/** Parses Java `.properties` text (comments, `=`/`:` separators, line continuations). */
export function parseProperties(text: string): RawConfig {
  const out: RawConfig = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!.trim();
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (!m) out[line] = '';
    else out[m[1]!] = m[2]!;
  }
  return out;
}

/** Environment variables in the style of Kafka's image: KAFKA_LOG_RETENTION_MS=1 → log.retention.ms. */
export function configFromEnv(env: NodeJS.ProcessEnv): RawConfig {
  const out: RawConfig = {};
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith('KAFKA_') || v === undefined) continue;
    const key = k
      .slice('KAFKA_'.length)
      .toLowerCase()
      .replace(/___/g, '\0dash\0')
      .replace(/__/g, '\0us\0')
      .replace(/_/g, '.')
      .replace(/\0dash\0/g, '-')
      .replace(/\0us\0/g, '_');
    // Only keys kbroker knows are taken from the environment: the image sets others (heap, opts).
    if (brokerConfigByName.has(key)) out[key] = v;
  }
  return out;
}

export function validateValue(def: ConfigDef, value: string): void {
  const fail = (why: string) => {
    throw new ConfigError(`Invalid value ${JSON.stringify(value)} for configuration ${def.name}: ${why}`);
  };
  switch (def.type) {
    case 'boolean':
      if (!/^(true|false)$/i.test(value.trim())) fail('Expected value to be either true or false');
      break;
    case 'int':
    case 'long': {
      if (!/^-?\d+$/.test(value.trim())) fail(`Not a number of type ${def.type.toUpperCase()}`);
      const n = Number(value);
      if (def.type === 'int' && (n < -2147483648 || n > 2147483647)) fail('Not a number of type INT');
      if (def.min !== undefined && n < def.min) fail(`Value must be at least ${def.min}`);
      if (def.max !== undefined && n > def.max) fail(`Value must be no more than ${def.max}`);
      break;
    }
    case 'double':
      if (!Number.isFinite(Number(value))) fail('Not a number of type DOUBLE');
      break;
    default:
      break;
  }
  if (def.validValues && !def.validValues.includes(value.trim())) {
    fail(`String must be one of: ${def.validValues.join(', ')}`);
  }
}

/** Numbers beyond 2^53 (Kafka's Long.MAX defaults) become Number.MAX_SAFE_INTEGER. */
export function toNumber(value: string): number {
  const n = Number(value);
  return n > Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : n;
}

export interface Listener {
  name: string;
  host: string;
  port: number;
}

export function parseListeners(value: string): Listener[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((uri) => {
      const m = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(uri);
      if (!m) throw new ConfigError(`Invalid value ${uri} for configuration listeners: not NAME://host:port`);
      return { name: m[1]!, host: m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3]) };
    });
}

/** Resolved broker configuration: every known key has a value (or null). */
export class BrokerConfig {
  private readonly values = new Map<string, string | null>();

  constructor(raw: RawConfig = {}) {
    for (const [key, value] of Object.entries(raw)) {
      const def = brokerConfigByName.get(key);
      if (!def) throw new ConfigError(`Unknown configuration ${key}`);
      validateValue(def, value);
    }
    for (const [name, def] of brokerConfigByName) this.values.set(name, raw[name] ?? def.default);
    this.validateListeners();
  }

  private validateListeners(): void {
    parseListeners(this.string('listeners'));
    const adv = this.get('advertised.listeners');
    if (adv) parseListeners(adv);
  }

  get(name: string): string | null {
    if (!this.values.has(name)) throw new ConfigError(`Unknown configuration ${name}`);
    return this.values.get(name)!;
  }

  /** Whether the value came from the user rather than the default. */
  string(name: string): string {
    const v = this.get(name);
    if (v == null) throw new ConfigError(`Configuration ${name} has no value`);
    return v;
  }

  int(name: string): number {
    return toNumber(this.string(name));
  }

  bool(name: string): boolean {
    return this.string(name).toLowerCase() === 'true';
  }

  get nodeId(): number {
    const brokerId = this.int('broker.id');
    return brokerId >= 0 && this.get('node.id') === '1' ? brokerId : this.int('node.id');
  }

  get listeners(): Listener[] {
    return parseListeners(this.string('listeners'));
  }

  get advertisedListeners(): Listener[] {
    const adv = this.get('advertised.listeners');
    return adv ? parseListeners(adv) : this.listeners;
  }

  get logDir(): string {
    const dirs = this.get('log.dirs');
    return dirs ? dirs.split(',')[0]!.trim() : this.string('log.dir');
  }

  /** log.retention.ms, else minutes, else hours (Kafka's precedence). */
  get retentionMs(): number {
    const ms = this.get('log.retention.ms');
    if (ms != null) return toNumber(ms);
    const min = this.get('log.retention.minutes');
    if (min != null) return toNumber(min) * 60_000;
    return this.int('log.retention.hours') * 3_600_000;
  }

  get rollMs(): number {
    const ms = this.get('log.roll.ms');
    return ms != null ? toNumber(ms) : this.int('log.roll.hours') * 3_600_000;
  }

  /** The broker-level value that is the default of topic config `def`. */
  topicDefault(def: TopicConfigDef): string {
    switch (def.serverDefault) {
      case 'log.retention.ms':
        return String(this.retentionMs);
      case 'log.roll.ms':
        return String(this.rollMs);
      case 'log.flush.interval.ms': {
        const v = this.get('log.flush.interval.ms');
        return v ?? def.default!;
      }
      case undefined:
        return def.default!;
      default:
        return this.get(def.serverDefault) ?? def.default!;
    }
  }

  /** The effective topic configs for a topic with the given overrides. */
  topicConfig(overrides: RawConfig = {}): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, def] of topicConfigByName) out[name] = overrides[name] ?? this.topicDefault(def);
    return out;
  }

  /** Loads file, then environment, then overrides. */
  static load(options: { file?: string; overrides?: RawConfig; env?: NodeJS.ProcessEnv }): BrokerConfig {
    const fromFile = options.file ? parseProperties(readFileSync(options.file, 'utf8')) : {};
    const fromEnv = options.env ? configFromEnv(options.env) : {};
    return new BrokerConfig({ ...fromFile, ...fromEnv, ...(options.overrides ?? {}) });
  }
}

export function validateTopicConfigs(configs: RawConfig): void {
  for (const [key, value] of Object.entries(configs)) {
    const def = topicConfigByName.get(key);
    if (!def) throw new ConfigError(`Unknown topic config name: ${key}`);
    validateValue(def, value);
  }
}
