// `partition.metadata` ("version: 0\ntopic_id: <uuid>", no trailing newline) and topic id generation.
// Mirrors Kafka's PartitionMetadataFile and org.apache.kafka.common.Uuid (22-char base64url, never all-zero,
// never starting with '-').
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../common/atomic-file.js';

export const PARTITION_METADATA_FILE = 'partition.metadata';
const UUID_RE = /^[A-Za-z0-9_-]{22}$/;

export function newTopicId(): string {
  for (;;) {
    const bytes = randomBytes(16);
    if (bytes.every((b) => b === 0)) continue;
    const id = bytes.toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** A 22-char base64url id of 16 bytes that is not all zero. */
export function isValidTopicId(id: string): boolean {
  if (!UUID_RE.test(id)) return false;
  const bytes = Buffer.from(id, 'base64url');
  return bytes.length === 16 && bytes.some((b) => b !== 0) && bytes.toString('base64url') === id;
}

export function writePartitionMetadata(dir: string, topicId: string): void {
  if (!isValidTopicId(topicId)) throw new Error(`invalid topic id ${topicId}`);
  writeFileAtomic(path.join(dir, PARTITION_METADATA_FILE), `version: 0\ntopic_id: ${topicId}`);
}

/** The topic id stored in dir, or null when there is no file. Throws on a malformed file. */
export function readPartitionMetadata(dir: string): string | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, PARTITION_METADATA_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const m = /^version: 0\ntopic_id: (\S+)\n?$/.exec(text);
  if (!m || !isValidTopicId(m[1]!)) throw new Error(`malformed ${PARTITION_METADATA_FILE} in ${dir}`);
  return m[1]!;
}
