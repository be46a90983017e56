/**
 * The controller's checks of AlterClientQuotas (Kafka's ClientQuotaControlManager, KIP-546): each
 * alteration names an entity — user and/or client-id, or ip alone; a null name is the type's
 * default — and quota keys to set or remove. An entity is refused whole with INVALID_REQUEST for
 * an empty entity, an unknown or repeated entity type, an empty name, ip combined with user or
 * client-id, an ip that is neither an address nor a resolvable host, a key the entity type does
 * not take, a value ≤ 0, a fraction or too large a value for an integral key, or a key given twice;
 * an entity given twice is refused. The accepted entities' ClientQuotaRecords (only values that
 * change, removals only of keys that are set) are written together.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  CLIENT_ID_ENTITY,
  type ClientQuotaEntity,
  type ClientQuotasImage,
  clientQuotaEntityKey,
  entityData,
  IP_ENTITY,
  USER_ENTITY,
} from './client-quota-image.js';
import type { ClientQuotaRecord } from './records.js';

export interface ClientQuotaAlteration {
  /** As on the wire: entity type and name (null: the default entity). */
  readonly entity: readonly { entityType: string; entityName: string | null }[];
  /** `value` null: remove the key. */
  readonly ops: readonly { key: string; value: number | null }[];
}

export interface ClientQuotaAlterationResult {
  readonly entity: readonly { entityType: string; entityName: string | null }[];
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

type KeyType = 'LONG' | 'DOUBLE' | 'INT';

/** Kafka's QuotaConfig.userAndClientQuotaConfigs(): the keys a user / client-id entity takes. */
const USER_CLIENT_KEYS: ReadonlyMap<string, KeyType> = new Map([
  ['producer_byte_rate', 'LONG'],
  ['consumer_byte_rate', 'LONG'],
  ['request_percentage', 'DOUBLE'],
  ['controller_mutation_rate', 'DOUBLE'],
]);
/** Kafka's QuotaConfig.ipConfigs(). */
const IP_KEYS: ReadonlyMap<string, KeyType> = new Map([['connection_creation_rate', 'INT']]);

const INT_MAX = 2 ** 31 - 1;
const LONG_MAX = 2 ** 63 - 1;

/** The names of ip entities that are neither an IP address nor resolve as a host (Kafka's InetAddress.getByName). */
export async function unresolvableIpEntities(
  alterations: readonly ClientQuotaAlteration[],
): Promise<Set<string>> {
  const names = new Set<string>();
  for (const a of alterations) {
    for (const e of a.entity) {
      if (e.entityType === IP_ENTITY && e.entityName && isIP(e.entityName) === 0) names.add(e.entityName);
    }
  }
  const out = new Set<string>();
  await Promise.all(
    [...names].map(async (name) => {
      try {
        await lookup(name);
      } catch {
        out.add(name);
      }
    }),
  );
  return out;
}

const invalid = (errorMessage: string) => ({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage });

/** The records and the per-entity results (in request order, one per distinct entity). */
export function clientQuotaChanges(
  image: ClientQuotasImage,
  alterations: readonly ClientQuotaAlteration[],
  unresolvable: ReadonlySet<string>,
): { records: ClientQuotaRecord[]; results: ClientQuotaAlterationResult[] } {
  const results = new Map<string, ClientQuotaAlterationResult>();
  const recordsByEntity = new Map<string, ClientQuotaRecord[]>();
  for (const a of alterations) {
    const entity: Record<string, string | null> = {};
    let error: { errorCode: number; errorMessage: string } | null = null;
    for (const e of a.entity) {
      if (e.entityType in entity) {
        error ??= invalid(`Invalid client quota entity, duplicate entity entry ${e.entityType}`);
      }
      entity[e.entityType] = e.entityName;
    }
    const key = clientQuotaEntityKey(entity);
    if (results.has(key)) {
      results.set(key, {
        entity: a.entity,
        ...invalid(`Ignoring duplicate entity ${describeEntity(entity)}`),
      });
      recordsByEntity.delete(key);
      continue;
    }
    error ??= validateEntity(entity, unresolvable);
    const keys = error ? undefined : keysFor(entity);
    const records: ClientQuotaRecord[] = [];
    if (!error && keys) {
      const current = image.quotas(entity);
      const seen = new Set<string>();
      for (const op of a.ops) {
        if (seen.has(op.key)) {
          error = invalid(
            `Duplicate quota key ${op.key} not updating quota for this entity ${describeEntity(entity)}`,
          );
          break;
        }
        seen.add(op.key);
        if (op.value === null) {
          if (current?.has(op.key)) {
            records.push({
              type: 'ClientQuotaRecord',
              entity: entityData(entity),
              key: op.key,
              value: 0,
              remove: true,
            });
          }
          continue;
        }
        error = validateValue(keys, op.key, op.value);
        if (error) break;
        if (current?.get(op.key) !== op.value) {
          records.push({
            type: 'ClientQuotaRecord',
            entity: entityData(entity),
            key: op.key,
            value: op.value,
            remove: false,
          });
        }
      }
    }
    results.set(key, {
      entity: a.entity,
      errorCode: error?.errorCode ?? ErrorCode.NONE,
      errorMessage: error?.errorMessage ?? null,
    });
    if (!error) recordsByEntity.set(key, records);
  }
  return { records: [...recordsByEntity.values()].flat(), results: [...results.values()] };
}

function describeEntity(entity: ClientQuotaEntity): string {
  return `ClientQuotaEntity(entries=${JSON.stringify(entity)})`;
}

function validateEntity(
  entity: ClientQuotaEntity,
  unresolvable: ReadonlySet<string>,
): { errorCode: number; errorMessage: string } | null {
  const types = Object.keys(entity);
  if (types.length === 0) return invalid('Invalid empty client quota entity');
  for (const type of types) {
    if (type !== USER_ENTITY && type !== CLIENT_ID_ENTITY && type !== IP_ENTITY) {
      return invalid(`Unhandled client quota entity type: ${type}`);
    }
    if (entity[type] === '') return invalid(`Empty ${type} not supported`);
  }
  if (IP_ENTITY in entity) {
    if (USER_ENTITY in entity || CLIENT_ID_ENTITY in entity) {
      return invalid(
        'Invalid quota entity combination, IP entity should not be combined with User or ClientId',
      );
    }
    const ip = entity[IP_ENTITY];
    if (ip !== null && ip !== undefined && isIP(ip) === 0 && unresolvable.has(ip)) {
      return invalid(`${ip} is not a valid IP or resolvable host.`);
    }
  }
  return null;
}

function keysFor(entity: ClientQuotaEntity): ReadonlyMap<string, KeyType> {
  return IP_ENTITY in entity ? IP_KEYS : USER_CLIENT_KEYS;
}

function validateValue(
  keys: ReadonlyMap<string, KeyType>,
  key: string,
  value: number,
): { errorCode: number; errorMessage: string } | null {
  const type = keys.get(key);
  if (!type) return invalid(`Invalid configuration key ${key}`);
  if (!(value > 0)) return invalid(`Quota ${key} must be greater than 0`);
  if (type === 'DOUBLE') return null;
  if (type === 'INT' && value > INT_MAX) return invalid(`Proposed value for ${key} is too large for an INT.`);
  if (type === 'LONG' && value > LONG_MAX)
    return invalid(`Proposed value for ${key} is too large for a LONG.`);
  if (Math.abs(value % 1) > 1e-6) return invalid(`${key} cannot be a fractional value.`);
  return null;
}
