/**
 * The SASL side of a SASL_PLAINTEXT / SASL_SSL connection (Kafka's SaslServerAuthenticator):
 *
 * - Before authentication only ApiVersions, SaslHandshake (v0–1) and SaslAuthenticate (v0–2) are
 *   served; any other request closes the connection ("Unexpected Kafka request of type X during
 *   SASL handshake."). After SaslHandshake v0 the client's next frames are raw SASL tokens, as
 *   Kafka 0.10 clients send them.
 * - A mechanism not enabled on the listener is answered UNSUPPORTED_SASL_MECHANISM (with the
 *   enabled ones), then the connection closes; a failed exchange is answered
 *   SASL_AUTHENTICATION_FAILED with Kafka's message after `connection.failed.authentication.delay.ms`,
 *   then the connection closes.
 * - KIP-368: the session lasts `connections.max.reauth.ms` (or until the credential expires, for
 *   OAUTHBEARER), reported in SaslAuthenticate v1+ as sessionLifetimeMs; a client that spoke
 *   SaslAuthenticate v1+ re-authenticates with a new SaslHandshake on the same connection, with the
 *   same mechanism and principal. A request arriving after the session expired closes the
 *   connection.
 */
import { codecFor } from '../protocol/codec.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  SaslAuthenticateRequest,
  type SaslAuthenticateRequestData,
  SaslAuthenticateResponse,
  type SaslAuthenticateResponseData,
  SaslHandshakeRequest,
  type SaslHandshakeRequestData,
  SaslHandshakeResponse,
} from '../protocol/generated/messages.js';
import { API_VERSIONS_KEY, encodeResponseFrame, readRequestHeader } from '../protocol/headers.js';
import { type Chunk, ProtocolError } from '../protocol/wire.js';
import type { KafkaPrincipal } from '../security/authorizer.js';
import type { SaslServerFactory } from '../security/sasl/mechanisms.js';
import {
  isSupportedMechanism,
  SaslAuthenticationError,
  type SaslServer,
} from '../security/sasl/sasl-server.js';

export const SASL_HANDSHAKE_KEY = 17;
export const SASL_AUTHENTICATE_KEY = 36;

type State = 'HANDSHAKE_OR_VERSIONS' | 'AUTHENTICATE' | 'COMPLETE' | 'FAILED';

/** What the authenticator tells the connection to do with one frame. */
export interface SaslStep {
  /** Response bytes to write (none for an empty raw-token answer). */
  response: Chunk[] | null;
  /** Close after writing the response (after the failure delay). */
  close: boolean;
  /** Wait this long before writing (connection.failed.authentication.delay.ms on failure). */
  delayMs: number;
}

export interface SaslAuthenticatorOptions {
  factory: SaslServerFactory;
  /** connections.max.reauth.ms of the listener for a mechanism (0: sessions do not expire). */
  maxReauthMs: (mechanism: string) => number;
  failedAuthenticationDelayMs: number;
  now: () => number;
  /** Logged and counted when an authentication (or a KIP-368 re-authentication) fails. */
  onFailure: (mechanism: string | null, message: string, reauthentication: boolean) => void;
  /**
   * Counted when one succeeds (Kafka's successful-authentication-total / successful-reauthentication-total;
   * with `clientSupportsReauth` false — no SaslAuthenticate v1+ from the client — also
   * successful-authentication-no-reauth-total).
   */
  onSuccess?: (reauthentication: boolean, clientSupportsReauth: boolean) => void;
}

export class SaslAuthenticator {
  private state: State = 'HANDSHAKE_OR_VERSIONS';
  private mechanism: string | null = null;
  private server: SaslServer | null = null;
  /** SaslHandshake v0: the following frames are raw tokens. */
  private rawTokens = false;
  private principalValue: KafkaPrincipal | null = null;
  private sessionExpiresAt: number | null = null;
  private clientSupportsReauth = false;
  /** Set while re-authenticating: the principal must not change. */
  private previous: { mechanism: string; principal: KafkaPrincipal } | null = null;

  constructor(private readonly options: SaslAuthenticatorOptions) {}

