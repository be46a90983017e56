/**
 * Broker configuration: Kafka's names, read from a `server.properties` file, `--override key=value`
 * and the environment (`KAFKA_LOG_RETENTION_MS` → `log.retention.ms`, as Kafka's container image
 * maps them: `_` → `.`, `__` → `_`, `___` → `-`). Later sources win: file < env < overrides.
 * Unknown keys or invalid values throw a ConfigError naming the key; keys of a real Kafka
 * server.properties that kbroker does not use are kept in `notUsed` (the broker logs them).
 *
 * On top of these static values a running broker holds dynamic ones set by AlterConfigs on a
 * BROKER resource (cluster default or this broker), with Kafka's precedence: dynamic broker >
 * dynamic default > static > default. `synonyms()` reports where a value came from, with
 * Kafka's `config_source` ids, for DescribeConfigs.
 */

import { readFileSync } from 'node:fs';
import { KafkaError } from '../protocol/kafka-error.js';
import {
  BROKER_CONFIG_SYNONYMS,
  brokerConfigByName,
  type ConfigDef,
  DYNAMIC_BROKER_CONFIGS,
  isKafkaConfigNotUsed,
  type TopicConfigDef,
  topicConfigByName,
} from './definitions.js';

/** Kafka's ConfigException: a request answers it as INVALID_CONFIG with this message. */
export class ConfigError extends KafkaError {
  override name = 'ConfigError';
  constructor(message: string) {
    super('INVALID_CONFIG', message);
  }
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
    // Only broker keys are taken from the environment: the image sets others (heap, opts).
    if (brokerConfigByName.has(key) || isKafkaConfigNotUsed(key)) out[key] = v;
  }
  return out;
}

export function validateValue(def: ConfigDef, value: string): void {
  const fail = (why: string) => {
    throw new ConfigError(`Invalid value ${value} for configuration ${def.name}: ${why}`);
  };
  switch (def.type) {
    case 'boolean':
      if (!/^(true|false)$/i.test(value.trim())) fail('Expected value to be either true or false');
      break;
    case 'short':
    case 'int':
    case 'long': {
      if (!/^-?\d+$/.test(value.trim())) fail(`Not a number of type ${def.type.toUpperCase()}`);
      const n = Number(value);
      if (def.type === 'int' && (n < -2147483648 || n > 2147483647)) fail('Not a number of type INT');
      if (def.type === 'short' && (n < -32768 || n > 32767)) fail('Not a number of type SHORT');
      if (def.type === 'long' && BigInt(value.trim()) > 9223372036854775807n)
        fail('Not a number of type LONG');
      if (def.min !== undefined && n < def.min) fail(`Value must be at least ${def.min}`);
      if (def.max !== undefined && n > def.max) fail(`Value must be no more than ${def.max}`);
      break;
    }
    case 'double': {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) fail('Not a number of type DOUBLE');
      if (def.min !== undefined && n < def.min) fail(`Value must be at least ${def.min}`);
      if (def.max !== undefined && n > def.max) fail(`Value must be no more than ${def.max}`);
      break;
    }
    case 'list':
      if (def.validValues) {
        for (const el of value.split(',').map((e) => e.trim())) {
          if (!def.validValues.includes(el)) fail(`String must be one of: ${def.validValues.join(', ')}`);
        }
        return;
      }
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
  return Math.min(n, Number.MAX_SAFE_INTEGER);
}

export interface Listener {
  name: string;
  host: string;
  port: number;
}

export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
const SECURITY_PROTOCOLS: readonly string[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];

/** A listener with its security protocol (from listener.security.protocol.map). */
export interface ListenerEndpoint extends Listener {
  securityProtocol: SecurityProtocol;
}

