import { describe, expect, it } from 'vitest';
import {
  checksumTypeOf,
  ctsDecrypt,
  ctsEncrypt,
  decrypt,
  deriveUsageKey,
  ETYPE_AES128_CTS_HMAC_SHA1_96,
  ETYPE_AES128_CTS_HMAC_SHA256_128,
  ETYPE_AES256_CTS_HMAC_SHA1_96,
  ETYPE_AES256_CTS_HMAC_SHA384_192,
  encrypt,
  isSupportedEtype,
  KerberosCryptoError,
  type KerberosKey,
  makeChecksum,
  nfold,
  randomKey,
  stringToKey,
  verifyChecksum,
} from './crypto.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ALL_ETYPES = [
  ETYPE_AES128_CTS_HMAC_SHA1_96,
  ETYPE_AES256_CTS_HMAC_SHA1_96,
  ETYPE_AES128_CTS_HMAC_SHA256_128,
  ETYPE_AES256_CTS_HMAC_SHA384_192,
];

describe('nfold (RFC 3961 appendix A.1)', () => {
  const cases: [string, number, string][] = [
    ['012345', 64, 'be072631276b1955'],
    ['password', 56, '78a07b6caf85fa'],
    ['Rough Consensus, and Running Code', 64, 'bb6ed30870b7f0e0'],
    ['password', 168, '59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e'],
    ['MASSACHVSETTS INSTITVTE OF TECHNOLOGY', 192, 'db3b0d8f0b061e603282b308a50841229ad798fab9540c1b'],
    ['Q', 168, '518a54a215a8452a518a54a215a8452a518a54a215'],
    ['ba', 168, 'fb25d531ae8974499f52fd92ea9857c4ba24cf297e'],
    ['kerberos', 64, '6b65726265726f73'],
    ['kerberos', 128, '6b65726265726f737b9b5b2b93132b93'],
    ['kerberos', 168, '8372c236344e5f1550cd0747e15d62ca7a5a3bcea4'],
    ['kerberos', 256, '6b65726265726f737b9b5b2b93132b935c9bdcdad95c9899c4cae4dee6d6cae4'],
  ];
  it.each(cases)('%s folded to %i bits', (input, bits, expected) => {
    expect(nfold(Buffer.from(input, 'ascii'), bits / 8).toString('hex')).toBe(expected);
  });
});

