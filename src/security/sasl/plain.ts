/**
 * SASL/PLAIN (RFC 4616) as Kafka's PlainSaslServer: one message `authzid NUL username NUL
 * password`, checked against the users of the listener's JAAS config (`user_<name>="<password>"`,
 * PlainServerCallbackHandler), compared in constant time.
 */
import { timingSafeEqual } from 'node:crypto';
import { SaslAuthenticationError, type SaslServer } from './sasl-server.js';

export type PlainUsers = ReadonlyMap<string, string>;

/** The `user_<name>` options of a PlainLoginModule JAAS entry. */
export function plainUsersFromJaas(options: ReadonlyMap<string, string>): Map<string, string> {
  const users = new Map<string, string>();
  for (const [k, v] of options) if (k.startsWith('user_')) users.set(k.slice('user_'.length), v);
  return users;
}

function equalSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  if (x.length === y.length) return timingSafeEqual(x, y);
  // Compare against itself when lengths differ, so the time does not tell the length.
  timingSafeEqual(x, x);
  return false;
}

export class PlainSaslServer implements SaslServer {
  readonly mechanism = 'PLAIN';
  private complete = false;
  private authzId = '';

  constructor(private readonly users: PlainUsers) {}

  evaluateResponse(token: Buffer): Buffer | null {
    const text = token.toString('utf8');
    const parts = text.split('\u0000');
    if (parts.length !== 3) {
      throw new SaslAuthenticationError(
        `Invalid SASL/PLAIN response: expected 3 tokens, got ${parts.length}`,
      );
    }
    const [authorizationIdFromClient, username, password] = parts as [string, string, string];
    if (username === '') throw new SaslAuthenticationError('Authentication failed: username not specified');
    if (password === '') throw new SaslAuthenticationError('Authentication failed: password not specified');
    const expected = this.users.get(username);
    if (expected === undefined || !equalSecret(password, expected)) {
      throw new SaslAuthenticationError('Authentication failed: Invalid username or password');
    }
    if (authorizationIdFromClient !== '' && authorizationIdFromClient !== username) {
      throw new SaslAuthenticationError(
        'Authentication failed: Client requested an authorization id that is different from username',
      );
    }
    this.authzId = username;
    this.complete = true;
    return Buffer.alloc(0);
  }

  isComplete(): boolean {
    return this.complete;
  }

  authorizationId(): string {
    return this.authzId;
  }

  credentialExpirationMs(): number | null {
    return null;
  }
}
