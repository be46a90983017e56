// The segments of one partition log ordered by base offset (Kafka's LogSegments): lookups by offset and
// by timestamp, add/remove, and the atomic replace of some segments by others that a cleaner's swap needs.
// Only the in-memory collection: opening, flushing and deleting segment files is LocalLog's and LogLoader's.
import type { LogSegment } from './segment.js';

export class LogSegments implements Iterable<LogSegment> {
  /** Sorted by baseOffset, no two with the same one. Replaced as a whole by `replace`. */
  #segments: LogSegment[] = [];

  get isEmpty(): boolean {
    return this.#segments.length === 0;
  }

  get numberOfSegments(): number {
    return this.#segments.length;
  }

  [Symbol.iterator](): Iterator<LogSegment> {
    return this.#segments[Symbol.iterator]();
  }

  /**
   * The segments that may hold offsets in [from, to) (Kafka's values(from, to)): from the one holding
   * `from` (the first when `from` is below every base offset) to the last with baseOffset < to. Without
   * arguments, every segment. A copy: changing the list does not change it.
   */
  values(from?: number, to = Number.POSITIVE_INFINITY): LogSegment[] {
    if (from === undefined) return this.#segments.filter((s) => s.baseOffset < to);
    if (from === to) return [];
    const out: LogSegment[] = [];
    for (let i = Math.max(0, this.floorIndex(from)); i < this.#segments.length; i++) {
      const seg = this.#segments[i]!;
      if (seg.baseOffset >= to) break;
      out.push(seg);
    }
    return out;
  }

  baseOffsets(): number[] {
    return this.#segments.map((s) => s.baseOffset);
  }

  /** Total `.log` bytes. */
  sizeInBytes(): number {
    let s = 0;
    for (const seg of this.#segments) s += seg.size;
    return s;
  }

  firstSegment(): LogSegment | undefined {
    return this.#segments[0];
  }

  lastSegment(): LogSegment | undefined {
    return this.#segments.at(-1);
  }

  /** The last segment, the one appends go to; a loaded log always has one. */
  get activeSegment(): LogSegment {
    const last = this.#segments.at(-1);
    if (last === undefined) throw new Error('no active segment: the log has no segments');
    return last;
  }

  contains(baseOffset: number): boolean {
    return this.get(baseOffset) !== undefined;
  }

  get(baseOffset: number): LogSegment | undefined {
    const i = this.floorIndex(baseOffset);
    const seg = this.#segments[i];
    return seg !== undefined && seg.baseOffset === baseOffset ? seg : undefined;
  }

  /** The segment with the greatest baseOffset <= offset: the one that would hold offset. */
  floorSegment(offset: number): LogSegment | undefined {
    return this.#segments[this.floorIndex(offset)];
  }

  /** The segment with the greatest baseOffset < offset. */
  lowerSegment(offset: number): LogSegment | undefined {
    return this.#segments[this.floorIndex(offset - 1)];
  }

  /** The segment with the least baseOffset > offset. */
  higherSegment(offset: number): LogSegment | undefined {
    return this.#segments[this.floorIndex(offset) + 1];
  }

  /** Every segment with baseOffset > offset. */
  higherSegments(offset: number): LogSegment[] {
    return this.#segments.slice(this.floorIndex(offset) + 1);
  }

  /**
   * Segments that may hold a batch at or after `fromOffset` whose maxTimestamp >= timestamp (their
   * running max timestamp reaches it), in offset order: where a lookup by timestamp searches.
   */
  candidatesForTimestamp(timestamp: number, fromOffset: number): LogSegment[] {
    return this.values(fromOffset).filter((s) => s.maxTimestampAndOffsetSoFar().timestamp >= timestamp);
  }

  /** Adds a segment in base-offset order; one already at that base offset is replaced and returned. */
  add(segment: LogSegment): LogSegment | undefined {
    const segs = this.#segments;
    const last = segs.at(-1);
    if (last === undefined || last.baseOffset < segment.baseOffset) {
      segs.push(segment);
      return undefined;
    }
    const i = this.floorIndex(segment.baseOffset);
    const existing = segs[i];
    if (existing !== undefined && existing.baseOffset === segment.baseOffset) {
      segs[i] = segment;
      return existing;
    }
    segs.splice(i + 1, 0, segment);
    return undefined;
  }

  /** Removes and returns the segment at baseOffset. */
  remove(baseOffset: number): LogSegment | undefined {
    const i = this.floorIndex(baseOffset);
    const seg = this.#segments[i];
    if (seg === undefined || seg.baseOffset !== baseOffset) return undefined;
    this.#segments.splice(i, 1);
    return seg;
  }

  /** Removes and returns every segment. */
  clear(): LogSegment[] {
    const all = this.#segments;
    this.#segments = [];
    return all;
  }

  /**
   * Replaces `oldSegments` by `newSegments` in one step (Kafka's replaceSegments, what a cleaner's swap
   * does: typically several old segments by one holding what survived of them, at the first one's base
   * offset). Readers see the list before or after, never in between. Nothing changes when it throws: every
   * old segment must be in the list, and a new one may only take the base offset of an old one or a free
   * one. Returns the old segments that left the list, for the caller to close and delete; files are not
   * touched here (an old segment whose base offset a new one took shares its file names, so the caller
   * closes it rather than deleting them).
   */
  replace(newSegments: readonly LogSegment[], oldSegments: readonly LogSegment[]): LogSegment[] {
    const oldSet = new Set(oldSegments);
    for (const old of oldSet) {
      if (this.get(old.baseOffset) !== old)
        throw new Error(`cannot replace segment ${old.baseOffset}: it is not in the log`);
    }
    const newBases = new Set<number>();
    for (const seg of newSegments) {
      if (newBases.has(seg.baseOffset))
        throw new Error(`cannot replace with two segments at base offset ${seg.baseOffset}`);
      newBases.add(seg.baseOffset);
      const existing = this.get(seg.baseOffset);
      if (existing !== undefined && !oldSet.has(existing))
        throw new Error(`cannot replace: segment ${seg.baseOffset} is in the log and not being replaced`);
    }
    const kept = this.#segments.filter((s) => !oldSet.has(s));
    this.#segments = [...kept, ...newSegments].sort((a, b) => a.baseOffset - b.baseOffset);
    const stays = new Set(newSegments);
    return [...oldSet].filter((s) => !stays.has(s));
  }

  /** Index of the segment with the greatest baseOffset <= offset, or -1 when offset is below them all. */
  private floorIndex(offset: number): number {
    const segs = this.#segments;
    let lo = 0;
    let hi = segs.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (segs[mid]!.baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }
}
