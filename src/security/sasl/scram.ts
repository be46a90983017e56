/**
 * SCRAM-SHA-256 / SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka's ScramSaslServer, with credentials
 * as Kafka stores them (ScramCredential, UserScramCredentialRecord): salt, iterations, StoredKey =
 * H(HMAC(SaltedPassword, "Client Key")) and ServerKey = HMAC(SaltedPassword, "Server Key"). The
 * password itself is never kept.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KafkaPrincipal } from '../authorizer.js';
import { SaslAuthenticationError, SaslError, type SaslServer } from './sasl-server.js';

export type ScramMechanismName = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

/** Kafka's ScramMechanism: type ids as in UserScramCredentialRecord / the SCRAM admin APIs. */
export const SCRAM_MECHANISMS: Readonly<
  Record<
    ScramMechanismName,
    { type: number; hash: 'sha256' | 'sha512'; keyLength: number; minIterations: number }
  >
> = {
  'SCRAM-SHA-256': { type: 1, hash: 'sha256', keyLength: 32, minIterations: 4096 },
  'SCRAM-SHA-512': { type: 2, hash: 'sha512', keyLength: 64, minIterations: 4096 },
};
/** Kafka refuses more iterations than this (ScramMechanism.maxIterations). */
export const SCRAM_MAX_ITERATIONS = 16384;

export function scramMechanismByType(type: number): ScramMechanismName | undefined {
  for (const [name, m] of Object.entries(SCRAM_MECHANISMS))
    if (m.type === type) return name as ScramMechanismName;
  return undefined;
}

export interface ScramCredential {
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
  readonly iterations: number;
}

export type ScramCredentialLookup = (
  user: string,
  mechanism: ScramMechanismName,
) => ScramCredential | undefined;

/** A delegation token as SCRAM authenticates it: its credential, owner and expiry. */
export interface TokenCredential {
  readonly credential: ScramCredential;
  readonly owner: KafkaPrincipal;
  readonly expiryTimestamp: number;
}

/** Delegation tokens by id (the SCRAM user name when the client sends `tokenauth=true`). */
export type TokenCredentialLookup = (
  tokenId: string,
  mechanism: ScramMechanismName,
) => TokenCredential | undefined;

function hmac(hash: string, key: Buffer, data: Buffer | string): Buffer {
  return createHmac(hash, key).update(data).digest();
}

/** StoredKey and ServerKey from a salted password (what AlterUserScramCredentials sends). */
export function credentialFromSaltedPassword(
  mechanism: ScramMechanismName,
  salt: Buffer,
  saltedPassword: Buffer,
  iterations: number,
): ScramCredential {
  const { hash } = SCRAM_MECHANISMS[mechanism];
  const clientKey = hmac(hash, saltedPassword, 'Client Key');
  return {
    salt,
    iterations,
    storedKey: createHash(hash).update(clientKey).digest(),
    serverKey: hmac(hash, saltedPassword, 'Server Key'),
  };
}

/** Hi(password, salt, i) of RFC 5802: PBKDF2 with the mechanism's HMAC. */
export function saltedPassword(
  mechanism: ScramMechanismName,
  password: string,
  salt: Buffer,
  iterations: number,
): Buffer {
  const { hash, keyLength } = SCRAM_MECHANISMS[mechanism];
  return pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, keyLength, hash);
}

export function credentialFromPassword(
  mechanism: ScramMechanismName,
  password: string,
  iterations = 4096,
  salt: Buffer = randomBytes(32),
): ScramCredential {
  return credentialFromSaltedPassword(
    mechanism,
    salt,
    saltedPassword(mechanism, password, salt, iterations),
    iterations,
  );
}

