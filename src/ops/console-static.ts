/**
 * Serves the web console's files (src/console: plain ES modules, CSS and one HTML page — no build
 * step) under /ui. The files are read once, at start, from a fixed list: nothing else on disk is
 * reachable, and every answer carries a Content-Security-Policy that lets the page load and call
 * only its own origin (no CDN, no external request of any kind) and not be framed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'api.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'chart.js': 'text/javascript; charset=utf-8',
  'views.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

/** src/console, from src/ops (tests, tsx) or dist/ops (the package, which ships src/console). */
export function consoleDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..', 'console'), join(here, '..', '..', 'src', 'console')];
  const found = candidates.find((d) => existsSync(join(d, 'index.html')));
  if (!found) throw new Error(`web console files not found (looked in ${candidates.join(', ')})`);
  return found;
}

export function consoleStaticRoutes(app: FastifyInstance): void {
  const dir = consoleDir();
  const files = new Map(
    Object.entries(FILES).map(([name, type]) => [name, { type, body: readFileSync(join(dir, name)) }]),
  );
  const send = (name: string) => async (_req: unknown, reply: import('fastify').FastifyReply) => {
    const f = files.get(name)!;
    return reply
      .header('content-type', f.type)
      .header('content-security-policy', CONSOLE_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .send(f.body);
  };
  app.get('/ui', async (_req, reply) => reply.redirect('/ui/'));
  app.get('/ui/', send('index.html'));
  for (const name of files.keys()) app.get(`/ui/${name}`, send(name));
}
