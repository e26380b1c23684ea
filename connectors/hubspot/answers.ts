/**
 * Answers that are not what the API promises (issue 14.5): a proxy's or an
 * outage page's HTML, an empty object, a 404 that is not HubSpot's. Read as
 * "no records" they marked linked records deleted, or ended in a misleading
 * config error; here they are app errors that name what came back. Such an
 * answer is asked again a few times first (a bad moment passes), then the
 * run stops with exit 3 and nothing decided from it.
 */
import type { HttpClient, RequestOptions } from '../../src/http/client.js';
import { HttpError } from '../../src/http/errors.js';
import { appError } from '../../src/errors.js';

/** Requests per call before an unexpected answer stops the run. */
export const UNEXPECTED_ATTEMPTS = 3;

/** A short description of a body, fit for an error message (an HTML page by its title). */
export function describeBody(body: unknown): string {
  if (body === undefined || body === null || body === '') return 'an empty answer';
  if (typeof body === 'string') {
    if (/^\s*</.test(body)) {
      const title = /<title[^>]*>([^<]{0,80})/i.exec(body)?.[1]?.trim();
      return `an HTML page${title ? ` ("${title}")` : ''}`;
    }
    return `text "${body.slice(0, 60)}${body.length > 60 ? '…' : ''}"`;
  }
  const json = JSON.stringify(body);
  return json.length > 80 ? `${json.slice(0, 80)}…` : json;
}

/** HubSpot's own 404 for unknown records: its JSON error with category OBJECT_NOT_FOUND. */
export function isHubSpotNotFound(err: unknown): boolean {
  if (!(err instanceof HttpError) || err.status !== 404) return false;
  const body = err.body as { category?: unknown } | null;
  return typeof body === 'object' && body !== null && body.category === 'OBJECT_NOT_FOUND';
}

/**
 * A request whose answer must pass `valid` (the shape the API documents).
 * `notFound` answers for HubSpot's own 404 when the caller takes it as "none".
 * Anything else that is not valid (another 404 included) is asked again, then
 * thrown as an app error naming the answer.
 */
export async function expectAnswer<T, B>(http: HttpClient, method: 'GET' | 'POST', path: string, opts: RequestOptions,
  valid: (body: unknown) => body is B, pick: (body: B) => T, notFound?: () => T): Promise<T> {
  let last = '';
  for (let attempt = 1; attempt <= UNEXPECTED_ATTEMPTS; attempt++) {
    try {
      const res = method === 'GET' ? await http.get<unknown>(path, opts) : await http.post<unknown>(path, opts);
      if (valid(res.body)) return pick(res.body);
      last = `${res.status} with ${describeBody(res.body)}`;
    } catch (err) {
      if (notFound && isHubSpotNotFound(err)) return notFound();
      if (!(err instanceof HttpError && err.status === 404)) throw err;
      last = `404 with ${describeBody(err.body)}`;
    }
  }
  throw appError('HUBSPOT_UNEXPECTED_ANSWER',
    `HubSpot answered ${last} to ${method} ${path} (${UNEXPECTED_ATTEMPTS} times), not the answer its API documents: nothing was decided from it`, {
      hint: 'HubSpot, or a proxy in between, is having a bad moment (an outage page?); the next run tries again. Check `base_url` if it lasts',
      transient: true,
    });
}

/** `{ results: [...] }`, the shape of batch read and property listings. */
export const hasResults = (body: unknown): body is { results: unknown[] } =>
  typeof body === 'object' && body !== null && Array.isArray((body as { results?: unknown }).results);
