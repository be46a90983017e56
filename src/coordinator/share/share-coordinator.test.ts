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

function setup(log = new MemoryCoordinatorLog(3, '__share_group_state')) {
  const sc = new ShareCoordinator(
    Object.assign(log, { partitionLedHere: () => true }),
    new MockTime(),
    createLogger('silent'),
    5000,
  );
  return { log, sc };
}

/** A topic id as the wire has it (16 bytes, base64url). */
const T = Buffer.alloc(16, 7).toString('base64url');

const types = (log: MemoryCoordinatorLog) =>
  log.all().map((r) => [r.key.readInt16BE(0), r.value === null ? 'tombstone' : 'value']);

describe('ShareCoordinator', () => {
  it('writes a snapshot first, then updates; reads fold them; a reload gives the same state', async () => {
    const { log, sc } = setup();
    expect(await sc.read('g', T, 0)).toBeUndefined();
    await sc.write('g', T, 0, 0, 0, []);
    await sc.write('g', T, 0, 0, 0, [{ firstOffset: 0, lastOffset: 9, deliveryState: 0, deliveryCount: 1 }]);
    await sc.write('g', T, 0, 0, 3, [
      { firstOffset: 3, lastOffset: 4, deliveryState: 2, deliveryCount: 1 },
      { firstOffset: 7, lastOffset: 7, deliveryState: 4, deliveryCount: 2 },
    ]);
    expect(types(log)).toEqual([
      [0, 'value'],
      [1, 'value'],
      [1, 'value'],
    ]);
    const state = await sc.read('g', T, 0);
    expect(state).toEqual({
      startOffset: 3,
      stateEpoch: 0,
      stateBatches: [
        { firstOffset: 3, lastOffset: 4, deliveryState: 2, deliveryCount: 1 },
        { firstOffset: 5, lastOffset: 6, deliveryState: 0, deliveryCount: 1 },
        { firstOffset: 7, lastOffset: 7, deliveryState: 4, deliveryCount: 2 },
        { firstOffset: 8, lastOffset: 9, deliveryState: 0, deliveryCount: 1 },
      ],
    });
    sc.close();
    const reloaded = setup(log).sc;
    expect(await reloaded.read('g', T, 0)).toEqual(state);
  });

  it('a snapshot again after UPDATES_PER_SNAPSHOT updates', async () => {
    const { log, sc } = setup();
    await sc.write('g', T, 1, 0, 0, []);
    for (let i = 0; i < UPDATES_PER_SNAPSHOT; i++)
      await sc.write('g', T, 1, 0, i, [
        { firstOffset: i, lastOffset: i, deliveryState: 0, deliveryCount: 1 },
      ]);
    await sc.write('g', T, 1, 0, UPDATES_PER_SNAPSHOT, []);
    const kinds = types(log).map(([t]) => t);
    expect(kinds.filter((t) => t === 0)).toHaveLength(2);
    expect(kinds.at(-1)).toBe(0);
    expect(await sc.read('g', T, 1)).toMatchObject({ startOffset: UPDATES_PER_SNAPSHOT });
  });

  it('alter restarts the state at an offset (state epoch bumped); delete writes tombstones', async () => {
    const { log, sc } = setup();
    await sc.write('g', T, 2, 0, 5, [{ firstOffset: 5, lastOffset: 6, deliveryState: 0, deliveryCount: 1 }]);
    await sc.alter('g', T, 2, 0);
    expect(await sc.read('g', T, 2)).toEqual({ startOffset: 0, stateEpoch: 1, stateBatches: [] });
    await sc.delete('g', T, 2);
    expect(await sc.read('g', T, 2)).toBeUndefined();
    expect(types(log).slice(-2)).toEqual([
      [1, 'tombstone'],
      [0, 'tombstone'],
    ]);
    sc.close();
    expect(await setup(log).sc.read('g', T, 2)).toBeUndefined();
  });

  it('places a key as Kafka: abs(hashCode("group:topicId:partition")) % partitions', () => {
    const { sc } = setup(new MemoryCoordinatorLog(50, '__share_group_state'));
    // Java's "a:b:0".hashCode() is 91405439; 91405439 % 50 = 39.
    expect(sc.partitionFor('a', 'b', 0)).toBe(39);
  });
});
