import { describe, expect, it } from 'vitest';
import { heartbeatHandler } from '../handlers/heartbeat.js';
import { call, callHandler, fakeContext, fakeLog, fakePartition, fakeTopic, stub } from './fake-services.js';

describe('fakeContext', () => {
  it('a service the test did not provide throws when the handler touches it', () => {
    const ctx = fakeContext({ apiVersion: 3 });
    expect(ctx.apiVersion).toBe(3);
    expect(() => ctx.groups).toThrow('ctx.groups not provided in this test');
  });

  it('a member the partial fake lacks throws with its name', () => {
    const ctx = fakeContext({ groups: { heartbeat: () => 'NONE' } });
    expect(ctx.groups.heartbeat('g', 'm', null, 1)).toBe('NONE');
    expect(() => ctx.groups.listGroups()).toThrow('groups.listGroups not provided in this test');
  });

  it('stub lets probes of promises and matchers through', async () => {
    const s = stub<{ f(): number }>('thing', {});
    expect(await Promise.resolve(s)).toBe(s);
  });
});

describe('callHandler', () => {
  const request = { groupId: 'g', generationId: 1, memberId: 'm', groupInstanceId: 'i' };

  it('refuses a version the handler does not advertise, as the connection does', async () => {
    await expect(callHandler(heartbeatHandler, fakeContext({ apiVersion: 5 }), request)).rejects.toThrow(
      'Heartbeat does not advertise v5',
    );
  });

  it('round-trips through the codec: fields absent at the version arrive as their defaults', async () => {
    const seen: (string | null)[] = [];
    const ctx = fakeContext({
      apiVersion: 2,
      groups: {
        heartbeat: (_g, _m, instance) => {
          seen.push(instance);
          return 'NONE';
        },
      },
    });
    const wire = await call(heartbeatHandler, ctx, request);
    expect(wire).toEqual({ throttleTimeMs: 0, errorCode: 0 });
    expect(seen).toEqual([null]);
  });
});

describe('fake topics', () => {
  it('a real Partition over a fake log: offsets as given, anything else throws', () => {
    const p = fakePartition('t', 2, {
      leaderEpoch: 7,
      log: fakeLog({ logStartOffset: 5, logEndOffset: 50, highWatermark: 40 }),
    });
    expect([p.partition, p.leaderEpoch, p.logStartOffset, p.highWatermark, p.logEndOffset]).toEqual([
      2, 7, 5, 40, 50,
    ]);
    expect(() => p.log.read(0, 1, true, 1)).toThrow('log.read not provided in this test');
  });

  it('topic ids are distinct and not the zero uuid', () => {
    const [a, b] = [fakeTopic('a'), fakeTopic('b')];
    expect(a.topicId).not.toBe(b.topicId);
    expect(Buffer.from(a.topicId, 'base64url')).toHaveLength(16);
  });
});
