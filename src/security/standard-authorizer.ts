/**
 * Kafka's StandardAuthorizer (`authorizer.class.name=org.apache.kafka.metadata.authorizer.
 * StandardAuthorizer`): ACLs from the security store, `super.users`, and
 * `allow.everyone.if.no.acl.found`, with StandardAuthorizerData's rules:
 *
 * - the ACLs that apply to a resource are its LITERAL ACLs, the LITERAL `*` ACLs of its type, and
 *   the PREFIXED ACLs whose name starts the resource's name;
 * - an ACL applies to a request when its principal is the request's or `<type>:*`, and its host
 *   is the client's address or `*`;
 * - any applying DENY for the operation (or ALL) denies; otherwise an applying ALLOW for the
 *   operation, ALL, or one implying it (READ, WRITE, DELETE, ALTER imply DESCRIBE; ALTER_CONFIGS
 *   implies DESCRIBE_CONFIGS) allows; a resource with ACLs but none allowing is denied; a resource
 *   with no ACL at all follows `allow.everyone.if.no.acl.found`.
 */
import { randomBytes } from 'node:crypto';
import {
  type AclBinding,
  type AclBindingFilter,
  AclOperationCode,
  filterMatches,
  invalidBindingReason,
  PatternTypeCode,
  PermissionTypeCode,
  ResourceTypeCode,
  WILDCARD_HOST,
  WILDCARD_RESOURCE,
} from './acl.js';
import {
  type AclAdmin,
  type AclCreationResult,
  type AclDeletionResult,
  type AclOperation,
  type AuthorizableRequest,
  type Authorizer,
  formatPrincipal,
  type ResourceType,
} from './authorizer.js';
import type { AccessControlEntryRecord, SecurityStore } from './security-store.js';

/** The class name that enables it, as in Kafka 4 (KRaft). */
export const STANDARD_AUTHORIZER_CLASS = 'org.apache.kafka.metadata.authorizer.StandardAuthorizer';

const IMPLIES_DESCRIBE: ReadonlySet<number> = new Set([
  AclOperationCode.DESCRIBE,
  AclOperationCode.READ,
  AclOperationCode.WRITE,
  AclOperationCode.DELETE,
  AclOperationCode.ALTER,
]);
const IMPLIES_DESCRIBE_CONFIGS: ReadonlySet<number> = new Set([
  AclOperationCode.DESCRIBE_CONFIGS,
  AclOperationCode.ALTER_CONFIGS,
]);

