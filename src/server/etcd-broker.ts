/**
 * One broker process of a multi-process cluster (`kbroker start --node-id N --etcd URL,...`): a
 * SharedLogBroker (shared-log-broker.ts) whose cluster metadata is in etcd.
 */
import type { Logger } from '../common/logger.js';
import { BrokerConfig, ConfigError, type RawConfig } from '../config/broker-config.js';
import { EtcdClusterMetadata } from '../metadata/etcd/index.js';
import { SharedLogBroker } from './shared-log-broker.js';

export type EtcdBroker = SharedLogBroker;

export const EtcdBroker = {
  start(
    raw: RawConfig,
    options: { logger?: Logger; onFatal?: (err: Error) => void } = {},
  ): Promise<SharedLogBroker> {
    const connect = new BrokerConfig(raw).string('etcd.connect').trim();
    if (connect === '') throw new ConfigError('etcd.connect is empty: not a multi-process broker');
    return SharedLogBroker.start(raw, { ...options, metadata: EtcdClusterMetadata.factory(connect) });
  },
};