/** Parses listener.security.protocol.map: `NAME:PROTOCOL,...` (Kafka upper-cases both). */
export function parseSecurityProtocolMap(value: string): Map<string, SecurityProtocol> {
  const out = new Map<string, SecurityProtocol>();
  for (const entry of value.split(',').map((e) => e.trim())) {
    if (entry === '') continue;
    const [name, protocol] = entry.split(':').map((p) => p.trim().toUpperCase());
    if (!name || !protocol || !SECURITY_PROTOCOLS.includes(protocol)) {
      throw new ConfigError(
        `Invalid value ${entry} for configuration listener.security.protocol.map: not NAME:PROTOCOL with PROTOCOL one of ${SECURITY_PROTOCOLS.join(', ')}`,
      );
    }
    out.set(name, protocol as SecurityProtocol);
  }
  return out;
}

/** Prefix of per-listener configs: `listener.name.<listener, lower case>.<config>`. */
const LISTENER_PREFIX = 'listener.name.';
/** `<mechanism>.sasl.jaas.config` after the listener prefix. */
const MECHANISM_JAAS = /^([a-z0-9-]+)\.sasl\.jaas\.config$/;
/** `listener.name.<l>.<mechanism>.connections.max.reauth.ms`: Kafka's per-mechanism session lifetime (SaslChannelBuilder). */
const MECHANISM_REAUTH = /^[a-z0-9-]+\.(connections\.max\.reauth\.ms)$/;

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

/** Kafka's DescribeConfigsResponse `config_source` ids (ConfigEntry.ConfigSource). */
export const ConfigSource = {
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
} as const;

export interface ConfigSynonym {
  name: string;
  value: string | null;
  source: number;
}

/** Scope of dynamic broker configs: the cluster-wide default, or this broker alone. */
export type DynamicScope = 'default' | 'broker';

/** Resolved broker configuration: every known key has a value (or null). */
export class BrokerConfig {
  private readonly staticValues = new Map<string, string>();
  private readonly dynamic: Record<DynamicScope, Map<string, string>> = {
    default: new Map(),
    broker: new Map(),
  };
  /** Keys of Kafka's that kbroker accepted without using them (logged at start). */
  readonly notUsed: string[] = [];
  /** Per-listener overrides (`listener.name.<listener>.<config>`), by full key. */
  private readonly listenerValues = new Map<string, string>();

  constructor(raw: RawConfig = {}) {
    for (const [key, value] of Object.entries(raw)) {
      if (key.startsWith(LISTENER_PREFIX) && this.setListenerValue(key, value)) continue;
      const def = brokerConfigByName.get(key);
      if (!def) {
        if (isKafkaConfigNotUsed(key)) {
          this.notUsed.push(key);
          continue;
        }
        throw new ConfigError(`Unknown configuration ${key}: not a broker config kbroker knows`);
      }
      validateValue(def, value);
      this.staticValues.set(key, value.trim());
    }
    this.validateListeners();
  }

  /** Keeps a per-listener ssl.* / sasl.* / reauth / connection-rate / max.connections override; false for keys kbroker does not use. */
  private setListenerValue(key: string, value: string): boolean {
    const rest = key.slice(LISTENER_PREFIX.length);
    const dot = rest.indexOf('.');
    if (dot <= 0) return false;
    const config = rest.slice(dot + 1);
    const def = brokerConfigByName.get(config);
    const perListener =
      def &&
      (config.startsWith('ssl.') ||
        config.startsWith('sasl.') ||
        config === 'connections.max.reauth.ms' ||
        config === 'max.connection.creation.rate' ||
        config === 'max.connections');
    const perMechanism = MECHANISM_REAUTH.exec(config)?.[1];
    if (!perListener && !perMechanism && !MECHANISM_JAAS.test(config)) return false;
    const checked = def ?? (perMechanism ? brokerConfigByName.get(perMechanism) : undefined);
    if (checked) validateValue({ ...checked, name: key }, value); // the error names the key as written
    this.listenerValues.set(key, value.trim());
    return true;
  }

  /** A config as the listener sees it: `listener.name.<listener>.<name>` first, else the broker's value. */
  listenerValue(listenerName: string, name: string): string | null {
    return (
      this.listenerValues.get(`${LISTENER_PREFIX}${listenerName.toLowerCase()}.${name}`) ?? this.get(name)
    );
  }

