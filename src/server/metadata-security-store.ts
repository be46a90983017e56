/**
 * The broker's SecurityStore is the metadata image: SCRAM credentials (SASL/SCRAM authentication,
 * DescribeUserScramCredentials) and ACLs (the StandardAuthorizer) are read from the image the
 * broker last applied, and changes are written as metadata records through the controller — the
 * way Kafka's brokers follow ScramImage and AclsImage. Listeners (the authorizer rebuilding its
 * index) are told after every applied change that touched credentials or ACLs.
 */
import type { MetadataListener, SecurityController } from '../metadata/controller.js';
import type { MetadataImage } from '../metadata/image.js';
import type { AclChangeRecord, ScramChangeRecord } from '../metadata/security-image.js';
import type {
  AccessControlEntryRecord,
  SecurityRecord,
  SecurityStore,
  UserScramCredentialRecord,
} from '../security/security-store.js';

export interface MetadataSource extends SecurityController {
  /** Registers a listener of applied changes; it is first told the current image. */
  onChange(listener: MetadataListener): () => void;
}

export class MetadataSecurityStore implements SecurityStore {
  private image: MetadataImage | undefined;
  private readonly listeners: (() => void)[] = [];
  readonly close: () => void;

  constructor(private readonly source: MetadataSource) {
    this.close = source.onChange((delta, image) => {
      this.image = image;
      const s = delta.security;
      if (s.changedScram.length + s.addedAcls.length + s.removedAcls.length === 0) return;
      for (const l of this.listeners) l();
    });
  }

  private get security() {
    if (!this.image) throw new Error('the metadata image is not loaded');
    return this.image.security;
  }

  scramCredential(name: string, mechanism: number): UserScramCredentialRecord | undefined {
    return this.security.scramCredential(name, mechanism);
  }

  scramCredentials(): readonly UserScramCredentialRecord[] {
    return this.security.scramCredentials();
  }

  acls(): readonly AccessControlEntryRecord[] {
    return this.security.acls();
  }

  /** Writes the records through the controller: credentials and ACLs each as one batch. */
  async apply(records: readonly SecurityRecord[]): Promise<void> {
    const scram: ScramChangeRecord[] = [];
    const acls: AclChangeRecord[] = [];
    for (const r of records) {
      switch (r.type) {
        case 'UserScramCredentialRecord':
          scram.push({
            type: r.type,
            name: r.data.name,
            mechanism: r.data.mechanism,
            salt: r.data.salt.toString('base64'),
            storedKey: r.data.storedKey.toString('base64'),
            serverKey: r.data.serverKey.toString('base64'),
            iterations: r.data.iterations,
          });
          break;
        case 'RemoveUserScramCredentialRecord':
          scram.push({ type: r.type, name: r.data.name, mechanism: r.data.mechanism });
          break;
        case 'AccessControlEntryRecord':
          acls.push({ type: r.type, ...r.data });
          break;
        case 'RemoveAccessControlEntryRecord':
          acls.push({ type: r.type, id: r.data.id });
          break;
      }
    }
    if (scram.length > 0) await this.source.alterUserScramCredentials(scram);
    if (acls.length > 0) await this.source.alterAcls(acls);
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }
}
