/**
 * Tests' stand-in for a KDC and a GSS-API initiator: issues a service ticket in the keytab's key and
 * builds the client's AP-REQ token the way MIT's and the JDK's initiators do (GSS checksum 0x8003
 * with flags, a subkey, a sequence number), and checks the acceptor's AP-REP. Real clients against a
 * real KDC are compat-tests/kerberos; this drives the acceptor's edge cases on a clock.
 */
import {
  decrypt,
  ETYPE_AES256_CTS_HMAC_SHA1_96,
  encrypt,
  type KerberosKey,
  randomKey,
  stringToKey,
} from '../security/kerberos/crypto.js';
import {
  frameToken,
  GSS_C_MUTUAL_FLAG,
  GSS_CHECKSUM_TYPE,
  GssContext,
  TOK_AP_REP,
  TOK_AP_REQ,
  unframeToken,
} from '../security/kerberos/gss.js';
import type { KeytabEntry } from '../security/kerberos/keytab.js';
import {
  decodeApRep,
  decodeEncApRepPart,
  encodeApReq,
  encodeAuthenticator,
  encodeEncTicketPart,
  KEY_USAGE_AP_REP,
  KEY_USAGE_AP_REQ_AUTHENTICATOR,
  KEY_USAGE_TICKET,
  NT_PRINCIPAL,
  NT_SRV_INST,
} from '../security/kerberos/messages.js';

export const TEST_REALM = 'KBROKER.TEST';
export const TEST_SERVICE = 'kafka/localhost';

export interface TestKdc {
  keytab: KeytabEntry[];
  serviceKey: KerberosKey;
}

/** A keytab with the service's key (from a password, so a test can also make a stale one). */
export function testKdc(
  etype = ETYPE_AES256_CTS_HMAC_SHA1_96,
  password = 'service-secret',
  kvno = 2,
): TestKdc {
  const serviceKey = stringToKey(etype, password, `${TEST_REALM}${TEST_SERVICE.replace('/', '')}`);
  return {
    serviceKey,
    keytab: [
      {
        principal: TEST_SERVICE,
        realm: TEST_REALM,
        nameType: NT_SRV_INST,
        timestamp: 0,
        kvno,
        key: serviceKey,
      },
    ],
  };
}

export interface InitiatorOptions {
  client?: string;
  now: number;
  mutual?: boolean;
  /** The key the ticket is encrypted in (default the KDC's service key). */
  serviceKey?: KerberosKey;
  kvno?: number | null;
  service?: string;
  sessionEtype?: number;
  ticketLifetimeMs?: number;
  /** The authenticator's time (default `now`). */
  ctime?: number;
  gssChecksum?: boolean;
}

export interface Initiation {
  token: Buffer;
  /** The context once the acceptor's AP-REP (or null, without mutual authentication) is checked. */
  finish(apRep: Buffer | null): GssContext;
}

export function initSecContext(kdc: TestKdc, o: InitiatorOptions): Initiation {
  const client = o.client ?? 'alice';
  const service = o.service ?? TEST_SERVICE;
  const sessionKey = randomKey(o.sessionEtype ?? ETYPE_AES256_CTS_HMAC_SHA1_96);
  const subkey = randomKey(sessionKey.etype);
  const serviceKey = o.serviceKey ?? kdc.serviceKey;
  const cname = { nameType: NT_PRINCIPAL, names: client.split('/') };
  const encTicket = encodeEncTicketPart({
    flags: 0,
    key: sessionKey,
    crealm: TEST_REALM,
    cname,
    authtime: o.now,
    starttime: null,
    endtime: o.now + (o.ticketLifetimeMs ?? 36_000_000),
    renewTill: null,
  });
  const ctime = o.ctime ?? o.now;
  const cusec = (ctime % 1000) * 1000 + 7;
  const flagsField = Buffer.alloc(24);
  flagsField.writeUInt32LE(16, 0);
  flagsField.writeUInt32LE((o.mutual ?? true) ? GSS_C_MUTUAL_FLAG | 0x30 : 0x30, 20);
  const initiatorSeq = 1234;
  const authenticator = encodeAuthenticator({
    crealm: TEST_REALM,
    cname,
    cksum: (o.gssChecksum ?? true) ? { type: GSS_CHECKSUM_TYPE, value: flagsField } : null,
    cusec,
    ctime: ctime - (ctime % 1000),
    subkey,
    seqNumber: initiatorSeq,
  });
  const apReq = encodeApReq({
    apOptions: (o.mutual ?? true) ? 0x20000000 : 0,
    ticket: {
      realm: TEST_REALM,
      sname: { nameType: NT_SRV_INST, names: service.split('/') },
      encPart: {
        etype: serviceKey.etype,
        kvno: o.kvno === undefined ? kdc.keytab[0]!.kvno : o.kvno,
        cipher: encrypt(serviceKey, KEY_USAGE_TICKET, encTicket),
      },
    },
    authenticator: {
      etype: sessionKey.etype,
      kvno: null,
      cipher: encrypt(sessionKey, KEY_USAGE_AP_REQ_AUTHENTICATOR, authenticator),
    },
  });
  return {
    token: frameToken(TOK_AP_REQ, apReq),
    finish(apRepToken) {
      let acceptorSeq = initiatorSeq;
      if (apRepToken) {
        const { tokId, inner } = unframeToken(apRepToken);
        if (tokId !== TOK_AP_REP) throw new Error(`expected an AP-REP token, got 0x${tokId.toString(16)}`);
        const part = decodeEncApRepPart(decrypt(sessionKey, KEY_USAGE_AP_REP, decodeApRep(inner).cipher));
        if (part.ctime !== ctime - (ctime % 1000) || part.cusec !== cusec)
          throw new Error('AP-REP does not echo the authenticator time');
        acceptorSeq = part.seqNumber ?? 0;
      }
      return new GssContext(
        'initiator',
        `${client}@${TEST_REALM}`,
        `${service}@${TEST_REALM}`,
        subkey,
        initiatorSeq,
        acceptorSeq,
      );
    },
  };
}