/** RFC 5802 saslname: `=2C` is `,` and `=3D` is `=`; any other `=` is invalid. */
function decodeSaslName(name: string): string {
  if (/=(?!2C|3D)/.test(name)) throw new SaslError(`Invalid username: ${name}`);
  return name.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

const CLIENT_FIRST = /^(?:n|y),(?:a=([^,]*))?,(n=([^,]*),r=([\x21-\x2b\x2d-\x7e]+)((?:,.*)?))$/s;

/** Kafka's ScramExtensions: `,key=value` pairs after the nonce of the client-first message. */
function extensions(rest: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of rest.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}
const CLIENT_FINAL = /^(c=([^,]*),r=([^,]*)(?:,[a-z]=[^,]*)*?),p=([A-Za-z0-9+/=]+)$/s;

type State = 'RECEIVE_CLIENT_FIRST_MESSAGE' | 'RECEIVE_CLIENT_FINAL_MESSAGE' | 'COMPLETE' | 'FAILED';

export class ScramSaslServer implements SaslServer {
  private state: State = 'RECEIVE_CLIENT_FIRST_MESSAGE';
  private username = '';
  private credential: ScramCredential | undefined;
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private gs2Header = '';
  /** Set when the client authenticated with a delegation token (`tokenauth=true`). */
  private token: TokenCredential | undefined;

  constructor(
    readonly mechanism: ScramMechanismName,
    private readonly lookup: ScramCredentialLookup,
    /** The server's part of the nonce (random; fixed only by tests of RFC 7677's example). */
    private readonly serverNonce: () => string = () => randomBytes(24).toString('base64url'),
    /** Delegation tokens (KIP-48); none: `tokenauth=true` fails as an unknown user. */
    private readonly tokens?: TokenCredentialLookup,
    private readonly now: () => number = Date.now,
  ) {}

  evaluateResponse(token: Buffer): Buffer | null {
    try {
      if (this.state === 'RECEIVE_CLIENT_FIRST_MESSAGE') return this.clientFirst(token.toString('utf8'));
      if (this.state === 'RECEIVE_CLIENT_FINAL_MESSAGE') return this.clientFinal(token.toString('utf8'));
      throw new SaslError(`Unexpected challenge in Sasl server state ${this.state}`);
    } catch (err) {
      this.state = 'FAILED';
      throw err;
    }
  }

  private clientFirst(message: string): Buffer {
    const m = CLIENT_FIRST.exec(message);
    if (!m) throw new SaslError('Invalid SCRAM client first message');
    const authzid = m[1];
    this.clientFirstBare = m[2]!;
    this.gs2Header = message.slice(0, message.length - this.clientFirstBare.length);
    this.username = decodeSaslName(m[3]!);
    const clientNonce = m[4]!;
    let credential: ScramCredential | undefined;
    if (extensions(m[5]!).get('tokenauth')?.toLowerCase() === 'true') {
      // A delegation token: the user name is its id, the password its HMAC (base64).
      this.token = this.tokens?.(this.username, this.mechanism);
      if (!this.token) throw new SaslError(`Token Authentication failed: Invalid tokenId : ${this.username}`);
      if (this.token.expiryTimestamp < this.now())
        throw new SaslError(`Token Authentication failed: token ${this.username} expired`);
      credential = this.token.credential;
    } else {
      credential = this.lookup(this.username, this.mechanism);
    }
    if (!credential) throw new SaslError('Authentication failed: Invalid user credentials');
    if (authzid !== undefined && authzid !== '' && decodeSaslName(authzid) !== this.username) {
      throw new SaslAuthenticationError(
        'Authentication failed: Client requested an authorization id that is different from username',
      );
    }
    const { minIterations } = SCRAM_MECHANISMS[this.mechanism];
    if (credential.iterations < minIterations) {
      throw new SaslError(
        `Iterations ${credential.iterations} is less than the minimum ${minIterations} for ${this.mechanism}`,
      );
    }
    this.credential = credential;
    this.nonce = clientNonce + this.serverNonce();
    this.serverFirst = `r=${this.nonce},s=${credential.salt.toString('base64')},i=${credential.iterations}`;
    this.state = 'RECEIVE_CLIENT_FINAL_MESSAGE';
    return Buffer.from(this.serverFirst, 'utf8');
  }

  private clientFinal(message: string): Buffer {
    const m = CLIENT_FINAL.exec(message);
    if (!m) throw new SaslError('Authentication failed: Invalid client final message');
    const withoutProof = m[1]!;
    // Kafka's ScramSaslServer checks that the nonce ends with the server-first one (not equality):
    // librdkafka (at least to 2.0) sends its client nonce again in front of it.
    if (!m[3]!.endsWith(this.nonce)) throw new SaslError('Invalid client nonce in the final client message.');
    if (Buffer.from(m[2]!, 'base64').toString('utf8') !== this.gs2Header) {
      throw new SaslError('Authentication failed: Invalid client final message');
    }
    const proof = Buffer.from(m[4]!, 'base64');
    const { hash } = SCRAM_MECHANISMS[this.mechanism];
    const credential = this.credential!;
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientSignature = hmac(hash, credential.storedKey, authMessage);
    if (proof.length !== clientSignature.length) throw new SaslError('Invalid client credentials');
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ clientSignature[i]!;
    const computedStoredKey = createHash(hash).update(clientKey).digest();
    if (!timingSafeEqual(computedStoredKey, credential.storedKey))
      throw new SaslError('Invalid client credentials');
    const serverSignature = hmac(hash, credential.serverKey, authMessage);
    this.state = 'COMPLETE';
    return Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8');
  }

  isComplete(): boolean {
    return this.state === 'COMPLETE';
  }

  authorizationId(): string {
    return this.token ? this.token.owner.name : this.username;
  }

  /** A token's owner, marked token-authenticated (Kafka's tokenAuthenticated principal). */
  principal(): KafkaPrincipal {
    if (this.token) return { ...this.token.owner, tokenAuthenticated: true };
    return { principalType: 'User', name: this.username };
  }

  credentialExpirationMs(): number | null {
    return this.token ? this.token.expiryTimestamp : null;
  }
}
