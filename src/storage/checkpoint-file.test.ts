import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CheckpointFormatError,
  readCheckpoint,
  readOffsetCheckpoint,
  writeCheckpoint,
  writeOffsetCheckpoint,
} from './checkpoint-file.js';
import { tmpDir } from './test-helpers.js';

describe('checkpoint files', () => {
  it('writes Kafka offset checkpoint text and reads it back', () => {
    const f = path.join(tmpDir(), 'recovery-point-offset-checkpoint');
    writeOffsetCheckpoint(f, [
      { topic: 'a', partition: 0, offset: 5 },
      { topic: 'my-topic', partition: 12, offset: 2 ** 40 },
    ]);
    expect(fs.readFileSync(f, 'utf8')).toBe(`0\n2\na 0 5\nmy-topic 12 ${2 ** 40}\n`);
    expect(readOffsetCheckpoint(f)).toEqual(
      new Map([
        ['a-0', 5],
        ['my-topic-12', 2 ** 40],
      ]),
    );
    expect(fs.existsSync(`${f}.tmp`)).toBe(false);
  });

  it('returns null / empty for a missing file and rejects malformed ones', () => {
    const dir = tmpDir();
    expect(readCheckpoint(path.join(dir, 'nope'))).toBeNull();
    expect(readOffsetCheckpoint(path.join(dir, 'nope')).size).toBe(0);
    const f = path.join(dir, 'cp');
    fs.writeFileSync(f, '1\n0\n');
    expect(() => readCheckpoint(f)).toThrow(CheckpointFormatError);
    fs.writeFileSync(f, '0\n2\na 0 1\n');
    expect(() => readCheckpoint(f)).toThrow(CheckpointFormatError);
    fs.writeFileSync(f, '0\n1\na zero 1\n');
    expect(() => readOffsetCheckpoint(f)).toThrow(CheckpointFormatError);
    writeCheckpoint(f, 0, []);
    expect(readCheckpoint(f)).toEqual([]);
  });
});
