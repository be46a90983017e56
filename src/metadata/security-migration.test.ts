/**
 * SCRAM credentials and ACLs through the controller: durable in the metadata log (a reopened
 * controller has them), checked against the image, bounded per request; and the first start of a
 * data directory that kept them in kbroker-security.json moves them into the metadata log, once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { BrokerConfig } from '../config/broker-config.js';
import { KafkaError } from '../protocol/kafka-error.js';
import { credentialFromPassword } from '../security/sasl/scram.js';
import { STANDARD_AUTHORIZER_CLASS } from '../security/standard-authorizer.js';
import { tmpDir } from '../storage/test-helpers.js';
import { startTestBroker } from '../test-support/broker.js';
import { type LocalController, MAX_RECORDS_PER_USER_OP, openLocalController } from './controller.js';
import { MetadataError } from './image.js';
import type { AccessControlEntryRecord } from './records.js';
import { LEGACY_SECURITY_FILE } from './security-migration.js';

const open = (dir: string): LocalController =>
  openLocalController({ dataDir: dir, nodeId: 1, config: new BrokerConfig({}) });

const acl = (id: string): AccessControlEntryRecord => ({
  type: 'AccessControlEntryRecord',
  id,
  resourceType: 2,
  resourceName: 'orders',
  patternType: 3,
  principal: 'User:alice',
  host: '*',
  operation: 3,
  permissionType: 3,
});

/** kbroker-security.json as FileSecurityStore wrote it (version 1, bytes in base64). */
const legacyFile = {
  version: 1,
  scram: [
    {
      name: 'alice',
      mechanism: 2,
      salt: Buffer.from('the-salt').toString('base64'),
      storedKey: Buffer.from('the-stored-key').toString('base64'),
      serverKey: Buffer.from('the-server-key').toString('base64'),
      iterations: 4096,
    },
  ],
  acls: [
    {
      id: 'q2bdd6x3TF2zHvq9cRGAVg',
      resourceType: 2,
      resourceName: 'orders',
      patternType: 3,
      principal: 'User:alice',
      host: '*',
      operation: 3,
      permissionType: 3,
    },
  ],
};

describe('SecurityController (LocalController)', () => {
  it('credentials and ACLs are in the metadata log: a reopened controller has them', async () => {
    const dir = tmpDir();
    const c = open(dir);
    await c.alterUserScramCredentials([
      {
        type: 'UserScramCredentialRecord',
        name: 'alice',
        mechanism: 1,
        salt: 'c2FsdA==',
        storedKey: 'c3RvcmVk',
        serverKey: 'c2VydmVy',
        iterations: 4096,
      },
    ]);
    await c.alterAcls([acl('a1'), acl('a2')]);
    await c.alterAcls([{ type: 'RemoveAccessControlEntryRecord', id: 'a1' }]);
    // No close: as after kill -9.
    const again = open(dir);
    expect(again.image.security.scramCredential('alice', 1)).toMatchObject({
      salt: Buffer.from('salt'),
      storedKey: Buffer.from('stored'),
      serverKey: Buffer.from('server'),
      iterations: 4096,
    });
    expect(again.image.security.acls().map((a) => a.id)).toEqual(['a2']);
    again.close();
  });

  it('refuses a batch that does not fit the image or is too large, and writes none of it', async () => {
    const dir = tmpDir();
    const c = open(dir);
    await c.alterAcls([acl('a1')]);
    const offset = c.image.offset;
    await expect(c.alterAcls([acl('a2'), acl('a1')])).rejects.toThrow(MetadataError);
    await expect(
      c.alterUserScramCredentials([
        { type: 'RemoveUserScramCredentialRecord', name: 'nobody', mechanism: 1 },
      ]),
    ).rejects.toThrow(MetadataError);
    const many = Array.from({ length: MAX_RECORDS_PER_USER_OP + 1 }, (_, i) => acl(`x${i}`));
    let err: unknown;
    try {
      await c.alterAcls(many);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KafkaError);
    expect((err as KafkaError).error).toBe('POLICY_VIOLATION');
    expect(c.image.offset).toBe(offset);
    expect(
      open(dir)
        .image.security.acls()
        .map((a) => a.id),
    ).toEqual(['a1']);
  });
});

