/**
 * The receiver's v3 check (connectors/hubspot/webhooks.ts) against
 * HubSpot's documented rules (reference §10; "Validating requests", v3):
 * only the listed %-sequences of the URI are decoded, the timestamp may be
 * at most 5 minutes old, the secret and every byte of method, URI and body
 * count. The signer here is written out from the documentation, not the
 * emulator's.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkSignature, eventHint, parseListen } from '../../connectors/hubspot/webhooks.js';

const SECRET = 'secret-of-the-app';
const sign = (uriAsSigned: string, body: string, ts: string, secret = SECRET) =>
  createHmac('sha256', secret).update(`POST${uriAsSigned}${body}${ts}`, 'utf8').digest('base64');

describe('X-HubSpot-Signature-v3', () => {
  const body = '[{"eventId":1,"subscriptionType":"contact.creation","objectId":5}]';
  const now = 1_764_000_000_000;
  const ts = String(now - 1000);

  it('decodes exactly %3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B of the URI, nothing else', () => {
    const sent = 'https://sync.example.com/hooks?a=%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B&b=x%20y%26z';
    const signed = "https://sync.example.com/hooks?a=:/?@!$'()*,;&b=x%20y%26z";
    expect(checkSignature({ clientSecret: SECRET, method: 'POST', uri: sent, body, timestamp: ts, signature: sign(signed, body, ts), nowMs: now })).toEqual({ ok: true });
    // %20 and %26 stay encoded when HubSpot signs: a fully decoded URI is another signature.
    const overDecoded = 'https://sync.example.com/hooks?a=:/?@!$\'()*,;&b=x y&z';
    expect(checkSignature({ clientSecret: SECRET, method: 'POST', uri: sent, body, timestamp: ts, signature: sign(overDecoded, body, ts), nowMs: now }).ok).toBe(false);
  });

  it('refuses a timestamp older than 5 minutes, takes one of exactly 5 minutes', () => {
    const uri = 'https://sync.example.com/hooks';
    const old = String(now - 300_001);
    expect(checkSignature({ clientSecret: SECRET, method: 'POST', uri, body, timestamp: old, signature: sign(uri, body, old), nowMs: now }))
      .toMatchObject({ ok: false, reason: expect.stringMatching(/older|old/) });
    const edge = String(now - 300_000);
    expect(checkSignature({ clientSecret: SECRET, method: 'POST', uri, body, timestamp: edge, signature: sign(uri, body, edge), nowMs: now }).ok).toBe(true);
  });

  it('refuses another secret, another body, another method, a missing header', () => {
    const uri = 'https://sync.example.com/hooks';
    const good = sign(uri, body, ts);
    const check = (over: Partial<Parameters<typeof checkSignature>[0]>) =>
      checkSignature({ clientSecret: SECRET, method: 'POST', uri, body, timestamp: ts, signature: good, nowMs: now, ...over }).ok;
    expect(check({})).toBe(true);
    expect(check({ clientSecret: 'other' })).toBe(false);
    expect(check({ body: body.replace('5', '6') })).toBe(false);
    expect(check({ method: 'PUT' })).toBe(false);
    expect(check({ signature: undefined })).toBe(false);
    expect(check({ timestamp: undefined })).toBe(false);
    expect(check({ signature: 'AAAA' })).toBe(false);
  });
});

describe('events and settings', () => {
  it('names the records of an event: objectId, and for a merge the survivor and every merged id', () => {
    expect(eventHint({ eventId: 9, subscriptionType: 'company.propertyChange', objectId: 12, propertyName: 'name' })).toEqual({ eventId: '9', object: 'companies', ids: ['12'] });
    expect(eventHint({ eventId: 10, subscriptionType: 'contact.merge', objectId: 1, primaryObjectId: 1, mergedObjectIds: [2, 3], newObjectId: 7 }))
      .toEqual({ eventId: '10', object: 'contacts', ids: ['1', '7', '2', '3'] });
    expect(eventHint({ eventId: 11, subscriptionType: 'object.creation', objectTypeId: '0-3', objectId: 4 })).toEqual({ eventId: '11', object: 'deals', ids: ['4'] });
    expect(eventHint({ subscriptionType: 'contact.creation', objectId: 4 })).toBeNull();
    expect(eventHint('nonsense')).toBeNull();
  });

  it('reads HOST:PORT, IPv6 in brackets', () => {
    expect(parseListen('127.0.0.1:8480')).toEqual({ host: '127.0.0.1', port: 8480 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListen('localhost')).toBeNull();
    expect(parseListen('h:99999')).toBeNull();
  });
});
