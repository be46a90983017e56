import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmpDir } from '../storage/test-helpers.js';
import { MetadataImage } from './image.js';
import { METADATA_DIR, METADATA_LOG_FILE, METADATA_SNAPSHOT_FILE, MetadataLog } from './metadata-log.js';
import type { MetadataRecord } from './records.js';

const topic = (name: string, topicId: string): MetadataRecord[] => [
  { type: 'TopicRecord', name, topicId },
  {
    type: 'PartitionRecord',
    topicId,
    partitionId: 0,
    replicas: [1],
    isr: [1],
    leader: 1,
    leaderEpoch: 0,
    partitionEpoch: 0,
  },
];

/** Appends batches as the controller does: apply to the image, then write. */
function write(log: MetadataLog, image: MetadataImage, batches: MetadataRecord[][]): MetadataImage {
  let current = image;
  for (const records of batches) {
    const next = current.apply(records).image;
    log.append(current.offset, records, () => next);
    current = next;
  }
  return current;
}

function reload(dataDir: string, maxBytes = 1 << 20) {
  const { log, loaded } = MetadataLog.open(dataDir, maxBytes);
  const image = MetadataImage.EMPTY.apply(loaded.records, loaded.offset).image;
  return { log, loaded, image };
}

const logFile = (dataDir: string) => path.join(dataDir, METADATA_DIR, METADATA_LOG_FILE);

describe('MetadataLog', () => {
  it('a new log starts with a snapshot of what it is given; appends survive a reopen', () => {
    const dir = tmpDir();
    const { log, loaded } = MetadataLog.open(dir, 1 << 20, topic('migrated', 'M'));
    expect(MetadataLog.exists(dir)).toBe(true);
    expect(loaded.offset).toBe(2);
    const image = write(log, MetadataImage.EMPTY.apply(loaded.records, loaded.offset).image, [
      topic('a', 'A'),
      [{ type: 'RemoveTopicRecord', topicId: 'M' }],
    ]);
    log.close();
    const again = reload(dir);
    expect(again.loaded.truncatedBytes).toBe(0);
    expect(again.image.offset).toBe(image.offset);
    expect(again.image.topics().map((t) => t.name)).toEqual(['a']);
    again.log.close();
  });

  it('a torn or corrupt tail loads as the valid prefix and is cut off before the next append', () => {
    const dir = tmpDir();
    const { log } = MetadataLog.open(dir, 1 << 20);
    write(log, MetadataImage.EMPTY, [topic('a', 'A'), topic('b', 'B')]);
    log.close();
    const full = fs.readFileSync(logFile(dir));
    const firstEnd = full.indexOf(0x0a) + 1;
    // Every cut inside the second batch (kill -9 mid-write) loads as the first batch alone.
    for (const cut of [firstEnd + 1, firstEnd + 9, full.length - 1]) {
      fs.writeFileSync(logFile(dir), full.subarray(0, cut));
      const r = reload(dir);
      expect(r.image.topics().map((t) => t.name)).toEqual(['a']);
      expect(r.loaded.truncatedBytes).toBe(cut - firstEnd);
      expect(fs.statSync(logFile(dir)).size).toBe(firstEnd);
      r.log.close();
    }
    // A flipped byte fails the CRC: the same.
    const flipped = Buffer.from(full);
    flipped[full.length - 5] ^= 0x01;
    fs.writeFileSync(logFile(dir), flipped);
    const r = reload(dir);
    expect(r.image.topics().map((t) => t.name)).toEqual(['a']);
    // Appending after the cut continues the offsets.
    write(r.log, r.image, [topic('c', 'C')]);
    r.log.close();
    expect(
      reload(dir)
        .image.topics()
        .map((t) => t.name),
    ).toEqual(['a', 'c']);
  });

  it('snapshots once the log passes the interval, so it does not grow without bound', () => {
    const dir = tmpDir();
    const { log } = MetadataLog.open(dir, 2000);
    let image = MetadataImage.EMPTY;
    let largest = 0;
    for (let i = 0; i < 100; i++) {
      image = write(log, image, [topic(`t${i}`, `T${i}`)]);
      largest = Math.max(largest, fs.statSync(logFile(dir)).size);
    }
    log.close();
    expect(largest).toBeLessThan(2000 + 300);
    const snapshot = JSON.parse(
      fs.readFileSync(path.join(dir, METADATA_DIR, METADATA_SNAPSHOT_FILE), 'utf8'),
    );
    expect(snapshot.offset).toBeGreaterThan(0);
    const again = reload(dir);
    expect(again.image.offset).toBe(200);
    expect(again.image.topics()).toHaveLength(100);
    again.log.close();
  });

  it('a crash between the snapshot and emptying the log: batches the snapshot covers are skipped', () => {
    const dir = tmpDir();
    const { log } = MetadataLog.open(dir, 1 << 20);
    const image = write(log, MetadataImage.EMPTY, [topic('a', 'A'), topic('b', 'B')]);
    log.close();
    const before = fs.readFileSync(logFile(dir));
    const { log: again } = MetadataLog.open(dir, 1 << 20);
    again.snapshot(image);
    again.close();
    fs.writeFileSync(logFile(dir), before); // as if the log had not been emptied yet
    const r = reload(dir);
    expect(r.image.offset).toBe(4);
    expect(r.image.topics().map((t) => t.name)).toEqual(['a', 'b']);
    write(r.log, r.image, [topic('c', 'C')]);
    r.log.close();
    expect(
      reload(dir)
        .image.topics()
        .map((t) => t.name),
    ).toEqual(['a', 'b', 'c']);
  });
});