describe('migration of kbroker-security.json', () => {
  it('moves credentials and ACLs (ids kept) into the metadata log and removes the file', async () => {
    const dir = tmpDir();
    // A directory that has a metadata log already (topics migrated earlier) and the security file.
    open(dir).close();
    fs.writeFileSync(path.join(dir, LEGACY_SECURITY_FILE), JSON.stringify(legacyFile));
    const c = open(dir);
    expect(fs.existsSync(path.join(dir, LEGACY_SECURITY_FILE))).toBe(false);
    expect(c.image.security.scramCredential('alice', 2)).toEqual({
      name: 'alice',
      mechanism: 2,
      salt: Buffer.from('the-salt'),
      storedKey: Buffer.from('the-stored-key'),
      serverKey: Buffer.from('the-server-key'),
      iterations: 4096,
    });
    expect(c.image.security.acls()).toEqual([legacyFile.acls[0]]);
    const offset = c.image.offset;
    expect(offset).toBe(2);

    // A crash after the write but before the file went: the next start writes nothing twice.
    fs.writeFileSync(path.join(dir, LEGACY_SECURITY_FILE), JSON.stringify(legacyFile));
    const again = open(dir);
    expect(again.image.offset).toBe(offset);
    expect(again.image.security.acls()).toHaveLength(1);
    expect(fs.existsSync(path.join(dir, LEGACY_SECURITY_FILE))).toBe(false);
  });

  it('works on a directory without a metadata log too, beside the topic migration', async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, LEGACY_SECURITY_FILE), JSON.stringify(legacyFile));
    const c = open(dir);
    expect(c.image.security.scramCredentials()).toHaveLength(1);
    expect(c.image.security.acls()).toHaveLength(1);
    c.close();
    // After a clean close (a snapshot) they are still there.
    expect(
      open(dir)
        .image.security.acls()
        .map((a) => a.id),
    ).toEqual(['q2bdd6x3TF2zHvq9cRGAVg']);
  });

  it('refuses a file of an unknown version instead of dropping what it holds', async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, LEGACY_SECURITY_FILE), JSON.stringify({ ...legacyFile, version: 2 }));
    expect(() => open(dir)).toThrow(/unknown version 2/);
    expect(fs.existsSync(path.join(dir, LEGACY_SECURITY_FILE))).toBe(true);
  });

  it('a broker started on such a directory authenticates the SCRAM user and enforces the ACLs (kafkajs)', async () => {
    const dir = tmpDir();
    const c = credentialFromPassword('SCRAM-SHA-256', 'alice-secret', 4096);
    const aclOf = (id: string, resourceType: number, resourceName: string, operation: number) => ({
      id,
      resourceType,
      resourceName,
      patternType: 3,
      principal: 'User:alice',
      host: '*',
      operation,
      permissionType: 3,
    });
    fs.writeFileSync(
      path.join(dir, LEGACY_SECURITY_FILE),
      JSON.stringify({
        version: 1,
        scram: [
          {
            name: 'alice',
            mechanism: 1,
            salt: c.salt.toString('base64'),
            storedKey: c.storedKey.toString('base64'),
            serverKey: c.serverKey.toString('base64'),
            iterations: c.iterations,
          },
        ],
        // ALL on the cluster; DESCRIBE on topic "orders" only.
        acls: [
          aclOf('AAAAAAAAAAAAAAAAAAAAAQ', 4, 'kafka-cluster', 2),
          aclOf('AAAAAAAAAAAAAAAAAAAAAg', 2, 'orders', 8),
        ],
      }),
    );
    const config = {
      listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
      'sasl.enabled.mechanisms': 'SCRAM-SHA-256',
      'authorizer.class.name': STANDARD_AUTHORIZER_CLASS,
      'super.users': 'User:ANONYMOUS',
      'connection.failed.authentication.delay.ms': '0',
    };
    const tb = await startTestBroker(config, dir);
    try {
      expect(fs.existsSync(path.join(dir, LEGACY_SECURITY_FILE))).toBe(false);
      const admin = new Kafka({
        clientId: 'migration-test',
        brokers: [`127.0.0.1:${tb.broker.listenerPort('SASL_PLAINTEXT')!}`],
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
        sasl: { mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' },
      }).admin();
      await admin.connect();
      try {
        await tb.broker.controller.createTopic('payments', 1);
        await admin.createTopics({ topics: [{ topic: 'orders' }] });
        const { topics } = await admin.fetchTopicMetadata({ topics: [] });
        // DESCRIBE on "orders" only: "payments" is not shown to alice.
        expect(topics.map((t) => t.name)).toEqual(['orders']);
        await expect(admin.fetchTopicMetadata({ topics: ['payments'] })).rejects.toThrow(/authoriz/i);
        const described = await admin.describeAcls({
          resourceType: 1,
          resourcePatternType: 1,
          operation: 1,
          permissionType: 1,
        });
        expect(described.resources.map((r) => r.resourceName).sort()).toEqual(['kafka-cluster', 'orders']);
      } finally {
        await admin.disconnect();
      }
    } finally {
      await tb.close();
    }
  });
});