describe('RFC 3962 appendix B', () => {
  const s2k: [number, string, string | Buffer, string, string][] = [
    [
      1,
      'password',
      'ATHENA.MIT.EDUraeburn',
      '42263c6e89f4fc28b8df68ee09799f15',
      'fe697b52bc0d3ce14432ba036a92e65bbb52280990a2fa27883998d72af30161',
    ],
    [
      2,
      'password',
      'ATHENA.MIT.EDUraeburn',
      'c651bf29e2300ac27fa469d693bdda13',
      'a2e16d16b36069c135d5e9d2e25f896102685618b95914b467c67622225824ff',
    ],
    [
      1200,
      'password',
      'ATHENA.MIT.EDUraeburn',
      '4c01cd46d632d01e6dbe230a01ed642a',
      '55a6ac740ad17b4846941051e1e8b0a7548d93b0ab30a8bc3ff16280382b8c2a',
    ],
    [
      5,
      'password',
      hex('1234567878563412'),
      'e9b23d52273747dd5c35cb55be619d8e',
      '97a4e786be20d81a382d5ebc96d5909cabcdadc87ca48f574504159f16c36e31',
    ],
    [
      1200,
      'X'.repeat(64),
      'pass phrase equals block size',
      '59d1bb789a828b1aa54ef9c2883f69ed',
      '89adee3608db8bc71f1bfbfe459486b05618b70cbae22092534e56c553ba4b34',
    ],
    [
      1200,
      'X'.repeat(65),
      'pass phrase exceeds block size',
      'cb8005dc5f90179a7f02104c0018751d',
      'd78c5c9cb872a8c9dad4697f0bb5b2d21496c82beb2caeda2112fceea057401b',
    ],
    [
      50,
      '\u{1d11e}',
      'EXAMPLE.COMpianist',
      'f149c1f2e154a73452d43e7fe62a56e5',
      '4b6d9839f84406df1f09cc166db4b83c571848b784a3d6bdc346589a3e393f9e',
    ],
  ];
  it.each(s2k)('string-to-key, %i iterations', (iter, password, salt, aes128, aes256) => {
    const k128 = stringToKey(ETYPE_AES128_CTS_HMAC_SHA1_96, password, salt, iter);
    expect(k128.etype).toBe(ETYPE_AES128_CTS_HMAC_SHA1_96);
    expect(k128.value.toString('hex')).toBe(aes128);
    expect(stringToKey(ETYPE_AES256_CTS_HMAC_SHA1_96, password, salt, iter).value.toString('hex')).toBe(
      aes256,
    );
  });

  const ctsKey = hex('636869636b656e207465726979616b69');
  const input = Buffer.from("I would like the General Gau's Chicken, please, and wonton soup.", 'ascii');
  const cts: [number, string][] = [
    [17, 'c6353568f2bf8cb4d8a580362da7ff7f97'],
    [31, 'fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5'],
    [32, '39312523a78662d5be7fcbcc98ebf5a897687268d6ecccc0c07b25e25ecfe584'],
    [47, '97687268d6ecccc0c07b25e25ecfe584b3fffd940c16a18c1b5549d2f838029e39312523a78662d5be7fcbcc98ebf5'],
    [48, '97687268d6ecccc0c07b25e25ecfe5849dad8bbb96c4cdc03bc103e1a194bbd839312523a78662d5be7fcbcc98ebf5a8'],
    [
      64,
      '97687268d6ecccc0c07b25e25ecfe58439312523a78662d5be7fcbcc98ebf5a8' +
        '4807efe836ee89a526730dbc2f7bc8409dad8bbb96c4cdc03bc103e1a194bbd8',
    ],
  ];
  it.each(cts)('AES-CTS of %i bytes', (len, expected) => {
    expect(input.length).toBe(64);
    const plain = input.subarray(0, len);
    const c = ctsEncrypt(ctsKey, plain);
    expect(c.toString('hex')).toBe(expected);
    expect(ctsDecrypt(ctsKey, c)).toEqual(plain);
  });
});

describe('aes-sha1 against MIT krb5 (t_decrypt.c, t_cksums.c)', () => {
  const vectors: [number, string, number, string, string][] = [
    [
      17,
      '',
      0,
      '5a5c0f0ba54f3828b2195e66ca24a289',
      '49ff8e11c173d9583a3254fbe7b1f1df36c538e8416784a1672e6676',
    ],
    [
      17,
      '1',
      1,
      '98450e3f3baa13f5c99beb936981b06f',
      'f86742f537b35dc2174a4dbaa920faf9042090b065e1ebb1cad9a65394',
    ],
    [
      17,
      '9 bytesss',
      2,
      '9062430c8cda3388922e6d6a509f5b7a',
      '68fb9679601f45c78857b2bf820fd6e53eca8d42fd4b1d7024a09205abb7cd2ec26c355d2f',
    ],
    [
      17,
      '30 bytes bytes bytes bytes byt',
      4,
      'dceeb70b3de76562e689226c76429148',
      'c96081032d5d8eeb7e32b4089f789d0faa481dea74c0f97cbf3146ddfcf8e800' +
        '156ecb532fc203e30ff600b63b350939fece510f02d7ff1e7bac',
    ],
    [
      18,
      '',
      0,
      '17f275f2954f2ed1f90c377ba7f4d6a369aa0136e0bf0c927ad6133c693759a9',
      'e5094c55ee7b38262e2b044280b069379a95bf95bd8376fb3281b435',
    ],
    [
      18,
      '1',
      1,
      'b9477e1ff0329c0050e20ce6c72d2dff27e8fe541ab0954429a9cb5b4f7b1e2a',
      '406150b97aeb76d43b36b62cc1ecdfbe6f40e95755e0beb5c27825f3a4',
    ],
    [
      18,
      '13 bytes byte',
      3,
      'e5a72be9b7926c1225bafef9c1872e7ba4cdb2b17893d84abd90acdd8764d966',
      'd8f1aafeec84587cc3e700a774e56651a6d693e174ec4473b5e6d96f80297a653fb818ad893e719f96',
    ],
    [
      18,
      '30 bytes bytes bytes bytes byt',
      4,
      'f1c795e9248a09338d82c3f8d5b567040b0110736845041347235b1404231398',
      'd1137a4d634cfece924dbc3bf6790648bd5cff7de0e7b99460211d0daef3d79a' +
        '295c688858f3b34b9cbd6eebae81daf6b734d4d498b6714f1c1d',
    ],
  ];
  it.each(vectors)('etype %i decrypts %j (usage %i)', (etype, plain, usage, key, ciphertext) => {
    const k = { etype, value: hex(key) };
    expect(decrypt(k, usage, hex(ciphertext)).toString('latin1')).toBe(plain);
    // Re-encrypting with the recovered confounder reproduces MIT's bytes.
    const ke = deriveUsageKey(k, usage, 'Ke');
    const conf = ctsDecrypt(ke, hex(ciphertext).subarray(0, -12)).subarray(0, 16);
    expect(encrypt(k, usage, Buffer.from(plain, 'latin1'), conf).toString('hex')).toBe(ciphertext);
  });

  it('hmac-sha1-96-aes128 / aes256 checksums', () => {
    const k128 = { etype: 17, value: hex('9062430c8cda3388922e6d6a509f5b7a') };
    const d128 = Buffer.from('eight nine ten eleven twelve thirteen');
    expect(makeChecksum(k128, 3, d128).toString('hex')).toBe('01a4b088d45628f6946614e3');
    const k256 = {
      etype: 18,
      value: hex('b1ae4cd8462aff1677053cc9279aac30b796fb81ce21474dd3ddbcfea4ec76d7'),
    };
    expect(makeChecksum(k256, 4, Buffer.from('fourteen')).toString('hex')).toBe('e08739e3279e2903ec8e3836');
  });
});

