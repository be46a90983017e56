/**
 * ApiVersions (key 18), v0–4. The table is the handler registry itself, so nothing is advertised
 * that is not implemented. v1 adds throttle time; v3 is flexible and carries the client's
 * software name/version (accepted leniently: librdkafka falls back to v0 on INVALID_REQUEST);
 * v3+ carry the supported and finalized features (tagged fields), as a Kafka 4 cluster formatted
 * at its latest release: `transaction.version` 0–2 supported, level 2 finalized, which is what makes
 * Java 4.x producers use transactions V2 (KIP-890 part 2: Produce v12, EndTxn v5, TxnOffsetCommit
 * v5, no AddPartitionsToTxn/AddOffsetsToTxn). The levels are fixed: UpdateFeatures is not served.
 * While share groups are on (`group.share.enable`) `share.version` is finalized at level 1, as a
 * Kafka 4.2+ cluster formatted with its defaults; while streams groups are on (`streams` in
 * `group.coordinator.rebalance.protocols`) `streams.version` is finalized at 1 (Kafka 4.2+'s
 * default) and StreamsGroupHeartbeat/StreamsGroupDescribe are listed, else both are left out. In v3 a supported feature whose minimum is 0 is
 * left out, as Kafka does (KIP-1022: older clients read a minimum of 0 as no support). An unsupported version is answered by server/connection.ts with a v0 body (KIP-511).
 */
import { streamsGroupsEnabled } from '../config/streams-config-defs.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  ApiVersionsRequest,
  type ApiVersionsRequestData,
  ApiVersionsResponse,
  type ApiVersionsResponseData,
} from '../protocol/generated/messages.js';
import { defineHandler } from './handler.js';

/** The features this broker implements, with the level finalized for the cluster. */
export const FEATURES: readonly {
  name: string;
  minVersion: number;
  maxVersion: number;
  finalized: number;
}[] = [
  { name: 'transaction.version', minVersion: 0, maxVersion: 2, finalized: 2 },
  { name: 'share.version', minVersion: 0, maxVersion: 1, finalized: 1 },
  { name: 'streams.version', minVersion: 0, maxVersion: 1, finalized: 1 },
];
/** StreamsGroupHeartbeat and StreamsGroupDescribe: advertised only while streams groups are on. */
const STREAMS_APIS: ReadonlySet<number> = new Set([88, 89]);
/** The finalized levels never change (no UpdateFeatures): one epoch for them. */
const FINALIZED_FEATURES_EPOCH = 0;
const FEATURES_VERSION = 3;

export const apiVersionsHandler = defineHandler<ApiVersionsRequestData, ApiVersionsResponseData>({
  apiKey: 18,
  name: 'ApiVersions',
  minVersion: 0,
  maxVersion: 4,
  request: ApiVersionsRequest,
  response: ApiVersionsResponse,
  handle(ctx) {
    const features =
      ctx.apiVersion >= FEATURES_VERSION
        ? (() => {
            const on = FEATURES.filter(
              (f) =>
                (f.name !== 'share.version' || ctx.configs.bool('group.share.enable')) &&
                (f.name !== 'streams.version' || streamsGroupsEnabled(ctx.configs)),
            );
            return {
              supportedFeatures: on
                .filter((f) => ctx.apiVersion >= 4 || f.minVersion > 0)
                .map((f) => ({ name: f.name, minVersion: f.minVersion, maxVersion: f.maxVersion })),
              finalizedFeaturesEpoch: FINALIZED_FEATURES_EPOCH,
              finalizedFeatures: on.map((f) => ({
                name: f.name,
                minVersionLevel: f.finalized,
                maxVersionLevel: f.finalized,
              })),
            };
          })()
        : {};
    return {
      errorCode: ErrorCode.NONE,
      apiKeys: streamsGroupsEnabled(ctx.configs)
        ? ctx.apiVersions()
        : ctx.apiVersions().filter((k) => !STREAMS_APIS.has(k.apiKey)),
      throttleTimeMs: 0,
      ...features,
    };
  },
});
