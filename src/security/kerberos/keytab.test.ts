import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringToKey } from './crypto.js';
import { type KeytabEntry, KeytabError, parseKeytab, readKeytabFile, writeKeytab } from './keytab.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/**
 * Made by MIT krb5 1.20.1 in a throwaway realm KBROKER.TEST (kdb5_util create; kadmin.local addprinc
 * -pw, ktadd -norandkey, ktremove): kafka/localhost (password 'kafka-secret', kvno 1) and client
 * (password 'client-secret', kvno 300) with etypes 17-20, salts 'KBROKER.TESTkafkalocalhost' and
 * 'KBROKER.TESTclient' (MIT's default salt: the realm then the components), between them the hole
 * that ktremove left of a removed principal.
 */
const MIT_RECORDS = [
  '000000430002000c4b42524f4b45522e5445535400056b61666b6100096c6f63616c686f7374000000016b1000840100' +
    '110010cf41b3c36a6c132111a5c58e57da6d6400000001',
  '000000530002000c4b42524f4b45522e5445535400056b61666b6100096c6f63616c686f7374000000016b1000840100' +
    '120020673e730b9e0ac8fe371eeecb2824e7a003090b73eb5d8e4507c968ec07edcffe00000001',
  '000000430002000c4b42524f4b45522e5445535400056b61666b6100096c6f63616c686f7374000000016b1000840100' +
    '130010601566512c5bc99d8ba3acb01b40690500000001',
  '000000530002000c4b42524f4b45522e5445535400056b61666b6100096c6f63616c686f7374000000016b1000840100' +
    '140020da905dc40ca73fe20a3f148ab1ebb05229a776a893a71f0f5ff20370ecf56a1d00000001',
  `ffffffc9${'00'.repeat(0x37)}`,
  '000000490001000c4b42524f4b45522e544553540006636c69656e74000000016b1000842c00120020f2f35df194a19a' +
    '5f38cec59f736802225657ace345df040ea9e07cbc8c2ab23b0000012c',
  '000000390001000c4b42524f4b45522e544553540006636c69656e74000000016b1000842c00110010828876695b4b44' +
    'bc7d99e96c78e9c4e80000012c',
  '000000390001000c4b42524f4b45522e544553540006636c69656e74000000016b1000842c00130010f77b863af65b28' +
    '9d543470ffdf79ae460000012c',
  '000000490001000c4b42524f4b45522e544553540006636c69656e74000000016b1000842c0014002077534ea0d1e8b7' +
    '03c3ee5b09461f9c09a3b857759d355086bbfc9e9a7353c7370000012c',
];
const MIT_KEYTAB = hex(`0502${MIT_RECORDS.join('')}`);
const MIT_TIMESTAMP = 0x6b100084;

/** Parses, or throws only KeytabError. */
function parseOrKeytabError(buf: Buffer): KeytabEntry[] | KeytabError {
  try {
    return parseKeytab(buf);
  } catch (err) {
    if (err instanceof KeytabError) return err;
    throw err;
  }
}

describe('parseKeytab on a keytab made by MIT krb5', () => {
  const entries = parseKeytab(MIT_KEYTAB);

  it('reads every entry, skips the hole, and takes the 32-bit kvno', () => {
    expect(MIT_KEYTAB.length).toBe(653);
    expect(
      entries.map((e) => [
        e.principal,
        e.realm,
        e.nameType,
        e.timestamp,
        e.kvno,
        e.key.etype,
        e.key.value.length,
      ]),
    ).toEqual([
      ['kafka/localhost', 'KBROKER.TEST', 1, MIT_TIMESTAMP, 1, 17, 16],
      ['kafka/localhost', 'KBROKER.TEST', 1, MIT_TIMESTAMP, 1, 18, 32],
      ['kafka/localhost', 'KBROKER.TEST', 1, MIT_TIMESTAMP, 1, 19, 16],
      ['kafka/localhost', 'KBROKER.TEST', 1, MIT_TIMESTAMP, 1, 20, 32],
      ['client', 'KBROKER.TEST', 1, MIT_TIMESTAMP, 300, 18, 32],
      ['client', 'KBROKER.TEST', 1, MIT_TIMESTAMP, 300, 17, 16],
      ['client', 'KBROKER.TEST', 1, MIT_TIMESTAMP, 300, 19, 16],
      ['client', 'KBROKER.TEST', 1, MIT_TIMESTAMP, 300, 20, 32],
    ]);
  });

  it("holds the keys stringToKey derives from the passwords and MIT's default salts", () => {
    for (const e of entries) {
      const password = e.principal === 'client' ? 'client-secret' : 'kafka-secret';
      const salt = e.realm + e.principal.split('/').join('');
      expect(stringToKey(e.key.etype, password, salt).value.toString('hex')).toBe(
        e.key.value.toString('hex'),
      );
    }
  });

  it("writes MIT's bytes back (without the hole)", () => {
    const withoutHole = hex(`0502${MIT_RECORDS.filter((r) => !r.startsWith('ff')).join('')}`);
    expect(writeKeytab(entries).toString('hex')).toBe(withoutHole.toString('hex'));
  });
});

describe('writeKeytab / parseKeytab', () => {
  const sample: KeytabEntry[] = [
    {
      principal: 'kafka/broker1.example.com',
      realm: 'EXAMPLE.COM',
      nameType: 1,
      timestamp: 1_700_000_000,
      kvno: 7,
      key: { etype: 18, value: Buffer.alloc(32, 0xab) },
    },
    {
      principal: 'alice',
      realm: 'EXAMPLE.COM',
      nameType: 1,
      timestamp: 0xffffffff,
      kvno: 0x12345678,
      key: { etype: 17, value: Buffer.alloc(16, 1) },
    },
    {
      principal: 'HTTP/ü.example/x',
      realm: 'ÉXAMPLE',
      nameType: -5,
      timestamp: 0,
      kvno: 0,
      key: { etype: -128, value: Buffer.from([9]) },
    },
  ];

  it('round trips', () => {
    const buf = writeKeytab(sample);
    expect(buf.subarray(0, 2).toString('hex')).toBe('0502');
    expect(parseKeytab(buf)).toEqual(sample);
    expect(parseKeytab(writeKeytab([]))).toEqual([]);
  });

  it('reads and writes through a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keytab-test-'));
    try {
      const path = join(dir, 'kafka.keytab');
      writeFileSync(path, writeKeytab(sample));
      expect(readKeytabFile(path)).toEqual(sample);
      expect(() => readKeytabFile(join(dir, 'missing.keytab'))).toThrow(KeytabError);
      writeFileSync(path, Buffer.from('0502', 'ascii'));
      expect(() => readKeytabFile(path)).toThrow(/kafka\.keytab.*not an MIT keytab/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses entries it cannot encode', () => {
    const base = sample[0]!;
    for (const bad of [
      { ...base, principal: '' },
      { ...base, principal: 'a//b' },
      { ...base, realm: '' },
      { ...base, realm: 'x'.repeat(0x10000) },
      { ...base, kvno: -1 },
      { ...base, kvno: 2 ** 32 },
      { ...base, timestamp: 1.5 },
      { ...base, nameType: 2 ** 31 },
      { ...base, key: { etype: 0x8000, value: Buffer.alloc(16) } },
      { ...base, key: { etype: 17, value: Buffer.alloc(0) } },
    ]) {
      expect(() => writeKeytab([bad])).toThrow(KeytabError);
    }
  });
});

