/**
 * A listener's GSSAPI settings, from Kafka's configuration: the JAAS line
 * `listener.name.<l>.gssapi.sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required
 * useKeyTab=true storeKey=true keyTab="/etc/kafka/kafka.keytab" principal="kafka/host@REALM";`,
 * `sasl.kerberos.service.name` (required, as Kafka requires it) and
 * `sasl.kerberos.principal.to.local.rules`. The keytab is read at start-up (a missing file or one
 * without the principal's keys stops the broker, as Kafka's login fails) and again when its
 * modification time changes, so a rotated keytab is picked up as the JDK's KeyTab cache does.
 */
import { readFileSync, statSync } from 'node:fs';
import { ReplayCache } from '../kerberos/gss.js';
import { type KeytabEntry, readKeytabFile } from '../kerberos/keytab.js';
import type { GssapiSettings } from './gssapi.js';
import { parseJaasConfig } from './jaas.js';
import { defaultRealmOf, KerberosName, KerberosShortNamer } from './kerberos-name.js';
import { SaslConfigError } from './sasl-server.js';

export interface KerberosConfigInput {
  listenerName: string;
  jaasConfig: string | null;
  setting: (name: string) => string | null;
  now: () => number;
  /** The krb5.conf whose default_realm DEFAULT rules use; KRB5_CONFIG's first file, else /etc/krb5.conf. */
  krb5Conf?: string;
}

export function kerberosAcceptorSettings(input: KerberosConfigInput): GssapiSettings {
  const where = `listener ${input.listenerName}`;
  const jaasKey = `listener.name.${input.listenerName.toLowerCase()}.gssapi.sasl.jaas.config`;
  if (!input.jaasConfig) {
    throw new SaslConfigError(
      `${where} enables GSSAPI but has no ${jaasKey} (com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab="<file>" principal="<service>/<host>@<REALM>";)`,
    );
  }
  const entry = parseJaasConfig(input.jaasConfig).find((e) => e.loginModule.endsWith('.Krb5LoginModule'));
  if (!entry) throw new SaslConfigError(`${where}: ${jaasKey} has no Krb5LoginModule entry`);
  const o = entry.options;
  const keytabPath = o.get('keyTab');
  if (o.get('useKeyTab') !== 'true' || !keytabPath) {
    throw new SaslConfigError(
      `${where}: GSSAPI needs a keytab (useKeyTab=true keyTab="<file>" in ${jaasKey}); kbroker has no ticket cache to accept with`,
    );
  }
  const principal = o.get('principal');
  if (!principal || principal === '*' || !principal.includes('@')) {
    throw new SaslConfigError(`${where}: ${jaasKey} needs principal="<service>/<host>@<REALM>"`);
  }
  const serviceName = input.setting('sasl.kerberos.service.name') ?? o.get('serviceName') ?? null;
  if (!serviceName) throw new SaslConfigError('No serviceName defined in either JAAS or Kafka config');
  const keytab = new KeytabFile(keytabPath, principal);
  const realm = defaultRealm(input.krb5Conf) ?? KerberosName.parse(principal).realm ?? '';
  const rules = (input.setting('sasl.kerberos.principal.to.local.rules') ?? 'DEFAULT')
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  let shortNamer: KerberosShortNamer;
  try {
    shortNamer = KerberosShortNamer.fromRules(realm, rules);
  } catch (e) {
    throw new SaslConfigError(`${where}: sasl.kerberos.principal.to.local.rules: ${(e as Error).message}`);
  }
  return {
    get keytab() {
      return keytab.entries();
    },
    principal,
    now: input.now,
    replay: new ReplayCache(),
    shortNamer,
  };
}

function defaultRealm(krb5Conf: string | undefined): string | null {
  const path = krb5Conf ?? process.env.KRB5_CONFIG?.split(':')[0] ?? '/etc/krb5.conf';
  try {
    return defaultRealmOf(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

/** A keytab file, read again when it changes. */
class KeytabFile {
  private cached: KeytabEntry[];
  private mtimeMs: number;

  constructor(
    private readonly path: string,
    /** `service/host@REALM`, whose keys the file must hold. */
    private readonly principal: string,
  ) {
    this.cached = this.read();
    this.mtimeMs = this.stat();
  }

  entries(): KeytabEntry[] {
    let mtime: number;
    try {
      mtime = this.stat();
    } catch {
      return this.cached; // gone for a moment (being replaced): the keys read last
    }
    if (mtime !== this.mtimeMs) {
      try {
        this.cached = this.read();
        this.mtimeMs = mtime;
      } catch {
        // Half-written: keep the keys read last, try again next time.
      }
    }
    return this.cached;
  }

  private stat(): number {
    return statSync(this.path).mtimeMs;
  }

  private read(): KeytabEntry[] {
    let entries: KeytabEntry[];
    try {
      entries = readKeytabFile(this.path);
    } catch (e) {
      throw new SaslConfigError(`GSSAPI keytab ${this.path}: ${(e as Error).message}`);
    }
    if (!entries.some((e) => `${e.principal}@${e.realm}` === this.principal)) {
      throw new SaslConfigError(`GSSAPI keytab ${this.path} has no key for ${this.principal}`);
    }
    return entries;
  }
}
