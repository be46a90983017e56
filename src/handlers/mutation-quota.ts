/**
 * The controller mutation quota (KIP-599) as CreateTopics, CreatePartitions and DeleteTopics apply
 * it: strict from the version given (the first that knows THROTTLING_QUOTA_EXCEEDED), permissive
 * before; the response's throttle time, and the connection muted as long, once the request is done.
 */
import type { PartitionChangeQuota } from '../metadata/controller.js';
import { KafkaError } from '../protocol/kafka-error.js';
import type { RequestContext } from './handler.js';

export interface RequestMutationQuota {
  /** Counts a topic's partitions (throws THROTTLING_QUOTA_EXCEEDED when refused). */
  readonly charge: PartitionChangeQuota;
  /** The response's throttle_time_ms; the connection is muted that long. */
  throttleTimeMs(): number;
}

export function mutationQuotaFor(ctx: RequestContext, strictSinceVersion: number): RequestMutationQuota {
  const quota = ctx.controllerMutationQuotas?.newQuotaFor(
    ctx.principal.name,
    ctx.clientId ?? '',
    ctx.apiVersion >= strictSinceVersion,
  );
  // Each topic is counted once, whatever the number of times its checks run: a controller change
  // retried after a conflicting metadata write (brokers on etcd or threads) checks its topics again.
  const charged = new Map<string, KafkaError | null>();
  return {
    charge(topic, partitions) {
      if (!quota) return;
      const before = charged.get(topic);
      if (before !== undefined) {
        if (before !== null) throw before;
        return;
      }
      try {
        quota.record(partitions);
        charged.set(topic, null);
      } catch (err) {
        if (err instanceof KafkaError) charged.set(topic, err);
        throw err;
      }
    },
    throttleTimeMs() {
      const ms = quota?.throttleTimeMs() ?? 0;
      if (ms > 0) ctx.throttle?.(ms);
      return ms;
    },
  };
}
