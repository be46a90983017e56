// DescribeAcls, CreateAcls and DeleteAcls without an authorizer: Kafka's SECURITY_DISABLED answers,
// over the raw protocol (every advertised version) and through kafkajs' admin client.
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Kafka,
  logLevel,
  ResourcePatternTypes,
} from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../protocol/generated/errors.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';

let tb: TestBroker;

beforeAll(async () => {
  tb = await startTestBroker();
});
afterAll(async () => {
  await tb.close();
});

// Kafka's codes: resource type TOPIC 2, pattern LITERAL 3 / ANY 1, operation READ 3 / ANY 1,
// permission ALLOW 3 / ANY 1.
const creation = (name: string) => ({
  resourceType: 2,
  resourceName: name,
  resourcePatternType: 3,
  principal: 'User:alice',
  host: '*',
  operation: 3,
  permissionType: 3,
});
const anyFilter = {
  resourceTypeFilter: 1,
  resourceNameFilter: null,
  patternTypeFilter: 1,
  principalFilter: null,
  hostFilter: null,
  operation: 1,
  permissionType: 1,
};

describe('ACL APIs without an authorizer', () => {
  it('are advertised with Kafka 4 versions 1–3', async () => {
    const c = await TestClient.connect(tb.port);
    try {
      const r = await c.request<{ apiKeys: { apiKey: number; minVersion: number; maxVersion: number }[] }>(
        18,
        3,
        {
          clientSoftwareName: 't',
          clientSoftwareVersion: '1',
        },
      );
      for (const apiKey of [29, 30, 31]) {
        expect(r.apiKeys.find((k) => k.apiKey === apiKey)).toEqual({ apiKey, minVersion: 1, maxVersion: 3 });
      }
    } finally {
      c.close();
    }
  });

  for (const version of [1, 2, 3]) {
    it(`answer SECURITY_DISABLED per request at v${version}`, async () => {
      const c = await TestClient.connect(tb.port);
      try {
        const described = await c.request(29, version, {
          resourceTypeFilter: 2,
          resourceNameFilter: 'orders',
          patternTypeFilter: 3,
          principalFilter: null,
          hostFilter: null,
          operation: 1,
          permissionType: 1,
        });
        expect(described).toMatchObject({
          errorCode: ErrorCode.SECURITY_DISABLED,
          errorMessage: 'No Authorizer is configured on the broker',
          resources: [],
        });

        const created = await c.request<{ results: unknown[] }>(30, version, {
          creations: [creation('a'), creation('b'), creation('c')],
        });
        const refused = {
          errorCode: ErrorCode.SECURITY_DISABLED,
          errorMessage: 'No Authorizer is configured.',
        };
        expect(created.results).toEqual([refused, refused, refused].map((x) => expect.objectContaining(x)));
        const none = await c.request<{ results: unknown[] }>(30, version, { creations: [] });
        expect(none.results).toEqual([]);

        const deleted = await c.request<{ filterResults: unknown[] }>(31, version, {
          filters: [anyFilter, { ...anyFilter, resourceTypeFilter: 2, resourceNameFilter: 'x' }],
        });
        expect(deleted.filterResults).toEqual(
          [refused, refused].map((x) => expect.objectContaining({ ...x, matchingAcls: [] })),
        );
      } finally {
        c.close();
      }
    });
  }

  it('close the connection on an UNKNOWN element, as Kafka request validation does', async () => {
    for (const [apiKey, body] of [
      [29, { ...anyFilter, operation: 0 }],
      [30, { creations: [creation('ok'), { ...creation('bad'), resourceType: 0 }] }],
      [31, { filters: [{ ...anyFilter, permissionType: 0 }] }],
    ] as const) {
      const c = await TestClient.connect(tb.port);
      await expect(c.request(apiKey, 2, body)).rejects.toThrow('connection closed');
      c.close();
    }
  });

  it('kafkajs admin describeAcls, createAcls and deleteAcls fail with SECURITY_DISABLED', async () => {
    const kafka = new Kafka({ brokers: [tb.bootstrap], clientId: 'acl-test', logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const securityDisabled = { type: 'SECURITY_DISABLED', code: 54 };
      await expect(
        admin.describeAcls({
          resourceType: AclResourceTypes.ANY,
          resourcePatternType: ResourcePatternTypes.ANY,
          operation: AclOperationTypes.ANY,
          permissionType: AclPermissionTypes.ANY,
        }),
      ).rejects.toMatchObject(securityDisabled);
      await expect(
        admin.createAcls({
          acl: [
            {
              resourceType: AclResourceTypes.TOPIC,
              resourceName: 'orders',
              resourcePatternType: ResourcePatternTypes.LITERAL,
              principal: 'User:alice',
              host: '*',
              operation: AclOperationTypes.READ,
              permissionType: AclPermissionTypes.ALLOW,
            },
          ],
        }),
      ).rejects.toMatchObject(securityDisabled);
      await expect(
        admin.deleteAcls({
          filters: [
            {
              resourceType: AclResourceTypes.ANY,
              resourcePatternType: ResourcePatternTypes.ANY,
              operation: AclOperationTypes.ANY,
              permissionType: AclPermissionTypes.ANY,
            },
          ],
        }),
      ).rejects.toMatchObject(securityDisabled);
    } finally {
      await admin.disconnect();
    }
  });
});