  /**
   * A SASL mechanism's setting on a listener, as Kafka's SaslChannelBuilder reads it:
   * `listener.name.<listener>.<mechanism>.<name>` first, then the listener's (listenerValue).
   */
  listenerMechanismValue(listenerName: string, mechanism: string, name: string): string | null {
    return this.mechanismValue(listenerName, mechanism, name) ?? this.listenerValue(listenerName, name);
  }

  /** `listener.name.<listener>.<mechanism>.sasl.jaas.config` (Kafka's broker JAAS config), or null. */
  jaasConfig(listenerName: string, mechanism: string): string | null {
    return this.mechanismValue(listenerName, mechanism, 'sasl.jaas.config') ?? null;
  }

  /** `listener.name.<listener>.<mechanism>.<name>` as set, without falling back. */
  private mechanismValue(listenerName: string, mechanism: string, name: string): string | undefined {
    return this.listenerValues.get(
      `${LISTENER_PREFIX}${listenerName.toLowerCase()}.${mechanism.toLowerCase()}.${name}`,
    );
  }

  private validateListeners(): void {
    const listeners = parseListeners(this.string('listeners'));
    const map = parseSecurityProtocolMap(this.string('listener.security.protocol.map'));
    const names = new Set<string>();
    for (const l of listeners) {
      if (names.has(l.name))
        throw new ConfigError(
          `Each listener must have a different name, listeners: ${this.string('listeners')}`,
        );
      names.add(l.name);
      if (!map.has(l.name.toUpperCase())) {
        throw new ConfigError(
          `No security protocol defined for listener ${l.name} (listener.security.protocol.map)`,
        );
      }
    }
    const adv = this.get('advertised.listeners');
    if (adv) {
      for (const a of parseListeners(adv)) {
        if (!names.has(a.name)) {
          throw new ConfigError(
            `advertised.listeners listener names must be equal to or a subset of the ones defined in listeners; found ${a.name}`,
          );
        }
      }
    }
    const inter = this.get('inter.broker.listener.name');
    if (inter && !names.has(inter)) {
      throw new ConfigError(
        `inter.broker.listener.name must be a listener name defined in listeners; found ${inter}`,
      );
    }
  }

  /** Every listener with its security protocol, in `listeners` order. */
  get endpoints(): ListenerEndpoint[] {
    const map = parseSecurityProtocolMap(this.string('listener.security.protocol.map'));
    return this.listeners.map((l) => ({ ...l, securityProtocol: map.get(l.name.toUpperCase())! }));
  }

  /** The listener brokers talk to each other on: inter.broker.listener.name, else the first. */
  get interBrokerListenerName(): string {
    return this.get('inter.broker.listener.name') ?? this.listeners[0]!.name;
  }

  /** The effective value: dynamic broker > dynamic default > static > default. */
  get(name: string): string | null {
    const def = brokerConfigByName.get(name);
    if (!def) throw new ConfigError(`Unknown configuration ${name}`);
    return (
      this.dynamic.broker.get(name) ??
      this.dynamic.default.get(name) ??
      this.staticValues.get(name) ??
      def.default
    );
  }

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

