import { describe, expect, it } from 'vitest';
import { initSecContext, TEST_REALM, TEST_SERVICE, testKdc } from '../../test-support/kerberos-initiator.js';
import {
  ETYPE_AES128_CTS_HMAC_SHA1_96,
  ETYPE_AES128_CTS_HMAC_SHA256_128,
  ETYPE_AES256_CTS_HMAC_SHA1_96,
  ETYPE_AES256_CTS_HMAC_SHA384_192,
  stringToKey,
} from './crypto.js';
import { type AcceptorOptions, acceptSecContext, GssError, ReplayCache } from './gss.js';

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);

function acceptor(kdc = testKdc(), over: Partial<AcceptorOptions> = {}): AcceptorOptions {
  return {
    keytab: kdc.keytab,
    principal: `${TEST_SERVICE}@${TEST_REALM}`,
    now: () => NOW,
    replay: new ReplayCache(),
    ...over,
  };
}

describe('Kerberos GSS-API acceptor', () => {
  for (const etype of [
    ETYPE_AES128_CTS_HMAC_SHA1_96,
    ETYPE_AES256_CTS_HMAC_SHA1_96,
    ETYPE_AES128_CTS_HMAC_SHA256_128,
    ETYPE_AES256_CTS_HMAC_SHA384_192,
  ]) {
    it(`accepts an AP-REQ, answers the AP-REP and wraps both ways (enctype ${etype})`, () => {
      const kdc = testKdc(etype);
      const init = initSecContext(kdc, { now: NOW, sessionEtype: etype });
      const { output, context } = acceptSecContext(init.token, acceptor(kdc));
      expect(context.clientPrincipal).toBe(`alice@${TEST_REALM}`);
      expect(context.servicePrincipal).toBe(`${TEST_SERVICE}@${TEST_REALM}`);
      const client = init.finish(output);
      const offer = Buffer.from([1, 0, 0x10, 0]);
      expect(client.unwrap(context.wrap(offer))).toEqual(offer);
      expect(context.unwrap(client.wrap(Buffer.from('\x01\x00\x00\x00alice')))).toEqual(
        Buffer.from('\x01\x00\x00\x00alice'),
      );
      // Sealed tokens too, and the sequence numbers move on.
      expect(context.unwrap(client.wrap(Buffer.from('sealed'), true)).toString()).toBe('sealed');
      expect(client.unwrap(context.wrap(Buffer.from('back'), true)).toString()).toBe('back');
    });
  }

  it('answers no AP-REP without mutual authentication', () => {
    const kdc = testKdc();
    const init = initSecContext(kdc, { now: NOW, mutual: false });
    const { output, context } = acceptSecContext(init.token, acceptor(kdc));
    expect(output).toBeNull();
    const client = init.finish(null);
    expect(context.unwrap(client.wrap(Buffer.from('x'))).toString()).toBe('x');
  });

  it('refuses a ticket in a stale key, for another service, expired, not yet valid, skewed or replayed', () => {
    const kdc = testKdc();
    const refuse = (token: Buffer, opts: AcceptorOptions, message: RegExp) =>
      expect(() => acceptSecContext(token, opts)).toThrow(message);
    const stale = stringToKey(ETYPE_AES256_CTS_HMAC_SHA1_96, 'old-secret', `${TEST_REALM}kafkalocalhost`);
    refuse(initSecContext(kdc, { now: NOW, serviceKey: stale }).token, acceptor(kdc), /key mismatch/);
    // A stale key under an older key version (MIT's kadmin cpw): no key of that version, the others fail.
    refuse(
      initSecContext(kdc, { now: NOW, serviceKey: stale, kvno: 1 }).token,
      acceptor(kdc),
      /key mismatch/,
    );
    // A key version the keytab lacks, in a key it holds: accepted, as the JDK tries every key of the enctype.
    acceptSecContext(initSecContext(kdc, { now: NOW, kvno: 1 }).token, acceptor(kdc));
    refuse(
      initSecContext(kdc, { now: NOW, service: 'kafka/otherhost' }).token,
      acceptor(kdc),
      /Wrong principal/,
    );
    refuse(
      initSecContext(kdc, {
        now: NOW,
        sessionEtype: ETYPE_AES128_CTS_HMAC_SHA1_96,
        serviceKey: testKdc(ETYPE_AES128_CTS_HMAC_SHA1_96).serviceKey,
      }).token,
      acceptor(kdc),
      /appropriate type/,
    );
    refuse(
      initSecContext(kdc, { now: NOW - 7_200_000, ticketLifetimeMs: 3_600_000, ctime: NOW }).token,
      acceptor(kdc),
      /Ticket expired/,
    );
    refuse(initSecContext(kdc, { now: NOW + 600_000 }).token, acceptor(kdc), /not yet valid/);
    refuse(initSecContext(kdc, { now: NOW, ctime: NOW - 301_000 }).token, acceptor(kdc), /Clock skew/);
    refuse(initSecContext(kdc, { now: NOW, gssChecksum: false }).token, acceptor(kdc), /GSS-API checksum/);
    const opts = acceptor(kdc);
    const once = initSecContext(kdc, { now: NOW });
    acceptSecContext(once.token, opts);
    refuse(once.token, opts, /replay/);
    // Within the skew of the clock, not exactly on it.
    acceptSecContext(initSecContext(kdc, { now: NOW, ctime: NOW + 299_000 }).token, opts);
  });

  it('refuses tampered and out-of-sequence Wrap tokens', () => {
    const kdc = testKdc();
    const init = initSecContext(kdc, { now: NOW });
    const { output, context } = acceptSecContext(init.token, acceptor(kdc));
    const client = init.finish(output);
    const token = client.wrap(Buffer.from('\x01\x00\x00\x00'));
    const bad = Buffer.from(token);
    bad[17] = bad[17]! ^ 1;
    expect(() => context.unwrap(bad)).toThrow(GssError);
    expect(context.unwrap(token)).toEqual(Buffer.from('\x01\x00\x00\x00'));
    expect(() => context.unwrap(token)).toThrow(/sequence/); // the same token again
    expect(() => context.unwrap(context.wrap(Buffer.from('mine')))).toThrow(/wrong side/);
  });

  it('meets garbage, truncations and bit flips of a real token with GssError, never another error', () => {
    const kdc = testKdc();
    const { token } = initSecContext(kdc, { now: NOW });
    const garbage: Buffer[] = [
      Buffer.alloc(0),
      Buffer.from([0x60]),
      Buffer.from([0x60, 0x84, 0xff, 0xff, 0xff, 0xff]),
    ];
    for (let n = 0; n < token.length; n += 7) garbage.push(token.subarray(0, n));
    for (let i = 0; i < 200; i++)
      garbage.push(Buffer.from(Array.from({ length: i * 3 }, (_, k) => (k * 97 + i) & 0xff)));
    for (const input of garbage) expect(() => acceptSecContext(input, acceptor(kdc))).toThrow(GssError);
    // A flipped bit is refused unless it lands where Kerberos does not protect (ap-options, a name type, the kvno).
    let accepted = 0;
    for (let i = 0; i < token.length; i++) {
      const t = Buffer.from(token);
      t[i] = t[i]! ^ 0x41;
      try {
        acceptSecContext(t, acceptor(kdc));
        accepted++;
      } catch (e) {
        expect(e).toBeInstanceOf(GssError);
      }
    }
    expect(accepted).toBeLessThan(12);
  });

  it('keeps the replay cache bounded: expired entries go, a full cache refuses', () => {
    const cache = new ReplayCache(3, 1000);
    expect(cache.check('a', 0)).toBe(true);
    expect(cache.check('a', 10)).toBe(false);
    cache.check('b', 10);
    cache.check('c', 10);
    expect(() => cache.check('d', 20)).toThrow(/full/);
    expect(cache.check('d', 1001)).toBe(true); // 'a' expired at 1000
    expect(cache.size).toBe(3);
  });
});