describe('RFC 8009 appendix A', () => {
  const salt = Buffer.concat([hex('10df9dd783e5bc8acea1730e74355f61'), Buffer.from('ATHENA.MIT.EDUraeburn')]);
  it('string-to-key', () => {
    expect(stringToKey(19, 'password', salt, 32768).value.toString('hex')).toBe(
      '089bca48b105ea6ea77ca5d2f39dc5e7',
    );
    expect(stringToKey(20, 'password', salt).value.toString('hex')).toBe(
      '45bd806dbf6a833a9cffc1c94589a222367a79bc21c413718906e9f578a78467',
    );
  });

  const k128: KerberosKey = { etype: 19, value: hex('3705d96080c17728a0e800eab6e0d23c') };
  const k256: KerberosKey = {
    etype: 20,
    value: hex('6d404d37faf79f9df0d33568d320669800eb4836472ea8a026d16b7182460c52'),
  };

  it('key derivation for usage 2', () => {
    expect(deriveUsageKey(k128, 2, 'Kc').toString('hex')).toBe('b31a018a48f54776f403e9a396325dc3');
    expect(deriveUsageKey(k128, 2, 'Ke').toString('hex')).toBe('9b197dd1e8c5609d6e67c3e37c62c72e');
    expect(deriveUsageKey(k128, 2, 'Ki').toString('hex')).toBe('9fda0e56ab2d85e1569a688696c26a6c');
    expect(deriveUsageKey(k256, 2, 'Kc').toString('hex')).toBe(
      'ef5718be86cc84963d8bbb5031e9f5c4ba41f28faf69e73d',
    );
    expect(deriveUsageKey(k256, 2, 'Ke').toString('hex')).toBe(
      '56ab22bee63d82d7bc5227f6773f8ea7a5eb1c825160c38312980c442e5c7e49',
    );
    expect(deriveUsageKey(k256, 2, 'Ki').toString('hex')).toBe(
      '69b16514e3cd8e56b82010d5c73012b622c4d00ffc23ed1f',
    );
  });

  const p0 = Buffer.alloc(0);
  const p6 = hex('000102030405');
  const p16 = hex('000102030405060708090a0b0c0d0e0f');
  const p21 = hex('000102030405060708090a0b0c0d0e0f1011121314');
  const enc: [KerberosKey, Buffer, string, string][] = [
    [
      k128,
      p0,
      '7e5895eaf2672435bad817f545a37148',
      'ef85fb890bb8472f4dab20394dca781d' + 'ad877eda39d50c870c0d5a0a8e48c718',
    ],
    [
      k128,
      p6,
      '7bca285e2fd4130fb55b1a5c83bc5b24',
      '84d7f30754ed987bab0bf3506beb09cfb55402cef7e6' + '877ce99e247e52d16ed4421dfdf8976c',
    ],
    [
      k128,
      p16,
      '56ab21713ff62c0a1457200f6fa9948f',
      '3517d640f50ddc8ad3628722b3569d2ae07493fa8263254080ea65c1008e8fc2' + '95fb4852e7d83e1e7c48c37eebe6b0d3',
    ],
    [
      k128,
      p21,
      'a7a4e29a4728ce10664fb64e49ad3fac',
      '720f73b18d9859cd6ccb4346115cd336c70f58edc0c4437c5573544c31c813bce1e6d072c1' +
        '86b39a413c2f92ca9b8334a287ffcbfc',
    ],
    [
      k256,
      p0,
      'f764e9fa15c276478b2c7d0c4e5f58e4',
      '41f53fa5bfe7026d91faf9be959195a0' + '58707273a96a40f0a01960621ac612748b9bbfbe7eb4ce3c',
    ],
    [
      k256,
      p6,
      'b80d3251c1f6471494256ffe712d0b9a',
      '4ed7b37c2bcac8f74f23c1cf07e62bc7b75fb3f637b9' + 'f559c7f664f69eab7b6092237526ea0d1f61cb20d69d10f2',
    ],
    [
      k256,
      p16,
      '53bf8a0d105265d4e276428624ce5e63',
      'bc47ffec7998eb91e8115cf8d19dac4bbbe2e163e87dd37f49beca92027764f6' +
        '8cf51f14d798c2273f35df574d1f932e40c4ff255b36a266',
    ],
    [
      k256,
      p21,
      '763e65367e864f02f55153c7e3b58af1',
      '40013e2df58e8751957d2878bcd2d6fe101ccfd556cb1eae79db3c3ee86429f2b2a602ac86' +
        'fef6ecb647d6295fae077a1feb517508d2c16b4192e01f62',
    ],
  ];
  it.each(enc)('encryption %#', (key, plain, confounder, expected) => {
    const c = encrypt(key, 2, plain, hex(confounder));
    expect(c.toString('hex')).toBe(expected);
    expect(decrypt(key, 2, c)).toEqual(plain);
  });

  it('checksums', () => {
    const data = hex('000102030405060708090a0b0c0d0e0f1011121314');
    expect(makeChecksum(k128, 2, data).toString('hex')).toBe('d78367186643d67b411cba9139fc1dee');
    expect(makeChecksum(k256, 2, data).toString('hex')).toBe(
      '45ee791567eefca37f4ac1e0222de80d43c3bfa06699672a',
    );
    expect(verifyChecksum(k256, 2, data, hex('45ee791567eefca37f4ac1e0222de80d43c3bfa06699672a'))).toBe(true);
  });
});

