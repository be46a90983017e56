/**
 * Hands out producer ids, as Kafka's ProducerIdManager: ids come in blocks of 1000 whose end is made
 * durable before any id of the block is used (Kafka records the block in the metadata log as a
 * ProducerIdsRecord; a single kbroker keeps it in `<data dir>/kbroker-producer-ids.json`), so an id
 * is never given out twice, even across crashes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../common/atomic-file.js';

export const PRODUCER_ID_BLOCK_SIZE = 1000;
export const PRODUCER_IDS_FILE = 'kbroker-producer-ids.json';

export class ProducerIdManager {
  private next = 0;
  private blockEnd = 0;
  private readonly file: string;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, PRODUCER_IDS_FILE);
    if (fs.existsSync(this.file)) {
      const parsed = JSON.parse(fs.readFileSync(this.file, 'utf8')) as { nextBlockStartId?: unknown };
      const n = Number(parsed.nextBlockStartId);
      if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${this.file}: invalid nextBlockStartId`);
      this.next = n;
      this.blockEnd = n;
    }
  }

  generateProducerId(): number {
    if (this.next >= this.blockEnd) {
      const end = this.next + PRODUCER_ID_BLOCK_SIZE;
      writeFileAtomic(this.file, `${JSON.stringify({ version: 0, nextBlockStartId: end })}\n`);
      this.blockEnd = end;
    }
    return this.next++;
  }
}
