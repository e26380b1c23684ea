/**
 * The `hubspot` connection block (SPEC §3):
 *
 *   app: hubspot
 *   token: ${HUBSPOT_TOKEN}             # a private-app token, or
 *   oauth: { client_id, client_secret, refresh_token, access_token?, expires_at? }
 *   base_url: http://127.0.0.1:4010     # optional, default https://api.hubapi.com
 *   overlap_ms: 300000                  # optional: how far back each incremental read starts (default 5 min, see DEFAULT_OVERLAP_MS)
 *   timeout_ms: 60000                   # optional: per request, headers and body (default 60 s)
 *   max_wait: 15m                       # optional: the most time one run waits on HubSpot in all (rate limits, retries)
 *   deletion_check: 1h                  # optional: how often the deletion check reads every linked record (default 1h; 0 = every pass)
 *   daily_reserve: 10%                  # optional: daily calls left to the account's other apps (a count or a %; 0 = off)
 *
 * A credential stored by `datasync connect` arrives as `credential:` with the
 * same shape (`{ token }` or `{ oauth: {...} }`) and wins over the YAML keys.
 */
import type { ConnectionConfig } from '../../src/connector.js';
import { DURATION_HINT, parseDuration } from '../../src/config/duration.js';
import { configError } from '../../src/errors.js';
import { DEFAULT_DAILY_RESERVE, parseDailyReserve, type DailyReserve } from '../../src/http/daily-budget.js';

export const DEFAULT_BASE_URL = 'https://api.hubapi.com';

/**
 * The look-back of every incremental read: search lags behind writes, and
 * not in order (reference §3.7: "a few moments"; integrators report minutes
 * and out-of-order results: estuary/connectors#1861 and #1549 hold realtime
 * HubSpot data back by 5 minutes, airbytehq/airbyte#69203 added a look-back
 * in minutes after missed records). Five minutes also matches HubSpot's
 * guidance to poll no more often than every 5 minutes (reference §4.1), so a
 * `watch` pass re-reads at most about one interval. Re-reading the window
 * costs searches, not writes: the cursor remembers what it delivered there.
 */
export const DEFAULT_OVERLAP_MS = 5 * 60_000;

export interface OAuthCredential {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  accessToken?: string;
  /** Epoch ms when the access token expires. */
  expiresAt?: number;
}

export type HubSpotCredential = { kind: 'token'; token: string } | ({ kind: 'oauth' } & OAuthCredential);

export interface HubSpotSettings {
  name: string;
  baseUrl: string;
  credential: HubSpotCredential;
  overlapMs: number;
  timeoutMs?: number;
  /** The most time a run waits on HubSpot in all (rate limits, backoffs) before it gives up (exit 3). */
  maxWaitMs: number;
  /** At most one deletion check (a batch read per 100 linked records) per this many ms per sync side. */
  deletionCheckMs: number;
  dailyReserve: DailyReserve;
}

/**
 * The default deletion check: hourly. At 100,000 linked contacts a check is
 * 1,000 calls, so a 5-minute `watch` spends 24,000 calls a day on it instead
 * of 288,000 (more than a Starter account's 250,000 daily budget).
 */
export const DEFAULT_DELETION_CHECK_MS = 3_600_000;

export function parseSettings(config: ConnectionConfig): HubSpotSettings {
  const where = `connections.${config.name}`;
  const stored = isObject(config.credential) ? config.credential : undefined;
  const source: Record<string, unknown> = stored ?? config;

  const baseUrl = config.base_url === undefined ? DEFAULT_BASE_URL : String(config.base_url);
  try {
    const u = new URL(baseUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw configError('CONFIG_INVALID', `${where}.base_url: "${baseUrl}" is not an http(s) URL`, { hint: 'e.g. base_url: http://127.0.0.1:4010' });
  }

  let overlapMs = DEFAULT_OVERLAP_MS;
  if (config.overlap_ms !== undefined) {
    overlapMs = Number(config.overlap_ms);
    if (!Number.isInteger(overlapMs) || overlapMs < 0) {
      throw configError('CONFIG_INVALID', `${where}.overlap_ms: expected a whole number of milliseconds ≥ 0`);
    }
  }

  let timeoutMs: number | undefined;
  if (config.timeout_ms !== undefined) {
    timeoutMs = Number(config.timeout_ms);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 100) {
      throw configError('CONFIG_INVALID', `${where}.timeout_ms: expected a whole number of milliseconds ≥ 100`);
    }
  }

  let dailyReserve = DEFAULT_DAILY_RESERVE;
  if (config.daily_reserve !== undefined) {
    const parsed = parseDailyReserve(config.daily_reserve);
    if (!parsed) throw configError('CONFIG_INVALID', `${where}.daily_reserve: expected a number of calls (e.g. 20000) or a share such as 10%`);
    dailyReserve = parsed;
  }

  let deletionCheckMs = DEFAULT_DELETION_CHECK_MS;
  if (config.deletion_check !== undefined) {
    const raw = config.deletion_check;
    const ms = raw === 0 || raw === '0' ? 0 : parseDuration(raw as string | number);
    if (ms === null) throw configError('CONFIG_INVALID', `${where}.deletion_check: expected ${DURATION_HINT}, or 0 for every pass`);
    deletionCheckMs = ms;
  }

  let maxWaitMs = 15 * 60_000;
  if (config.max_wait !== undefined) {
    const ms = parseDuration(config.max_wait as string | number);
    if (ms === null) throw configError('CONFIG_INVALID', `${where}.max_wait: expected ${DURATION_HINT}`);
    maxWaitMs = ms;
  }

  return { name: config.name, baseUrl: baseUrl.replace(/\/+$/, ''), credential: parseCredential(source, where), overlapMs, timeoutMs, deletionCheckMs, dailyReserve, maxWaitMs };
}

function parseCredential(source: Record<string, unknown>, where: string): HubSpotCredential {
  if (isObject(source.oauth)) {
    const o = source.oauth;
    const need = (key: string): string => {
      const v = o[key];
      if (typeof v !== 'string' || v.trim() === '') {
        throw configError('CONFIG_INVALID', `${where}.oauth.${key}: required for OAuth`, { hint: 'or use token: ${HUBSPOT_TOKEN} with a private-app token' });
      }
      return v.trim();
    };
    const cred: HubSpotCredential = {
      kind: 'oauth', clientId: need('client_id'), clientSecret: need('client_secret'), refreshToken: need('refresh_token'),
    };
    if (typeof o.access_token === 'string' && o.access_token !== '') cred.accessToken = o.access_token;
    if (o.expires_at !== undefined) {
      const ms = typeof o.expires_at === 'number' ? o.expires_at : /^\d+$/.test(String(o.expires_at)) ? Number(o.expires_at) : Date.parse(String(o.expires_at));
      if (!Number.isFinite(ms)) throw configError('CONFIG_INVALID', `${where}.oauth.expires_at: expected epoch ms or an ISO date`);
      cred.expiresAt = ms;
    }
    return cred;
  }
  const token = source.token;
  if (typeof token === 'string' && token.trim() !== '') return { kind: 'token', token: token.trim() };
  throw configError('CONFIG_INVALID', `${where}: no HubSpot credential; set token: \${HUBSPOT_TOKEN} or an oauth: block`, {
    hint: 'or run `datasync connect hubspot` to store one',
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