describe('encrypt / decrypt', () => {
  const lengths = [0, 1, 15, 16, 17, 31, 32, 33, 100];
  for (const etype of ALL_ETYPES) {
    it(`etype ${etype}: round trips, detects tampering, wrong usage and truncation`, () => {
      const key = randomKey(etype);
      for (const len of lengths) {
        const plain = Buffer.from(Array.from({ length: len }, (_, i) => (i * 7 + len) & 0xff));
        const c = encrypt(key, 7, plain);
        expect(decrypt(key, 7, c)).toEqual(plain);
        // Random confounder: two encryptions differ.
        expect(encrypt(key, 7, plain).equals(c)).toBe(false);
        for (let i = 0; i < c.length; i++) {
          const bad = Buffer.from(c);
          bad[i]! ^= 1 << (i % 8);
          expect(() => decrypt(key, 7, bad)).toThrow(KerberosCryptoError);
        }
        expect(() => decrypt(key, 8, c)).toThrow(KerberosCryptoError);
        for (const cut of [1, 2, 16, c.length - 1, c.length]) {
          expect(() => decrypt(key, 7, c.subarray(0, c.length - cut))).toThrow(KerberosCryptoError);
        }
        const other = randomKey(etype);
        expect(() => decrypt(other, 7, c)).toThrow(KerberosCryptoError);
      }
    });
  }

  it('refuses unsupported etypes, wrong key sizes, bad usages and confounders', () => {
    expect(isSupportedEtype(17)).toBe(true);
    expect(isSupportedEtype(23)).toBe(false);
    expect(() => encrypt({ etype: 23, value: Buffer.alloc(16) }, 1, Buffer.alloc(1))).toThrow(
      KerberosCryptoError,
    );
    expect(() => decrypt({ etype: 23, value: Buffer.alloc(16) }, 1, Buffer.alloc(64))).toThrow(
      KerberosCryptoError,
    );
    expect(() => encrypt({ etype: 18, value: Buffer.alloc(16) }, 1, Buffer.alloc(1))).toThrow(
      KerberosCryptoError,
    );
    expect(() => encrypt(randomKey(17), -1, Buffer.alloc(1))).toThrow(KerberosCryptoError);
    expect(() => encrypt(randomKey(17), 2 ** 32, Buffer.alloc(1))).toThrow(KerberosCryptoError);
    expect(() => encrypt(randomKey(17), 1, Buffer.alloc(1), Buffer.alloc(8))).toThrow(KerberosCryptoError);
    expect(() => randomKey(1)).toThrow(KerberosCryptoError);
    expect(() => stringToKey(3, 'p', 's')).toThrow(KerberosCryptoError);
    expect(() => stringToKey(17, 'p', 's', 0)).toThrow(KerberosCryptoError);
    expect(new KerberosCryptoError('x').name).toBe('KerberosCryptoError');
  });

  it('uses the full 32-bit usage', () => {
    const key = randomKey(20);
    const c = encrypt(key, 0xffffffff, Buffer.from('x'));
    expect(decrypt(key, 0xffffffff, c).toString()).toBe('x');
    expect(() => decrypt(key, 0x7fffffff, c)).toThrow(KerberosCryptoError);
  });
});

