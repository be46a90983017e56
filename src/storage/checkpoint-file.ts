// Kafka's text checkpoint files: "<version>\n<count>\n<entry>\n...", written via .tmp + fsync + rename.
// Mirrors org.apache.kafka.server.common.CheckpointFile and OffsetCheckpointFile (entries "topic partition offset").
import fs from 'node:fs';
import { writeFileAtomic } from '../common/atomic-file.js';

export class CheckpointFormatError extends Error {
  override name = 'CheckpointFormatError';
}

/** The text of a checkpoint file. */
export function checkpointText(version: number, lines: readonly string[]): string {
  return `${version}\n${lines.length}\n${lines.map((l) => `${l}\n`).join('')}`;
}

export function writeCheckpoint(file: string, version: number, lines: readonly string[]): void {
  writeFileAtomic(file, checkpointText(version, lines));
}

/** Entry lines of a checkpoint file, or null when the file does not exist. Throws on a malformed file. */
export function readCheckpoint(file: string, expectedVersion = 0): string[] | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length < 2) throw new CheckpointFormatError(`${file}: missing version or count`);
  if (lines[0] !== String(expectedVersion)) {
    throw new CheckpointFormatError(`${file}: unrecognized version ${lines[0]}`);
  }
  if (!/^\d+$/.test(lines[1]!)) throw new CheckpointFormatError(`${file}: bad entry count ${lines[1]}`);
  const count = Number(lines[1]);
  const entries = lines.slice(2);
  if (entries.length !== count) {
    throw new CheckpointFormatError(`${file}: expected ${count} entries, found ${entries.length}`);
  }
  return entries;
}

export interface OffsetCheckpointEntry {
  topic: string;
  partition: number;
  offset: number;
}

/** The text of an offset checkpoint file (version 0, "topic partition offset" lines). */
export function offsetCheckpointText(entries: readonly OffsetCheckpointEntry[]): string {
  return checkpointText(
    0,
    entries.map((e) => `${e.topic} ${e.partition} ${e.offset}`),
  );
}

export function writeOffsetCheckpoint(file: string, entries: readonly OffsetCheckpointEntry[]): void {
  writeFileAtomic(file, offsetCheckpointText(entries));
}

/** Map keyed "<topic>-<partition>"; empty when the file is missing. */
export function readOffsetCheckpoint(file: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of readCheckpoint(file, 0) ?? []) {
    const parts = line.split(' ');
    if (parts.length !== 3 || !/^\d+$/.test(parts[1]!) || !/^-?\d+$/.test(parts[2]!)) {
      throw new CheckpointFormatError(`${file}: malformed line '${line}'`);
    }
    out.set(`${parts[0]}-${parts[1]}`, Number(parts[2]));
  }
  return out;
}
