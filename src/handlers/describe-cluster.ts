/**
 * DescribeCluster (key 60), v0–1 (Java Admin describeCluster, `kafka-topics --describe`).
 * v0 flexible from the start; v1 endpoint_type: 1 asks for brokers (this node), 2 for
 * controllers, which a broker endpoint answers MISMATCHED_ENDPOINT_TYPE as Kafka does (kbroker
 * has no separate controller listener); any other type is UNSUPPORTED_ENDPOINT_TYPE. An error
 * answer carries nothing else (empty cluster id, controller -1), as Kafka's. This broker is its
 * own controller. Cluster authorized operations are every cluster operation when asked for
 * (there is no authorizer), else -2147483648.
 * With an authorizer, the cluster authorized operations are the principal's (0 without DESCRIBE).
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  DescribeClusterRequest,
  type DescribeClusterRequestData,
  DescribeClusterResponse,
  type DescribeClusterResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorizeCluster, authorizedOperations, CLUSTER_NAME } from './authz.js';
import { defineHandler } from './handler.js';
import { CLUSTER_AUTHORIZED_OPERATIONS } from './topic-admin.js';

const BROKERS = 1;
const CONTROLLERS = 2;
const OMITTED = -2147483648;

export const describeClusterHandler = defineHandler<DescribeClusterRequestData, DescribeClusterResponseData>({
  apiKey: 60,
  name: 'DescribeCluster',
  minVersion: 0,
  maxVersion: 1,
  request: DescribeClusterRequest,
  response: DescribeClusterResponse,
  handle(ctx, req) {
    const endpointType = req.endpointType ?? BROKERS;
    if (endpointType !== BROKERS) {
      // Kafka's AuthHelper.computeDescribeClusterResponse: an error answer is otherwise empty.
      const known = endpointType === CONTROLLERS;
      return {
        throttleTimeMs: 0,
        errorCode: known ? ErrorCode.MISMATCHED_ENDPOINT_TYPE : ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
        errorMessage: known
          ? 'The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER'
          : `Unsupported endpoint type ${endpointType}`,
        endpointType: BROKERS,
        clusterId: '',
        controllerId: -1,
        brokers: [],
        clusterAuthorizedOperations: OMITTED,
      };
    }
    const base = {
      throttleTimeMs: 0,
      endpointType: BROKERS,
      clusterId: ctx.metadata.clusterId,
      clusterAuthorizedOperations: !req.includeClusterAuthorizedOperations
        ? OMITTED
        : allowsAll(ctx)
          ? CLUSTER_AUTHORIZED_OPERATIONS
          : authorizeCluster(ctx, 'DESCRIBE')
            ? authorizedOperations(ctx, 'CLUSTER', CLUSTER_NAME)
            : 0,
    };
    return {
      ...base,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      controllerId: ctx.metadata.controllerId,
      brokers: ctx.metadata
        .brokers(ctx.listenerName)
        .map((b) => ({ brokerId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
    };
  },
});
