/**
 * The shared JSON client for every HTTP connector: base URL, bearer auth from
 * a token provider, pacing per request class, retries with backoff, waits on
 * rate limits, and errors that never carry the credential.
 */
import { Pool, request, type Dispatcher } from 'undici';
import { appError, DatasyncError } from '../errors.js';
import { abortReason, realClock, type Clock } from './clock.js';
import { DailyBudget, type DailyReserve } from './daily-budget.js';
import { AnswerLostError, displayPath, HttpError, makeScrubber } from './errors.js';
import { HUBSPOT_LIMITS, Pacer, REQUEST_CLASSES, type PacerOptions, type RequestClass } from './pacer.js';
import { backoffMs, classifyNetworkError, decideNetworkError, decideResponse, DEFAULT_RETRY, errorCode, parseErrorBody, parseRetryAfter, type RetryPolicy } from './retry.js';

export type { RequestClass } from './pacer.js';

/** Where the bearer token comes from; async so OAuth can refresh. */
export interface TokenProvider {
  /** The token to send now (an OAuth provider refreshes ahead of expiry). */
  token(): Promise<string>;
  /** Forces a refresh after a 401; absent when the credential cannot be refreshed. */
  refresh?(): Promise<string>;
  /** Every secret to keep out of errors (token, refresh token, client secret). */
  secrets(): Array<string | undefined>;
}

export interface RateLimitHeaders { max: string; remaining: string; intervalMs: string; daily?: string; dailyRemaining?: string }

export interface HttpClientOptions {
  /** The app's name in messages, e.g. 'HubSpot'. */
  app: string;
  baseUrl: string;
  auth?: TokenProvider;
  limits?: Pick<PacerOptions, 'limits' | 'routes'>;
  /** Response headers describing the burst window; null to ignore headers. */
  rateLimitHeaders?: RateLimitHeaders | null;
  retry?: Partial<RetryPolicy>;
  /** Per attempt, headers and body together. */
  timeoutMs?: number;
  /** Calls of the daily allowance left to the account's other apps (daily-budget.ts). */
  dailyReserve?: DailyReserve;
  onWait?: (reason: string, ms: number) => void;
  /**
   * The most time this client spends waiting in all (rate limits, backoffs)
   * before a request fails as the app being unavailable: a hanging or
   * 429-forever app stops the run after this, not after hours.
   */
  maxTotalWaitMs?: number;
  signal?: AbortSignal;
  /** For tests (undici MockAgent); otherwise a Pool on the base URL's origin. */
  dispatcher?: Dispatcher;
  clock?: Clock;
  random?: () => number;
}

export const HUBSPOT_RATE_HEADERS: RateLimitHeaders = {
  max: 'x-hubspot-ratelimit-max',
  remaining: 'x-hubspot-ratelimit-remaining',
  intervalMs: 'x-hubspot-ratelimit-interval-milliseconds',
  daily: 'x-hubspot-ratelimit-daily',
  dailyRemaining: 'x-hubspot-ratelimit-daily-remaining',
};

export type Query = Record<string, string | number | boolean | string[] | undefined>;

export interface RequestOptions {
  class: RequestClass;
  query?: Query;
  json?: unknown;
  /** application/x-www-form-urlencoded body (OAuth token endpoints). */
  form?: Record<string, string>;
  /** Send the bearer token (default true). */
  auth?: boolean;
  /** Extra request headers (OData's Prefer, If-Match …). */
  headers?: Record<string, string>;
  /** A body of another type than JSON or a form (a multipart `$batch`). */
  raw?: { contentType: string; text: string };
  /**
   * false for a request that must not be applied twice (a create): after a
   * lost answer (reset, timeout, 5xx) it throws AnswerLostError instead of
   * sending it again. 429/423/477 and refused connections are still retried:
   * those were never applied.
   */
  idempotent?: boolean;
}

export interface HttpResponse<T = unknown> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
}