describe('checksums', () => {
  it('maps etypes to their checksum types', () => {
    expect(ALL_ETYPES.map(checksumTypeOf)).toEqual([15, 16, 19, 20]);
    expect(() => checksumTypeOf(23)).toThrow(KerberosCryptoError);
  });

  it('verifies, and rejects another usage, key, message or length', () => {
    for (const [etype, len] of [
      [17, 12],
      [18, 12],
      [19, 16],
      [20, 24],
    ] as const) {
      const key = randomKey(etype);
      const data = Buffer.from('some data to protect');
      const mac = makeChecksum(key, 9, data);
      expect(mac.length).toBe(len);
      expect(verifyChecksum(key, 9, data, mac)).toBe(true);
      expect(verifyChecksum(key, 10, data, mac)).toBe(false);
      expect(verifyChecksum(randomKey(etype), 9, data, mac)).toBe(false);
      expect(verifyChecksum(key, 9, Buffer.from('some data to protecT'), mac)).toBe(false);
      expect(verifyChecksum(key, 9, data, mac.subarray(0, len - 1))).toBe(false);
      expect(verifyChecksum(key, 9, data, Buffer.concat([mac, Buffer.alloc(1)]))).toBe(false);
      expect(verifyChecksum(key, 9, data, Buffer.alloc(0))).toBe(false);
    }
  });
});

describe('stringToKey defaults', () => {
  it('uses 4096 iterations for the SHA-1 types and 32768 for RFC 8009', () => {
    expect(stringToKey(17, 'pw', 'EXAMPLE.COMuser')).toEqual(stringToKey(17, 'pw', 'EXAMPLE.COMuser', 4096));
    expect(stringToKey(19, 'pw', 'EXAMPLE.COMuser')).toEqual(stringToKey(19, 'pw', 'EXAMPLE.COMuser', 32768));
    expect(stringToKey(19, 'pw', 'EXAMPLE.COMuser', 4096)).not.toEqual(
      stringToKey(19, 'pw', 'EXAMPLE.COMuser'),
    );
  });
});
