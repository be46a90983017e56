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
export const STRIPED_PRODUCER_IDS_FILE = 'kbroker-producer-ids-striped.json';
/** Node ids a striped manager serves (and the stride of its blocks). */
const STRIPES = 65536;

export class ProducerIdManager {
  private next = 0;
  private blockEnd = 0;
  private readonly file: string;

  constructor(dataDir: string, fileName = PRODUCER_IDS_FILE) {
    this.file = path.join(dataDir, fileName);
    if (fs.existsSync(this.file)) {
      const parsed = JSON.parse(fs.readFileSync(this.file, 'utf8')) as { nextBlockStartId?: unknown };
      const n = Number(parsed.nextBlockStartId);
      if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${this.file}: invalid nextBlockStartId`);
      this.next = n;
      this.blockEnd = n;
    }
  }

  /**
   * Blocks of this broker in a cluster whose brokers each hand out ids without asking one another
   * (separate processes over etcd): block k of broker n is block k * 65536 + n of the id space, so
   * node ids (below 65536) never share a block. Its own file, so a broker that ran alone before
   * does not reuse the ids it gave then.
   */
  static striped(dataDir: string, nodeId: number): ProducerIdManager {
    if (!Number.isInteger(nodeId) || nodeId < 0 || nodeId >= STRIPES) {
      throw new RangeError(
        `node.id must be from 0 to ${STRIPES - 1} in a multi-process cluster, got ${nodeId}`,
      );
    }
    const m = new ProducerIdManager(dataDir, STRIPED_PRODUCER_IDS_FILE);
    m.stripe = nodeId;
    return m;
  }

  /** This broker's stripe of the id space (striped), or -1: every block is its own. */
  private stripe = -1;

  generateProducerId(): number {
    if (this.stripe >= 0) {
      // `next` counts ids in this broker's own blocks; the id is where that lands in its stripe.
      if (this.next >= this.blockEnd) {
        const end = this.next + PRODUCER_ID_BLOCK_SIZE;
        writeFileAtomic(this.file, `${JSON.stringify({ version: 0, nextBlockStartId: end })}\n`);
        this.blockEnd = end;
      }
      const own = this.next++;
      const block = Math.floor(own / PRODUCER_ID_BLOCK_SIZE);
      return (block * STRIPES + this.stripe) * PRODUCER_ID_BLOCK_SIZE + (own % PRODUCER_ID_BLOCK_SIZE);
    }
    if (this.next >= this.blockEnd) {
      const end = this.next + PRODUCER_ID_BLOCK_SIZE;
      writeFileAtomic(this.file, `${JSON.stringify({ version: 0, nextBlockStartId: end })}\n`);
      this.blockEnd = end;
    }
    return this.next++;
  }
}