export interface HttpStats {
  /** Requests sent per class, retries included. */
  requests: Record<RequestClass, number>;
  total: number;
  /** 429 answers received. */
  rateLimited: number;
  /** Requests sent again after an error, a 429, 423 or 477. */
  retries: number;
  /** Time spent waiting (pacing, backoff, rate limits). */
  waitedMs: number;
}

export class HttpClient {
  private readonly opts: HttpClientOptions;
  private readonly policy: RetryPolicy;
  private readonly pacer: Pacer;
  private readonly clock: Clock;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly prefix: string;
  private readonly origin: string;
  private readonly scrub: (s: string) => string;
  private readonly budget?: DailyBudget;
  private readonly counters: HttpStats = {
    requests: Object.fromEntries(REQUEST_CLASSES.map((c) => [c, 0])) as Record<RequestClass, number>,
    total: 0, rateLimited: 0, retries: 0, waitedMs: 0,
  };

  constructor(opts: HttpClientOptions) {
    this.opts = opts;
    this.policy = { ...DEFAULT_RETRY, ...opts.retry };
    this.clock = opts.clock ?? realClock;
    this.pacer = new Pacer({ ...(opts.limits ?? HUBSPOT_LIMITS), clock: this.clock });
    const url = new URL(opts.baseUrl);
    this.origin = url.origin;
    this.prefix = url.pathname.replace(/\/+$/, '');
    this.ownsDispatcher = !opts.dispatcher;
    this.dispatcher = opts.dispatcher ?? new Pool(this.origin, { connections: 8, keepAliveTimeout: 10_000 });
    this.scrub = makeScrubber(() => opts.auth?.secrets() ?? []);
    if (opts.dailyReserve) this.budget = new DailyBudget(opts.dailyReserve);
  }

  get baseUrl(): string { return this.opts.baseUrl; }

  stats(): HttpStats {
    return { ...this.counters, requests: { ...this.counters.requests } };
  }

  get<T>(path: string, o: Omit<RequestOptions, 'json'>) { return this.request<T>('GET', path, o); }
  post<T>(path: string, o: RequestOptions) { return this.request<T>('POST', path, o); }
  patch<T>(path: string, o: RequestOptions) { return this.request<T>('PATCH', path, o); }
  put<T>(path: string, o: RequestOptions) { return this.request<T>('PUT', path, o); }
  delete<T>(path: string, o: RequestOptions) { return this.request<T>('DELETE', path, o); }

