/**
 * The Kerberos 5 messages a service sees (RFC 4120 §5): the AP-REQ a client presents (its Ticket,
 * encrypted in the service's key, and its Authenticator, encrypted in the ticket's session key) and
 * the AP-REP the service answers for mutual authentication. Both directions are here: the acceptor
 * decodes AP-REQ and encodes AP-REP; the tests' initiator does the reverse.
 */
import type { KerberosKey } from './crypto.js';
import {
  application,
  DerError,
  expectTlv,
  fields,
  flags,
  generalString,
  integer,
  octetString,
  readFlags,
  readInteger,
  readOctetString,
  readSequenceOf,
  readString,
  readTime,
  required,
  sequence,
  TAG_SEQUENCE,
  taggedSequence,
  time,
  tlv,
} from './der.js';

export const KRB_AP_REQ = 14;
export const KRB_AP_REP = 15;
/** ap-options bit 2 (RFC 4120 §5.5.1): the client wants an AP-REP. */
export const AP_OPTION_MUTUAL_REQUIRED = 0x20000000;

// Key usage numbers (RFC 4120 §7.5.1).
export const KEY_USAGE_TICKET = 2;
export const KEY_USAGE_AP_REQ_AUTHENTICATOR = 11;
export const KEY_USAGE_AP_REP = 12;

export const NT_PRINCIPAL = 1;
export const NT_SRV_INST = 2;

export interface PrincipalName {
  nameType: number;
  names: string[];
}

export interface EncryptedData {
  etype: number;
  kvno: number | null;
  cipher: Buffer;
}

export interface Ticket {
  realm: string;
  sname: PrincipalName;
  encPart: EncryptedData;
}

export interface ApReq {
  apOptions: number;
  ticket: Ticket;
  authenticator: EncryptedData;
}

export interface EncTicketPart {
  flags: number;
  key: KerberosKey;
  crealm: string;
  cname: PrincipalName;
  authtime: number;
  starttime: number | null;
  endtime: number;
  renewTill: number | null;
}

export interface Checksum {
  type: number;
  value: Buffer;
}

export interface Authenticator {
  crealm: string;
  cname: PrincipalName;
  cksum: Checksum | null;
  /** Microseconds within ctime's second. */
  cusec: number;
  /** Whole seconds, as ms since the epoch. */
  ctime: number;
  subkey: KerberosKey | null;
  seqNumber: number | null;
}

export interface EncApRepPart {
  ctime: number;
  cusec: number;
  subkey: KerberosKey | null;
  seqNumber: number | null;
}

/** `name/host@REALM` (components joined by '/'). */
export function principalString(p: PrincipalName, realm: string): string {
  return `${p.names.join('/')}@${realm}`;
}

// Decoding.

function principalName(el: Buffer): PrincipalName {
  const f = fields(expectTlv(el, TAG_SEQUENCE, 'PrincipalName'));
  return {
    nameType: readInteger(required(f, 0, 'PrincipalName')),
    names: readSequenceOf(required(f, 1, 'PrincipalName')).map(readString),
  };
}

function encryptedData(el: Buffer): EncryptedData {
  const f = fields(expectTlv(el, TAG_SEQUENCE, 'EncryptedData'));
  const kvno = f.get(1);
  return {
    etype: readInteger(required(f, 0, 'EncryptedData')),
    kvno: kvno === undefined ? null : readInteger(kvno) >>> 0,
    cipher: readOctetString(required(f, 2, 'EncryptedData')),
  };
}

function encryptionKey(el: Buffer): KerberosKey {
  const f = fields(expectTlv(el, TAG_SEQUENCE, 'EncryptionKey'));
  return {
    etype: readInteger(required(f, 0, 'EncryptionKey')),
    value: Buffer.from(readOctetString(required(f, 1, 'EncryptionKey'))),
  };
}

function checksum(el: Buffer): Checksum {
  const f = fields(expectTlv(el, TAG_SEQUENCE, 'Checksum'));
  return {
    type: readInteger(required(f, 0, 'Checksum')),
    value: readOctetString(required(f, 1, 'Checksum')),
  };
}

function optional<T>(f: Map<number, Buffer>, n: number, read: (el: Buffer) => T): T | null {
  const v = f.get(n);
  return v === undefined ? null : read(v);
}

function version(f: Map<number, Buffer>, what: string): void {
  const pvno = readInteger(required(f, 0, what));
  if (pvno !== 5) throw new DerError(`${what}: protocol version ${pvno}, not 5`);
}

export function decodeTicket(el: Buffer): Ticket {
  const f = fields(expectTlv(expectTlv(el, application(1), 'Ticket'), TAG_SEQUENCE, 'Ticket'));
  version(f, 'Ticket');
  return {
    realm: readString(required(f, 1, 'Ticket')),
    sname: principalName(required(f, 2, 'Ticket')),
    encPart: encryptedData(required(f, 3, 'Ticket')),
  };
}

export function decodeApReq(buf: Buffer): ApReq {
  const f = fields(expectTlv(expectTlv(buf, application(KRB_AP_REQ), 'AP-REQ'), TAG_SEQUENCE, 'AP-REQ'));
  version(f, 'AP-REQ');
  const type = readInteger(required(f, 1, 'AP-REQ'));
  if (type !== KRB_AP_REQ) throw new DerError(`AP-REQ: message type ${type}`);
  return {
    apOptions: readFlags(required(f, 2, 'AP-REQ')),
    ticket: decodeTicket(required(f, 3, 'AP-REQ')),
    authenticator: encryptedData(required(f, 4, 'AP-REQ')),
  };
}

