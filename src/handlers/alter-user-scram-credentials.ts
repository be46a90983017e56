/**
 * AlterUserScramCredentials (key 51), v0 flexible (`kafka-configs --alter --add-config
 * 'SCRAM-SHA-256=[password=…]' --entity-type users`). Needs ALTER on the cluster. The client sends
 * the salt and salted password; the broker keeps Kafka's form — salt, iterations, StoredKey,
 * ServerKey — as UserScramCredentialRecords in the metadata log (through the controller), never
 * the password. Kafka's ScramControlManager
 * checks: a user altered twice in one request DUPLICATE_RESOURCE, an empty user name or too few
 * (< 4096) / too many (> 16384) iterations UNACCEPTABLE_CREDENTIAL, an unknown mechanism
 * UNSUPPORTED_SASL_MECHANISM, deleting a credential that does not exist RESOURCE_NOT_FOUND. The
 * accepted changes are applied together.
 */
import type { ScramChangeRecord } from '../metadata/security-image.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  AlterUserScramCredentialsRequest,
  type AlterUserScramCredentialsRequestData,
  AlterUserScramCredentialsResponse,
  type AlterUserScramCredentialsResponseData,
} from '../protocol/generated/messages.js';
import {
  credentialFromSaltedPassword,
  SCRAM_MAX_ITERATIONS,
  SCRAM_MECHANISMS,
  scramMechanismByType,
} from '../security/sasl/scram.js';
import { authorizeCluster } from './authz.js';
import { defineHandler } from './handler.js';

interface ApiError {
  code: number;
  message: string;
}

const TWICE: ApiError = {
  code: ErrorCode.DUPLICATE_RESOURCE,
  message: 'A user credential cannot be altered twice in the same request',
};

function validateNameAndMechanism(name: string, mechanism: number): ApiError | null {
  if (name === '') return { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: 'Username must not be empty' };
  if (!scramMechanismByType(mechanism)) {
    return { code: ErrorCode.UNSUPPORTED_SASL_MECHANISM, message: 'Unknown SCRAM mechanism' };
  }
  return null;
}

export const alterUserScramCredentialsHandler = defineHandler<
  AlterUserScramCredentialsRequestData,
  AlterUserScramCredentialsResponseData
>({
  apiKey: 51,
  name: 'AlterUserScramCredentials',
  minVersion: 0,
  maxVersion: 0,
  request: AlterUserScramCredentialsRequest,
  response: AlterUserScramCredentialsResponse,
  async handle(ctx, req) {
    if (!authorizeCluster(ctx, 'ALTER')) {
      const users = new Set([...req.deletions.map((d) => d.name), ...req.upsertions.map((u) => u.name)]);
      return {
        throttleTimeMs: 0,
        results: [...users].map((user) => ({
          user,
          errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          errorMessage: 'Cluster authorization failed.',
        })),
      };
    }
    const store = ctx.securityStore;
    const deletions = new Map<string, (typeof req.deletions)[number]>();
    const upsertions = new Map<string, (typeof req.upsertions)[number]>();
    const errors = new Map<string, ApiError>();
    for (const d of req.deletions) {
      if (errors.has(d.name)) continue;
      if (deletions.delete(d.name)) {
        errors.set(d.name, TWICE);
        continue;
      }
      const invalid =
        validateNameAndMechanism(d.name, d.mechanism) ??
        (store.scramCredential(d.name, d.mechanism)
          ? null
          : {
              code: ErrorCode.RESOURCE_NOT_FOUND,
              message: 'Attempt to delete a user credential that does not exist',
            });
      if (invalid) errors.set(d.name, invalid);
      else deletions.set(d.name, d);
    }
    for (const u of req.upsertions) {
      if (errors.has(u.name)) continue;
      if (deletions.delete(u.name) || upsertions.delete(u.name)) {
        errors.set(u.name, TWICE);
        continue;
      }
      let invalid = validateNameAndMechanism(u.name, u.mechanism);
      if (!invalid) {
        const mechanism = scramMechanismByType(u.mechanism)!;
        if (u.iterations < SCRAM_MECHANISMS[mechanism].minIterations) {
          invalid = { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: 'Too few iterations' };
        } else if (u.iterations > SCRAM_MAX_ITERATIONS) {
          invalid = { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: 'Too many iterations' };
        }
      }
      if (invalid) errors.set(u.name, invalid);
      else upsertions.set(u.name, u);
    }
    const records: ScramChangeRecord[] = [];
    for (const d of deletions.values()) {
      records.push({ type: 'RemoveUserScramCredentialRecord', name: d.name, mechanism: d.mechanism });
    }
    for (const u of upsertions.values()) {
      const c = credentialFromSaltedPassword(
        scramMechanismByType(u.mechanism)!,
        u.salt,
        u.saltedPassword,
        u.iterations,
      );
      records.push({
        type: 'UserScramCredentialRecord',
        name: u.name,
        mechanism: u.mechanism,
        salt: c.salt.toString('base64'),
        storedKey: c.storedKey.toString('base64'),
        serverKey: c.serverKey.toString('base64'),
        iterations: c.iterations,
      });
    }
    // Written to the metadata log as one batch; SASL/SCRAM follows the image it leaves.
    if (records.length > 0) await ctx.controller.alterUserScramCredentials(records);
    return {
      throttleTimeMs: 0,
      results: [
        ...[...deletions.keys()].map((user) => ({ user, errorCode: ErrorCode.NONE, errorMessage: null })),
        ...[...upsertions.keys()].map((user) => ({ user, errorCode: ErrorCode.NONE, errorMessage: null })),
        ...[...errors].map(([user, e]) => ({ user, errorCode: e.code, errorMessage: e.message })),
      ],
    };
  },
});
