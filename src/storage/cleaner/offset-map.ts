// The cleaner's key → latest offset map (Kafka's SkimpyOffsetMap): a fixed buffer of 24-byte slots, each the
// MD5 of a key and the offset of its latest record, with open addressing. Its memory is the buffer given
// (`log.cleaner.dedupe.buffer.size` / `log.cleaner.threads`), whatever the size of the log being cleaned; a
// cleaning round maps as many keys as fit below the load factor and cleans up to the last offset mapped.
// As in Kafka, two keys with the same MD5 are one key (a 2^-128 chance the design accepts).
import crypto from 'node:crypto';

const HASH_SIZE = 16;
const ENTRY_SIZE = HASH_SIZE + 8;

export class SkimpyOffsetMap {
  readonly slots: number;
  private readonly bytes: Buffer;
  private entries = 0;
  private lookups = 0;
  private probes = 0;
  /** The largest offset put or recorded with updateLatestOffset; -1 when empty. */
  latestOffset = -1;

  constructor(memory: number) {
    this.slots = Math.floor(memory / ENTRY_SIZE);
    if (this.slots < 1) throw new Error(`offset map of ${memory} bytes holds no entry`);
    this.bytes = Buffer.alloc(this.slots * ENTRY_SIZE);
  }

  get size(): number {
    return this.entries;
  }

  /** Share of the slots in use (Kafka's utilization, the max-buffer-utilization-percent gauge). */
  get utilization(): number {
    return this.entries / this.slots;
  }

  /** Average probes per lookup, for the cleaner's statistics. */
  get collisionRate(): number {
    return this.lookups === 0 ? 0 : (this.probes - this.lookups) / this.lookups;
  }

  put(key: Uint8Array, offset: number): void {
    const hash = md5(key);
    this.lookups++;
    for (let attempt = 0; ; attempt++) {
      this.probes++;
      const pos = this.positionOf(hash, attempt);
      if (this.isEmpty(pos)) {
        hash.copy(this.bytes, pos);
        this.writeOffset(pos, offset);
        this.entries++;
        break;
      }
      if (this.bytes.compare(hash, 0, HASH_SIZE, pos, pos + HASH_SIZE) === 0) {
        this.writeOffset(pos, offset);
        break;
      }
    }
    if (offset > this.latestOffset) this.latestOffset = offset;
  }

  /** The latest offset mapped for key, or -1. */
  get(key: Uint8Array): number {
    const hash = md5(key);
    this.lookups++;
    for (let attempt = 0; attempt < this.slots + HASH_SIZE; attempt++) {
      this.probes++;
      const pos = this.positionOf(hash, attempt);
      if (this.isEmpty(pos)) return -1;
      if (this.bytes.compare(hash, 0, HASH_SIZE, pos, pos + HASH_SIZE) === 0) return this.readOffset(pos);
    }
    return -1;
  }

  updateLatestOffset(offset: number): void {
    if (offset > this.latestOffset) this.latestOffset = offset;
  }

  clear(): void {
    this.bytes.fill(0);
    this.entries = 0;
    this.lookups = 0;
    this.probes = 0;
    this.latestOffset = -1;
  }

  /** Kafka's probe sequence: the hash's bytes read as ints at growing positions, then linear. */
  private positionOf(hash: Buffer, attempt: number): number {
    const probe = hash.readInt32BE(Math.min(attempt, HASH_SIZE - 4)) + Math.max(0, attempt - HASH_SIZE + 4);
    const slot = (probe & 0x7fffffff) % this.slots;
    return slot * ENTRY_SIZE;
  }

  /** An unused slot is all zeros (an all-zero MD5 with offset 0 is not a concern in practice, as in Kafka). */
  private isEmpty(pos: number): boolean {
    const b = this.bytes;
    return (
      b.readBigUInt64BE(pos) === 0n && b.readBigUInt64BE(pos + 8) === 0n && b.readBigUInt64BE(pos + 16) === 0n
    );
  }

  private writeOffset(pos: number, offset: number): void {
    this.bytes.writeBigInt64BE(BigInt(offset), pos + HASH_SIZE);
  }

  private readOffset(pos: number): number {
    return Number(this.bytes.readBigInt64BE(pos + HASH_SIZE));
  }
}

// crypto.hash (one call, no Hash object) where the runtime has it (Node >= 20.12).
const oneShot = (crypto as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer }).hash;

function md5(key: Uint8Array): Buffer {
  return oneShot ? oneShot('md5', key, 'buffer') : crypto.createHash('md5').update(key).digest();
}
