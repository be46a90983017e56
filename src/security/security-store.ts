/**
 * The persisted security state: SCRAM credentials and ACLs, as Kafka keeps them in the metadata
 * log (UserScramCredentialRecord / RemoveUserScramCredentialRecord, AccessControlEntryRecord /
 * RemoveAccessControlEntryRecord). `SecurityStore` takes those records and holds the state they
 * build; `FileSecurityStore` keeps that state in one JSON file written atomically after every
 * batch, until the metadata log holds these records.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../common/atomic-file.js';
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
  apply(records: readonly SecurityRecord[]): void;
  /** Called after every applied batch (the authorizer rebuilds its index). */
  onChange(listener: () => void): void;
}

const scramKey = (name: string, mechanism: number) => `${mechanism}:${name}`;

/** The state the records build, in memory. */
export class MemorySecurityStore implements SecurityStore {
  protected scram = new Map<string, UserScramCredentialRecord>();
  protected aclById = new Map<string, AccessControlEntryRecord>();
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

  apply(records: readonly SecurityRecord[]): void {
    const scram = new Map(this.scram);
    const acls = new Map(this.aclById);
    for (const r of records) replay(scram, acls, r);
    this.persist(scram, acls);
    this.scram = scram;
    this.aclById = acls;
    for (const l of this.listeners) l();
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Saves the new state before it replaces the old; a throw leaves the old one. */
  protected persist(
    _scram: Map<string, UserScramCredentialRecord>,
    _acls: Map<string, AccessControlEntryRecord>,
  ): void {}
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

interface FileForm {
  version: 1;
  scram: {
    name: string;
    mechanism: number;
    salt: string;
    storedKey: string;
    serverKey: string;
    iterations: number;
  }[];
  acls: AccessControlEntryRecord[];
}

/** The state in `<file>` (JSON; salts and keys in base64), replaced atomically after each batch. */
export class FileSecurityStore extends MemorySecurityStore {
  constructor(private readonly file: string) {
    super();
    if (!existsSync(file)) return;
    const form = JSON.parse(readFileSync(file, 'utf8')) as FileForm;
    if (form.version !== 1) throw new Error(`${file}: unknown version ${String(form.version)}`);
    for (const s of form.scram) {
      this.scram.set(scramKey(s.name, s.mechanism), {
        name: s.name,
        mechanism: s.mechanism,
        salt: Buffer.from(s.salt, 'base64'),
        storedKey: Buffer.from(s.storedKey, 'base64'),
        serverKey: Buffer.from(s.serverKey, 'base64'),
        iterations: s.iterations,
      });
    }
    for (const a of form.acls) this.aclById.set(a.id, a);
  }

  protected override persist(
    scram: Map<string, UserScramCredentialRecord>,
    acls: Map<string, AccessControlEntryRecord>,
  ): void {
    const form: FileForm = {
      version: 1,
      scram: [...scram.values()].map((s) => ({
        name: s.name,
        mechanism: s.mechanism,
        salt: s.salt.toString('base64'),
        storedKey: s.storedKey.toString('base64'),
        serverKey: s.serverKey.toString('base64'),
        iterations: s.iterations,
      })),
      acls: [...acls.values()],
    };
    writeFileAtomic(this.file, `${JSON.stringify(form, null, 1)}\n`);
  }
}
