import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BROKER_NODE_FLAGS } from './node-flags.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

describe('BROKER_NODE_FLAGS', () => {
  const launchers: [string, string][] = [
    ['npm start', (JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start],
    ["bin/kbroker.js's shebang", read('bin/kbroker.js').split('\n')[0]!],
    [
      'the container entrypoint',
      read('docker/entrypoint.sh')
        .split('\n')
        .find((l) => l.startsWith('exec node'))!,
    ],
  ];
  it.each(launchers)('%s starts node with them', (_what, line) => {
    for (const flag of BROKER_NODE_FLAGS) expect(line.split(/\s+/)).toContain(flag);
  });
});