describe('parseKeytab edge cases', () => {
  /** One v2 record body for kafka/h@R with the given trailer after the key. */
  const body = (trailer: string): string =>
    '0002' +
    '000152' +
    '00056b61666b61' +
    '000168' +
    '00000001' +
    '00000064' +
    '05' +
    '0011' +
    '0002abcd' +
    trailer;
  const record = (b: string): string => (b.length / 2).toString(16).padStart(8, '0') + b;

  it('uses the 8-bit kvno when the 32-bit one is absent or zero, and ignores record padding', () => {
    expect(parseKeytab(hex(`0502${record(body(''))}`))[0]!.kvno).toBe(5);
    expect(parseKeytab(hex(`0502${record(body('000000'))}`))[0]!.kvno).toBe(5);
    expect(parseKeytab(hex(`0502${record(body('00000000'))}`))[0]!.kvno).toBe(5);
    const e = parseKeytab(hex(`0502${record(body('00000101' + 'ffff'))}`))[0]!;
    expect(e).toEqual({
      principal: 'kafka/h',
      realm: 'R',
      nameType: 1,
      timestamp: 100,
      kvno: 257,
      key: { etype: 17, value: hex('abcd') },
    });
  });

  it('stops at a zero size, as MIT does', () => {
    const buf = hex(`0502${record(body(''))}00000000${record(body(''))}`);
    expect(parseKeytab(buf)).toHaveLength(1);
  });

  it('reads version 0x0501 in little-endian order (realm counted, no name type)', () => {
    const v1body =
      '0300' +
      '0100' +
      '52' +
      '0500' +
      '6b61666b61' +
      '0100' +
      '68' +
      '64000000' +
      '05' +
      '1200' +
      '0200' +
      'abcd';
    const v1 = hex(`0501${(v1body.length / 2).toString(16).padStart(2, '0')}000000${v1body}`);
    expect(parseKeytab(v1)).toEqual([
      {
        principal: 'kafka/h',
        realm: 'R',
        nameType: 0,
        timestamp: 100,
        kvno: 5,
        key: { etype: 18, value: hex('abcd') },
      },
    ]);
  });

  it('throws KeytabError on bad headers and absurd or truncated records', () => {
    const cases: [string, RegExp][] = [
      ['', /too short/],
      ['05', /too short/],
      ['0503', /not an MIT keytab/],
      ['0602', /not an MIT keytab/],
      ['050200', /truncated/],
      ['05027fffffff', /claims 2147483647 bytes/],
      ['050280000000', /claims 2147483648 bytes/],
      ['0502fffffff0', /claims 16 bytes/],
      [`0502${record(body('')).slice(0, -2)}`, /claims/],
      [`0502${record(`0000${body('').slice(4)}`)}`, /component count 0/],
      [`0502${record(`8000${body('').slice(4)}`)}`, /component count -32768/],
      [`0502${record(body('').replace('0002abcd', '0000'))}`, /empty key/],
      [`0502${record(body('').replace('000152', '0000'))}`, /empty realm/],
      [`0502${record(body('').replace('000152', '0001ff'))}`, /realm is not valid UTF-8/],
      [`0502${record(body('').slice(0, 30))}`, /truncated/],
      [`0502${record('0002' + '7fff52')}`, /truncated: realm/],
    ];
    for (const [input, message] of cases) {
      expect(() => parseKeytab(hex(input)), input).toThrow(KeytabError);
      expect(() => parseKeytab(hex(input)), input).toThrow(message);
    }
  });

  it('never fails other than with KeytabError on any prefix or single-byte change of a real keytab', () => {
    const all = parseKeytab(MIT_KEYTAB);
    for (let len = 0; len < MIT_KEYTAB.length; len++) {
      const r = parseOrKeytabError(MIT_KEYTAB.subarray(0, len));
      if (!(r instanceof KeytabError)) expect(all.slice(0, r.length)).toEqual(r);
    }
    for (let i = 0; i < MIT_KEYTAB.length; i++) {
      for (const v of [0x00, 0x7f, 0x80, 0xff]) {
        const b = Buffer.from(MIT_KEYTAB);
        b[i] = v;
        parseOrKeytabError(b);
      }
    }
  });

  it('never fails other than with KeytabError on garbage', () => {
    let seed = 12345;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed >>> 16;
    };
    for (let n = 0; n < 2000; n++) {
      const b = Buffer.alloc(2 + (rand() % 200));
      for (let i = 0; i < b.length; i++) b[i] = rand() & 0xff;
      b[0] = 5;
      b[1] = 1 + (n % 2);
      // Small record sizes so that the parser gets into the records.
      if (n % 3 === 0 && b.length >= 6) b.writeInt32BE((rand() % 120) - 20, 2);
      parseOrKeytabError(b);
    }
  });
});
