/**
 * A TCP port free on 127.0.0.1 at the time of asking (bound to port 0, then closed). Another process may
 * take it before the caller binds it: callers that can retry on EADDRINUSE do.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * The start of the range the kernel picks ports from for `listen(0)` and outgoing connections
 * (Linux's ip_local_port_range; 32768 when it cannot be read).
 */
export function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 2048 ? low : 32768;
  } catch {
    return 32768;
  }
}

/**
 * A port with the n − 1 after it free at the time of asking (a best effort, as any free-port probe).
 * Drawn below the kernel's ephemeral range: a run inside it was the next port the kernel handed to
 * another test's `listen(0)` or connection often enough to fail CI (EADDRINUSE on base + 1).
 */
export async function freePortRun(n: number): Promise<number> {
  const high = ephemeralLow() - n;
  const low = Math.min(10_000, high - 1000);
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = low + Math.floor(Math.random() * (high - low));
    const free = await Promise.all(
      Array.from(
        { length: n },
        (_, i) =>
          new Promise<boolean>((resolve) => {
            const s = createServer()
              .once('error', () => resolve(false))
              .listen(base + i, '127.0.0.1', () => s.close(() => resolve(true)));
          }),
      ),
    );
    if (free.every(Boolean)) return base;
  }
  throw new Error('no run of free ports');
}
