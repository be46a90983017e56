/**
 * SASL/OAUTHBEARER (RFC 7628) with Kafka's unsecured JWS validator, for development as Kafka
 * offers it (OAuthBearerSaslServer + OAuthBearerUnsecuredValidatorCallbackHandler): the token is
 * `base64url({"alg":"none"}).base64url(claims).` with no signature; the principal is the
 * `unsecuredValidatorPrincipalClaimName` claim (default `sub`), `exp` is required, `iat` optional,
 * both checked against the broker's clock with `unsecuredValidatorAllowableClockSkewMs`, and the
 * `unsecuredValidatorRequiredScope` scopes must all be in `scope`. A bad token is answered, as
 * RFC 7628 says, with a JSON error challenge; the client's %x01 reply then fails the exchange.
 */
import { SaslAuthenticationError, SaslError, type SaslServer } from './sasl-server.js';

export interface UnsecuredValidatorOptions {
  principalClaimName: string;
  requiredScope: string[];
  allowableClockSkewMs: number;
}

export function unsecuredValidatorOptions(
  options: ReadonlyMap<string, string> | undefined,
): UnsecuredValidatorOptions {
  const skew = Number(options?.get('unsecuredValidatorAllowableClockSkewMs') ?? '0');
  return {
    principalClaimName: options?.get('unsecuredValidatorPrincipalClaimName')?.trim() || 'sub',
    requiredScope: (options?.get('unsecuredValidatorRequiredScope') ?? '')
      .split(/[\s,]+/)
      .filter((s) => s !== ''),
    allowableClockSkewMs: Number.isFinite(skew) && skew >= 0 ? skew : 0,
  };
}

const SEPARATOR = '\u0001';
// RFC 7628: `n,[a=saslname],` %x01 then `key=value` %x01 pairs, then %x01.
const SASLNAME = '(?:[^\\u0000,=\\u0080-\\uffff]|=2C|=3D)+';
const CLIENT_INITIAL = new RegExp(
  `^n,(?:a=(${SASLNAME}))?,${SEPARATOR}((?:[A-Za-z]+=[\\x21-\\x7e \\t\\r\\n]+${SEPARATOR})*)${SEPARATOR}$`,
  's',
);
const AUTH = /^([\w]+)[ ]+([-_~+/.a-zA-Z0-9]+=*)$/;

class InvalidToken extends Error {
  constructor(
    message: string,
    readonly status = 'invalid_token',
    readonly scope: string | null = null,
  ) {
    super(message);
  }
}

export class OAuthBearerSaslServer implements SaslServer {
  readonly mechanism = 'OAUTHBEARER';
  private complete = false;
  private principalName = '';
  private expiration: number | null = null;
  /** The error challenge sent; the client's next message (%x01) ends the exchange with it. */
  private errorMessage: string | null = null;

  constructor(
    private readonly options: UnsecuredValidatorOptions,
    private readonly now: () => number,
  ) {}

  evaluateResponse(token: Buffer): Buffer | null {
    const text = token.toString('utf8');
    if (this.errorMessage !== null) {
      if (text === SEPARATOR) throw new SaslAuthenticationError(this.errorMessage);
      throw new SaslError('Authentication failed: unexpected message after the error challenge');
    }
    const m = CLIENT_INITIAL.exec(text);
    if (!m) throw new SaslError('Invalid OAUTHBEARER client first message');
    const authzid = m[1] ?? '';
    const props = new Map<string, string>();
    for (const kv of (m[2] ?? '').split(SEPARATOR)) {
      if (kv === '') continue;
      const eq = kv.indexOf('=');
      props.set(kv.slice(0, eq), kv.slice(eq + 1));
    }
    const auth = AUTH.exec(props.get('auth') ?? '');
    if (!auth) throw new SaslError('Invalid OAUTHBEARER client first message: no auth=Bearer token');
    if (auth[1] !== 'Bearer')
      throw new SaslError(`Invalid scheme in OAUTHBEARER client first message: ${auth[1]}`);
    let claims: Record<string, unknown>;
    try {
      claims = this.validate(auth[2]!);
    } catch (err) {
      if (!(err instanceof InvalidToken)) throw err;
      let json = `{"status":"${err.status}"`;
      if (err.scope !== null) json += `, "scope":"${err.scope}"`;
      json += '}';
      this.errorMessage = `Authentication failed: ${err.message}`;
      return Buffer.from(json, 'utf8');
    }
    const principal = claims[this.options.principalClaimName] as string;
    if (authzid !== '' && authzid !== principal) {
      throw new SaslAuthenticationError(
        `Authentication failed: Client requested an authorization id (${authzid}) that is different from the token's principal name (${principal})`,
      );
    }
    this.principalName = principal;
    this.expiration = Math.floor((claims.exp as number) * 1000);
    this.complete = true;
    return Buffer.alloc(0);
  }

  /** Kafka's OAuthBearerUnsecuredJws + OAuthBearerValidationUtils checks. */
  private validate(compact: string): Record<string, unknown> {
    const parts = compact.split('.');
    if (parts.length !== 3 || parts[2] !== '') {
      throw new InvalidToken('An unsecured token must have three parts (header, payload, empty signature)');
    }
    const header = decodeJson(parts[0]!, 'header');
    if (header.alg !== 'none') throw new InvalidToken('Unsecured token must have "alg":"none" in its header');
    const claims = decodeJson(parts[1]!, 'payload');
    const name = this.options.principalClaimName;
    if (claims[name] === undefined) throw new InvalidToken(`Required claim missing: ${name}`);
    if (typeof claims[name] !== 'string' || (claims[name] as string).trim() === '') {
      throw new InvalidToken(`The ${name} claim had the incorrect type: ${typeof claims[name]}`);
    }
    const now = this.now();
    const skew = this.options.allowableClockSkewMs;
    if (claims.exp === undefined) throw new InvalidToken('Required claim missing: exp');
    if (typeof claims.exp !== 'number') throw new InvalidToken('The exp claim had the incorrect type');
    if (now - skew >= claims.exp * 1000) {
      throw new InvalidToken(
        `The indicated time (${now} ms) minus allowable clock skew (${skew} ms) was on or after the Expiration Time value (${claims.exp * 1000} ms)`,
      );
    }
    if (claims.iat !== undefined) {
      if (typeof claims.iat !== 'number') throw new InvalidToken('The iat claim had the incorrect type');
      if (now + skew < claims.iat * 1000) {
        throw new InvalidToken(
          `The Issued At value (${claims.iat * 1000} ms) was after the indicated time (${now} ms) plus allowable clock skew (${skew} ms)`,
        );
      }
      if (claims.exp <= claims.iat) {
        throw new InvalidToken(
          `The Expiration Time time (${claims.exp} seconds) was not after the Issued At time (${claims.iat} seconds)`,
        );
      }
    }
    if (this.options.requiredScope.length > 0) {
      const raw = claims.scope;
      const scope = new Set(
        Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? raw.split(' ') : [],
      );
      const missing = this.options.requiredScope.find((s) => !scope.has(s));
      if (missing !== undefined) {
        throw new InvalidToken(
          `The provided scope (${[...scope].join(' ')}) was missing a required scope (${missing})`,
          'insufficient_scope',
          this.options.requiredScope.join(' '),
        );
      }
    }
    return claims;
  }

  isComplete(): boolean {
    return this.complete;
  }

  authorizationId(): string {
    return this.principalName;
  }

  credentialExpirationMs(): number | null {
    return this.expiration;
  }
}

function decodeJson(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidToken(`The token's ${what} is not base64url-encoded JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidToken(`The token's ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}
