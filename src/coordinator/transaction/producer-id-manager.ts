/**
 * Hands out producer ids, as Kafka's ProducerIdManager: ids come in blocks of 1000 whose end is made
 * durable before any id of the block is used (Kafka records the block in the metadata log as a
 * ProducerIdsRecord; a single kbroker keeps it in `<data dir>/kbroker-producer-ids.json`), so an id
 * is never given out twice, even across crashes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { replaceFileInBackground, writeFileAtomic } from '../../common/atomic-file.js';

export const PRODUCER_ID_BLOCK_SIZE = 1000;
/**
 * With this many ids of the current block left, the next block's end is made durable in the
 * background (Kafka's RPCProducerIdManager asks for its next block at 90 % of the current one):
 * its three fsyncs would otherwise stall the event loop — every connection — once a block.
 */
export const PRODUCER_ID_PREFETCH_REMAINING = PRODUCER_ID_BLOCK_SIZE / 10;
export const PRODUCER_IDS_FILE = 'kbroker-producer-ids.json';
export const STRIPED_PRODUCER_IDS_FILE = 'kbroker-producer-ids-striped.json';
/** Node ids a striped manager serves (and the stride of its blocks). */
const STRIPES = 65536;

export class ProducerIdManager {
  private next = 0;
  /** Ids below this are durably reserved (the file says so): they may be given out. */
  private blockEnd = 0;
  private readonly file: string;
  /** The background write of a further block end, while it runs. */
  private prefetch: Promise<void> | null = null;

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
    if (this.next >= this.blockEnd) this.reserve(this.next + PRODUCER_ID_BLOCK_SIZE);
    else if (this.blockEnd - this.next <= PRODUCER_ID_PREFETCH_REMAINING && this.prefetch === null) {
      this.prefetch = this.reserveInBackground(this.blockEnd + PRODUCER_ID_BLOCK_SIZE).finally(() => {
        this.prefetch = null;
      });
    }
    const own = this.next++;
    if (this.stripe < 0) return own;
    // `next` counts ids in this broker's own blocks; the id is where that lands in its stripe.
    const block = Math.floor(own / PRODUCER_ID_BLOCK_SIZE);
    return (block * STRIPES + this.stripe) * PRODUCER_ID_BLOCK_SIZE + (own % PRODUCER_ID_BLOCK_SIZE);
  }

  /** Settles once no background reservation is running (close waits for it before the files go). */
  async settled(): Promise<void> {
    await this.prefetch;
  }

  private content(end: number): string {
    return `${JSON.stringify({ version: 0, nextBlockStartId: end })}\n`;
  }

  /**
   * On the loop, when the block ran out before its prefetch ended (more than 100 ids within an
   * fsync's time) or at the first id: reserve up to `end` now. A prefetch still running finds
   * its end already covered and leaves the file alone (the file's end never goes back).
   */
  private reserve(end: number): void {
    writeFileAtomic(this.file, this.content(end));
    this.blockEnd = end;
  }

  /**
   * The tmp file is written and fsynced in libuv's pool; the rename, on the loop, is skipped when a
   * synchronous reservation has gone past `end` meanwhile; the ids become usable only once the
   * directory's fsync has made the rename durable. A failure is left for the synchronous path to
   * meet (and report) when the block runs out.
   */
  private async reserveInBackground(end: number): Promise<void> {
    const tmp = `${this.file}.next.tmp`;
    try {
      if (await replaceFileInBackground(this.file, tmp, this.content(end), () => end <= this.blockEnd)) {
        this.blockEnd = Math.max(this.blockEnd, end);
      }
    } catch {
      await fs.promises.rm(tmp, { force: true }).catch(() => {});
    }
  }
}
