/**
 * The security part of the metadata image: SCRAM credentials (Kafka's ScramImage) and ACLs
 * (Kafka's AclsImage), built by UserScramCredentialRecord / RemoveUserScramCredentialRecord and
 * AccessControlEntryRecord / RemoveAccessControlEntryRecord. Immutable like the rest of the image:
 * `apply` returns the next one and says what changed (the users whose credentials changed, the
 * ACLs added and removed), which is what the authorizer and the SASL/SCRAM lookup follow.
 */
import type {
  AccessControlEntryRecord,
  RemoveAccessControlEntryRecord,
  RemoveUserScramCredentialRecord,
  UserScramCredentialRecord,
} from './records.js';

/** A stored SCRAM credential, its bytes decoded (what SCRAM authentication needs). */
export interface ScramCredentialImage {
  readonly name: string;
  readonly mechanism: number;
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
  readonly iterations: number;
}

/** An ACL as the image holds it: the record without its type. */
export type AclImage = Omit<AccessControlEntryRecord, 'type'>;

export type SecurityRecord =
  | UserScramCredentialRecord
  | RemoveUserScramCredentialRecord
  | AccessControlEntryRecord
  | RemoveAccessControlEntryRecord;

/** What AlterUserScramCredentials writes. */
export type ScramChangeRecord = UserScramCredentialRecord | RemoveUserScramCredentialRecord;
/** What CreateAcls and DeleteAcls write. */
export type AclChangeRecord = AccessControlEntryRecord | RemoveAccessControlEntryRecord;

export interface SecurityDelta {
  /** Credentials added, replaced or removed, by user and mechanism. */
  readonly changedScram: readonly { name: string; mechanism: number }[];
  readonly addedAcls: readonly AclImage[];
  readonly removedAcls: readonly AclImage[];
}

const scramKey = (name: string, mechanism: number) => `${mechanism}:${name}`;

/** Thrown (as a MetadataError by the image) on a record that does not fit. */
export type SecurityImageError = (message: string) => Error;

export class SecurityImage {
  static readonly EMPTY = new SecurityImage(new Map(), new Map());

  private constructor(
    private readonly scram: ReadonlyMap<string, ScramCredentialImage>,
    private readonly aclsById: ReadonlyMap<string, AclImage>,
  ) {}

  scramCredential(name: string, mechanism: number): ScramCredentialImage | undefined {
    return this.scram.get(scramKey(name, mechanism));
  }

  scramCredentials(): ScramCredentialImage[] {
    return [...this.scram.values()];
  }

  acls(): AclImage[] {
    return [...this.aclsById.values()];
  }

  acl(id: string): AclImage | undefined {
    return this.aclsById.get(id);
  }

  isEmpty(): boolean {
    return this.scram.size === 0 && this.aclsById.size === 0;
  }

  /** The records that rebuild this part of the image. */
  toRecords(): SecurityRecord[] {
    const out: SecurityRecord[] = [];
    for (const c of this.scram.values()) out.push(scramRecord(c));
    for (const a of this.aclsById.values()) out.push({ type: 'AccessControlEntryRecord', ...a });
    return out;
  }

  /** The next image; `fail` builds the error thrown on an inconsistent record (nothing changes then). */
  apply(
    records: readonly SecurityRecord[],
    fail: SecurityImageError,
  ): { image: SecurityImage; delta: SecurityDelta } {
    if (records.length === 0)
      return { image: this, delta: { changedScram: [], addedAcls: [], removedAcls: [] } };
    const scram = new Map(this.scram);
    const acls = new Map(this.aclsById);
    const changedScram = new Map<string, { name: string; mechanism: number }>();
    const added = new Map<string, AclImage>();
    const removed = new Map<string, AclImage>();
    for (const r of records) {
      switch (r.type) {
        case 'UserScramCredentialRecord': {
          const key = scramKey(r.name, r.mechanism);
          scram.set(
            key,
            Object.freeze({
              name: r.name,
              mechanism: r.mechanism,
              salt: Buffer.from(r.salt, 'base64'),
              storedKey: Buffer.from(r.storedKey, 'base64'),
              serverKey: Buffer.from(r.serverKey, 'base64'),
              iterations: r.iterations,
            }),
          );
          changedScram.set(key, { name: r.name, mechanism: r.mechanism });
          break;
        }
        case 'RemoveUserScramCredentialRecord': {
          const key = scramKey(r.name, r.mechanism);
          if (!scram.delete(key)) {
            throw fail(
              `RemoveUserScramCredentialRecord: no credential of ${r.name} for mechanism ${r.mechanism}`,
            );
          }
          changedScram.set(key, { name: r.name, mechanism: r.mechanism });
          break;
        }
        case 'AccessControlEntryRecord': {
          if (acls.has(r.id)) throw fail(`AccessControlEntryRecord: ACL id ${r.id} exists already`);
          const { type: _type, ...acl } = r;
          const frozen = Object.freeze(acl);
          acls.set(r.id, frozen);
          added.set(r.id, frozen);
          break;
        }
        case 'RemoveAccessControlEntryRecord': {
          const current = acls.get(r.id);
          if (!current) throw fail(`RemoveAccessControlEntryRecord: no ACL with id ${r.id}`);
          acls.delete(r.id);
          if (!added.delete(r.id)) removed.set(r.id, current);
          break;
        }
      }
    }
    return {
      image: new SecurityImage(scram, acls),
      delta: {
        changedScram: [...changedScram.values()],
        addedAcls: [...added.values()],
        removedAcls: [...removed.values()],
      },
    };
  }
}

/** The record of a credential (bytes in base64). */
export function scramRecord(c: ScramCredentialImage): UserScramCredentialRecord {
  return {
    type: 'UserScramCredentialRecord',
    name: c.name,
    mechanism: c.mechanism,
    salt: c.salt.toString('base64'),
    storedKey: c.storedKey.toString('base64'),
    serverKey: c.serverKey.toString('base64'),
    iterations: c.iterations,
  };
}

export const isSecurityRecord = (r: { type: string }): r is SecurityRecord =>
  r.type === 'UserScramCredentialRecord' ||
  r.type === 'RemoveUserScramCredentialRecord' ||
  r.type === 'AccessControlEntryRecord' ||
  r.type === 'RemoveAccessControlEntryRecord';
