/**
 * ApiVersions (key 18), v0–4. The table is the handler registry itself, so nothing is advertised
 * that is not implemented. v1 adds throttle time; v3 is flexible and carries the client's
 * software name/version (accepted leniently: librdkafka falls back to v0 on INVALID_REQUEST);
 * v3+ may carry supported/finalized features — kbroker finalizes only `share.version` (level 1
 * while share groups are on, `group.share.enable`, as a Kafka 4.2+ cluster formatted with its
 * defaults; in v3 a feature whose minimum is 0 is left out, as Kafka does), so Java 4.x clients
 * keep to transaction version 1 (no KIP-890 Produce v12). An unsupported version is answered by
 * server/connection.ts with a v0 body (KIP-511).
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  ApiVersionsRequest,
  type ApiVersionsRequestData,
  ApiVersionsResponse,
  type ApiVersionsResponseData,
} from '../protocol/generated/messages.js';
import { defineHandler } from './handler.js';

export const apiVersionsHandler = defineHandler<ApiVersionsRequestData, ApiVersionsResponseData>({
  apiKey: 18,
  name: 'ApiVersions',
  minVersion: 0,
  maxVersion: 4,
  request: ApiVersionsRequest,
  response: ApiVersionsResponse,
  handle(ctx) {
    const share = ctx.apiVersion >= 3 && ctx.configs.bool('group.share.enable');
    return {
      errorCode: ErrorCode.NONE,
      apiKeys: ctx.apiVersions(),
      throttleTimeMs: 0,
      ...(share
        ? {
            supportedFeatures:
              ctx.apiVersion >= 4 ? [{ name: 'share.version', minVersion: 0, maxVersion: 1 }] : [],
            finalizedFeaturesEpoch: 0,
            finalizedFeatures: [{ name: 'share.version', maxVersionLevel: 1, minVersionLevel: 1 }],
          }
        : {}),
    };
  },
});
