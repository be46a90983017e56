/**
 * The broker's SecurityStore over the metadata image: reads what the image holds, writes records
 * through the controller, and tells its listeners (the authorizer) only about changes to
 * credentials or ACLs.
 */
import { describe, expect, it } from 'vitest';
import { BrokerConfig } from '../config/broker-config.js';
import { openLocalController } from '../metadata/controller.js';
import { tmpDir } from '../storage/test-helpers.js';
import { MetadataSecurityStore } from './metadata-security-store.js';

const aclData = {
  id: 'a1',
  resourceType: 2,
  resourceName: 'orders',
  patternType: 3,
  principal: 'User:alice',
  host: '*',
  operation: 3,
  permissionType: 3,
};

describe('MetadataSecurityStore', () => {
  it('writes through the controller, reads the image, and notifies on security changes only', async () => {
    const dir = tmpDir();
    const controller = openLocalController({ dataDir: dir, nodeId: 1, config: new BrokerConfig({}) });
    const store = new MetadataSecurityStore(controller);
    let notified = 0;
    store.onChange(() => notified++);

    const salt = Buffer.from('salt');
    await store.apply([
      {
        type: 'UserScramCredentialRecord',
        data: {
          name: 'alice',
          mechanism: 2,
          salt,
          storedKey: Buffer.from('sk'),
          serverKey: Buffer.from('vk'),
          iterations: 4096,
        },
      },
      { type: 'AccessControlEntryRecord', data: aclData },
    ]);
    expect(notified).toBe(2); // one batch of credentials, one of ACLs
    expect(controller.image.security.acls()).toEqual([aclData]);
    expect(store.scramCredential('alice', 2)).toMatchObject({ salt, iterations: 4096 });
    expect(store.acls()).toEqual([aclData]);

    await controller.createTopic('t', 1);
    expect(notified).toBe(2);

    await store.apply([
      { type: 'RemoveUserScramCredentialRecord', data: { name: 'alice', mechanism: 2 } },
      { type: 'RemoveAccessControlEntryRecord', data: { id: 'a1' } },
    ]);
    expect(notified).toBe(4);
    expect(store.scramCredentials()).toEqual([]);
    expect(store.acls()).toEqual([]);

    // A refused batch (removing what does not exist) changes nothing and tells no one.
    await expect(
      store.apply([{ type: 'RemoveAccessControlEntryRecord', data: { id: 'a1' } }]),
    ).rejects.toThrow();
    expect(notified).toBe(4);
    store.close();
    controller.close();
  });
});