  /** The authenticated principal, null before the first authentication completes. */
  get principal(): KafkaPrincipal | null {
    return this.principalValue;
  }

  /** Whether the connection has authenticated (and is not in the middle of re-authenticating). */
  get authenticated(): boolean {
    return this.state === 'COMPLETE';
  }

  /**
   * Whether this frame is the authenticator's: every frame before authentication completes, a
   * SaslHandshake that starts re-authentication, and the exchange that follows. Throws
   * ProtocolError (closing the connection) for a request after the session expired.
   */
  intercepts(frame: Buffer): boolean {
    if (this.state !== 'COMPLETE') return true;
    const apiKey = frame.length >= 2 ? frame.readInt16BE(0) : -1;
    if (apiKey === SASL_HANDSHAKE_KEY && this.clientSupportsReauth) return true;
    if (this.sessionExpiresAt !== null && this.options.now() > this.sessionExpiresAt) {
      throw new ProtocolError(
        'SASL session expired; the client did not re-authenticate (connections.max.reauth.ms)',
      );
    }
    return false;
  }

  static isAuthenticate(frame: Buffer): boolean {
    return frame.length >= 2 && frame.readInt16BE(0) === SASL_AUTHENTICATE_KEY;
  }

  /** Whether an ApiVersions frame should go to the ordinary handler (allowed before authentication). */
  static isApiVersions(frame: Buffer): boolean {
    return frame.length >= 2 && frame.readInt16BE(0) === API_VERSIONS_KEY;
  }

  handle(frame: Buffer): SaslStep {
    if (this.state === 'FAILED') throw new ProtocolError('request after a failed authentication');
    if (this.rawTokens) return this.rawToken(frame);
    const { header, body } = readRequestHeader(frame);
    const { requestApiKey: apiKey, requestApiVersion: apiVersion, correlationId } = header;
    if (
      apiKey === SASL_HANDSHAKE_KEY &&
      (this.state === 'HANDSHAKE_OR_VERSIONS' || this.state === 'COMPLETE')
    ) {
      if (apiVersion < 0 || apiVersion > 1)
        throw new ProtocolError(`unsupported SaslHandshake version ${apiVersion}`);
      const req = codecFor<SaslHandshakeRequestData>(SaslHandshakeRequest, apiVersion).read(body);
      return this.handshake(req.mechanism, apiVersion, correlationId);
    }
    if (apiKey === SASL_AUTHENTICATE_KEY && this.state === 'AUTHENTICATE' && !this.rawTokens) {
      if (apiVersion < 0 || apiVersion > 2)
        throw new ProtocolError(`unsupported SaslAuthenticate version ${apiVersion}`);
      if (apiVersion > 0) this.clientSupportsReauth = true;
      const req = codecFor<SaslAuthenticateRequestData>(SaslAuthenticateRequest, apiVersion).read(body);
      return this.authenticate(req.authBytes, apiVersion, correlationId);
    }
    const during = this.state === 'AUTHENTICATE' ? 'authentication' : 'handshake';
    throw new ProtocolError(`Unexpected Kafka request of type ${apiKey} during SASL ${during}.`);
  }

  private handshake(mechanism: string, version: number, correlationId: number): SaslStep {
    const enabled = this.options.factory.mechanisms;
    const reauth = this.state === 'COMPLETE';
    const respond = (errorCode: number, close: boolean): SaslStep => ({
      response: encodeResponseFrame(SASL_HANDSHAKE_KEY, version, correlationId, (w) =>
        codecFor(SaslHandshakeResponse, version).write(w, { errorCode, mechanisms: [...enabled] }),
      ),
      close,
      delayMs: 0,
    });
    if (!isSupportedMechanism(mechanism) || !enabled.includes(mechanism)) {
      this.fail(mechanism, `Unsupported SASL mechanism ${mechanism}`);
      return respond(ErrorCode.UNSUPPORTED_SASL_MECHANISM, true);
    }
    if (reauth && mechanism !== this.mechanism) {
      this.fail(
        mechanism,
        `SASL mechanism '${mechanism}' requested by client is not supported for re-authentication of mechanism '${this.mechanism}'`,
      );
      return respond(ErrorCode.UNSUPPORTED_SASL_MECHANISM, true);
    }
    if (reauth) this.previous = { mechanism: this.mechanism!, principal: this.principalValue! };
    this.mechanism = mechanism;
    this.server = this.options.factory.create(mechanism);
    this.state = 'AUTHENTICATE';
    this.rawTokens = version === 0;
    return respond(ErrorCode.NONE, false);
  }

