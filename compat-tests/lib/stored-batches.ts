/**
 * What the broker stored, read back for the librdkafka suites: the decoded batches of a
 * partition's `.log` files, and the check that librdkafka really used the codec asked for.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import {
  type CompressionType,
  type DecodedRecordBatch,
  decodeRecordBatches,
} from '../../src/protocol/records.js';

/** Batches stored for topic-partition under `dataDir`, oldest first, decoded with src/protocol/records.ts. */
export function storedBatches(dataDir: string, topic: string, partition = 0): DecodedRecordBatch[] {
  const dir = join(dataDir, `${topic}-${partition}`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort()
    .flatMap((f) => decodeRecordBatches(readFileSync(join(dir, f))));
}

/**
 * librdkafka compressed and the broker stored the codec as sent. librdkafka sends a batch uncompressed when
 * compressing made it bigger (tiny batches under load), so only small 'none' batches are tolerated; it also
 * silently stops compressing when the broker's ApiVersions fail its codec feature check.
 */
export function expectStoredCodec(batches: DecodedRecordBatch[], codec: CompressionType): void {
  const layout = batches.map((b) => `${b.baseOffset}+${b.recordsCount}:${b.compression}`).join(' ');
  if (codec !== 'none') {
    expect(
      batches.some((b) => b.compression === codec),
      `no stored batch uses ${codec}: ${layout}`,
    ).toBe(true);
  }
  for (const b of batches) {
    if (b.compression === codec) continue;
    expect(b.compression === 'none' && b.recordsCount <= 3, `unexpected stored batch in ${layout}`).toBe(
      true,
    );
  }
}
