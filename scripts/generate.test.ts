import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsx = join(repo, 'node_modules', '.bin', 'tsx');
const script = join(repo, 'scripts', 'generate.ts');
const shared = join(repo, '..', 'shared');

let dir: string;

function write(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, typeof value === 'string' ? value : `// comment\n${JSON.stringify(value)}`);
}

function generate(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(tsx, [script, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kbroker-generate-'));
  const int32 = (name: string, versions: string) => ({ name, type: 'int32', versions });
  // Kafka 4 raised Foo's minimum to 2; the older set lays v0–1 out the same way.
  write(join(dir, 'new/messages/FooRequest.json'), {
    apiKey: 90,
    type: 'request',
    name: 'FooRequest',
    validVersions: '2-3',
    flexibleVersions: '3+',
    fields: [int32('A', '0+'), { name: 'B', type: 'string', versions: '3+' }],
  });
  write(join(dir, 'old/messages/FooRequest.json'), {
    apiKey: 90,
    type: 'request',
    name: 'FooRequest',
    validVersions: '0-3',
    flexibleVersions: '3+',
    fields: [int32('Renamed', '0+'), { name: 'B', type: 'string', versions: '3+' }],
  });
  // Bar's v0 was an int64 before: not kept.
  write(join(dir, 'new/messages/BarRequest.json'), {
    apiKey: 91,
    type: 'request',
    name: 'BarRequest',
    validVersions: '1-2',
    flexibleVersions: 'none',
    fields: [int32('X', '1+')],
  });
  write(join(dir, 'old/messages/BarRequest.json'), {
    apiKey: 91,
    type: 'request',
    name: 'BarRequest',
    validVersions: '0-2',
    flexibleVersions: 'none',
    fields: [{ name: 'X0', type: 'int64', versions: '0' }, int32('X', '1+')],
  });
  // A removed API: no fields, not emitted, not taken from the older set.
  write(join(dir, 'new/messages/GoneRequest.json'), {
    apiKey: 92,
    type: 'request',
    name: 'GoneRequest',
    validVersions: 'none',
  });
  write(join(dir, 'old/messages/GoneRequest.json'), {
    apiKey: 92,
    type: 'request',
    name: 'GoneRequest',
    validVersions: '0-1',
    flexibleVersions: 'none',
    fields: [int32('Y', '0+')],
  });
  for (const [name, type] of [
    ['ThingKey', 'coordinator-key'],
    ['ThingValue', 'coordinator-value'],
  ] as const) {
    write(join(dir, `new/group-coordinator/${name}.json`), {
      apiKey: 7,
      type,
      name,
      validVersions: '0',
      flexibleVersions: type === 'coordinator-key' ? 'none' : '0+',
      fields: [int32('Z', '0')],
    });
  }
  write(
    join(dir, 'new/errors.tsv'),
    'code\tname\texception\tretriable\tmessage\n0\tNONE\t\tfalse\tNONE\n7\tSOME_ERROR\tx.SomeException\ttrue\tSomething went wrong.\n',
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('scripts/generate.ts', () => {
  it('keeps versions Kafka 4 removed only where the older layout is the same', () => {
    const out = join(dir, 'out');
    const r = generate(join(dir, 'new'), '--older', join(dir, 'old'), '--out', out);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('BarRequest: v0 laid out differently before Kafka 4; not kept');
    const messages = readFileSync(join(out, 'messages.ts'), 'utf8');
    expect(messages).toContain(
      'Kafka 4 serves v2+; v0–1 kept from the older definitions (KIP-896). */\nexport const FooRequest',
    );
    expect(messages).toMatch(
      /export const FooRequest: MessageSpec = messageSpec\(\{[^}]*validVersions: \[0, 3\]/,
    );
    expect(messages).toMatch(
      /export const BarRequest: MessageSpec = messageSpec\(\{[^}]*validVersions: \[1, 2\]/,
    );
    expect(messages).not.toContain('GoneRequest');
    expect(messages).toContain('[90, FooRequest],');
    expect(messages).toContain('[7, { key: ThingKey, value: ThingValue }],');
    const errors = readFileSync(join(out, 'errors.ts'), 'utf8');
    expect(errors).toContain('SOME_ERROR: "Something went wrong.",');
    expect(errors).toMatch(/const retriable: ReadonlySet<number> = new Set\(\[\n {2}7,\n\]\);/);
  });

  it('without the older set, Kafka 4 ranges stand', () => {
    const out = join(dir, 'out-new-only');
    expect(generate(join(dir, 'new'), '--out', out).status).toBe(0);
    expect(readFileSync(join(out, 'messages.ts'), 'utf8')).toMatch(
      /export const FooRequest: MessageSpec = messageSpec\(\{[^}]*validVersions: \[2, 3\]/,
    );
  });

  it('--check fails on drift and skips in one line without definitions', () => {
    const out = join(dir, 'out-check');
    const args = [join(dir, 'new'), '--older', join(dir, 'old'), '--out', out];
    expect(generate(...args).status).toBe(0);
    const fresh = generate(...args, '--check');
    expect(fresh.status).toBe(0);
    expect(fresh.stdout).toBe('checked 4 message definitions\n');
    writeFileSync(join(out, 'errors.ts'), '// edited\n');
    const stale = generate(...args, '--check');
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain('errors.ts');
    const missing = generate(join(dir, 'nowhere'), '--older', join(dir, 'old'), '--check');
    expect(missing.status).toBe(0);
    expect(missing.stdout.trim().split('\n')).toHaveLength(1);
    expect(missing.stdout).toContain('check:generated skipped');
  });

  it('the committed output lists Kafka 4.3.1 APIs and keeps Produce v0–2 (KAFKA-18659)', async () => {
    const m = await import('../src/protocol/generated/messages.js');
    expect(m.ProduceRequest.validVersions).toEqual([0, 13]);
    expect(m.requestSpecs.get(68)?.name).toBe('ConsumerGroupHeartbeatRequest');
    expect(m.groupCoordinatorRecords.get(1)?.key.name).toBe('OffsetCommitKey');
    expect(m.transactionCoordinatorRecords.get(0)?.value.name).toBe('TransactionLogValue');
    const e = await import('../src/protocol/generated/errors.js');
    expect(e.defaultErrorMessage(e.ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)).toBe(
      'This server does not host this topic-partition.',
    );
    expect(e.isRetriable(e.ErrorCode.NOT_COORDINATOR)).toBe(true);
    expect(e.isRetriable(e.ErrorCode.INVALID_REQUEST)).toBe(false);
  });

  it.skipIf(!existsSync(join(shared, 'kafka-protocol-4.3.1')))(
    'the committed output is what ../shared generates',
    () => {
      const r = generate(
        join(shared, 'kafka-protocol-4.3.1'),
        '--older',
        join(shared, 'kafka-protocol'),
        '--check',
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    },
  );
});