  private authenticate(token: Buffer, version: number, correlationId: number): SaslStep {
    const respond = (data: SaslAuthenticateResponseData, close: boolean, delayMs = 0): SaslStep => ({
      response: encodeResponseFrame(SASL_AUTHENTICATE_KEY, version, correlationId, (w) =>
        codecFor(SaslAuthenticateResponse, version).write(w, data),
      ),
      close,
      delayMs,
    });
    try {
      const out = this.server!.evaluateResponse(token);
      const sessionLifetimeMs = this.server!.isComplete() ? this.complete() : 0;
      return respond(
        {
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          authBytes: out ?? Buffer.alloc(0),
          sessionLifetimeMs,
        },
        false,
      );
    } catch (err) {
      const message =
        err instanceof SaslAuthenticationError
          ? err.message
          : `Authentication failed during ${this.previous ? 're-authentication' : 'authentication'} due to invalid credentials with SASL mechanism ${this.mechanism}`;
      this.fail(this.mechanism, err instanceof Error ? err.message : String(err));
      return respond(
        {
          errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
          errorMessage: message,
          authBytes: Buffer.alloc(0),
        },
        true,
        this.options.failedAuthenticationDelayMs,
      );
    }
  }

  private rawToken(token: Buffer): SaslStep {
    try {
      const out = this.server!.evaluateResponse(token);
      if (this.server!.isComplete()) {
        this.complete();
        this.rawTokens = false;
      }
      if (out === null) return { response: null, close: false, delayMs: 0 };
      const size = Buffer.allocUnsafe(4);
      size.writeInt32BE(out.length, 0);
      return { response: [size, out], close: false, delayMs: 0 };
    } catch (err) {
      this.fail(this.mechanism, err instanceof Error ? err.message : String(err));
      // SaslHandshake v0 has no way to carry an error: the connection closes.
      return { response: null, close: true, delayMs: this.options.failedAuthenticationDelayMs };
    }
  }

  /** Ends a successful exchange; returns the session lifetime (0: no limit), as Kafka computes it. */
  private complete(): number {
    const principal: KafkaPrincipal = this.server!.principal?.() ?? {
      principalType: 'User',
      name: this.server!.authorizationId(),
    };
    if (
      this.previous &&
      (this.previous.principal.principalType !== principal.principalType ||
        this.previous.principal.name !== principal.name)
    ) {
      throw new SaslAuthenticationError(
        `Cannot change principals during re-authentication from ${this.previous.principal.principalType}.${this.previous.principal.name}: ${principal.principalType}.${principal.name}`,
      );
    }
    const now = this.options.now();
    const maxReauth = this.options.maxReauthMs(this.mechanism!);
    const expiry = this.server!.credentialExpirationMs();
    let lifetime = 0;
    if (expiry !== null || maxReauth > 0) {
      if (expiry === null) lifetime = maxReauth;
      else if (maxReauth <= 0) lifetime = Math.max(0, expiry - now);
      else lifetime = Math.max(0, Math.min(expiry - now, maxReauth));
      this.sessionExpiresAt = now + lifetime;
    } else this.sessionExpiresAt = null;
    const reauthentication = this.previous !== null;
    this.principalValue = principal;
    this.previous = null;
    this.server = null;
    this.state = 'COMPLETE';
    this.options.onSuccess?.(reauthentication, this.clientSupportsReauth);
    return lifetime;
  }

  private fail(mechanism: string | null, message: string): void {
    this.state = 'FAILED';
    this.options.onFailure(mechanism, message, this.previous !== null);
  }
}
