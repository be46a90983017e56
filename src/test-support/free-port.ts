/**
 * A TCP port free on 127.0.0.1 at the time of asking (bound to port 0, then closed). Another process may
 * take it before the caller binds it: callers that can retry on EADDRINUSE do.
 */
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
