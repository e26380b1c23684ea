/**
 * The `dynamics` connection block:
 *
 *   app: dynamics
 *   url: https://contoso.crm.dynamics.com    # the organisation (environment) URL
 *   tenant: ${DYNAMICS_TENANT}               # Microsoft Entra tenant id or domain
 *   client_id: ${DYNAMICS_CLIENT_ID}         # the app registration (an application user in the org)
 *   client_secret: ${DYNAMICS_CLIENT_SECRET}
 *   token_url: http://127.0.0.1:4020/t/oauth2/v2.0/token   # optional; default login.microsoftonline.com
 *   page_size: 5000                          # optional, Prefer: odata.maxpagesize (at most 5,000)
 *   batch_size: 100                          # optional, operations per $batch (at most 1,000)
 *   timeout_ms: 60000                        # optional, how long one request may take
 *   max_wait: 15m                            # optional, the most time one run waits on the organisation in all
 *
 * A credential stored by `datasync connect` arrives as `credential:` with
 * the same keys and wins over the YAML ones.
 */
import type { ConnectionConfig } from '../../src/connector.js';
import { DURATION_HINT, parseDuration } from '../../src/config/duration.js';
import { configError } from '../../src/errors.js';

export interface DynamicsSettings {
  name: string;
  /** Organisation URL without trailing slash. */
  url: string;
  tenant: string;
  clientId: string;
  clientSecret: string;
  tokenUrl: string;
  scope: string;
  pageSize: number;
  batchSize: number;
  /** Per request attempt (headers and body). */
  timeoutMs: number;
  /** The most time one run waits on the organisation in all (HttpClientOptions.maxTotalWaitMs). */
  maxWaitMs: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function httpUrl(where: string, key: string, value: unknown): string {
  const text = String(value ?? '').trim();
  try {
    const u = new URL(text);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw configError('CONFIG_INVALID', `${where}.${key}: "${text}" is not an http(s) URL`, { hint: `e.g. ${key}: https://contoso.crm.dynamics.com` });
  }
  return text.replace(/\/+$/, '');
}

function wholeIn(where: string, key: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw configError('CONFIG_INVALID', `${where}.${key}: expected a whole number from 1 to ${max}`);
  return n;
}

export function parseSettings(config: ConnectionConfig): DynamicsSettings {
  const where = `connections.${config.name}`;
  const source: Record<string, unknown> = { ...config, ...(isObject(config.credential) ? config.credential : {}) };
  if (source.url === undefined) throw configError('CONFIG_INVALID', `${where}.url: required (the organisation URL)`, { hint: 'e.g. url: https://contoso.crm.dynamics.com' });
  const url = httpUrl(where, 'url', source.url);
  const need = (key: string): string => {
    const v = source[key];
    if (typeof v !== 'string' || v.trim() === '') {
      throw configError('CONFIG_INVALID', `${where}.${key}: required for the client credentials sign-in`, { hint: `e.g. ${key}: \${DYNAMICS_${key.toUpperCase()}}` });
    }
    return v.trim();
  };
  const tenant = need('tenant');
  return {
    name: config.name,
    url,
    tenant,
    clientId: need('client_id'),
    clientSecret: need('client_secret'),
    tokenUrl: source.token_url === undefined ? `https://login.microsoftonline.com/${encodeURIComponent(tenant)}/oauth2/v2.0/token` : httpUrl(where, 'token_url', source.token_url),
    scope: `${url}/.default`,
    pageSize: wholeIn(where, 'page_size', source.page_size, 5000, 5000),
    batchSize: wholeIn(where, 'batch_size', source.batch_size, 100, 1000),
    timeoutMs: timeoutOf(where, source.timeout_ms),
    maxWaitMs: maxWaitOf(where, source.max_wait),
  };
}

function timeoutOf(where: string, value: unknown): number {
  if (value === undefined) return 60_000;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 100) throw configError('CONFIG_INVALID', `${where}.timeout_ms: expected a whole number of milliseconds ≥ 100`);
  return n;
}

function maxWaitOf(where: string, value: unknown): number {
  if (value === undefined) return 15 * 60_000;
  const ms = typeof value === 'string' || typeof value === 'number' ? parseDuration(value) : null;
  if (ms === null) throw configError('CONFIG_INVALID', `${where}.max_wait: expected ${DURATION_HINT}`, { hint: 'e.g. max_wait: 15m' });
  return ms;
}
