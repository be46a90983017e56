import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '..');
const definitions = resolve(repo, '../shared/kafka-protocol');
const tmp = mkdtempSync(join(tmpdir(), 'kbroker-generate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function check(folder: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/generate.ts', folder, '--check'], {
    cwd: repo,
    encoding: 'utf8',
  });
}

describe('check:generated', () => {
  it('passes, saying so in one line, when the definitions folder is absent (a bare clone)', () => {
    const r = check(join(tmp, 'no-such-folder'));
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toContain('check:generated skipped: no definitions at');
  });

  it.skipIf(!existsSync(definitions))('fails on drift when the definitions are there', () => {
    expect(check(definitions).status).toBe(0);
    const copy = join(tmp, 'kafka-protocol');
    cpSync(definitions, copy, { recursive: true });
    const errors = join(copy, 'errors.tsv');
    writeFileSync(errors, readFileSync(errors, 'utf8').replace('UNKNOWN_SERVER_ERROR', 'RENAMED_ERROR'));
    const r = check(copy);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('src/protocol/generated/errors.ts');
  });
});
