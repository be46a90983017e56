/**
 * The client quotas of the metadata image (Kafka's ClientQuotasImage, KIP-546): for each quota
 * entity — a user, a client id, a user and client id, or an IP, a null name standing for that
 * type's default entity — the quota values set on it (producer_byte_rate, consumer_byte_rate,
 * request_percentage, controller_mutation_rate, connection_creation_rate). Built by
 * ClientQuotaRecords; an entity whose last value is removed leaves the image. Immutable: `apply`
 * returns the next image.
 */
import type { ClientQuotaRecord } from './records.js';

export const USER_ENTITY = 'user';
export const CLIENT_ID_ENTITY = 'client-id';
export const IP_ENTITY = 'ip';

/** An entity: entity type → name (null: the default entity of that type). */
export type ClientQuotaEntity = Readonly<Record<string, string | null>>;

export interface ClientQuotaEntry {
  readonly entity: ClientQuotaEntity;
  /** Quota key → value. */
  readonly quotas: ReadonlyMap<string, number>;
}

/**
 * The key of an entity, independent of the order of its types: the same entity named in two
 * requests or records maps to one entry. Names are JSON-quoted so no name can forge another.
 */
export function clientQuotaEntityKey(entity: ClientQuotaEntity): string {
  return Object.keys(entity)
    .sort()
    .map((type) => `${JSON.stringify(type)}=${JSON.stringify(entity[type])}`)
    .join(',');
}

export class ClientQuotasImage {
  static readonly EMPTY = new ClientQuotasImage(new Map());

  private constructor(private readonly byKey: ReadonlyMap<string, ClientQuotaEntry>) {}

  entries(): ClientQuotaEntry[] {
    return [...this.byKey.values()];
  }

  /** The quotas of exactly this entity (none: undefined). */
  quotas(entity: ClientQuotaEntity): ReadonlyMap<string, number> | undefined {
    return this.byKey.get(clientQuotaEntityKey(entity))?.quotas;
  }

  /** The quotas of an entity by its `clientQuotaEntityKey`. */
  quotasByKey(key: string): ReadonlyMap<string, number> | undefined {
    return this.byKey.get(key)?.quotas;
  }

  isEmpty(): boolean {
    return this.byKey.size === 0;
  }

  toRecords(): ClientQuotaRecord[] {
    const out: ClientQuotaRecord[] = [];
    for (const e of this.byKey.values()) {
      for (const [key, value] of e.quotas) {
        out.push({ type: 'ClientQuotaRecord', entity: entityData(e.entity), key, value, remove: false });
      }
    }
    return out;
  }

  apply(records: readonly ClientQuotaRecord[]): ClientQuotasImage {
    if (records.length === 0) return this;
    const byKey = new Map(this.byKey);
    for (const r of records) {
      const entity: Record<string, string | null> = {};
      for (const e of r.entity) entity[e.entityType] = e.entityName;
      const key = clientQuotaEntityKey(entity);
      const quotas = new Map(byKey.get(key)?.quotas ?? []);
      if (r.remove) quotas.delete(r.key);
      else quotas.set(r.key, r.value);
      if (quotas.size === 0) byKey.delete(key);
      else byKey.set(key, Object.freeze({ entity: Object.freeze(entity), quotas }));
    }
    return new ClientQuotasImage(byKey);
  }
}

export function entityData(entity: ClientQuotaEntity): { entityType: string; entityName: string | null }[] {
  return Object.entries(entity).map(([entityType, entityName]) => ({ entityType, entityName }));
}
