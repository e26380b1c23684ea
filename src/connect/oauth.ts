/**
 * HubSpot's OAuth authorization-code flow for `connect hubspot --oauth`:
 * the authorize URL a person opens, and the exchange of the code they bring
 * back for a refresh token (stored in the state, never printed).
 */
import { appError, configError } from '../errors.js';

export const DEFAULT_AUTHORIZE_BASE = 'https://app.hubspot.com';
export const DEFAULT_REDIRECT_URI = 'http://localhost:3000/oauth-callback';
const SCOPES = [
  'crm.objects.contacts.read', 'crm.objects.contacts.write',
  'crm.objects.companies.read', 'crm.objects.companies.write',
  'crm.objects.deals.read', 'crm.objects.deals.write',
  'crm.schemas.contacts.read', 'crm.schemas.companies.read', 'crm.schemas.deals.read',
];

export interface OAuthClientInfo { clientId: string; clientSecret: string; redirectUri: string }

export function authorizeUrl(base: string, client: OAuthClientInfo): string {
  const url = new URL('/oauth/authorize', base);
  url.searchParams.set('client_id', client.clientId);
  url.searchParams.set('redirect_uri', client.redirectUri);
  url.searchParams.set('scope', SCOPES.join(' '));
  return url.toString();
}

/** The code itself, or the `code` parameter of the URL the browser landed on. */
export function codeFrom(answer: string): string {
  const t = answer.trim();
  if (/^https?:\/\//.test(t)) {
    const code = new URL(t).searchParams.get('code');
    if (!code) throw configError('NO_OAUTH_CODE', 'that URL has no code= parameter', { hint: 'paste the whole URL HubSpot redirected to, or just its code' });
    return code;
  }
  if (!t) throw configError('NO_OAUTH_CODE', 'no authorization code given', { hint: 'pass --code CODE, or paste it when asked' });
  return t;
}

export async function exchangeCode(apiBase: string, client: OAuthClientInfo, code: string) {
  const body = new URLSearchParams({
    grant_type: 'authorization_code', client_id: client.clientId, client_secret: client.clientSecret,
    redirect_uri: client.redirectUri, code,
  });
  let res: Response;
  try {
    res = await fetch(new URL('/oauth/v1/token', apiBase), {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body,
    });
  } catch (err) {
    throw appError('APP_UNREACHABLE', `HubSpot at ${apiBase} could not be reached: ${(err as Error).message}`, { transient: true });
  }
  const json = await res.json().catch(() => ({})) as Record<string, unknown>;
  if (!res.ok || typeof json.refresh_token !== 'string') {
    const why = typeof json.message === 'string' ? json.message : `HTTP ${res.status}`;
    throw appError('AUTH_FAILED', `HubSpot refused the authorization code: ${why}`, { hint: 'codes are single-use and short-lived: open the authorize URL again' });
  }
  const expiresIn = typeof json.expires_in === 'number' ? json.expires_in : 1800;
  return {
    client_id: client.clientId,
    client_secret: client.clientSecret,
    refresh_token: json.refresh_token,
    access_token: typeof json.access_token === 'string' ? json.access_token : undefined,
    expires_at: Date.now() + expiresIn * 1000,
  };
}
