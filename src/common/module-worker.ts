/**
 * A worker thread running one of our modules, `name` beside the module at `here` (its
 * `import.meta.url`): the built `.js` file (in dist/bundle every worker module is an entry point of
 * its own, so it sits beside the chunk that spawns it), or — running from the TypeScript sources
 * (tests, tsx) — the `.ts` file, after the worker has registered tsx's loader.
 * `options.name` becomes the thread's name from Node 24 on (`top -H`, `/proc/<pid>/task/<tid>/comm`,
 * perf), as Kafka names its threads; Node 20 and 22 keep "node".
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function spawnModuleWorker(here: string, name: string, options: WorkerOptions = {}): Worker {
  if (!here.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, here), options);
  const tsx = path.dirname(createRequire(here).resolve('tsx/package.json'));
  const api = pathToFileURL(path.join(tsx, 'dist', 'esm', 'api', 'index.mjs')).href;
  const entry = new URL(`./${name}.ts`, here).href;
  return new Worker(
    `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`,
    { ...options, eval: true },
  );
}
