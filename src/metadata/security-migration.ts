/**
 * First start of a data directory whose SCRAM credentials and ACLs were kept in
 * `kbroker-security.json` (version 1: credentials with salt / StoredKey / ServerKey in base64 and
 * their iterations, ACLs with their ids) before they were metadata records. What the file holds
 * becomes UserScramCredentialRecords and AccessControlEntryRecords in the metadata log; ACL ids are
 * kept. Then the file is removed. Only what the image lacks is written, so a crash between the
 * write and the removal does not write anything twice.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { MetadataRecord } from './records.js';
import type { SecurityImage } from './security-image.js';

export const LEGACY_SECURITY_FILE = 'kbroker-security.json';

interface LegacySecurityFile {
  version?: unknown;
  scram?: {
    name: string;
    mechanism: number;
    salt: string;
    storedKey: string;
    serverKey: string;
    iterations: number;
  }[];
  acls?: {
    id: string;
    resourceType: number;
    resourceName: string;
    patternType: number;
    principal: string;
    host: string;
    operation: number;
    permissionType: number;
  }[];
}

/** The records that bring what `kbroker-security.json` of `dataDir` holds into `image` (empty without the file). */
export function legacySecurityRecords(dataDir: string, image: SecurityImage): MetadataRecord[] {
  const file = path.join(dataDir, LEGACY_SECURITY_FILE);
  if (!fs.existsSync(file)) return [];
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as LegacySecurityFile;
  if (parsed.version !== 1) throw new Error(`${file}: unknown version ${String(parsed.version)}`);
  const records: MetadataRecord[] = [];
  for (const s of parsed.scram ?? []) {
    const current = image.scramCredential(s.name, s.mechanism);
    const same =
      current !== undefined &&
      current.iterations === s.iterations &&
      current.salt.toString('base64') === s.salt &&
      current.storedKey.toString('base64') === s.storedKey &&
      current.serverKey.toString('base64') === s.serverKey;
    if (same) continue;
    records.push({
      type: 'UserScramCredentialRecord',
      name: s.name,
      mechanism: s.mechanism,
      salt: s.salt,
      storedKey: s.storedKey,
      serverKey: s.serverKey,
      iterations: s.iterations,
    });
  }
  for (const a of parsed.acls ?? []) {
    if (image.acl(a.id)) continue;
    records.push({
      type: 'AccessControlEntryRecord',
      id: a.id,
      resourceType: a.resourceType,
      resourceName: a.resourceName,
      patternType: a.patternType,
      principal: a.principal,
      host: a.host,
      operation: a.operation,
      permissionType: a.permissionType,
    });
  }
  return records;
}

/** Removes the file (and a leftover of its atomic write) once the metadata log holds what it said. */
export function removeLegacySecurityFile(dataDir: string): void {
  fs.rmSync(path.join(dataDir, LEGACY_SECURITY_FILE), { force: true });
  fs.rmSync(path.join(dataDir, `${LEGACY_SECURITY_FILE}.tmp`), { force: true });
}
