import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  isValidTopicId,
  newTopicId,
  readPartitionMetadata,
  writePartitionMetadata,
} from './partition-metadata.js';
import { tmpDir } from './test-helpers.js';

describe('partition.metadata', () => {
  it('writes exactly Kafka text without trailing newline', () => {
    const dir = tmpDir();
    const id = newTopicId();
    writePartitionMetadata(dir, id);
    expect(fs.readFileSync(path.join(dir, 'partition.metadata'), 'utf8')).toBe(`version: 0\ntopic_id: ${id}`);
    expect(readPartitionMetadata(dir)).toBe(id);
    expect(readPartitionMetadata(tmpDir())).toBeNull();
  });

  it('generates 22-char base64url ids, never all-zero or starting with -', () => {
    for (let i = 0; i < 500; i++) {
      const id = newTopicId();
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(id.startsWith('-')).toBe(false);
      expect(isValidTopicId(id)).toBe(true);
    }
    expect(isValidTopicId('AAAAAAAAAAAAAAAAAAAAAA')).toBe(false);
    expect(isValidTopicId('short')).toBe(false);
  });

  it('rejects a malformed file', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'partition.metadata'), 'version: 1\ntopic_id: x');
    expect(() => readPartitionMetadata(dir)).toThrow();
  });
});
