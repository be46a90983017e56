/**
 * The share coordinator on an in-memory `__share_group_state`: Kafka's ShareSnapshot then
 * ShareUpdate records, folded on replay (a reload gives the same state), a new snapshot after
 * UPDATES_PER_SNAPSHOT updates, AlterShareGroupOffsets as a new snapshot, deletes as tombstones,
 * and Kafka's key-to-partition hash.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.js';
import { MockTime } from '../../common/time.js';
import { MemoryCoordinatorLog } from '../runtime/memory-coordinator-log.js';
import { ShareCoordinator, UPDATES_PER_SNAPSHOT } from './share-coordinator.js';
import { LocalSharePersister } from './share-persister.js';

function setup(log = new MemoryCoordinatorLog(3, '__share_group_state')) {
  const sc = new ShareCoordinator(
    Object.assign(log, { partitionLedHere: () => true }),
    new MockTime(),
    createLogger('silent'),
    5000,
  );
  return { log, sc, ps: new LocalSharePersister(sc) };
}

/** A topic id as the wire has it (16 bytes, base64url). */
const T = Buffer.alloc(16, 7).toString('base64url');

const types = (log: MemoryCoordinatorLog) =>
  log.all().map((r) => [r.key.readInt16BE(0), r.value === null ? 'tombstone' : 'value']);

