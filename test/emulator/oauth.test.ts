import { afterEach, describe, expect, it } from 'vitest';
import { type Api, start } from './helpers.js';

let api: Api;
afterEach(async () => api?.emu.close());

const client = { clientId: 'client-1', clientSecret: 'secret-1' };
const redirectUri = 'http://127.0.0.1:9/callback';

async function token(version: 'v1' | 'v3', form: Record<string, string>) {
  const res = await fetch(`${api.emu.url}/oauth/${version}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function authorize(): Promise<string> {
  const q = new URLSearchParams({ client_id: client.clientId, redirect_uri: redirectUri, state: 'xyz', scope: 'oauth crm.objects.contacts.read' });
  const res = await fetch(`${api.emu.url}/oauth/authorize?${q}`, { redirect: 'manual' });
  expect(res.status).toBe(302);
  const location = new URL(res.headers.get('location') ?? '');
  expect(location.origin + location.pathname).toBe(redirectUri);
  expect(location.searchParams.get('state')).toBe('xyz');
  return location.searchParams.get('code') ?? '';
}

describe('OAuth', () => {
  it('exchanges a code, serves the API with the access token, expires it after 1800 s, and refreshes', async () => {
    api = await start({ oauth: client });
    const code = await authorize();
    const granted = await token('v1', { grant_type: 'authorization_code', client_id: client.clientId, client_secret: client.clientSecret, redirect_uri: redirectUri, code });
    expect(granted.status).toBe(200);
    expect(granted.body).toMatchObject({ token_type: 'bearer', expires_in: 1800, access_token: expect.any(String), refresh_token: expect.any(String) });
    const access = granted.body['access_token'] as string;
    const ok = await api.call('GET', '/crm/v3/objects/contacts', undefined, access);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-hubspot-ratelimit-max')).not.toBeNull();
    expect(ok.headers.get('x-hubspot-ratelimit-daily')).toBeNull(); // not sent for OAuth apps

    const reused = await token('v1', { grant_type: 'authorization_code', client_id: client.clientId, client_secret: client.clientSecret, redirect_uri: redirectUri, code });
    expect(reused.status).toBe(400);
    expect(reused.body).toMatchObject({ error: 'invalid_grant', status: 'BAD_AUTH_CODE' });

    api.emu.clock.advance(1799_000);
    expect((await api.call('GET', '/crm/v3/objects/contacts', undefined, access)).status).toBe(200);
    api.emu.clock.advance(1_000);
    const expired = await api.call('GET', '/crm/v3/objects/contacts', undefined, access);
    expect(expired.status).toBe(401);
    expect(expired.body.category).toBe('INVALID_AUTHENTICATION');

    const refreshed = await token('v3', { grant_type: 'refresh_token', client_id: client.clientId, client_secret: client.clientSecret, refresh_token: granted.body['refresh_token'] });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body['access_token']).not.toBe(access);
    expect((await api.call('GET', '/crm/v3/objects/contacts', undefined, refreshed.body['access_token'])).status).toBe(200);
  });

  it('answers a bad refresh token with invalid_grant / BAD_REFRESH_TOKEN', async () => {
    api = await start({ oauth: client });
    const res = await token('v3', { grant_type: 'refresh_token', client_id: client.clientId, client_secret: client.clientSecret, refresh_token: 'nope' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_grant', status: 'BAD_REFRESH_TOKEN', error_description: expect.any(String), message: expect.any(String) });
    const badSecret = await token('v1', { grant_type: 'refresh_token', client_id: client.clientId, client_secret: 'wrong', refresh_token: 'nope' });
    expect(badSecret.body).toMatchObject({ error: 'invalid_client' });
  });

  it('expires every access token on demand', async () => {
    api = await start({ oauth: client });
    const code = await authorize();
    const granted = await token('v3', { grant_type: 'authorization_code', client_id: client.clientId, client_secret: client.clientSecret, redirect_uri: redirectUri, code });
    expect((await api.call('POST', '/_emulator/tokens/expire', undefined, null)).body).toEqual({ expired: 1 });
    expect((await api.call('GET', '/crm/v3/objects/contacts', undefined, granted.body['access_token'])).status).toBe(401);
  });

  it('serves no OAuth endpoints when no client is configured', async () => {
    api = await start();
    expect((await token('v1', { grant_type: 'refresh_token' })).status).toBe(404);
  });
});