  /** Sends until an answer is final; throws DatasyncError (HttpError for 4xx). */
  async request<T = unknown>(method: string, path: string, o: RequestOptions): Promise<HttpResponse<T>> {
    const target = this.prefix + path + queryString(o.query);
    const shown = displayPath(path);
    let errorAttempt = 0;
    let rateLimitAttempt = 0;
    let refreshed = false;
    for (let sent = 0; ; sent++) {
      this.throwIfAborted();
      this.throwIfOverBudget();
      if (sent > 0) this.counters.retries++;
      const slot = await this.pacer.acquire(o.class, (ms) => this.noteWait('rate limit', ms), this.opts.signal);
      this.counters.requests[o.class]++;
      this.counters.total++;
      let res: HttpResponse;
      let token: string | undefined;
      try {
        token = o.auth !== false && this.opts.auth ? await this.opts.auth.token() : undefined;
      } catch (err) {
        slot.done();
        throw err;
      }
      const sentAt = Date.now();
      try {
        res = await this.send(method, target, o, token);
      } catch (err) {
        slot.done();
        this.throwIfAborted();
        if (err instanceof DatasyncError) throw err;
        if (o.idempotent === false && classifyNetworkError(err) !== 'unreachable') {
          throw new AnswerLostError(this.opts.app, method, shown, `lost the connection (${errorCode(err) ?? 'no answer'})`);
        }
        const d = decideNetworkError(err, ++errorAttempt, this.policy, this.opts.random);
        if (d.kind === 'retry') {
          // The time a request hung before it timed out or dropped is time spent waiting on the app too:
          // a hanging app stops the run after `maxTotalWaitMs`, not after every attempt's timeout.
          this.counters.waitedMs += Date.now() - sentAt;
          const timedOut = errorCode(err) === 'TIMEOUT';
          await this.wait(timedOut ? `no answer in ${Math.round((this.opts.timeoutMs ?? 60_000) / 1000)} s` : d.reason, d.waitMs);
          continue;
        }
        const code = errorCode(err) ?? 'connection failed';
        throw appError('APP_UNREACHABLE', `cannot reach ${this.opts.app} at ${this.opts.baseUrl} (${method} ${shown}: ${code})`, {
          transient: true,
          hint: 'check base_url and the network; the sync resumes on the next run',
        });
      }
      slot.done();
      this.observeHeaders(o.class, res.headers);
      if (res.status === 429) {
        this.counters.rateLimited++;
      }
      if (o.idempotent === false && res.status >= 500) {
        const category = parseErrorBody(res.body).category;
        throw new AnswerLostError(this.opts.app, method, shown, `answered ${res.status}${category ? ` ${category}` : ''}`);
      }
      const error = res.status >= 400 ? parseErrorBody(res.body) : {};
      const retryAfterMs = parseRetryAfter(res.headers['retry-after'], this.clock.now(), res.status === 477 ? 86_400 : 3_600);
      const d = decideResponse({
        status: res.status, retryAfterMs, error,
        errorAttempt: res.status >= 500 ? ++errorAttempt : errorAttempt,
        rateLimitAttempt: [429, 423, 477].includes(res.status) ? ++rateLimitAttempt : rateLimitAttempt,
        windowMs: this.pacer.windowOf(o.class) || 10_000,
        canRefresh: o.auth !== false && !refreshed && !!this.opts.auth?.refresh,
        random: this.opts.random,
      }, this.policy);
      switch (d.kind) {
        case 'done':
          return res as HttpResponse<T>;
        case 'retry':
          if (res.status === 429) this.pacer.block(o.class, d.waitMs);
          await this.wait(d.reason, d.waitMs);
          continue;
        case 'refresh':
          refreshed = true;
          await this.opts.auth!.refresh!();
          continue;
        case 'fail':
          throw this.failure(d.why, method, shown, res, error);
      }
    }
  }

