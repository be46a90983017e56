/**
 * The Kerberos 5 GSS-API mechanism (RFC 4121, token framing of RFC 2743 §3.1 / RFC 1964) on the
 * accepting side, as SASL/GSSAPI needs it: the client's initial context token (an AP-REQ) is checked
 * against the service's keytab — ticket decrypted with the service key, its times, the authenticator
 * decrypted with the session key, its client and clock, a replay cache — and answered with an AP-REP
 * when the client asks for mutual authentication. The established context then wraps and unwraps
 * RFC 4121 per-message tokens (AES enctypes only: the tokens of RFC 1964's older enctypes are not
 * implemented). Errors carry MIT's wording (`GssError`), which is what a broker logs.
 */
import { randomBytes } from 'node:crypto';
import {
  decrypt,
  encrypt,
  isSupportedEtype,
  type KerberosKey,
  makeChecksum,
  verifyChecksum,
} from './crypto.js';
import { DerError, expectTlv, readTlv, TAG_OID, tlv } from './der.js';
import type { KeytabEntry } from './keytab.js';
import {
  AP_OPTION_MUTUAL_REQUIRED,
  type Authenticator,
  decodeApReq,
  decodeAuthenticator,
  decodeEncTicketPart,
  type EncTicketPart,
  encodeApRep,
  encodeEncApRepPart,
  KEY_USAGE_AP_REP,
  KEY_USAGE_AP_REQ_AUTHENTICATOR,
  KEY_USAGE_TICKET,
  principalString,
} from './messages.js';

export class GssError extends Error {
  override name = 'GssError';
}

/** 1.2.840.113554.1.2.2, the Kerberos 5 mechanism (and Microsoft's 1.2.840.48018.1.2.2, which clients may send). */
const KRB5_OID = Buffer.from('2a864886f712010202', 'hex');
const MS_KRB5_OID = Buffer.from('2a864882f712010202', 'hex');

export const TOK_AP_REQ = 0x0100;
export const TOK_AP_REP = 0x0200;
const TOK_WRAP = 0x0504;

/** The authenticator checksum type that carries GSS flags (RFC 4121 §4.1.1). */
export const GSS_CHECKSUM_TYPE = 0x8003;
export const GSS_C_MUTUAL_FLAG = 2;

// RFC 4121 §2: the key usages of Wrap tokens, sealed or not (the SIGN usages, 23 and 25, are MIC tokens',
// which SASL/GSSAPI does not send).
const KG_USAGE_ACCEPTOR_SEAL = 22;
const KG_USAGE_INITIATOR_SEAL = 24;
// Wrap token flags (RFC 4121 §4.2.2).
const FLAG_SENT_BY_ACCEPTOR = 1;
const FLAG_SEALED = 2;
const FLAG_ACCEPTOR_SUBKEY = 4;

/** Kerberos' default clock skew (krb5.conf clockskew): 5 minutes. */
export const DEFAULT_CLOCK_SKEW_MS = 300_000;

/** `[APPLICATION 0] { mech OID, TOK_ID, inner }` (RFC 2743 §3.1 framing with RFC 1964's token id). */
export function frameToken(tokId: number, inner: Buffer): Buffer {
  const id = Buffer.alloc(2);
  id.writeUInt16BE(tokId, 0);
  return tlv(0x60, tlv(TAG_OID, KRB5_OID), id, inner);
}

/** The token id and inner message of a framed context token. */
export function unframeToken(token: Buffer): { tokId: number; inner: Buffer } {
  const body = expectTlv(token, 0x60, 'GSS-API initial context token');
  const oid = readTlv(body, 0);
  if (oid.tag !== TAG_OID || !(oid.value.equals(KRB5_OID) || oid.value.equals(MS_KRB5_OID))) {
    throw new GssError('An unsupported mechanism was requested (not Kerberos 5)');
  }
  if (oid.end + 2 > body.length) throw new DerError('truncated GSS token');
  return { tokId: body.readUInt16BE(oid.end), inner: body.subarray(oid.end + 2) };
}

/**
 * Authenticators seen within the clock skew (MIT's replay cache): a second AP-REQ with the same
 * client, server and time is refused. Bounded: entries expire after twice the skew, and a full cache
 * refuses new authentications rather than forget recent ones (which would let a replay through).
 */
export class ReplayCache {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly maxEntries = 100_000,
    private readonly lifetimeMs = 2 * DEFAULT_CLOCK_SKEW_MS,
  ) {}

  /** Records `key` at `now`; false when it was already there (a replay). */
  check(key: string, now: number): boolean {
    for (const [k, expiry] of this.seen) {
      if (expiry > now) break; // insertion order is expiry order
      this.seen.delete(k);
    }
    if (this.seen.has(key)) return false;
    if (this.seen.size >= this.maxEntries)
      throw new GssError('Replay cache full: too many authentications in the clock skew window');
    this.seen.set(key, now + this.lifetimeMs);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }
}

export interface AcceptorOptions {
  keytab: readonly KeytabEntry[];
  /** The service principal tickets must be for (`kafka/host@REALM`). */
  principal: string;
  now: () => number;
  replay: ReplayCache;
  clockSkewMs?: number;
}

