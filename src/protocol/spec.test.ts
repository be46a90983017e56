import { describe, expect, test } from 'vitest';
import { codecFor, Reader, Writer } from './codec.js';
import { HeartbeatRequest } from './generated/messages.js';
import { type FieldSpec, messageSpec } from './spec.js';

describe('messageSpec', () => {
  test('builds the field tree on the first read of .fields, once', () => {
    let builds = 0;
    const spec = messageSpec(
      { name: 'T', type: 'request', validVersions: [0, 1], flexibleVersions: null },
      () => {
        builds++;
        return [{ name: 'a', type: 'int32', versions: [0, 1] }] satisfies FieldSpec[];
      },
    );
    expect(spec.name).toBe('T');
    expect(spec.validVersions).toEqual([0, 1]);
    expect(builds).toBe(0);
    const first = spec.fields;
    expect(spec.fields).toBe(first);
    expect(builds).toBe(1);
    expect({ ...spec }).toEqual({
      name: 'T',
      type: 'request',
      validVersions: [0, 1],
      flexibleVersions: null,
      fields: [{ name: 'a', type: 'int32', versions: [0, 1] }],
    });
  });

  test('a generated descriptor encodes as before (Heartbeat v4, flexible)', () => {
    const w = new Writer();
    codecFor(HeartbeatRequest, 4).write(w, {
      groupId: 'g',
      generationId: 7,
      memberId: 'm',
      groupInstanceId: null,
    });
    const bytes = w.toBuffer();
    // compact string "g", int32 7, compact string "m", null compact string, no tagged fields
    expect(bytes.toString('hex')).toBe('026700000007026d0000');
    expect(codecFor(HeartbeatRequest, 4).read(new Reader(bytes))).toMatchObject({
      groupId: 'g',
      generationId: 7,
      memberId: 'm',
      groupInstanceId: null,
    });
  });
});
