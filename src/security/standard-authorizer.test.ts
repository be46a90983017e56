import { describe, expect, it } from 'vitest';
import {
  AclOperationCode as Op,
  PatternTypeCode as Pat,
  PermissionTypeCode as Perm,
  ResourceTypeCode as Res,
} from './acl.js';
import type { AclOperation, ResourceType } from './authorizer.js';
import { MemorySecurityStore } from './security-store.js';
import { StandardAuthorizer } from './standard-authorizer.js';

function authorizer(opts: { superUsers?: string; allowIfNoAcl?: boolean } = {}) {
  const store = new MemorySecurityStore();
  const a = new StandardAuthorizer(store, {
    superUsers: opts.superUsers ?? null,
    allowEveryoneIfNoAclFound: opts.allowIfNoAcl ?? false,
  });
  return { a, store };
}

const acl = (
  principal: string,
  operation: number,
  permissionType: number,
  resourceName: string,
  patternType: number = Pat.LITERAL,
  resourceType: number = Res.TOPIC,
  host = '*',
) => ({ resourceType, resourceName, patternType, principal, host, operation, permissionType });

const as = (name: string, host = '10.0.0.1') => ({
  principal: { principalType: 'User', name },
  listenerName: 'PLAINTEXT',
  clientAddress: host,
});

function can(
  a: StandardAuthorizer,
  who: string,
  op: AclOperation,
  name: string,
  type: ResourceType = 'TOPIC',
  host?: string,
) {
  return a.authorize(as(who, host), op, type, name);
}

describe('StandardAuthorizer', () => {
  it('matches literal, prefixed and wildcard ACLs, with DENY winning', async () => {
    const { a } = authorizer();
    expect(
      await a.createAcls([
        acl('User:alice', Op.WRITE, Perm.ALLOW, 'a-', Pat.PREFIXED),
        acl('User:alice', Op.WRITE, Perm.DENY, 'a-secret'),
        acl('User:*', Op.READ, Perm.ALLOW, '*'),
      ]),
    ).toEqual([{ error: null }, { error: null }, { error: null }]);
    expect(can(a, 'alice', 'WRITE', 'a-1')).toBe(true);
    expect(can(a, 'alice', 'WRITE', 'a-secret')).toBe(false);
    expect(can(a, 'alice', 'WRITE', 'b')).toBe(false);
    expect(can(a, 'bob', 'READ', 'anything')).toBe(true);
    expect(can(a, 'bob', 'WRITE', 'a-1')).toBe(false);
  });

  it('lets READ/WRITE/DELETE/ALTER imply DESCRIBE and ALTER_CONFIGS imply DESCRIBE_CONFIGS, for ALLOW only', async () => {
    const { a } = authorizer();
    await a.createAcls([
      acl('User:alice', Op.WRITE, Perm.ALLOW, 't'),
      acl('User:alice', Op.ALTER_CONFIGS, Perm.ALLOW, 't'),
      acl('User:bob', Op.ALL, Perm.ALLOW, 't'),
      acl('User:bob', Op.READ, Perm.DENY, 't'),
    ]);
    expect(can(a, 'alice', 'DESCRIBE', 't')).toBe(true);
    expect(can(a, 'alice', 'DESCRIBE_CONFIGS', 't')).toBe(true);
    expect(can(a, 'alice', 'READ', 't')).toBe(false);
    // A DENY of READ does not deny DESCRIBE.
    expect(can(a, 'bob', 'DESCRIBE', 't')).toBe(true);
    expect(can(a, 'bob', 'READ', 't')).toBe(false);
  });

  it('follows allow.everyone.if.no.acl.found only for resources without any ACL, and super.users always', async () => {
    const open = authorizer({ allowIfNoAcl: true, superUsers: 'User:root;User:ops' });
    await open.a.createAcls([acl('User:alice', Op.READ, Perm.ALLOW, 'guarded')]);
    expect(can(open.a, 'bob', 'WRITE', 'free')).toBe(true);
    expect(can(open.a, 'bob', 'READ', 'guarded')).toBe(false);
    expect(can(open.a, 'ops', 'DELETE', 'guarded')).toBe(true);
    const closed = authorizer();
    expect(can(closed.a, 'bob', 'DESCRIBE', 'free')).toBe(false);
  });

  it('matches hosts exactly or by *', async () => {
    const { a } = authorizer();
    await a.createAcls([acl('User:alice', Op.READ, Perm.ALLOW, 't', Pat.LITERAL, Res.TOPIC, '10.0.0.1')]);
    expect(can(a, 'alice', 'READ', 't', 'TOPIC', '10.0.0.1')).toBe(true);
    expect(can(a, 'alice', 'READ', 't', 'TOPIC', '10.0.0.2')).toBe(false);
  });

  it("creates an existing ACL once, refuses invalid ones with Kafka's messages, and deletes by filter", async () => {
    const { a, store } = authorizer();
    await a.createAcls([
      acl('User:alice', Op.READ, Perm.ALLOW, 't'),
      acl('User:alice', Op.READ, Perm.ALLOW, 't'),
    ]);
    expect(store.acls()).toHaveLength(1);
    expect(
      (
        await a.createAcls([
          acl('User:alice', Op.READ, Perm.ALLOW, 'other-cluster', Pat.LITERAL, Res.CLUSTER),
          acl('alice', Op.READ, Perm.ALLOW, 't'),
          acl('User:alice', Op.READ, Perm.ALLOW, '', Pat.LITERAL),
        ])
      ).map((r) => r.error),
    ).toEqual([
      'The only valid name for the CLUSTER resource is kafka-cluster',
      expect.stringContaining('Could not parse principal'),
      'Resource name should not be empty',
    ]);
    const filter = {
      resourceType: Res.ANY,
      resourceName: 't-1',
      patternType: Pat.MATCH,
      principal: null,
      host: null,
      operation: Op.ANY,
      permissionType: Perm.ANY,
    };
    await a.createAcls([acl('User:bob', Op.WRITE, Perm.ALLOW, 't-', Pat.PREFIXED)]);
    expect(a.describeAcls(filter).map((b) => b.principal)).toEqual(['User:bob']);
    expect((await a.deleteAcls([filter]))[0]!.deleted).toHaveLength(1);
    expect(store.acls().map((b) => b.principal)).toEqual(['User:alice']);
  });

  it('authorizes by resource type as Kafka does for InitProducerId without a transactional id', async () => {
    const { a } = authorizer();
    await a.createAcls([acl('User:alice', Op.WRITE, Perm.ALLOW, 'x-', Pat.PREFIXED)]);
    expect(a.authorizeByResourceType(as('alice'), 'WRITE', 'TOPIC')).toBe(true);
    expect(a.authorizeByResourceType(as('bob'), 'WRITE', 'TOPIC')).toBe(false);
    await a.createAcls([acl('User:alice', Op.WRITE, Perm.DENY, '*')]);
    expect(a.authorizeByResourceType(as('alice'), 'WRITE', 'TOPIC')).toBe(false);
  });
});
