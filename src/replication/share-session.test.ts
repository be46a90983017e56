import { describe, expect, it } from 'vitest';
import { KafkaError } from '../protocol/kafka-error.js';
import { ShareSessionCache } from './share-session.js';

function errorName(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return err instanceof KafkaError ? err.error : 'not a KafkaError';
  }
  return undefined;
}

describe('ShareSessionCache', () => {
  it('epochs: 0 opens, N must be the next, a missing session is SHARE_SESSION_NOT_FOUND', () => {
    const closed: string[] = [];
    const cache = new ShareSessionCache(10, (s) => closed.push(s.memberId));
    const conn = new AbortController();
    const s = cache.open('g', 'm', conn.signal);
    expect(cache.next('g', 'm', 1)).toBe(s);
    expect(errorName(() => cache.next('g', 'm', 1))).toBe('INVALID_SHARE_SESSION_EPOCH');
    expect(cache.next('g', 'm', 2)).toBe(s);
    expect(errorName(() => cache.next('g', 'other', 1))).toBe('SHARE_SESSION_NOT_FOUND');
    // Reopening replaces (the old session's records released).
    const s2 = cache.open('g', 'm', conn.signal);
    expect(s2).not.toBe(s);
    expect(closed).toEqual(['m']);
    cache.close(s2);
    expect(cache.size).toBe(0);
  });

  it('is bounded (SHARE_SESSION_LIMIT_REACHED) and drops the sessions of a closed connection', () => {
    const closed: string[] = [];
    const cache = new ShareSessionCache(2, (s) => closed.push(s.memberId));
    const c1 = new AbortController();
    const c2 = new AbortController();
    cache.open('g', 'a', c1.signal);
    cache.open('g', 'b', c2.signal);
    expect(errorName(() => cache.open('g', 'c', c2.signal))).toBe('SHARE_SESSION_LIMIT_REACHED');
    c1.abort();
    expect(closed).toEqual(['a']);
    expect(cache.size).toBe(1);
    cache.open('g', 'c', c2.signal);
    expect(cache.size).toBe(2);
  });
});
