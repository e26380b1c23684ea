import { describe, expect, it } from 'vitest';
import {
  backoffMs, classifyNetworkError, decideNetworkError, decideResponse, DEFAULT_RETRY, parseErrorBody, parseRetryAfter, type ResponseFacts,
} from '../../src/http/retry.js';

const facts = (f: Partial<ResponseFacts>): ResponseFacts => ({
  status: 200, error: {}, errorAttempt: 1, rateLimitAttempt: 1, windowMs: 10_000, canRefresh: false, random: () => 0.5, ...f,
});

describe('parseRetryAfter', () => {
  it('reads seconds, HTTP dates, and absurdly large values as milliseconds', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter('0.5', 0)).toBe(500);
    expect(parseRetryAfter('10000', 0)).toBe(10_000); // ms: 10,000 s would be absurd for a 429
    expect(parseRetryAfter('7200', 0, 86_400)).toBe(7_200_000); // a 477 may ask for hours
    expect(parseRetryAfter(new Date(5000).toUTCString(), 0)).toBe(5000);
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
});

describe('backoffMs', () => {
  it('grows exponentially with jitter and a cap', () => {
    const p = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffMs(1, p, () => 0)).toBe(50);
    expect(backoffMs(1, p, () => 1)).toBe(100);
    expect(backoffMs(3, p, () => 1)).toBe(400);
    expect(backoffMs(10, p, () => 1)).toBe(1000);
  });
});

describe('decideResponse', () => {
  const p = DEFAULT_RETRY;
  it('retries 5xx with backoff until attempts run out', () => {
    expect(decideResponse(facts({ status: 503 }), p)).toMatchObject({ kind: 'retry', budget: 'error' });
    expect(decideResponse(facts({ status: 502, errorAttempt: p.maxAttempts }), p)).toMatchObject({ kind: 'fail', why: 'exhausted' });
    expect(decideResponse(facts({ status: 504, retryAfterMs: 9000 }), p)).toMatchObject({ kind: 'retry', waitMs: 9000 });
  });
  it('does not loop on connection/TLS faults 522/525/526', () => {
    expect(decideResponse(facts({ status: 522 }), p)).toMatchObject({ kind: 'fail', why: 'unreachable' });
  });
  it('waits out the window on a ten-secondly 429, honouring Retry-After', () => {
    const body = parseErrorBody({ status: 'error', message: 'You have reached your ten_secondly_rolling limit.', errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' });
    expect(body.category).toBe('RATE_LIMIT');
    expect(decideResponse(facts({ status: 429, error: body }), p)).toMatchObject({ kind: 'retry', waitMs: 10_000, budget: 'rateLimit' });
    expect(decideResponse(facts({ status: 429, error: body, retryAfterMs: 1500 }), p)).toMatchObject({ kind: 'retry', waitMs: 1500 });
  });
  it('stops on the daily 429', () => {
    const error = parseErrorBody({ message: 'You have reached your daily limit.', policyName: 'DAILY' });
    expect(decideResponse(facts({ status: 429, error }), p)).toEqual({ kind: 'fail', why: 'daily-limit' });
  });
  it('waits at least 2 s on 423, and Retry-After on 477 unless it is too long', () => {
    expect(decideResponse(facts({ status: 423 }), p)).toMatchObject({ kind: 'retry', waitMs: 2000 });
    expect(decideResponse(facts({ status: 423, retryAfterMs: 5000 }), p)).toMatchObject({ kind: 'retry', waitMs: 5000 });
    expect(decideResponse(facts({ status: 477, retryAfterMs: 30_000 }), p)).toMatchObject({ kind: 'retry', waitMs: 30_000 });
    expect(decideResponse(facts({ status: 477, retryAfterMs: 86_400_000 }), p)).toEqual({ kind: 'fail', why: 'too-long' });
  });
  it('refreshes once on 401 when it can, otherwise fails; 403 fails', () => {
    expect(decideResponse(facts({ status: 401, canRefresh: true }), p)).toEqual({ kind: 'refresh' });
    expect(decideResponse(facts({ status: 401 }), p)).toEqual({ kind: 'fail', why: 'auth' });
    expect(decideResponse(facts({ status: 403 }), p)).toEqual({ kind: 'fail', why: 'scopes' });
  });
  it('hands other 4xx back to the caller', () => {
    expect(decideResponse(facts({ status: 400 }), p)).toEqual({ kind: 'fail', why: 'status' });
    expect(decideResponse(facts({ status: 409 }), p)).toEqual({ kind: 'fail', why: 'status' });
  });
});

describe('network errors', () => {
  const err = (code: string, message = code) => Object.assign(new Error(message), { code });
  it('classifies resets, hang-ups and timeouts as transient, refusals as unreachable', () => {
    expect(classifyNetworkError(err('ECONNRESET'))).toBe('transient');
    expect(classifyNetworkError(err('UND_ERR_SOCKET', 'other side closed'))).toBe('transient');
    expect(classifyNetworkError(new Error('socket hang up'))).toBe('transient');
    expect(classifyNetworkError(err('UND_ERR_HEADERS_TIMEOUT'))).toBe('transient');
    expect(classifyNetworkError(new TypeError('fetch failed', { cause: err('ECONNREFUSED') }))).toBe('unreachable');
  });
  it('gives refused connections only a few tries', () => {
    expect(decideNetworkError(err('ECONNREFUSED'), 1, DEFAULT_RETRY)).toMatchObject({ kind: 'retry' });
    expect(decideNetworkError(err('ECONNREFUSED'), 3, DEFAULT_RETRY)).toEqual({ kind: 'fail', why: 'unreachable' });
    expect(decideNetworkError(err('ECONNRESET'), 3, DEFAULT_RETRY)).toMatchObject({ kind: 'retry' });
  });
});

describe('parseErrorBody', () => {
  it('names the scopes a 403 asks for', () => {
    const b = parseErrorBody({
      status: 'error', message: 'This app hasn\'t been granted all required scopes', category: 'MISSING_SCOPES', correlationId: 'c-1',
      errors: [{ message: 'missing', context: { requiredGranularScopes: ['crm.objects.contacts.read'] } }],
    });
    expect(b).toMatchObject({ category: 'MISSING_SCOPES', correlationId: 'c-1', requiredScopes: ['crm.objects.contacts.read'] });
  });
});