/** Which side of a context this is: it sets the Wrap tokens' key usages and SentByAcceptor flag. */
export type GssRole = 'acceptor' | 'initiator';

const WRAP_USAGE = { acceptor: KG_USAGE_ACCEPTOR_SEAL, initiator: KG_USAGE_INITIATOR_SEAL } as const;

/** An established context: RFC 4121 Wrap tokens (no acceptor subkey is ever asserted here). */
export class GssContext {
  private sendSeq: number;
  private recvSeq: number;

  constructor(
    readonly role: GssRole,
    /** The client principal, `name@REALM`. */
    readonly clientPrincipal: string,
    /** The service principal the ticket was for. */
    readonly servicePrincipal: string,
    /** The key per-message tokens use: the initiator's subkey, else the ticket's session key. */
    private readonly key: KerberosKey,
    sendSeq: number,
    recvSeq: number,
  ) {
    this.sendSeq = sendSeq;
    this.recvSeq = recvSeq;
  }

  /** A Wrap token: integrity only, or sealed with `conf`. */
  wrap(message: Buffer, conf = false): Buffer {
    const seq = this.sendSeq;
    this.sendSeq = (this.sendSeq + 1) % 2 ** 32;
    const usage = WRAP_USAGE[this.role];
    const flags = (this.role === 'acceptor' ? FLAG_SENT_BY_ACCEPTOR : 0) | (conf ? FLAG_SEALED : 0);
    if (conf) {
      const header = wrapHeader(flags, 0, 0, seq);
      return Buffer.concat([header, encrypt(this.key, usage, Buffer.concat([message, header]))]);
    }
    const mac = makeChecksum(this.key, usage, Buffer.concat([message, wrapHeader(flags, 0, 0, seq)]));
    return Buffer.concat([wrapHeader(flags, mac.length, 0, seq), message, mac]);
  }

  /** The message of the peer's Wrap token; throws GssError when it does not verify or is out of sequence. */
  unwrap(token: Buffer): Buffer {
    if (token.length < 16 || token.readUInt16BE(0) !== TOK_WRAP)
      throw new GssError('Invalid token (not a Wrap token)');
    const flags = token[2]!;
    const fromAcceptor = (flags & FLAG_SENT_BY_ACCEPTOR) !== 0;
    if (fromAcceptor !== (this.role === 'initiator'))
      throw new GssError('Invalid token: sent by the wrong side');
    if (flags & FLAG_ACCEPTOR_SUBKEY) throw new GssError('Invalid token: no acceptor subkey was asserted');
    if (token[3] !== 0xff) throw new GssError('Invalid token filler');
    const ec = token.readUInt16BE(4);
    const rrc = token.readUInt16BE(6);
    const seq = token.readUInt32BE(12);
    if (token.readUInt32BE(8) !== 0 || seq !== this.recvSeq) throw new GssError('Token out of sequence');
    const usage = WRAP_USAGE[this.role === 'acceptor' ? 'initiator' : 'acceptor'];
    let data = token.subarray(16);
    if (data.length > 0 && rrc % data.length !== 0) {
      const r = rrc % data.length;
      data = Buffer.concat([data.subarray(r), data.subarray(0, r)]);
    }
    let message: Buffer;
    if (flags & FLAG_SEALED) {
      const plain = decryptOrFail(this.key, usage, data);
      if (plain.length < 16 + ec) throw new GssError('Invalid token: too short');
      const inner = plain.subarray(plain.length - 16);
      // The encrypted copy of the header has RRC 0.
      if (
        !inner.subarray(0, 6).equals(token.subarray(0, 6)) ||
        !inner.subarray(8).equals(token.subarray(8, 16))
      ) {
        throw new GssError('Invalid token: header mismatch');
      }
      message = plain.subarray(0, plain.length - 16 - ec);
    } else {
      if (data.length < ec) throw new GssError('Invalid token: too short');
      message = data.subarray(0, data.length - ec);
      const mac = data.subarray(data.length - ec);
      const signed = Buffer.concat([message, wrapHeader(flags, 0, 0, seq)]);
      if (!verifyChecksum(this.key, usage, signed, mac)) {
        throw new GssError('A token was invalid: integrity check failed');
      }
    }
    this.recvSeq = (this.recvSeq + 1) % 2 ** 32;
    return Buffer.from(message);
  }
}

function wrapHeader(flags: number, ec: number, rrc: number, seq: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(TOK_WRAP, 0);
  h[2] = flags;
  h[3] = 0xff;
  h.writeUInt16BE(ec, 4);
  h.writeUInt16BE(rrc, 6);
  h.writeUInt32BE(seq >>> 0, 12);
  return h;
}

function decryptOrFail(key: KerberosKey, usage: number, data: Buffer): Buffer {
  try {
    return decrypt(key, usage, data);
  } catch {
    throw new GssError('Decrypt integrity check failed');
  }
}

/**
 * Accepts the client's initial context token. Returns the token to send back (the AP-REP, when the
 * client asked for mutual authentication; null otherwise) and the established context.
 */
