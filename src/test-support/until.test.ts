import { describe, expect, it } from 'vitest';
import { until } from './until.js';

describe('until', () => {
  it('resolves once the condition holds, sync or async', async () => {
    let n = 0;
    await until(() => ++n >= 3);
    expect(n).toBe(3);
    await until(async () => true);
  });

  it('fails with what it waited for after the timeout', async () => {
    await expect(until(() => false, 30, 'the answer')).rejects.toThrow(
      'timed out after 30 ms waiting for the answer',
    );
    await expect(
      until(
        () => false,
        30,
        () => 'the answer: still none',
      ),
    ).rejects.toThrow('waiting for the answer: still none');
  });
});
