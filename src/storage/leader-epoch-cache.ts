// Leader epoch -> start offset map persisted as `leader-epoch-checkpoint` (checkpoint format v0, "epoch offset").
// Mirrors Kafka's LeaderEpochFileCache + LeaderEpochCheckpointFile.
import path from 'node:path';
import { CheckpointFormatError, readCheckpoint, writeCheckpoint } from './checkpoint-file.js';

export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export class LeaderEpochCache {
  private entries: EpochEntry[] = [];
  /** Changed since the file was last written (a change made with persist=false). */
  private dirty = false;
  readonly file: string;

  constructor(dir: string) {
    this.file = path.join(dir, LEADER_EPOCH_CHECKPOINT_FILE);
    for (const line of readCheckpoint(this.file, 0) ?? []) {
      const m = /^(\d+) (\d+)$/.exec(line);
      if (!m) throw new CheckpointFormatError(`${this.file}: malformed line '${line}'`);
      this.entries.push({ epoch: Number(m[1]), startOffset: Number(m[2]) });
    }
  }

  epochEntries(): readonly EpochEntry[] {
    return this.entries;
  }

  latestEpoch(): number {
    return this.entries.at(-1)?.epoch ?? UNDEFINED_EPOCH;
  }

  /** Records that `epoch` starts at `startOffset` when epoch is newer than the latest; persists on change. */
  assign(epoch: number, startOffset: number, persist = true): boolean {
    if (epoch < 0 || epoch <= this.latestEpoch()) return false;
    // Entries that start at or after the new epoch's start are superseded by it.
    while (this.entries.length > 0 && this.entries.at(-1)!.startOffset >= startOffset) this.entries.pop();
    this.entries.push({ epoch, startOffset });
    this.persistOrMark(persist);
    return true;
  }

  /** OffsetForLeaderEpoch: (epoch, end offset) for the requested epoch, as LeaderEpochFileCache.endOffsetFor. */
  endOffsetFor(requestedEpoch: number, logEndOffset: number): { epoch: number; endOffset: number } {
    const undefinedResult = { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (requestedEpoch === UNDEFINED_EPOCH) return undefinedResult;
    if (this.entries.length > 0 && this.latestEpoch() === requestedEpoch) {
      return { epoch: requestedEpoch, endOffset: logEndOffset };
    }
    const higherIdx = this.entries.findIndex((e) => e.epoch > requestedEpoch);
    if (higherIdx < 0) return undefinedResult;
    const higher = this.entries[higherIdx]!;
    if (higherIdx === 0) return { epoch: requestedEpoch, endOffset: higher.startOffset };
    return { epoch: this.entries[higherIdx - 1]!.epoch, endOffset: higher.startOffset };
  }

  /** Removes entries starting at or after endOffset (log truncated to endOffset). */
  truncateFromEnd(endOffset: number, persist = true): void {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.startOffset < endOffset);
    if (this.entries.length !== before) this.persistOrMark(persist);
  }

  /** Log start moved to startOffset: drop older entries, keeping the latest one moved up to startOffset. */
  truncateFromStart(startOffset: number, persist = true): void {
    let idx = -1;
    for (let i = 0; i < this.entries.length && this.entries[i]!.startOffset <= startOffset; i++) idx = i;
    if (idx < 0 || (idx === 0 && this.entries[0]!.startOffset === startOffset)) return;
    const kept = { epoch: this.entries[idx]!.epoch, startOffset };
    this.entries = [kept, ...this.entries.slice(idx + 1)];
    this.persistOrMark(persist);
  }

  clear(persist = true): void {
    this.entries = [];
    this.persistOrMark(persist);
  }

  private persistOrMark(persist: boolean): void {
    if (persist) this.flush();
    else this.dirty = true;
  }

  /** Writes the file if a change was made without persisting it. */
  flushIfDirty(): void {
    if (this.dirty) this.flush();
  }

  flush(): void {
    writeCheckpoint(
      this.file,
      0,
      this.entries.map((e) => `${e.epoch} ${e.startOffset}`),
    );
    this.dirty = false;
  }
}