  /** Every log directory: log.dirs, else log.dir. */
  get logDirs(): string[] {
    const dirs = this.get('log.dirs');
    return dirs
      ? dirs
          .split(',')
          .map((d) => d.trim())
          .filter((d) => d !== '')
      : [this.string('log.dir')];
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

  get rollJitterMs(): number {
    const ms = this.get('log.roll.jitter.ms');
    return ms != null ? toNumber(ms) : this.int('log.roll.jitter.hours') * 3_600_000;
  }

  /** The broker-level value that is the default of topic config `def`. */
  topicDefault(def: TopicConfigDef): string {
    switch (def.serverDefault) {
      case 'log.retention.ms':
        return String(this.retentionMs);
      case 'log.roll.ms':
        return String(this.rollMs);
      case 'log.roll.jitter.ms':
        return String(this.rollJitterMs);
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

  /**
   * Kafka's ConfigHelper.configSynonyms: the broker configs that set `name` (its synonyms, e.g.
   * log.retention.ms/minutes/hours), by source (dynamic broker, dynamic default, static,
   * default) and then synonym order, starting at the first entry for `name` itself (so, as in
   * Kafka, a retention set only through log.retention.hours reports no synonyms for retention.ms).
   */
  synonyms(name: string): ConfigSynonym[] {
    const names = BROKER_CONFIG_SYNONYMS[name] ?? [name];
    const sensitive = brokerConfigByName.get(name)?.type === 'password';
    const out: ConfigSynonym[] = [];
    const layers: [ReadonlyMap<string, string | null>, number][] = [
      [this.dynamic.broker, ConfigSource.DYNAMIC_BROKER_CONFIG],
      [this.dynamic.default, ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG],
      [this.staticValues, ConfigSource.STATIC_BROKER_CONFIG],
      [defaultValues, ConfigSource.DEFAULT_CONFIG],
    ];
    for (const [values, source] of layers) {
      for (const n of names) {
        const v = values.get(n);
        if (v != null) out.push({ name: n, value: sensitive ? null : v, source });
      }
    }
    const first = out.findIndex((s) => s.name === name);
    return first < 0 ? [] : out.slice(first);
  }

  /** The dynamic configs of one scope, as AlterConfigs left them. */
  dynamicConfigs(scope: DynamicScope): Record<string, string> {
    return Object.fromEntries(this.dynamic[scope]);
  }

  /**
   * Checks dynamic broker configs: every key must be one a running broker can change and every
   * value valid. Returns the Kafka error message, or null.
   */
  static validateDynamic(configs: RawConfig): string | null {
    const notDynamic = Object.keys(configs).filter((k) => !DYNAMIC_BROKER_CONFIGS.has(k));
    if (notDynamic.length > 0)
      return `Cannot update these configs dynamically: Set(${notDynamic.join(', ')})`;
    try {
      for (const [k, v] of Object.entries(configs)) validateValue(brokerConfigByName.get(k)!, v);
    } catch (err) {
      return (err as Error).message;
    }
    return null;
  }

  /** Replaces the dynamic configs of `scope` (validate first with validateDynamic). */
  setDynamic(scope: DynamicScope, configs: RawConfig): void {
    const error = BrokerConfig.validateDynamic(configs);
    if (error) throw new ConfigError(error);
    this.dynamic[scope] = new Map(Object.entries(configs));
  }

  /** Every broker config name with its effective value (DescribeConfigs of a BROKER resource). */
  entries(): [string, string | null][] {
    return [...brokerConfigByName.keys()].map((n) => [n, this.get(n)]);
  }

  /** Loads file, then environment, then overrides. */
  static load(options: { file?: string; overrides?: RawConfig; env?: NodeJS.ProcessEnv }): BrokerConfig {
    const fromFile = options.file ? parseProperties(readFileSync(options.file, 'utf8')) : {};
    const fromEnv = options.env ? configFromEnv(options.env) : {};
    return new BrokerConfig({ ...fromFile, ...fromEnv, ...(options.overrides ?? {}) });
  }
}

const defaultValues: ReadonlyMap<string, string | null> = new Map(
  [...brokerConfigByName.values()].map((d) => [d.name, d.default]),
);

/** The settings every broker of a cluster in this process shares: all but its id, listener and data. */
export function sharedBrokerConfig(raw: RawConfig): RawConfig {
  const perBroker = new Set([
    'listeners',
    'advertised.listeners',
    'log.dirs',
    'log.dir',
    'node.id',
    'broker.id',
  ]);
  return Object.fromEntries(Object.entries(raw).filter(([k]) => !perBroker.has(k)));
}

/** Checks topic config overrides; throws a ConfigError with Kafka's INVALID_CONFIG message. */
export function validateTopicConfigs(configs: RawConfig): void {
  for (const [key, value] of Object.entries(configs)) {
    const def = topicConfigByName.get(key);
    if (!def) throw new ConfigError(`Unknown topic config name: ${key}`);
    validateValue(def, value);
  }
}