export function acceptSecContext(
  token: Buffer,
  opts: AcceptorOptions,
): { output: Buffer | null; context: GssContext } {
  const skew = opts.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  let framed: { tokId: number; inner: Buffer };
  let req: ReturnType<typeof decodeApReq>;
  try {
    framed = unframeToken(token);
    if (framed.tokId !== TOK_AP_REQ) throw new GssError(`Unexpected token id 0x${framed.tokId.toString(16)}`);
    req = decodeApReq(framed.inner);
  } catch (e) {
    if (e instanceof GssError) throw e;
    throw new GssError(`Invalid token: ${(e as Error).message}`);
  }
  const { ticket } = req;
  const service = principalString(ticket.sname, ticket.realm);
  if (service !== opts.principal) {
    throw new GssError(
      `Wrong principal in request: the ticket is for ${service}, this service is ${opts.principal}`,
    );
  }
  const part = decryptTicket(opts.keytab, ticket.sname.names.join('/'), ticket.realm, ticket.encPart);
  const now = opts.now();
  const client = principalString(part.cname, part.crealm);
  if ((part.starttime ?? part.authtime) - now > skew) throw new GssError('Ticket not yet valid');
  if (now - part.endtime > skew) throw new GssError('Ticket expired');
  if (!isSupportedEtype(part.key.etype))
    throw new GssError(`Unsupported session key enctype ${part.key.etype}`);
  let auth: Authenticator;
  try {
    auth = decodeAuthenticator(decrypt(part.key, KEY_USAGE_AP_REQ_AUTHENTICATOR, req.authenticator.cipher));
  } catch {
    throw new GssError('Decrypt integrity check failed (authenticator)');
  }
  if (principalString(auth.cname, auth.crealm) !== client)
    throw new GssError('Ticket and authenticator do not match');
  if (Math.abs(auth.ctime + auth.cusec / 1000 - now) > skew) throw new GssError('Clock skew too great');
  if (!opts.replay.check(`${client} ${service} ${auth.ctime} ${auth.cusec}`, now)) {
    throw new GssError('Request is a replay');
  }
  if (!auth.cksum || auth.cksum.type !== GSS_CHECKSUM_TYPE || auth.cksum.value.length < 24) {
    throw new GssError('The authenticator has no GSS-API checksum');
  }
  const lgth = auth.cksum.value.readUInt32LE(0);
  if (lgth !== 16) throw new GssError('Bad GSS-API checksum length');
  const gssFlags = auth.cksum.value.readUInt32LE(20);
  const key = auth.subkey ?? part.key;
  if (!isSupportedEtype(key.etype)) throw new GssError(`Unsupported subkey enctype ${key.etype}`);
  const mutual = (gssFlags & GSS_C_MUTUAL_FLAG) !== 0 || (req.apOptions & AP_OPTION_MUTUAL_REQUIRED) !== 0;
  // Without an AP-REP to announce its own, the acceptor numbers its tokens from the initiator's sequence
  // number, as MIT's and the JDK's do.
  const acceptorSeq = mutual ? randomBytes(4).readUInt32BE(0) & 0x3fffffff : (auth.seqNumber ?? 0);
  const context = new GssContext('acceptor', client, service, key, acceptorSeq, auth.seqNumber ?? 0);
  if (!mutual) return { output: null, context };
  const encPart = encodeEncApRepPart({
    ctime: auth.ctime,
    cusec: auth.cusec,
    subkey: null,
    seqNumber: acceptorSeq,
  });
  const apRep = encodeApRep({
    etype: part.key.etype,
    kvno: null,
    cipher: encrypt(part.key, KEY_USAGE_AP_REP, encPart),
  });
  return { output: frameToken(TOK_AP_REP, apRep), context };
}

/** The ticket's encrypted part, with the keytab's key for the service (its kvno when the ticket names one). */
function decryptTicket(
  keytab: readonly KeytabEntry[],
  name: string,
  realm: string,
  enc: { etype: number; kvno: number | null; cipher: Buffer },
): EncTicketPart {
  const keys = keytab.filter((e) => e.principal === name && e.realm === realm);
  if (keys.length === 0) throw new GssError(`No key table entry found for ${name}@${realm}`);
  const ofType = keys.filter((e) => e.key.etype === enc.etype);
  if (ofType.length === 0)
    throw new GssError(
      `Cannot find key of appropriate type to decrypt AP-REQ (enctype ${enc.etype}, ${name}@${realm})`,
    );
  // The ticket's key version first; without it, every key of the enctype (as the JDK tries them).
  const ofVersion = ofType.filter((e) => e.kvno === enc.kvno);
  const candidates = ofVersion.length > 0 ? ofVersion : ofType;
  for (const e of candidates) {
    let plain: Buffer;
    try {
      plain = decrypt(e.key, KEY_USAGE_TICKET, enc.cipher);
    } catch {
      continue;
    }
    try {
      return decodeEncTicketPart(plain);
    } catch (err) {
      throw new GssError(`Invalid ticket: ${(err as Error).message}`);
    }
  }
  throw new GssError(
    'Request ticket server principal key mismatch: the keytab key does not decrypt the ticket',
  );
}
