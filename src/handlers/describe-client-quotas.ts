/**
 * DescribeClientQuotas (key 48, KIP-546): v0, v1 flexible. `kafka-configs --describe
 * --entity-type users|clients|ips` sends it. Needs DESCRIBE_CONFIGS on the cluster (else
 * CLUSTER_AUTHORIZATION_FAILED for the request). Answers from the metadata image's client quotas
 * as Kafka's ClientQuotasImage.describe: each filter component names an entity type (user,
 * client-id, ip — another type is UNSUPPORTED_VERSION) and a match: 0 that exact name, 1 the
 * default entity (match null), 2 any entity of the type (match null); an entity is listed when it
 * has every type matched as asked, and — with `strict` — no other type. A type twice, an empty
 * type, a match string where none belongs (or none where one does), an unknown match type or ip
 * with user / client-id are INVALID_REQUEST.
 */
import type { ClientQuotaEntity } from '../metadata/client-quota-image.js';
import { CLIENT_ID_ENTITY, entityData, IP_ENTITY, USER_ENTITY } from '../metadata/client-quota-image.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  DescribeClientQuotasRequest,
  type DescribeClientQuotasRequestData,
  DescribeClientQuotasResponse,
  type DescribeClientQuotasResponseData,
} from '../protocol/generated/messages.js';
import { authorizeCluster } from './authz.js';
import { defineHandler } from './handler.js';

export const MATCH_TYPE_EXACT = 0;
export const MATCH_TYPE_DEFAULT = 1;
export const MATCH_TYPE_SPECIFIED = 2;

class FilterError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

interface Filter {
  /** Type → name (null: the default entity). */
  readonly exact: Map<string, string | null>;
  readonly anyOf: Set<string>;
  readonly strict: boolean;
}

function parseFilter(req: DescribeClientQuotasRequestData): Filter {
  const exact = new Map<string, string | null>();
  const anyOf = new Set<string>();
  const bad = (m: string) => new FilterError(ErrorCode.INVALID_REQUEST, m);
  for (const c of req.components) {
    if (c.entityType === '') throw bad('Invalid empty entity type.');
    if (exact.has(c.entityType) || anyOf.has(c.entityType)) {
      throw bad(`Entity type ${c.entityType} cannot appear more than once in the filter.`);
    }
    if (c.entityType !== IP_ENTITY && c.entityType !== USER_ENTITY && c.entityType !== CLIENT_ID_ENTITY) {
      throw new FilterError(ErrorCode.UNSUPPORTED_VERSION, `Unsupported entity type ${c.entityType}`);
    }
    switch (c.matchType) {
      case MATCH_TYPE_EXACT:
        if (c.match === null) throw bad('Request specified MATCH_TYPE_EXACT, but set match string to null.');
        exact.set(c.entityType, c.match);
        break;
      case MATCH_TYPE_DEFAULT:
        if (c.match !== null)
          throw bad('Request specified MATCH_TYPE_DEFAULT, but also specified a match string.');
        exact.set(c.entityType, null);
        break;
      case MATCH_TYPE_SPECIFIED:
        if (c.match !== null) {
          throw bad('Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.');
        }
        anyOf.add(c.entityType);
        break;
      default:
        throw bad(`Unknown match type ${c.matchType}`);
    }
  }
  const has = (t: string) => exact.has(t) || anyOf.has(t);
  if (has(IP_ENTITY) && (has(USER_ENTITY) || has(CLIENT_ID_ENTITY))) {
    throw bad(
      'Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.',
    );
  }
  return { exact, anyOf, strict: req.strict };
}

function matches(entity: ClientQuotaEntity, f: Filter): boolean {
  if (f.strict && Object.keys(entity).length !== f.exact.size + f.anyOf.size) return false;
  for (const [type, name] of f.exact) if (!(type in entity) || entity[type] !== name) return false;
  for (const type of f.anyOf) if (!(type in entity)) return false;
  return true;
}

export const describeClientQuotasHandler = defineHandler<
  DescribeClientQuotasRequestData,
  DescribeClientQuotasResponseData
>({
  apiKey: 48,
  name: 'DescribeClientQuotas',
  minVersion: 0,
  maxVersion: 1,
  request: DescribeClientQuotasRequest,
  response: DescribeClientQuotasResponse,
  handle(ctx, req) {
    const fail = (errorCode: number, errorMessage: string): DescribeClientQuotasResponseData => ({
      throttleTimeMs: 0,
      errorCode,
      errorMessage,
      entries: null,
    });
    if (!authorizeCluster(ctx, 'DESCRIBE_CONFIGS')) {
      return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
    }
    let filter: Filter;
    try {
      filter = parseFilter(req);
    } catch (err) {
      if (err instanceof FilterError) return fail(err.code, err.message);
      throw err;
    }
    const image = ctx.metadata.clientQuotas?.();
    const entries = (image?.entries() ?? [])
      .filter((e) => matches(e.entity, filter))
      .map((e) => ({
        entity: entityData(e.entity),
        values: [...e.quotas].map(([key, value]) => ({ key, value })),
      }));
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, entries };
  },
});