export function decodeEncTicketPart(buf: Buffer): EncTicketPart {
  const f = fields(expectTlv(expectTlv(buf, application(3), 'EncTicketPart'), TAG_SEQUENCE, 'EncTicketPart'));
  return {
    flags: readFlags(required(f, 0, 'EncTicketPart')),
    key: encryptionKey(required(f, 1, 'EncTicketPart')),
    crealm: readString(required(f, 2, 'EncTicketPart')),
    cname: principalName(required(f, 3, 'EncTicketPart')),
    authtime: readTime(required(f, 5, 'EncTicketPart')),
    starttime: optional(f, 6, readTime),
    endtime: readTime(required(f, 7, 'EncTicketPart')),
    renewTill: optional(f, 8, readTime),
  };
}

export function decodeAuthenticator(buf: Buffer): Authenticator {
  const f = fields(expectTlv(expectTlv(buf, application(2), 'Authenticator'), TAG_SEQUENCE, 'Authenticator'));
  const vno = readInteger(required(f, 0, 'Authenticator'));
  if (vno !== 5) throw new DerError(`Authenticator: version ${vno}, not 5`);
  return {
    crealm: readString(required(f, 1, 'Authenticator')),
    cname: principalName(required(f, 2, 'Authenticator')),
    cksum: optional(f, 3, checksum),
    cusec: readInteger(required(f, 4, 'Authenticator')),
    ctime: readTime(required(f, 5, 'Authenticator')),
    subkey: optional(f, 6, encryptionKey),
    seqNumber: optional(f, 7, (el) => readInteger(el) >>> 0),
  };
}

export function decodeApRep(buf: Buffer): EncryptedData {
  const f = fields(expectTlv(expectTlv(buf, application(KRB_AP_REP), 'AP-REP'), TAG_SEQUENCE, 'AP-REP'));
  version(f, 'AP-REP');
  return encryptedData(required(f, 2, 'AP-REP'));
}

export function decodeEncApRepPart(buf: Buffer): EncApRepPart {
  const f = fields(expectTlv(expectTlv(buf, application(27), 'EncAPRepPart'), TAG_SEQUENCE, 'EncAPRepPart'));
  return {
    ctime: readTime(required(f, 0, 'EncAPRepPart')),
    cusec: readInteger(required(f, 1, 'EncAPRepPart')),
    subkey: optional(f, 2, encryptionKey),
    seqNumber: optional(f, 3, (el) => readInteger(el) >>> 0),
  };
}

// Encoding.

const app = (n: number, members: (Buffer | undefined)[]): Buffer =>
  tlv(application(n), taggedSequence(members));

function encodePrincipalName(p: PrincipalName): Buffer {
  return taggedSequence([integer(p.nameType), sequence(...p.names.map(generalString))]);
}

function encodeEncryptedData(e: EncryptedData): Buffer {
  return taggedSequence([
    integer(e.etype),
    e.kvno === null ? undefined : integer(e.kvno),
    octetString(e.cipher),
  ]);
}

function encodeKey(k: KerberosKey): Buffer {
  return taggedSequence([integer(k.etype), octetString(k.value)]);
}

/** UInt32 as a DER INTEGER (Kerberos writes sequence numbers as unsigned). */
const uint32 = (n: number): Buffer => integer(n >>> 0);

export function encodeApRep(encPart: EncryptedData): Buffer {
  return app(KRB_AP_REP, [integer(5), integer(KRB_AP_REP), encodeEncryptedData(encPart)]);
}

export function encodeEncApRepPart(p: EncApRepPart): Buffer {
  return app(27, [
    time(p.ctime),
    integer(p.cusec),
    p.subkey ? encodeKey(p.subkey) : undefined,
    p.seqNumber === null ? undefined : uint32(p.seqNumber),
  ]);
}

export function encodeTicket(t: Ticket): Buffer {
  return app(1, [
    integer(5),
    generalString(t.realm),
    encodePrincipalName(t.sname),
    encodeEncryptedData(t.encPart),
  ]);
}

export function encodeApReq(r: ApReq): Buffer {
  return app(KRB_AP_REQ, [
    integer(5),
    integer(KRB_AP_REQ),
    flags(r.apOptions),
    encodeTicket(r.ticket),
    encodeEncryptedData(r.authenticator),
  ]);
}

export function encodeEncTicketPart(t: EncTicketPart): Buffer {
  return app(3, [
    flags(t.flags),
    encodeKey(t.key),
    generalString(t.crealm),
    encodePrincipalName(t.cname),
    taggedSequence([integer(1), octetString(Buffer.alloc(0))]), // transited: none
    time(t.authtime),
    t.starttime === null ? undefined : time(t.starttime),
    time(t.endtime),
    t.renewTill === null ? undefined : time(t.renewTill),
  ]);
}

export function encodeAuthenticator(a: Authenticator): Buffer {
  return app(2, [
    integer(5),
    generalString(a.crealm),
    encodePrincipalName(a.cname),
    a.cksum ? taggedSequence([integer(a.cksum.type), octetString(a.cksum.value)]) : undefined,
    integer(a.cusec),
    time(a.ctime),
    a.subkey ? encodeKey(a.subkey) : undefined,
    a.seqNumber === null ? undefined : uint32(a.seqNumber),
  ]);
}
