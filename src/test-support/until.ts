/**
 * Test helper: waits for a condition instead of sleeping for a guessed duration. Polls `condition`
 * every `intervalMs` (real time) until it holds; fails after `timeoutMs` with `what` in the message
 * (a function is called then, to describe the state that was reached), so a test never depends on
 * how long something takes, only on it happening.
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what: string | (() => string) = 'condition',
  intervalMs = 10,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (performance.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
