/**
 * Kerberos 5 encryption and checksum types built on node:crypto: the RFC 3961 simplified profile
 * with AES (RFC 3962: aes128/aes256-cts-hmac-sha1-96) and RFC 8009 (aes128-cts-hmac-sha256-128,
 * aes256-cts-hmac-sha384-192). All four use AES-CTS with a zero IV and a 16-byte confounder.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  pbkdf2Sync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

export const ETYPE_AES128_CTS_HMAC_SHA1_96 = 17;
export const ETYPE_AES256_CTS_HMAC_SHA1_96 = 18;
export const ETYPE_AES128_CTS_HMAC_SHA256_128 = 19;
export const ETYPE_AES256_CTS_HMAC_SHA384_192 = 20;

export interface KerberosKey {
  readonly etype: number;
  readonly value: Buffer;
}

export class KerberosCryptoError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KerberosCryptoError';
  }
}

const BLOCK = 16;

interface EtypeProfile {
  /** Key length in bytes (also the AES key size). */
  readonly keyBytes: number;
  /** 'sha1' = RFC 3962 (DK with n-fold), otherwise RFC 8009 KDF-HMAC-SHA2 with this hash. */
  readonly hash: 'sha1' | 'sha256' | 'sha384';
  /** Truncated HMAC length in bytes (integrity tag and checksum). */
  readonly macBytes: number;
  /** Ki / Kc lengths for RFC 8009 (RFC 3962 derives full-length keys). */
  readonly kiBytes: number;
  readonly checksumType: number;
  readonly defaultIterations: number;
  /** RFC 8009 enctype name, prefixed to the PBKDF2 salt. */
  readonly name: string;
}

const PROFILES: ReadonlyMap<number, EtypeProfile> = new Map([
  [
    ETYPE_AES128_CTS_HMAC_SHA1_96,
    {
      keyBytes: 16,
      hash: 'sha1',
      macBytes: 12,
      kiBytes: 16,
      checksumType: 15,
      defaultIterations: 4096,
      name: 'aes128-cts-hmac-sha1-96',
    },
  ],
  [
    ETYPE_AES256_CTS_HMAC_SHA1_96,
    {
      keyBytes: 32,
      hash: 'sha1',
      macBytes: 12,
      kiBytes: 32,
      checksumType: 16,
      defaultIterations: 4096,
      name: 'aes256-cts-hmac-sha1-96',
    },
  ],
  [
    ETYPE_AES128_CTS_HMAC_SHA256_128,
    {
      keyBytes: 16,
      hash: 'sha256',
      macBytes: 16,
      kiBytes: 16,
      checksumType: 19,
      defaultIterations: 32768,
      name: 'aes128-cts-hmac-sha256-128',
    },
  ],
  [
    ETYPE_AES256_CTS_HMAC_SHA384_192,
    {
      keyBytes: 32,
      hash: 'sha384',
      macBytes: 24,
      kiBytes: 24,
      checksumType: 20,
      defaultIterations: 32768,
      name: 'aes256-cts-hmac-sha384-192',
    },
  ],
]);

export function isSupportedEtype(etype: number): boolean {
  return PROFILES.has(etype);
}

function profileOf(etype: number): EtypeProfile {
  const p = PROFILES.get(etype);
  if (!p) throw new KerberosCryptoError(`unsupported encryption type ${etype}`);
  return p;
}

function checkedProfile(key: KerberosKey): EtypeProfile {
  const p = profileOf(key.etype);
  if (!Buffer.isBuffer(key.value) || key.value.length !== p.keyBytes)
    throw new KerberosCryptoError(
      `key for encryption type ${key.etype} must be ${p.keyBytes} bytes, got ${key.value?.length}`,
    );
  return p;
}

function checkUsage(usage: number): void {
  if (!Number.isInteger(usage) || usage < 0 || usage > 0xffffffff)
    throw new KerberosCryptoError(`invalid key usage ${usage}`);
}

