/**
 * DescribeUserScramCredentials (key 50), v0 flexible (`kafka-configs --describe --entity-type
 * users`). Needs DESCRIBE on the cluster (else CLUSTER_AUTHORIZATION_FAILED for the request).
 * With no user named, every user with a credential; a named user without one gets
 * RESOURCE_NOT_FOUND, a user named twice DUPLICATE_RESOURCE (Kafka's ScramImage.describe). Only
 * the mechanism and iterations are told, never the salt or keys.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  DescribeUserScramCredentialsRequest,
  type DescribeUserScramCredentialsRequestData,
  DescribeUserScramCredentialsResponse,
  type DescribeUserScramCredentialsResponseData,
} from '../protocol/generated/messages.js';
import { authorizeCluster } from './authz.js';
import { defineHandler } from './handler.js';

export const describeUserScramCredentialsHandler = defineHandler<
  DescribeUserScramCredentialsRequestData,
  DescribeUserScramCredentialsResponseData
>({
  apiKey: 50,
  name: 'DescribeUserScramCredentials',
  minVersion: 0,
  maxVersion: 0,
  request: DescribeUserScramCredentialsRequest,
  response: DescribeUserScramCredentialsResponse,
  handle(ctx, req) {
    if (!authorizeCluster(ctx, 'DESCRIBE')) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: 'Cluster authorization failed.',
        results: [],
      };
    }
    const all = ctx.securityStore.scramCredentials();
    const duplicated = new Map<string, boolean>();
    if (!req.users || req.users.length === 0) for (const c of all) duplicated.set(c.name, false);
    else for (const u of req.users) duplicated.set(u.name, duplicated.has(u.name));
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      results: [...duplicated].map(([user, twice]) => {
        if (twice) {
          return {
            user,
            errorCode: ErrorCode.DUPLICATE_RESOURCE,
            errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`,
            credentialInfos: [],
          };
        }
        const infos = all
          .filter((c) => c.name === user)
          .sort((a, b) => a.mechanism - b.mechanism)
          .map((c) => ({ mechanism: c.mechanism, iterations: c.iterations }));
        if (infos.length === 0) {
          return {
            user,
            errorCode: ErrorCode.RESOURCE_NOT_FOUND,
            errorMessage: `Attempt to describe a user credential that does not exist: ${user}`,
            credentialInfos: [],
          };
        }
        return { user, errorCode: ErrorCode.NONE, errorMessage: null, credentialInfos: infos };
      }),
    };
  },
});