  /**
   * Waits as a retry would before its `attempt`-th try (backoff with jitter),
   * for callers that resend a request themselves after checking its effect.
   */
  async backoff(attempt: number, reason: string): Promise<void> {
    this.throwIfAborted();
    await this.wait(reason, backoffMs(attempt, this.policy, this.opts.random));
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  private failure(why: string, method: string, path: string, res: HttpResponse, error: ReturnType<typeof parseErrorBody>): DatasyncError {
    const app = this.opts.app;
    const detail = error.message ? `: ${this.scrub(error.message)}` : '';
    const corr = error.correlationId ? ` (correlationId ${error.correlationId})` : '';
    switch (why) {
      case 'auth':
        return appError('AUTH_FAILED', `${app} refused the credential (401 on ${method} ${path})${detail}${corr}`, {
          hint: 'check the token (or run `datasync connect` again); it must belong to the right account',
        });
      case 'scopes': {
        // HubSpot lists alternatives: "One or more of the following scopes are required."
        const list = error.requiredScopes ?? [];
        const scopes = list.length === 0 ? '' : `; it needs the scope ${list.length > 1 ? `${list.join(' or ')}` : list[0]}`;
        return appError('MISSING_SCOPES', `${app} refused ${method} ${path} (403): the credential is not allowed${scopes}${detail}${corr}`, {
          hint: 'grant the missing scopes to the private app or OAuth app, then run again',
        });
      }
      case 'daily-limit':
        return appError('RATE_LIMIT_DAILY', `${app}'s daily API limit is reached; the sync resumes by itself later${corr}`, {
          transient: true, hint: 'the daily limit resets at midnight in the account time zone',
        });
      case 'unreachable':
        return appError('APP_UNREACHABLE', `cannot reach ${app} at ${this.opts.baseUrl} (${res.status} on ${method} ${path})`, { transient: true });
      case 'too-long':
        return appError('APP_UNAVAILABLE', `${app} asks to wait before ${method} ${path} (${res.status}, account migration); the sync resumes later`, { transient: true });
      default:
        return new HttpError({ app, method, path, status: res.status, error, body: res.body, scrub: this.scrub });
    }
  }

  private async send(method: string, target: string, o: RequestOptions, token: string | undefined): Promise<HttpResponse> {
    const headers: Record<string, string> = { accept: 'application/json', ...o.headers };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (o.raw) {
      headers['content-type'] = o.raw.contentType;
      body = o.raw.text;
    } else if (o.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(o.json);
    } else if (o.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(o.form).toString();
    }
    const timeout = AbortSignal.timeout(this.opts.timeoutMs ?? 60_000);
    const signal = this.opts.signal ? AbortSignal.any([this.opts.signal, timeout]) : timeout;
    try {
      const res = await request(this.origin + target, { dispatcher: this.dispatcher, method: method as Dispatcher.HttpMethod, headers, body, signal });
      const text = await res.body.text();
      return { status: res.statusCode, headers: res.headers, body: parseBody(text) };
    } catch (err) {
      if (timeout.aborted && !this.opts.signal?.aborted) throw Object.assign(new Error('request timed out'), { code: 'TIMEOUT' });
      throw err;
    }
  }

  private observeHeaders(cls: RequestClass, h: HttpResponse['headers']): void {
    const names = this.opts.rateLimitHeaders === undefined ? HUBSPOT_RATE_HEADERS : this.opts.rateLimitHeaders;
    if (!names) return;
    const num = (name: string) => {
      const v = h[name];
      const n = Number(Array.isArray(v) ? v[0] : v);
      return v === undefined || !Number.isFinite(n) ? undefined : n;
    };
    if (names.dailyRemaining) this.budget?.observe(names.daily ? num(names.daily) : undefined, num(names.dailyRemaining));
    const o = { max: num(names.max), remaining: num(names.remaining), windowMs: num(names.intervalMs) };
    if (o.max !== undefined || o.remaining !== undefined) this.pacer.observe(cls, o);
  }

  private noteWait(reason: string, ms: number): void {
    this.counters.waitedMs += ms;
    try { this.opts.onWait?.(reason, ms); } catch { /* a reporting hook must not break a request */ }
  }

  private async wait(reason: string, ms: number): Promise<void> {
    const limit = this.opts.maxTotalWaitMs;
    if (limit !== undefined && this.counters.waitedMs + ms > limit) {
      throw appError('APP_WAIT_LIMIT', `${this.opts.app} kept datasync waiting (${reason}): ${Math.round(this.counters.waitedMs / 1000)} s `
        + `in this run already, and it asked for ${Math.ceil(ms / 1000)} s more; the limit is ${Math.round(limit / 1000)} s`, {
        transient: true, hint: `the next run resumes where this one stopped; to wait longer, raise \`max_wait\` of the connection`,
      });
    }
    this.noteWait(reason, ms);
    await this.clock.sleep(ms, this.opts.signal);
  }

  private throwIfOverBudget(): void {
    const low = this.budget?.refusal();
    if (!low) return;
    const n = (x: number) => x.toLocaleString('en-US');
    throw appError('DAILY_BUDGET_RESERVE',
      `${this.opts.app}'s daily API budget is down to ${n(low.remaining)} of ${n(low.allowance)} calls, within the reserve of ${n(low.reserve)} kept for the account's other apps; the sync waits until the allowance resets`,
      { transient: true, hint: 'the daily allowance resets at midnight in the account time zone; daily_reserve on the connection sets the reserve (0 turns it off)' });
  }

  private throwIfAborted(): void {
    if (this.opts.signal?.aborted) throw abortReason(this.opts.signal);
  }
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try { return JSON.parse(text); } catch { return text; }
}

export function queryString(q: Query | undefined): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    p.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}
