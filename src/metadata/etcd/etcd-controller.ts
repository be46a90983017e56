/**
 * The Controller of a broker process whose cluster metadata lives in etcd (`--etcd`): a
 * SharedLogController (src/metadata/shared-log-controller.ts) over the metadata log, broker
 * registry and controller election in etcd (EtcdClusterMetadata).
 */
import type { Logger } from '../../common/logger.js';
import type { BrokerConfig } from '../../config/broker-config.js';
import { SharedLogController } from '../shared-log-controller.js';
import { EtcdClusterMetadata } from './index.js';

export interface EtcdControllerOptions {
  readonly nodeId: number;
  readonly config: BrokerConfig;
  /** `host:port[,host:port...][/root]` (etcd.connect). */
  readonly connect: string;
  readonly logger?: Logger;
  /** Called when following the metadata log failed for good: the process must restart. */
  readonly onFatal?: (err: Error) => void;
}

export type EtcdController = SharedLogController;

export const EtcdController = {
  /** Connects, loads the metadata log to its end, and campaigns for the controller role. */
  open(o: EtcdControllerOptions): Promise<SharedLogController> {
    const { connect, ...rest } = o;
    return SharedLogController.open({ ...rest, metadata: EtcdClusterMetadata.factory(connect) });
  },
};
