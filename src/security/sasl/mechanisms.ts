/**
 * The SASL mechanisms of one listener: `sasl.enabled.mechanisms` as the listener sees it, and a
 * new SaslServer per exchange — GSSAPI with the keytab and principal of the listener's
 * Krb5LoginModule JAAS config, PLAIN with the users of its PlainLoginModule JAAS config, SCRAM with
 * the stored credentials, OAUTHBEARER with the unsecured validator and the options of its
 * OAuthBearerLoginModule JAAS config.
 */
import { GssapiSaslServer, type GssapiSettings } from './gssapi.js';
import { parseJaasConfig } from './jaas.js';
import { kerberosAcceptorSettings } from './kerberos-settings.js';
import { OAuthBearerSaslServer, unsecuredValidatorOptions } from './oauthbearer.js';
import { PlainSaslServer, plainUsersFromJaas } from './plain.js';
import { isSupportedMechanism, SaslConfigError, type SaslMechanism, type SaslServer } from './sasl-server.js';
import { type ScramCredentialLookup, ScramSaslServer, type TokenCredentialLookup } from './scram.js';

export interface ListenerSaslSettings {
  listenerName: string;
  /** sasl.enabled.mechanisms of the listener. */
  enabledMechanisms: string;
  /** `listener.name.<l>.<mechanism>.sasl.jaas.config`, or null. */
  jaasConfig: (mechanism: string) => string | null;
  scram: ScramCredentialLookup;
  /** Delegation tokens for SCRAM's `tokenauth=true` (KIP-48); none when absent. */
  tokens?: TokenCredentialLookup;
  /** The broker's clock, ms since the epoch (OAUTHBEARER token times, Kerberos tickets). */
  now: () => number;
  /** A listener setting (`listener.name.<l>.<name>` or the broker's), for GSSAPI's sasl.kerberos.* configs. */
  setting?: (name: string) => string | null;
}

export class SaslServerFactory {
  readonly mechanisms: readonly SaslMechanism[];
  private readonly plainUsers = new Map<string, string>();
  private readonly oauthOptions: ReturnType<typeof unsecuredValidatorOptions>;
  private readonly gssapi: GssapiSettings | null = null;

  constructor(private readonly settings: ListenerSaslSettings) {
    const names = settings.enabledMechanisms
      .split(',')
      .map((m) => m.trim())
      .filter((m) => m !== '');
    const unsupported = names.filter((m) => !isSupportedMechanism(m));
    if (unsupported.length > 0 || names.length === 0) {
      throw new SaslConfigError(
        `listener ${settings.listenerName}: sasl.enabled.mechanisms=${settings.enabledMechanisms} — kbroker supports GSSAPI, PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER${unsupported.length > 0 ? ` (not ${unsupported.join(', ')})` : ''}`,
      );
    }
    this.mechanisms = names as SaslMechanism[];
    if (this.mechanisms.includes('PLAIN')) {
      const jaas = settings.jaasConfig('PLAIN');
      if (!jaas) {
        throw new SaslConfigError(
          `listener ${settings.listenerName} enables PLAIN but has no listener.name.${settings.listenerName.toLowerCase()}.plain.sasl.jaas.config with its users (user_<name>="<password>")`,
        );
      }
      for (const e of parseJaasConfig(jaas)) {
        for (const [u, p] of plainUsersFromJaas(e.options)) this.plainUsers.set(u, p);
      }
    }
    if (this.mechanisms.includes('GSSAPI')) {
      this.gssapi = kerberosAcceptorSettings({
        listenerName: settings.listenerName,
        jaasConfig: settings.jaasConfig('GSSAPI'),
        setting: settings.setting ?? (() => null),
        now: settings.now,
      });
    }
    const oauth = settings.jaasConfig('OAUTHBEARER');
    this.oauthOptions = unsecuredValidatorOptions(oauth ? parseJaasConfig(oauth)[0]?.options : undefined);
  }

  create(mechanism: SaslMechanism): SaslServer {
    switch (mechanism) {
      case 'GSSAPI':
        return new GssapiSaslServer(this.gssapi!);
      case 'PLAIN':
        return new PlainSaslServer(this.plainUsers);
      case 'SCRAM-SHA-256':
      case 'SCRAM-SHA-512':
        return new ScramSaslServer(
          mechanism,
          this.settings.scram,
          undefined,
          this.settings.tokens,
          this.settings.now,
        );
      case 'OAUTHBEARER':
        return new OAuthBearerSaslServer(this.oauthOptions, this.settings.now);
    }
  }
}
