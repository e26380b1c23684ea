/**
 * What to do with an answer or a failed connection: pure decisions, so every
 * row of the reference's status table (§7.3) is testable without a server.
 */
export interface RetryPolicy {
  /** Attempts in all for 5xx, timeouts and dropped connections. */
  maxAttempts: number;
  /** First backoff; doubles per attempt, with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Consecutive 429/423 retries before giving up (a 429 must not fail a record). */
  maxRateLimitRetries: number;
  /** Longest single wait the client sits out (a 477 may ask for 24 h). */
  maxWaitMs: number;
  /** Minimum wait on 423 Locked (reference §2.7: at least 2 s). */
  lockedWaitMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxRateLimitRetries: 60,
  maxWaitMs: 15 * 60_000,
  lockedWaitMs: 2_000,
};

/** Exponential backoff with equal jitter: half fixed, half random. */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

/**
 * `Retry-After` in milliseconds, or undefined. Seconds per RFC 9110, or an
 * HTTP date. Some HubSpot answers send milliseconds (reference §8.2), so a
 * value above `maxSeconds` is read as milliseconds.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number, maxSeconds = 3_600): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  const s = v.trim();
  if (/^\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    return n > maxSeconds ? Math.round(n) : Math.round(n * 1000);
  }
  const date = Date.parse(s);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** Error codes of connections that failed mid-way and are worth retrying. */
const TRANSIENT_NET = new Set([
  'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH',
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT', 'UND_ERR_RESPONSE_STATUS_CODE', 'UND_ERR_REQ_RETRY', 'UND_ERR_ABORTED',
  'TIMEOUT',
]);
/** Nobody is listening there: retried briefly, then reported as unreachable. */
const UNREACHABLE_NET = new Set(['ECONNREFUSED', 'ENOTFOUND']);

export type NetworkErrorKind = 'transient' | 'unreachable' | 'other';

export function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export function classifyNetworkError(err: unknown): NetworkErrorKind {
  const code = errorCode(err);
  if (code && UNREACHABLE_NET.has(code)) return 'unreachable';
  if (code && TRANSIENT_NET.has(code)) return 'transient';
  const msg = err instanceof Error ? err.message : String(err);
  if (/socket hang up|other side closed|terminated|timeout|ECONNRESET/i.test(msg)) return 'transient';
  return 'other';
}

/** The parts of an error body that matter (reference §7.1, §8.2); all optional. */
export interface AppErrorBody {
  message?: string;
  category?: string;
  correlationId?: string;
  policyName?: string;
  requiredScopes?: string[];
}

export function parseErrorBody(body: unknown): AppErrorBody {
  if (!body || typeof body !== 'object') return {};
  const b = body as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const scopes = new Set<string>();
  const errors = Array.isArray(b.errors) ? b.errors : [];
  for (const e of errors) {
    const ctx = e && typeof e === 'object' ? (e as { context?: Record<string, unknown> }).context : undefined;
    for (const key of ['requiredGranularScopes', 'requiredScopes']) {
      const list = ctx?.[key];
      if (Array.isArray(list)) list.forEach((s) => typeof s === 'string' && scopes.add(s));
    }
  }
  // OData services (Dataverse) nest theirs: {"error": {"code": "0x…", "message": "…"}}.
  const odata = b.error && typeof b.error === 'object' ? (b.error as Record<string, unknown>) : {};
  return {
    message: str(b.message) ?? str(b.error_description) ?? str(odata.message),
    category: str(b.category) ?? str(b.errorType) ?? str(b.status === 'error' ? undefined : b.status) ?? (str(odata.code) || undefined),
    correlationId: str(b.correlationId),
    policyName: str(b.policyName),
    requiredScopes: scopes.size > 0 ? [...scopes] : undefined,
  };
}

