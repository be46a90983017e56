/**
 * SASL/GSSAPI (RFC 4752) with Kerberos 5, the server side as Kafka runs it (the JDK's GssKrb5Server
 * behind SaslServerAuthenticator): the client's AP-REQ is accepted against the broker's keytab
 * (src/security/kerberos/gss.ts), the AP-REP goes back when mutual authentication was asked for,
 * then the security layer is negotiated in Wrap tokens — the broker offers "no security layer" only
 * (Kafka's default `javax.security.sasl.qop=auth`; TLS is Kafka's way to protect the bytes) with a
 * 64 KiB receive size, as the JDK does. The authenticated client is its Kerberos principal
 * (`alice@EXAMPLE.COM`; an authorization id the client asks for is ignored, as Kafka's
 * SaslServerCallbackHandler does), and its KafkaPrincipal the short name that
 * `sasl.kerberos.principal.to.local.rules` give it.
 */
import type { KafkaPrincipal } from '../authorizer.js';
import { type AcceptorOptions, acceptSecContext, type GssContext, GssError } from '../kerberos/gss.js';
import { KerberosName, type KerberosShortNamer, NoMatchingRuleError } from './kerberos-name.js';
import { SaslAuthenticationError, SaslError, type SaslServer } from './sasl-server.js';

/** RFC 4752 §3.3 security layers. */
const LAYER_NONE = 1;
/** The receive buffer size the JDK's server announces (`javax.security.sasl.maxbuffer` default). */
const MAX_BUFFER = 65536;

export interface GssapiSettings extends AcceptorOptions {
  shortNamer: KerberosShortNamer;
}

export class GssapiSaslServer implements SaslServer {
  readonly mechanism = 'GSSAPI';
  private stage: 'accept' | 'empty' | 'layer' | 'complete' = 'accept';
  private context: GssContext | null = null;
  private shortName = '';

  constructor(private readonly settings: GssapiSettings) {}

  evaluateResponse(token: Buffer): Buffer | null {
    try {
      switch (this.stage) {
        case 'accept': {
          const { output, context } = acceptSecContext(token, this.settings);
          this.context = context;
          if (output === null) return this.offerLayers();
          this.stage = 'empty';
          return output;
        }
        case 'empty':
          // The client's answer to the AP-REP: RFC 4752 §3.1 wants it empty.
          if (token.length > 0) throw new SaslError('Handshake expecting no response data from client');
          return this.offerLayers();
        case 'layer':
          return this.chooseLayer(token);
        case 'complete':
          throw new SaslError('SASL authentication already complete');
      }
    } catch (e) {
      if (e instanceof GssError) throw new SaslError(`GSS initiate failed: ${e.message}`);
      throw e;
    }
  }

  /** The security layers and receive size, wrapped (integrity only, as the JDK sends it). */
  private offerLayers(): Buffer {
    const offer = Buffer.alloc(4);
    offer.writeUInt32BE(MAX_BUFFER, 0);
    offer[0] = LAYER_NONE;
    this.stage = 'layer';
    return this.context!.wrap(offer);
  }

  private chooseLayer(token: Buffer): Buffer | null {
    const chosen = this.context!.unwrap(token);
    if (chosen.length < 4) throw new SaslError('Final handshake: the client sent fewer than 4 bytes');
    if ((chosen[0]! & LAYER_NONE) === 0) throw new SaslError('Client selected unsupported protection');
    const client = this.context!.clientPrincipal;
    try {
      this.shortName = this.settings.shortNamer.shortName(KerberosName.parse(client));
    } catch (e) {
      if (e instanceof NoMatchingRuleError) {
        throw new SaslAuthenticationError(
          `Failed to set name for '${client}' based on Kerberos authentication rules.`,
        );
      }
      throw e;
    }
    this.stage = 'complete';
    return null;
  }

  isComplete(): boolean {
    return this.stage === 'complete';
  }

  /** The Kerberos principal, `name@REALM` (Kafka's SaslServer.getAuthorizationID() for GSSAPI). */
  authorizationId(): string {
    return this.context?.clientPrincipal ?? '';
  }

  credentialExpirationMs(): number | null {
    return null;
  }

  principal(): KafkaPrincipal {
    return { principalType: 'User', name: this.shortName };
  }
}
