/**
 * SCRAM credentials and ACLs in the metadata image: the records build them, images stay values,
 * the delta says what changed, an inconsistent record changes nothing, and toRecords rebuilds the
 * same image (a snapshot keeps them).
 */
import { describe, expect, it } from 'vitest';
import { MetadataError, MetadataImage } from './image.js';
import type { AccessControlEntryRecord, UserScramCredentialRecord } from './records.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

const cred = (name: string, mechanism: number, iterations = 4096): UserScramCredentialRecord => ({
  type: 'UserScramCredentialRecord',
  name,
  mechanism,
  salt: b64(`salt-${name}`),
  storedKey: b64(`stored-${name}-${iterations}`),
  serverKey: b64(`server-${name}-${iterations}`),
  iterations,
});

const acl = (id: string, principal = 'User:alice'): AccessControlEntryRecord => ({
  type: 'AccessControlEntryRecord',
  id,
  resourceType: 2,
  resourceName: 'orders',
  patternType: 3,
  principal,
  host: '*',
  operation: 3,
  permissionType: 3,
});

describe('MetadataImage security (ScramImage, AclsImage)', () => {
  it('credentials: set, replaced, removed; bytes decoded; the delta names who changed', () => {
    const { image: one, delta: d1 } = MetadataImage.EMPTY.apply([
      cred('alice', 1),
      cred('alice', 2),
      cred('bob', 1),
    ]);
    expect(one.security.scramCredential('alice', 1)).toEqual({
      name: 'alice',
      mechanism: 1,
      salt: Buffer.from('salt-alice'),
      storedKey: Buffer.from('stored-alice-4096'),
      serverKey: Buffer.from('server-alice-4096'),
      iterations: 4096,
    });
    expect(one.security.scramCredentials()).toHaveLength(3);
    expect(d1.security.changedScram).toEqual([
      { name: 'alice', mechanism: 1 },
      { name: 'alice', mechanism: 2 },
      { name: 'bob', mechanism: 1 },
    ]);

    const { image: two, delta: d2 } = one.apply([
      cred('alice', 1, 8192),
      { type: 'RemoveUserScramCredentialRecord', name: 'bob', mechanism: 1 },
    ]);
    expect(two.security.scramCredential('alice', 1)?.iterations).toBe(8192);
    expect(two.security.scramCredential('bob', 1)).toBeUndefined();
    expect(d2.security.changedScram).toEqual([
      { name: 'alice', mechanism: 1 },
      { name: 'bob', mechanism: 1 },
    ]);
    expect(d2.security.addedAcls).toEqual([]);
    // The earlier image is a value: unchanged.
    expect(one.security.scramCredential('alice', 1)?.iterations).toBe(4096);
    expect(one.security.scramCredential('bob', 1)).toBeDefined();
  });

  it('ACLs: added and removed by id; the delta lists them; a topic change leaves security alone', () => {
    const { image: one, delta: d1 } = MetadataImage.EMPTY.apply([acl('a1'), acl('a2', 'User:bob')]);
    expect(one.security.acls().map((a) => a.id)).toEqual(['a1', 'a2']);
    expect(one.security.acl('a1')).toMatchObject({ principal: 'User:alice', resourceName: 'orders' });
    expect(d1.security.addedAcls.map((a) => a.id)).toEqual(['a1', 'a2']);

    const { image: two, delta: d2 } = one.apply([{ type: 'RemoveAccessControlEntryRecord', id: 'a1' }]);
    expect(two.security.acls().map((a) => a.id)).toEqual(['a2']);
    expect(d2.security.removedAcls).toEqual([expect.objectContaining({ id: 'a1', principal: 'User:alice' })]);
    expect(one.security.acls()).toHaveLength(2);

    // Added and removed in one batch: neither added nor removed.
    const { delta: d3 } = two.apply([acl('a3'), { type: 'RemoveAccessControlEntryRecord', id: 'a3' }]);
    expect(d3.security).toEqual({ changedScram: [], addedAcls: [], removedAcls: [] });

    const { image: three, delta: d4 } = two.apply([
      { type: 'TopicRecord', name: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' },
    ]);
    expect(d4.security).toEqual({ changedScram: [], addedAcls: [], removedAcls: [] });
    expect(three.security).toBe(two.security);
  });

  it('an inconsistent record throws and changes nothing', () => {
    const { image } = MetadataImage.EMPTY.apply([acl('a1'), cred('alice', 1)]);
    expect(() => image.apply([acl('a2'), acl('a1')])).toThrow(MetadataError);
    expect(() => image.apply([{ type: 'RemoveAccessControlEntryRecord', id: 'nope' }])).toThrow(
      /no ACL with id nope/,
    );
    expect(() =>
      image.apply([{ type: 'RemoveUserScramCredentialRecord', name: 'alice', mechanism: 2 }]),
    ).toThrow(/no credential of alice/);
    expect(image.security.acls().map((a) => a.id)).toEqual(['a1']);
  });

  it('toRecords rebuilds credentials and ACLs (a snapshot keeps them)', () => {
    const { image } = MetadataImage.EMPTY.apply([
      { type: 'TopicRecord', name: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' },
      cred('alice', 2),
      acl('a1'),
      acl('a2'),
      { type: 'RemoveAccessControlEntryRecord', id: 'a1' },
    ]);
    const records = image.toRecords();
    expect(records.filter((r) => r.type === 'UserScramCredentialRecord')).toEqual([cred('alice', 2)]);
    expect(records.filter((r) => r.type === 'AccessControlEntryRecord')).toEqual([acl('a2')]);
    const { image: rebuilt, delta } = MetadataImage.EMPTY.apply(records, image.offset);
    expect(rebuilt.security.scramCredentials()).toEqual(image.security.scramCredentials());
    expect(rebuilt.security.acls()).toEqual(image.security.acls());
    expect(delta.security.addedAcls.map((a) => a.id)).toEqual(['a2']);
  });
});
