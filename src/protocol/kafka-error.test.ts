import { describe, expect, it } from 'vitest';
import { ErrorCode } from './generated/errors.js';
import { errorOf, KafkaError } from './kafka-error.js';

describe('KafkaError', () => {
  it('carries the error name, its wire code and the message given', () => {
    const e = new KafkaError('NOT_ENOUGH_REPLICAS', 'only 1 of 2 in sync');
    expect(e).toBeInstanceOf(Error);
    expect(e.error).toBe('NOT_ENOUGH_REPLICAS');
    expect(e.code).toBe(19);
    expect(e.message).toBe('only 1 of 2 in sync');
    expect(e.errorMessage).toBe('only 1 of 2 in sync');
  });

  it('without a message sends none and reads as its name', () => {
    const e = new KafkaError('UNKNOWN_TOPIC_OR_PARTITION');
    expect(e.code).toBe(3);
    expect(e.errorMessage).toBeNull();
    expect(e.message).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(new KafkaError('INVALID_CONFIG', null).errorMessage).toBeNull();
  });

  it('keeps the cause', () => {
    const cause = new Error('disk');
    expect(new KafkaError('KAFKA_STORAGE_ERROR', 'failed', { cause }).cause).toBe(cause);
  });

  it('subclasses keep their own name and instanceof', () => {
    class ProducerFenced extends KafkaError {
      override name = 'ProducerFenced';
    }
    const e = new ProducerFenced('PRODUCER_FENCED', 'epoch 3 < 4');
    expect(e).toBeInstanceOf(KafkaError);
    expect(e).toBeInstanceOf(ProducerFenced);
    expect(e.name).toBe('ProducerFenced');
    expect(errorOf(e)).toEqual({ error: 'PRODUCER_FENCED', code: 90, message: 'epoch 3 < 4' });
  });
});

describe('errorOf', () => {
  it("answers a KafkaError's own name, code and message", () => {
    expect(errorOf(new KafkaError('INVALID_CONFIG', 'bad value'))).toEqual({
      error: 'INVALID_CONFIG',
      code: ErrorCode.INVALID_CONFIG,
      message: 'bad value',
    });
    expect(errorOf(new KafkaError('NOT_COORDINATOR'), 'COORDINATOR_NOT_AVAILABLE')).toEqual({
      error: 'NOT_COORDINATOR',
      code: 16,
      message: null,
    });
  });

  it('answers UNKNOWN_SERVER_ERROR without a message for anything else, never its text', () => {
    for (const thrown of [new Error('secret detail'), new TypeError('x'), 'str', 42, null, undefined, {}])
      expect(errorOf(thrown)).toEqual({ error: 'UNKNOWN_SERVER_ERROR', code: -1, message: null });
  });

  it('answers the fallback for anything else when one is given', () => {
    expect(errorOf(new Error('x'), 'COORDINATOR_NOT_AVAILABLE')).toEqual({
      error: 'COORDINATOR_NOT_AVAILABLE',
      code: 15,
      message: null,
    });
  });
});