function aesName(key: Buffer, mode: 'ecb' | 'cbc'): string {
  return `aes-${key.length * 8}-${mode}`;
}

/** AES-CBC without padding, zero IV; input a whole number of blocks. */
function cbcEncrypt(key: Buffer, data: Buffer): Buffer {
  const c = createCipheriv(aesName(key, 'cbc'), key, Buffer.alloc(BLOCK));
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

function cbcDecrypt(key: Buffer, data: Buffer): Buffer {
  const d = createDecipheriv(aesName(key, 'cbc'), key, Buffer.alloc(BLOCK));
  d.setAutoPadding(false);
  return Buffer.concat([d.update(data), d.final()]);
}

function ecbDecryptBlock(key: Buffer, block: Buffer): Buffer {
  const d = createDecipheriv(aesName(key, 'ecb'), key, null);
  d.setAutoPadding(false);
  return Buffer.concat([d.update(block), d.final()]);
}

/**
 * AES-CTS as RFC 3962 §5: CBC with a zero IV over the zero-padded input, the last two blocks
 * swapped and the output cut to the input length. One block is plain CBC (= ECB) of that block.
 */
export function ctsEncrypt(key: Buffer, plain: Buffer): Buffer {
  const n = plain.length;
  if (n < BLOCK) throw new KerberosCryptoError(`CTS input shorter than one block (${n} bytes)`);
  if (n === BLOCK) return cbcEncrypt(key, plain);
  const padded = Buffer.alloc(Math.ceil(n / BLOCK) * BLOCK);
  plain.copy(padded);
  const c = cbcEncrypt(key, padded);
  const last = c.length - BLOCK;
  const tailLen = n - last;
  return Buffer.concat([
    c.subarray(0, last - BLOCK),
    c.subarray(last),
    c.subarray(last - BLOCK, last - BLOCK + tailLen),
  ]);
}

export function ctsDecrypt(key: Buffer, cipher: Buffer): Buffer {
  const n = cipher.length;
  if (n < BLOCK) throw new KerberosCryptoError(`CTS input shorter than one block (${n} bytes)`);
  if (n === BLOCK) return cbcDecrypt(key, cipher);
  const blocks = Math.ceil(n / BLOCK);
  const fullEnd = (blocks - 2) * BLOCK; // end of the untouched CBC prefix
  const lastFull = cipher.subarray(fullEnd, fullEnd + BLOCK); // CBC block m, stored first
  const tail = cipher.subarray(fullEnd + BLOCK); // CBC block m-1, truncated
  // D(C_m) = C_{m-1} xor (P_m || 0): its bytes past the tail length complete C_{m-1}.
  const d = ecbDecryptBlock(key, lastFull);
  const prev = Buffer.concat([tail, d.subarray(tail.length)]);
  const rebuilt = Buffer.concat([cipher.subarray(0, fullEnd), prev, lastFull]);
  return cbcDecrypt(key, rebuilt).subarray(0, n);
}

/** RFC 3961 §5.1 n-fold: `bytes` bytes from the input, replicated with 13-bit rotations and summed (ones' complement). */
export function nfold(input: Buffer, bytes: number): Buffer {
  const inLen = input.length;
  if (inLen === 0 || !Number.isInteger(bytes) || bytes <= 0)
    throw new KerberosCryptoError('n-fold needs a non-empty input and a positive output length');
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const lcm = (inLen * bytes) / gcd(inLen, bytes);
  const inBits = inLen * 8;
  const bitAt = (i: number): number => (input[i >> 3]! >> (7 - (i & 7))) & 1;
  const sum = new Array<number>(bytes).fill(0);
  for (let pos = 0; pos < lcm; pos++) {
    // Byte `pos` of the replicated string: copy k = pos / inLen is the input rotated right by 13k bits.
    const k = Math.floor(pos / inLen);
    const rot = (13 * k) % inBits;
    let byte = 0;
    for (let b = 0; b < 8; b++) {
      const j = (pos % inLen) * 8 + b;
      byte = (byte << 1) | bitAt((j - rot + inBits) % inBits);
    }
    sum[pos % bytes]! += byte;
  }
  // Ones' complement addition: propagate carries right to left, wrapping the carry around.
  let carry = 0;
  do {
    for (let i = bytes - 1; i >= 0; i--) {
      const v = sum[i]! + carry;
      sum[i] = v & 0xff;
      carry = v >>> 8;
    }
  } while (carry !== 0);
  return Buffer.from(sum);
}

function usageConstant(usage: number, tag: number): Buffer {
  const c = Buffer.alloc(5);
  c.writeUInt32BE(usage, 0);
  c[4] = tag;
  return c;
}

/** RFC 3961 §5.1 DK(key, constant) for AES (random-to-key is the identity). */
function dkSimplified(base: Buffer, constant: Buffer): Buffer {
  const out: Buffer[] = [];
  let block = constant.length === BLOCK ? constant : nfold(constant, BLOCK);
  let len = 0;
  while (len < base.length) {
    block = cbcEncrypt(base, block);
    out.push(block);
    len += BLOCK;
  }
  return Buffer.concat(out).subarray(0, base.length);
}

/** RFC 8009 §3 KDF-HMAC-SHA2: SP 800-108 counter mode, one iteration (k <= hash length). */
function kdfHmacSha2(hash: 'sha256' | 'sha384', key: Buffer, label: Buffer, bytes: number): Buffer {
  const k = Buffer.alloc(4);
  k.writeUInt32BE(bytes * 8, 0);
  const mac = createHmac(hash, key)
    .update(Buffer.from([0, 0, 0, 1]))
    .update(label)
    .update(Buffer.from([0]))
    .update(k)
    .digest();
  return mac.subarray(0, bytes);
}

type KeyRole = 'Kc' | 'Ke' | 'Ki';
const ROLE_TAG: Readonly<Record<KeyRole, number>> = { Kc: 0x99, Ke: 0xaa, Ki: 0x55 };

function deriveKey(p: EtypeProfile, base: Buffer, usage: number, role: KeyRole): Buffer {
  const constant = usageConstant(usage, ROLE_TAG[role]);
  if (p.hash === 'sha1') return dkSimplified(base, constant);
  const bytes = role === 'Ke' ? p.keyBytes : p.kiBytes;
  return kdfHmacSha2(p.hash, base, constant, bytes);
}

function hmac(p: EtypeProfile, key: Buffer, ...parts: Buffer[]): Buffer {
  const h = createHmac(p.hash, key);
  for (const part of parts) h.update(part);
  return h.digest().subarray(0, p.macBytes);
}

/** Derived key for tests: the Kc, Ke or Ki of a base key and usage. */
export function deriveUsageKey(key: KerberosKey, usage: number, role: KeyRole): Buffer {
  const p = checkedProfile(key);
  checkUsage(usage);
  return deriveKey(p, key.value, usage, role);
}

/** RFC 3961 encrypt: random confounder (or the given one, tests), result = ciphertext || truncated HMAC as the etype defines. */
export function encrypt(key: KerberosKey, usage: number, plaintext: Buffer, confounder?: Buffer): Buffer {
  const p = checkedProfile(key);
  checkUsage(usage);
  const conf = confounder ?? randomBytes(BLOCK);
  if (conf.length !== BLOCK) throw new KerberosCryptoError(`confounder must be ${BLOCK} bytes`);
  const ke = deriveKey(p, key.value, usage, 'Ke');
  const ki = deriveKey(p, key.value, usage, 'Ki');
  const data = Buffer.concat([conf, plaintext]);
  const c = ctsEncrypt(ke, data);
  // RFC 3962 MACs the plaintext side; RFC 8009 MACs IV || ciphertext.
  const mac = p.hash === 'sha1' ? hmac(p, ki, data) : hmac(p, ki, Buffer.alloc(BLOCK), c);
  return Buffer.concat([c, mac]);
}

/** Verifies the integrity tag (constant time) and returns the plaintext without the confounder; throws KerberosCryptoError on a bad tag, too-short input, unsupported etype. */
export function decrypt(key: KerberosKey, usage: number, ciphertext: Buffer): Buffer {
  const p = checkedProfile(key);
  checkUsage(usage);
  if (ciphertext.length < BLOCK + p.macBytes)
    throw new KerberosCryptoError(`ciphertext too short (${ciphertext.length} bytes)`);
  const c = ciphertext.subarray(0, ciphertext.length - p.macBytes);
  const tag = ciphertext.subarray(ciphertext.length - p.macBytes);
  const ke = deriveKey(p, key.value, usage, 'Ke');
  const ki = deriveKey(p, key.value, usage, 'Ki');
  if (p.hash === 'sha1') {
    const data = ctsDecrypt(ke, c);
    if (!timingSafeEqual(hmac(p, ki, data), tag)) throw new KerberosCryptoError('integrity check failed');
    return Buffer.from(data.subarray(BLOCK));
  }
  if (!timingSafeEqual(hmac(p, ki, Buffer.alloc(BLOCK), c), tag))
    throw new KerberosCryptoError('integrity check failed');
  return Buffer.from(ctsDecrypt(ke, c).subarray(BLOCK));
}

/** The etype's mandatory keyed checksum type: 17→15 (hmac-sha1-96-aes128), 18→16, 19→19 (hmac-sha256-128-aes128), 20→20 (hmac-sha384-192-aes256). */
export function checksumTypeOf(etype: number): number {
  return profileOf(etype).checksumType;
}

/** Keyed checksum with Kc = derived key for (usage | 0x99), as RFC 3961/8009 get_mic: truncated to 12 / 16 / 24 bytes. */
export function makeChecksum(key: KerberosKey, usage: number, data: Buffer): Buffer {
  const p = checkedProfile(key);
  checkUsage(usage);
  return hmac(p, deriveKey(p, key.value, usage, 'Kc'), data);
}

export function verifyChecksum(key: KerberosKey, usage: number, data: Buffer, mac: Buffer): boolean {
  const expected = makeChecksum(key, usage, data);
  return mac.length === expected.length && timingSafeEqual(expected, mac);
}

const KERBEROS = Buffer.from('kerberos', 'ascii');

/**
 * RFC 3962 / 8009 string-to-key (PBKDF2; default iteration count 4096 / 32768 as the RFCs say;
 * s2kparams override). A string salt is taken as UTF-8; a Buffer as raw bytes (RFC 8009's vectors
 * and PA-ETYPE-INFO2 salts need arbitrary bytes).
 */
export function stringToKey(
  etype: number,
  password: string,
  salt: string | Buffer,
  iterations?: number,
): KerberosKey {
  const p = profileOf(etype);
  const iter = iterations ?? p.defaultIterations;
  if (!Number.isInteger(iter) || iter < 1 || iter > 0xffffffff)
    throw new KerberosCryptoError(`invalid string-to-key iteration count ${iterations}`);
  const saltBytes = typeof salt === 'string' ? Buffer.from(salt, 'utf8') : salt;
  const pass = Buffer.from(password, 'utf8');
  if (p.hash === 'sha1') {
    const tkey = pbkdf2Sync(pass, saltBytes, iter, p.keyBytes, 'sha1');
    return { etype, value: dkSimplified(tkey, KERBEROS) };
  }
  const saltp = Buffer.concat([Buffer.from(p.name, 'ascii'), Buffer.from([0]), saltBytes]);
  const tkey = pbkdf2Sync(pass, saltp, iter, p.keyBytes, p.hash);
  return { etype, value: kdfHmacSha2(p.hash, tkey, KERBEROS, p.keyBytes) };
}

export function randomKey(etype: number): KerberosKey {
  return { etype, value: randomBytes(profileOf(etype).keyBytes) };
}
