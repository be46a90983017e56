/**
 * AlterClientQuotas (key 49, KIP-546): v0, v1 flexible. `kafka-configs --alter --add-config
 * producer_byte_rate=… --entity-type users|clients|ips`. Needs ALTER_CONFIGS on the cluster (else
 * every entity CLUSTER_AUTHORIZATION_FAILED). Each entry sets or removes quota keys of one entity;
 * the controller checks them as Kafka's ClientQuotaControlManager (metadata/client-quota-control.ts)
 * and writes the accepted ones as ClientQuotaRecords — every broker's image, and so its quota
 * managers, follows. `validateOnly` checks without writing.
 */

import { ErrorCode } from '../protocol/generated/errors.js';
import type { AlterClientQuotasResponseEntryData } from '../protocol/generated/messages.js';
import {
  AlterClientQuotasRequest,
  type AlterClientQuotasRequestData,
  AlterClientQuotasResponse,
  type AlterClientQuotasResponseData,
} from '../protocol/generated/messages.js';
import { authorizeCluster } from './authz.js';
import { defineHandler } from './handler.js';

export const alterClientQuotasHandler = defineHandler<
  AlterClientQuotasRequestData,
  AlterClientQuotasResponseData
>({
  apiKey: 49,
  name: 'AlterClientQuotas',
  minVersion: 0,
  maxVersion: 1,
  request: AlterClientQuotasRequest,
  response: AlterClientQuotasResponse,
  async handle(ctx, req) {
    if (!authorizeCluster(ctx, 'ALTER_CONFIGS')) {
      return {
        throttleTimeMs: 0,
        entries: req.entries.map((e) => ({
          errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          errorMessage: 'Cluster authorization failed.',
          entity: e.entity.map((d) => ({ entityType: d.entityType, entityName: d.entityName })),
        })),
      };
    }
    const results = await ctx.controller.alterClientQuotas(
      req.entries.map((e) => ({
        entity: e.entity.map((d) => ({ entityType: d.entityType, entityName: d.entityName })),
        ops: e.ops.map((o) => ({ key: o.key, value: o.remove ? null : o.value })),
      })),
      req.validateOnly,
    );
    const entries: AlterClientQuotasResponseEntryData[] = results.map((r) => ({
      errorCode: r.errorCode,
      errorMessage: r.errorMessage,
      entity: r.entity.map((d) => ({ entityType: d.entityType, entityName: d.entityName })),
    }));
    return { throttleTimeMs: 0, entries };
  },
});
