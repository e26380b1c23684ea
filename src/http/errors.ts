/**
 * Errors from HTTP apps. They carry what helps a person (method, path, status,
 * the app's message, category and correlation id) and never a credential:
 * every text passes `scrub` before it is stored.
 */
import { DatasyncError, maskSecrets } from '../errors.js';
import type { AppErrorBody } from './retry.js';

/** A non-2xx answer that the caller may handle (400, 404, 409 …). */
export class HttpError extends DatasyncError {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly category?: string;
  readonly correlationId?: string;
  /** The app's own message, fit to show a person. */
  readonly appMessage?: string;
  /** The parsed body, for callers that need more (207 contexts, 409 ids). */
  readonly body: unknown;

  constructor(args: { app: string; method: string; path: string; status: number; error: AppErrorBody; body: unknown; scrub: (s: string) => string }) {
    const { app, method, path, status, error, scrub } = args;
    const what = `${app} answered ${status}${error.category ? ` ${error.category}` : ''} to ${method} ${path}`;
    const msg = error.message ? `: ${scrub(error.message)}` : '';
    const corr = error.correlationId ? ` (correlationId ${error.correlationId})` : '';
    super('app', `HTTP_${status}`, scrub(`${what}${msg}${corr}`), { transient: status >= 500 || status === 429 });
    this.name = 'HttpError';
    this.method = method;
    this.path = path;
    this.status = status;
    this.category = error.category;
    this.correlationId = error.correlationId;
    this.appMessage = error.message === undefined ? undefined : scrub(error.message);
    this.body = scrubDeep(args.body, scrub);
  }
}

/**
 * A request that is not safe to send twice (a create) got no usable answer:
 * a reset or timed-out connection, or a 5xx from a gateway. The app may have
 * done the work, so the client does not send it again; the caller finds out
 * what was written (HubSpot: a read by a unique creation key) before sending
 * anything more.
 */
export class AnswerLostError extends DatasyncError {
  readonly method: string;
  readonly path: string;

  /** `what`: e.g. `answered 502 BAD_GATEWAY` or `lost the connection (ECONNRESET)`. */
  constructor(app: string, method: string, path: string, what: string) {
    super('app', 'ANSWER_LOST', `${app} ${what} to ${method} ${path}; it may have been applied, so it is not sent again before checking`, {
      transient: true, hint: 'the sync resumes on the next run; records it wrote are found by their creation key',
    });
    this.name = 'AnswerLostError';
    this.method = method;
    this.path = path;
  }
}

/** Replaces every occurrence of the given secrets with their redacted form. */
export function makeScrubber(secrets: () => Array<string | undefined>): (s: string) => string {
  return (s: string) => {
    const out = maskSecrets(s, secrets());
    // Belt and braces: a bearer header echoed back by some proxy.
    return out.replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, '$1****');
  };
}

function scrubDeep(value: unknown, scrub: (s: string) => string): unknown {
  if (typeof value === 'string') return scrub(value);
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, scrub));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubDeep(v, scrub)]));
  }
  return value;
}

/** Path without query string: queries may carry ids or cursors, never needed in an error. */
export function displayPath(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}