/** The operations Kafka reports in *AuthorizedOperations per resource type (AclEntry.supportedOperations). */
export const SUPPORTED_OPERATIONS: Readonly<Partial<Record<ResourceType, readonly AclOperation[]>>> = {
  TOPIC: ['READ', 'WRITE', 'CREATE', 'DESCRIBE', 'DELETE', 'ALTER', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS'],
  GROUP: ['READ', 'DESCRIBE', 'DELETE'],
  CLUSTER: [
    'CREATE',
    'CLUSTER_ACTION',
    'DESCRIBE_CONFIGS',
    'ALTER_CONFIGS',
    'IDEMPOTENT_WRITE',
    'ALTER',
    'DESCRIBE',
  ],
  TRANSACTIONAL_ID: ['DESCRIBE', 'WRITE'],
  DELEGATION_TOKEN: ['DESCRIBE'],
  USER: ['CREATE_TOKENS', 'DESCRIBE_TOKENS'],
};

interface TypeIndex {
  literal: Map<string, AccessControlEntryRecord[]>;
  prefixed: AccessControlEntryRecord[];
}

export class StandardAuthorizer implements Authorizer, AclAdmin {
  private index = new Map<number, TypeIndex>();
  private readonly superUsers: ReadonlySet<string>;

  constructor(
    private readonly store: SecurityStore,
    options: { superUsers: string | null; allowEveryoneIfNoAclFound: boolean },
  ) {
    this.superUsers = new Set(
      (options.superUsers ?? '')
        .split(';')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    );
    this.allowIfNoAcl = options.allowEveryoneIfNoAclFound;
    this.rebuild();
    store.onChange(() => this.rebuild());
  }

  private readonly allowIfNoAcl: boolean;

  get acls(): AclAdmin {
    return this;
  }

  private rebuild(): void {
    const index = new Map<number, TypeIndex>();
    for (const acl of this.store.acls()) {
      let t = index.get(acl.resourceType);
      if (!t) {
        t = { literal: new Map(), prefixed: [] };
        index.set(acl.resourceType, t);
      }
      if (acl.patternType === PatternTypeCode.PREFIXED) t.prefixed.push(acl);
      else {
        const list = t.literal.get(acl.resourceName);
        if (list) list.push(acl);
        else t.literal.set(acl.resourceName, [acl]);
      }
    }
    this.index = index;
  }

  isSuperUser(principal: string): boolean {
    return this.superUsers.has(principal);
  }

  authorize(
    request: AuthorizableRequest,
    operation: AclOperation,
    resourceType: ResourceType,
    resourceName: string,
  ): boolean {
    const principal = formatPrincipal(request.principal);
    if (this.superUsers.has(principal)) return true;
    const t = this.index.get(ResourceTypeCode[resourceType]);
    if (!t) return this.allowIfNoAcl;
    const op = AclOperationCode[operation];
    const wildcardPrincipal = `${request.principal.principalType}:*`;
    const host = request.clientAddress;
    let found = false;
    let allowed = false;
    const check = (acls: readonly AccessControlEntryRecord[] | undefined, prefixOnly: boolean): boolean => {
      if (!acls) return false;
      for (const acl of acls) {
        if (prefixOnly && !resourceName.startsWith(acl.resourceName)) continue;
        found = true;
        const r = result(acl, op, principal, wildcardPrincipal, host);
        if (r === 'DENY') return true;
        if (r === 'ALLOW') allowed = true;
      }
      return false;
    };
    if (check(t.literal.get(resourceName), false)) return false;
    if (check(t.prefixed, true)) return false;
    if (resourceName !== WILDCARD_RESOURCE && check(t.literal.get(WILDCARD_RESOURCE), false)) return false;
    if (allowed) return true;
    return found ? false : this.allowIfNoAcl;
  }

  /**
   * Kafka's Authorizer.authorizeByResourceType: whether the principal may do `operation` on at
   * least one resource of the type (InitProducerId without a transactional id asks this of
   * WRITE on topics). Allowed by an applying ALLOW that no applying DENY on `*` or a covering
   * prefix cancels.
   */
  authorizeByResourceType(
    request: AuthorizableRequest,
    operation: AclOperation,
    resourceType: ResourceType,
  ): boolean {
    const principal = formatPrincipal(request.principal);
    if (this.superUsers.has(principal)) return true;
    const t = this.index.get(ResourceTypeCode[resourceType]);
    if (!t) return this.allowIfNoAcl;
    const op = AclOperationCode[operation];
    const wildcardPrincipal = `${request.principal.principalType}:*`;
    const all = [...[...t.literal.values()].flat(), ...t.prefixed];
    const applies = (acl: AccessControlEntryRecord, permission: number) =>
      acl.permissionType === permission &&
      (acl.principal === principal || acl.principal === wildcardPrincipal) &&
      (acl.host === WILDCARD_HOST || acl.host === request.clientAddress) &&
      (acl.operation === op || acl.operation === AclOperationCode.ALL);
    const denies = all.filter((a) => applies(a, PermissionTypeCode.DENY));
    if (denies.some((d) => d.patternType === PatternTypeCode.LITERAL && d.resourceName === WILDCARD_RESOURCE))
      return false;
    return all.some(
      (a) =>
        applies(a, PermissionTypeCode.ALLOW) &&
        !denies.some((d) =>
          d.patternType === PatternTypeCode.PREFIXED
            ? a.resourceName.startsWith(d.resourceName)
            : a.patternType === PatternTypeCode.LITERAL && d.resourceName === a.resourceName,
        ),
    );
  }

  async createAcls(bindings: readonly AclBinding[]): Promise<AclCreationResult[]> {
    const existing = this.store.acls();
    const records: { type: 'AccessControlEntryRecord'; data: AccessControlEntryRecord }[] = [];
    const results: AclCreationResult[] = bindings.map((b) => {
      const reason = invalidBindingReason(b);
      if (reason) return { error: reason };
      const same = (a: AclBinding) =>
        a.resourceType === b.resourceType &&
        a.resourceName === b.resourceName &&
        a.patternType === b.patternType &&
        a.principal === b.principal &&
        a.host === b.host &&
        a.operation === b.operation &&
        a.permissionType === b.permissionType;
      // Creating an ACL that exists already succeeds without a second copy (AclControlManager).
      if (!existing.some(same) && !records.some((r) => same(r.data))) {
        records.push({
          type: 'AccessControlEntryRecord',
          data: { ...b, id: randomBytes(16).toString('base64url') },
        });
      }
      return { error: null };
    });
    if (records.length > 0) await this.store.apply(records);
    return results;
  }

  async deleteAcls(filters: readonly AclBindingFilter[]): Promise<AclDeletionResult[]> {
    const acls = this.store.acls();
    const removed = new Set<string>();
    const results = filters.map((f) => {
      const deleted = acls.filter((a) => filterMatches(f, a));
      for (const d of deleted) removed.add(d.id);
      return { error: null, deleted: deleted.map(stripId) };
    });
    if (removed.size > 0) {
      await this.store.apply(
        [...removed].map((id) => ({ type: 'RemoveAccessControlEntryRecord' as const, data: { id } })),
      );
    }
    return results;
  }

  describeAcls(filter: AclBindingFilter): AclBinding[] {
    return this.store
      .acls()
      .filter((a) => filterMatches(filter, a))
      .map(stripId);
  }
}

function stripId({ id: _id, ...binding }: AccessControlEntryRecord): AclBinding {
  return binding;
}

function result(
  acl: AccessControlEntryRecord,
  op: number,
  principal: string,
  wildcardPrincipal: string,
  host: string,
): 'ALLOW' | 'DENY' | null {
  if (acl.principal !== principal && acl.principal !== wildcardPrincipal) return null;
  if (acl.host !== WILDCARD_HOST && acl.host !== host) return null;
  if (acl.operation !== AclOperationCode.ALL) {
    if (acl.permissionType === PermissionTypeCode.ALLOW) {
      if (op === AclOperationCode.DESCRIBE) {
        if (!IMPLIES_DESCRIBE.has(acl.operation)) return null;
      } else if (op === AclOperationCode.DESCRIBE_CONFIGS) {
        if (!IMPLIES_DESCRIBE_CONFIGS.has(acl.operation)) return null;
      } else if (acl.operation !== op) return null;
    } else if (acl.operation !== op) return null;
  }
  return acl.permissionType === PermissionTypeCode.ALLOW ? 'ALLOW' : 'DENY';
}
