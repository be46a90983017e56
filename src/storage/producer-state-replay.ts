// Producer state rebuilt from stored batches: what loading (LogLoader) and truncation (Log) share, as
// Kafka's UnifiedLog.rebuildProducerState and the loadProducersFromRecords step of its loader.
import { type BatchInfo, CONTROL_FLAG_MASK, TRANSACTIONAL_FLAG_MASK } from '../protocol/record-batch.js';
import { decodeRecordBatch } from '../protocol/records.js';
import type { LogSegments } from './log-segments.js';
import type { CompletedTxn, ProducerBatch, ProducerStateManager } from './producer-state-manager.js';
import type { LogSegment } from './segment.js';

type Marker = ProducerBatch['marker'];

/** The COMMIT/ABORT marker of a control batch (whole batch bytes), or null for other control records. */
export function readEndTxnMarker(batch: Buffer): Marker {
  const control = decodeRecordBatch(batch, 0, { verifyCrc: false }).controlRecord;
  if (!control || (control.typeName !== 'COMMIT' && control.typeName !== 'ABORT')) return null;
  return { type: control.typeName, coordinatorEpoch: control.coordinatorEpoch ?? -1 };
}

/**
 * Producer state as of `targetOffset`: the newest snapshot at or below it, then the batches from there on
 * (Kafka's rebuildProducerState). Transaction indexes are not touched.
 */
export function rebuildProducerState(
  psm: ProducerStateManager,
  segments: LogSegments,
  targetOffset: number,
  now: number,
): void {
  const from = psm.loadLatestSnapshot(targetOffset, now);
  for (const seg of segments.values(from, targetOffset)) {
    let done = false;
    seg.scanBatchesFrom(Math.max(from, seg.baseOffset), (b) => {
      if (b.lastOffset < from) return true;
      if (b.baseOffset >= targetOffset) {
        done = true;
        return false;
      }
      replayBatch(psm, seg, b, false);
      return true;
    });
    if (done) break;
  }
  psm.mapEndOffset = targetOffset;
}

/**
 * Applies one stored batch of `seg` to the producer state; with `indexTxns`, aborted transactions go to
 * the segment's `.txnindex`.
 */
export function replayBatch(
  psm: ProducerStateManager,
  seg: LogSegment,
  b: BatchInfo,
  indexTxns: boolean,
): void {
  psm.mapEndOffset = b.lastOffset + 1;
  if (b.producerId < 0) return;
  let marker: Marker = null;
  if ((b.attributes & CONTROL_FLAG_MASK) !== 0) {
    marker = readEndTxnMarker(seg.readBatchAt(b.position, b.size));
    if (marker === null) return;
  }
  const completed = psm.update({
    producerId: b.producerId,
    producerEpoch: b.producerEpoch,
    baseSequence: b.baseSequence,
    baseOffset: b.baseOffset,
    lastOffset: b.lastOffset,
    maxTimestamp: b.maxTimestamp,
    isTransactional: (b.attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
    marker,
  });
  if (completed) completeTxn(psm, seg, completed, indexTxns);
}

/** Ends a transaction in the producer state; with `indexTxns`, an aborted one goes to `seg`'s `.txnindex`. */
export function completeTxn(
  psm: ProducerStateManager,
  seg: LogSegment,
  completed: CompletedTxn,
  indexTxns: boolean,
): void {
  const lastStableOffset = psm.lastStableOffset(completed);
  if (indexTxns && completed.isAborted) {
    seg.txnIndex.append({
      producerId: completed.producerId,
      firstOffset: completed.firstOffset,
      lastOffset: completed.lastOffset,
      lastStableOffset,
    });
  }
  psm.completeTxn(completed);
}
