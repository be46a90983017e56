/**
 * What the security layer needs of the persisted security state: SCRAM credentials and ACLs, as
 * Kafka keeps them in the metadata log (UserScramCredentialRecord / RemoveUserScramCredentialRecord,
 * AccessControlEntryRecord / RemoveAccessControlEntryRecord). The broker's `SecurityStore` is the
 * metadata image (src/server/metadata-security-store.ts): it reads the image's credentials and
 * ACLs, writes records through the controller, and tells its listeners when a change is applied.
 * `MemorySecurityStore` holds the same state in memory (unit tests of the authorizer).
 */
import type { AclBinding } from './acl.js';

export interface UserScramCredentialRecord {
  name: string;
  /** 1 = SCRAM-SHA-256, 2 = SCRAM-SHA-512 (Kafka's ScramMechanism type). */
  mechanism: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
  iterations: number;
}

export interface RemoveUserScramCredentialRecord {
  name: string;
  mechanism: number;
}

/** An ACL with its id (a Kafka Uuid, base64url as Kafka prints it). */
export interface AccessControlEntryRecord extends AclBinding {
  id: string;
}

export interface RemoveAccessControlEntryRecord {
  id: string;
}

export type SecurityRecord =
  | { type: 'UserScramCredentialRecord'; data: UserScramCredentialRecord }
  | { type: 'RemoveUserScramCredentialRecord'; data: RemoveUserScramCredentialRecord }
  | { type: 'AccessControlEntryRecord'; data: AccessControlEntryRecord }
  | { type: 'RemoveAccessControlEntryRecord'; data: RemoveAccessControlEntryRecord };

export interface SecurityStore {
  /** Credentials by `name`, then mechanism type. */
  scramCredential(name: string, mechanism: number): UserScramCredentialRecord | undefined;
  scramCredentials(): readonly UserScramCredentialRecord[];
  acls(): readonly AccessControlEntryRecord[];
  /** Applies a batch of records: all of them are persisted, or none (it throws). */
  apply(records: readonly SecurityRecord[]): Promise<void>;
  /** Called after every applied batch (the authorizer rebuilds its index). */
  onChange(listener: () => void): void;
}

const scramKey = (name: string, mechanism: number) => `${mechanism}:${name}`;

/** The state the records build, in memory only. */
export class MemorySecurityStore implements SecurityStore {
  private scram = new Map<string, UserScramCredentialRecord>();
  private aclById = new Map<string, AccessControlEntryRecord>();
  private readonly listeners: (() => void)[] = [];

  scramCredential(name: string, mechanism: number): UserScramCredentialRecord | undefined {
    return this.scram.get(scramKey(name, mechanism));
  }

  scramCredentials(): readonly UserScramCredentialRecord[] {
    return [...this.scram.values()];
  }

  acls(): readonly AccessControlEntryRecord[] {
    return [...this.aclById.values()];
  }

  async apply(records: readonly SecurityRecord[]): Promise<void> {
    const scram = new Map(this.scram);
    const acls = new Map(this.aclById);
    for (const r of records) replay(scram, acls, r);
    this.scram = scram;
    this.aclById = acls;
    for (const l of this.listeners) l();
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }
}

function replay(
  scram: Map<string, UserScramCredentialRecord>,
  acls: Map<string, AccessControlEntryRecord>,
  r: SecurityRecord,
): void {
  switch (r.type) {
    case 'UserScramCredentialRecord':
      scram.set(scramKey(r.data.name, r.data.mechanism), r.data);
      break;
    case 'RemoveUserScramCredentialRecord':
      scram.delete(scramKey(r.data.name, r.data.mechanism));
      break;
    case 'AccessControlEntryRecord':
      acls.set(r.data.id, r.data);
      break;
    case 'RemoveAccessControlEntryRecord':
      acls.delete(r.data.id);
      break;
  }
}