export type Decision =
  | { kind: 'done' }
  /** Wait, then send the same request again. */
  | { kind: 'retry'; waitMs: number; reason: string; budget: 'error' | 'rateLimit' }
  /** Refresh the credential once, then retry (OAuth). */
  | { kind: 'refresh' }
  /** Stop: the caller turns this into an error. */
  | { kind: 'fail'; why: 'auth' | 'scopes' | 'daily-limit' | 'unreachable' | 'too-long' | 'exhausted' | 'status' };

export interface ResponseFacts {
  status: number;
  retryAfterMs?: number;
  error: AppErrorBody;
  /** Attempts made so far for errors / rate limits (1 = the first failure). */
  errorAttempt: number;
  rateLimitAttempt: number;
  /** The window of the request's class (how long a 429 waits without Retry-After). */
  windowMs: number;
  canRefresh: boolean;
  random?: () => number;
}

const RETRY_5XX = new Set([500, 502, 503, 504, 521, 523, 524]);
const UNREACHABLE_5XX = new Set([522, 525, 526]);

export function decideResponse(f: ResponseFacts, p: RetryPolicy): Decision {
  const s = f.status;
  if (s < 400) return { kind: 'done' };
  if (s === 401) return f.canRefresh ? { kind: 'refresh' } : { kind: 'fail', why: 'auth' };
  if (s === 403) return { kind: 'fail', why: 'scopes' };
  if (s === 429) {
    const daily = f.error.policyName === 'DAILY' || /daily limit/i.test(f.error.message ?? '');
    if (daily) return { kind: 'fail', why: 'daily-limit' };
    if (f.rateLimitAttempt > p.maxRateLimitRetries) return { kind: 'fail', why: 'exhausted' };
    // Wait out the window (Retry-After when given), growing a little if 429s repeat.
    const base = f.retryAfterMs ?? f.windowMs;
    return { kind: 'retry', waitMs: Math.min(p.maxWaitMs, base + (f.rateLimitAttempt - 1) * 250), reason: 'rate limit', budget: 'rateLimit' };
  }
  if (s === 423) {
    if (f.rateLimitAttempt > p.maxRateLimitRetries) return { kind: 'fail', why: 'exhausted' };
    return { kind: 'retry', waitMs: Math.max(p.lockedWaitMs, f.retryAfterMs ?? 0), reason: 'records locked', budget: 'rateLimit' };
  }
  if (s === 477) {
    const wait = f.retryAfterMs ?? 60_000;
    if (wait > p.maxWaitMs) return { kind: 'fail', why: 'too-long' };
    if (f.rateLimitAttempt > p.maxRateLimitRetries) return { kind: 'fail', why: 'exhausted' };
    return { kind: 'retry', waitMs: wait, reason: 'account migration', budget: 'rateLimit' };
  }
  if (UNREACHABLE_5XX.has(s)) return { kind: 'fail', why: 'unreachable' };
  if (RETRY_5XX.has(s) || s >= 500) {
    if (f.errorAttempt >= p.maxAttempts) return { kind: 'fail', why: 'exhausted' };
    const wait = Math.max(f.retryAfterMs ?? 0, backoffMs(f.errorAttempt, p, f.random));
    if (wait > p.maxWaitMs) return { kind: 'fail', why: 'exhausted' };
    return { kind: 'retry', waitMs: wait, reason: `server error ${s}`, budget: 'error' };
  }
  return { kind: 'fail', why: 'status' };
}

export function decideNetworkError(err: unknown, errorAttempt: number, p: RetryPolicy, random?: () => number): Decision {
  const kind = classifyNetworkError(err);
  if (kind === 'other') return { kind: 'fail', why: 'unreachable' };
  // Refused connections get fewer tries: usually a wrong base_url, not a blip.
  const limit = kind === 'unreachable' ? Math.min(3, p.maxAttempts) : p.maxAttempts;
  if (errorAttempt >= limit) return { kind: 'fail', why: kind === 'unreachable' ? 'unreachable' : 'exhausted' };
  return { kind: 'retry', waitMs: backoffMs(errorAttempt, p, random), reason: 'connection lost', budget: 'error' };
}