describe('ShareCoordinator', () => {
  it('writes a snapshot first, then updates; reads fold them; a reload gives the same state', async () => {
    const { log, ps } = setup();
    expect(await ps.read('g', T, 0)).toBeUndefined();
    await ps.write('g', T, 0, 0, 0, []);
    await ps.write('g', T, 0, 0, 0, [{ firstOffset: 0, lastOffset: 9, deliveryState: 0, deliveryCount: 1 }]);
    await ps.write('g', T, 0, 0, 3, [
      { firstOffset: 3, lastOffset: 4, deliveryState: 2, deliveryCount: 1 },
      { firstOffset: 7, lastOffset: 7, deliveryState: 4, deliveryCount: 2 },
    ]);
    expect(types(log)).toEqual([
      [0, 'value'],
      [1, 'value'],
      [1, 'value'],
    ]);
    const state = await ps.read('g', T, 0);
    expect(state).toEqual({
      startOffset: 3,
      stateEpoch: 0,
      leaderEpoch: 0,
      stateBatches: [
        { firstOffset: 3, lastOffset: 4, deliveryState: 2, deliveryCount: 1 },
        { firstOffset: 5, lastOffset: 6, deliveryState: 0, deliveryCount: 1 },
        { firstOffset: 7, lastOffset: 7, deliveryState: 4, deliveryCount: 2 },
        { firstOffset: 8, lastOffset: 9, deliveryState: 0, deliveryCount: 1 },
      ],
    });
    ps.close();
    const reloaded = setup(log).ps;
    expect(await reloaded.read('g', T, 0)).toEqual(state);
  });

  it('a snapshot again after UPDATES_PER_SNAPSHOT updates', async () => {
    const { log, ps } = setup();
    await ps.write('g', T, 1, 0, 0, []);
    for (let i = 0; i < UPDATES_PER_SNAPSHOT; i++)
      await ps.write('g', T, 1, 0, i, [
        { firstOffset: i, lastOffset: i, deliveryState: 0, deliveryCount: 1 },
      ]);
    await ps.write('g', T, 1, 0, UPDATES_PER_SNAPSHOT, []);
    const kinds = types(log).map(([t]) => t);
    expect(kinds.filter((t) => t === 0)).toHaveLength(2);
    expect(kinds.at(-1)).toBe(0);
    expect(await ps.read('g', T, 1)).toMatchObject({ startOffset: UPDATES_PER_SNAPSHOT });
  });

  it('alter restarts the state at an offset (state epoch bumped); delete writes tombstones', async () => {
    const { log, ps } = setup();
    await ps.write('g', T, 2, 0, 5, [{ firstOffset: 5, lastOffset: 6, deliveryState: 0, deliveryCount: 1 }]);
    await ps.alter('g', T, 2, 0);
    expect(await ps.read('g', T, 2)).toEqual({
      startOffset: 0,
      stateEpoch: 1,
      leaderEpoch: 0,
      stateBatches: [],
    });
    await ps.delete('g', T, 2);
    expect(await ps.read('g', T, 2)).toBeUndefined();
    expect(types(log).slice(-2)).toEqual([
      [1, 'tombstone'],
      [0, 'tombstone'],
    ]);
    ps.close();
    expect(await setup(log).ps.read('g', T, 2)).toBeUndefined();
  });

  it('places a key as Kafka: abs(hashCode("group:topicId:partition")) % partitions', () => {
    const { sc } = setup(new MemoryCoordinatorLog(50, '__share_group_state'));
    // Java's "a:b:0".hashCode() is 91405439; 91405439 % 50 = 39.
    expect(sc.partitionFor('a', 'b', 0)).toBe(39);
  });

  it('ReadShareGroupState stores a newer leader epoch; older leaders are fenced, also after a reload', async () => {
    const { log, sc, ps } = setup();
    expect(await sc.readState('g', T, 0, 3)).toEqual({
      stateEpoch: 0,
      leaderEpoch: -1,
      startOffset: -1,
      stateBatches: [],
    });
    await ps.write(
      'g',
      T,
      0,
      3,
      0,
      [{ firstOffset: 0, lastOffset: 1, deliveryState: 2, deliveryCount: 1 }],
      0,
    );
    // A new leader (epoch 4) reads: its epoch is stored (one ShareUpdate).
    const before = log.all().length;
    expect(await sc.readState('g', T, 0, 4)).toMatchObject({ leaderEpoch: 4, startOffset: 0 });
    expect(log.all().length).toBe(before + 1);
    // Reading again at the same epoch writes nothing.
    await sc.readState('g', T, 0, 4);
    expect(log.all().length).toBe(before + 1);
    // The deposed leader (epoch 3) can neither write nor read.
    await expect(sc.writeState('g', T, 0, 0, 3, 0, [])).rejects.toMatchObject({
      error: 'FENCED_LEADER_EPOCH',
    });
    await expect(sc.readState('g', T, 0, 3)).rejects.toMatchObject({ error: 'FENCED_LEADER_EPOCH' });
    expect(() => sc.readStateSummary('g', T, 0, 3)).toThrow(
      expect.objectContaining({ error: 'FENCED_LEADER_EPOCH' }),
    );
    sc.close();
    const reloaded = setup(log).sc;
    await expect(reloaded.writeState('g', T, 0, 0, 3, 0, [])).rejects.toMatchObject({
      error: 'FENCED_LEADER_EPOCH',
    });
    await reloaded.writeState('g', T, 0, 0, 4, 2, []);
    expect(reloaded.readStateSummary('g', T, 0, -1)).toEqual({
      stateEpoch: 0,
      leaderEpoch: 4,
      startOffset: 2,
      deliveryCompleteCount: 0,
    });
  });

  it('InitializeShareGroupState bumps the state epoch; writes at an older one are FENCED_STATE_EPOCH', async () => {
    const { sc } = setup();
    await sc.writeState('g', T, 1, 0, 0, 0, [
      { firstOffset: 0, lastOffset: 2, deliveryState: 2, deliveryCount: 1 },
      { firstOffset: 3, lastOffset: 3, deliveryState: 0, deliveryCount: 1 },
    ]);
    expect(sc.readStateSummary('g', T, 1, -1)).toMatchObject({ stateEpoch: 0, deliveryCompleteCount: 3 });
    await sc.initializeState('g', T, 1, 1, 10);
    await expect(sc.writeState('g', T, 1, 0, 0, 10, [])).rejects.toMatchObject({
      error: 'FENCED_STATE_EPOCH',
    });
    await expect(sc.initializeState('g', T, 1, 0, 5)).rejects.toMatchObject({ error: 'FENCED_STATE_EPOCH' });
    await sc.writeState('g', T, 1, 1, 0, 10, [
      { firstOffset: 10, lastOffset: 10, deliveryState: 4, deliveryCount: 5 },
    ]);
    expect(await sc.readState('g', T, 1, -1)).toEqual({
      stateEpoch: 1,
      leaderEpoch: 0,
      startOffset: 10,
      stateBatches: [{ firstOffset: 10, lastOffset: 10, deliveryState: 4, deliveryCount: 5 }],
    });
  });

  it('NOT_COORDINATOR for a partition not led here; INVALID_REQUEST for an empty group id', async () => {
    const log = new MemoryCoordinatorLog(3, '__share_group_state');
    let led = false;
    const sc = new ShareCoordinator(
      Object.assign(log, { partitionLedHere: () => led }),
      new MockTime(),
      createLogger('silent'),
      5000,
    );
    await expect(sc.readState('g', T, 0, 0)).rejects.toMatchObject({ error: 'NOT_COORDINATOR' });
    await expect(sc.writeState('', T, 0, 0, 0, 0, [])).rejects.toMatchObject({ error: 'INVALID_REQUEST' });
    led = true;
    await sc.writeState('g', T, 0, 0, 0, 0, []);
    const p = sc.partitionFor('g', T, 0);
    expect(sc.isPartitionLoaded(p)).toBe(true);
    sc.unloadPartition(p);
    led = false;
    await expect(sc.deleteState('g', T, 0)).rejects.toMatchObject({ error: 'NOT_COORDINATOR' });
  });
});
