/**
 * HubSpot's webhooks as `watch` receives them (reference §10): the
 * connection's `webhooks:` block, the v3 signature check, and what a batch
 * of events asks a targeted pass to read.
 *
 *   webhooks:
 *     client_secret: ${HUBSPOT_CLIENT_SECRET}   # the app's client secret (signs every request)
 *     listen: 127.0.0.1:8480                    # optional; loopback by default
 *     path: /hubspot/webhooks                   # optional; /<connection name>/webhooks by default
 *     url: https://sync.example.com/hubspot/webhooks   # optional: the URL HubSpot calls (behind a proxy)
 *
 * Validating v3 (developers.hubspot.com/docs/api/webhooks/validating-requests):
 * refuse a timestamp older than 5 minutes; decode only `%3A %2F %3F %40 %21
 * %24 %27 %28 %29 %2A %2C %3B` in the full request URI; HMAC-SHA256 keyed
 * with the client secret over method + uri + raw body + timestamp (UTF-8),
 * base64; compare in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { configError } from '../../src/errors.js';

export const DEFAULT_LISTEN = '127.0.0.1:8480';
/** The default path: `/<connection name>/webhooks`, e.g. `/hubspot/webhooks`. */
export const defaultPath = (connection: string) => `/${connection}/webhooks`;
/** HubSpot: "Reject the request if the timestamp is older than 5 minutes." */
export const MAX_AGE_MS = 5 * 60_000;

export interface WebhookSettings {
  connection: string;
  clientSecret: string;
  host: string;
  port: number;
  path: string;
  /** The URL HubSpot calls, when it is not what the receiver sees (a proxy in front). */
  url?: string;
}

/** `HOST:PORT` (IPv6 in brackets) → host and port; null when it is not one. */
export function parseListen(text: string): { host: string; port: number } | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text.trim());
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  return { host: m[1] ?? m[2]!, port };
}

/** The `webhooks:` block of a HubSpot connection, or null when it has none. */
export function parseWebhookSettings(connection: string, raw: unknown): WebhookSettings | null {
  if (raw === undefined || raw === null) return null;
  const where = `connections.${connection}.webhooks`;
  const o = raw as Record<string, unknown>;
  const secret = o.client_secret;
  if (typeof secret !== 'string' || secret.trim() === '') {
    throw configError('CONFIG_INVALID', `${where}.client_secret: the HubSpot app's client secret is required to check the signature of its webhooks`, {
      hint: 'client_secret: ${HUBSPOT_CLIENT_SECRET} (the app settings, Auth tab)',
    });
  }
  const listen = parseListen(String(o.listen ?? DEFAULT_LISTEN));
  if (!listen) throw configError('CONFIG_INVALID', `${where}.listen: expected HOST:PORT, e.g. 127.0.0.1:8480`);
  const path = String(o.path ?? defaultPath(connection));
  if (!path.startsWith('/')) throw configError('CONFIG_INVALID', `${where}.path: expected a path starting with /, e.g. ${defaultPath(connection)}`);
  let url: string | undefined;
  if (o.url !== undefined) {
    url = String(o.url);
    try {
      if (!/^https?:$/.test(new URL(url).protocol)) throw new Error('not http');
    } catch {
      throw configError('CONFIG_INVALID', `${where}.url: "${url}" is not an http(s) URL`, { hint: 'the public URL set as the app\'s webhook target, e.g. https://sync.example.com/hubspot/webhooks' });
    }
  }
  return { connection, clientSecret: secret.trim(), ...listen, path, ...(url ? { url } : {}) };
}

const DECODE: Readonly<Record<string, string>> = {
  '%3A': ':', '%2F': '/', '%3F': '?', '%40': '@', '%21': '!', '%24': '$',
  '%27': "'", '%28': '(', '%29': ')', '%2A': '*', '%2C': ',', '%3B': ';',
};

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** Checks `X-HubSpot-Signature-v3` of one request. `uri`: the full URL HubSpot called, query string included. */
export function checkSignature(req: {
  clientSecret: string; method: string; uri: string; body: string; timestamp: string | undefined; signature: string | undefined; nowMs?: number;
}): SignatureCheck {
  if (!req.signature) return { ok: false, reason: 'no X-HubSpot-Signature-v3 header' };
  if (!req.timestamp || !/^\d+$/.test(req.timestamp)) return { ok: false, reason: 'no X-HubSpot-Request-Timestamp header' };
  const age = (req.nowMs ?? Date.now()) - Number(req.timestamp);
  if (age > MAX_AGE_MS) return { ok: false, reason: `timestamp ${Math.round(age / 1000)} s old (more than 5 minutes: a replay?)` };
  const uri = req.uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/g, (m) => DECODE[m] ?? m);
  const expected = createHmac('sha256', req.clientSecret).update(req.method + uri + req.body + req.timestamp, 'utf8').digest();
  const given = Buffer.from(req.signature, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad signature (not signed with this client secret)' };
  return { ok: true };
}

const TYPES: Readonly<Record<string, string>> = {
  contact: 'contacts', company: 'companies', deal: 'deals', ticket: 'tickets',
  '0-1': 'contacts', '0-2': 'companies', '0-3': 'deals', '0-5': 'tickets',
};

export interface EventHint {
  eventId: string;
  object: string;
  ids: string[];
}

/** What one event names: its object and the record ids to read again; null for an event that is not about a record. */
export function eventHint(e: unknown): EventHint | null {
  if (e === null || typeof e !== 'object') return null;
  const ev = e as Record<string, unknown>;
  const type = typeof ev.subscriptionType === 'string' ? ev.subscriptionType : '';
  const [prefix = '', kind = ''] = type.split('.');
  const object = prefix === 'object' ? TYPES[String(ev.objectTypeId ?? '')] ?? (ev.objectTypeId ? String(ev.objectTypeId) : undefined) : TYPES[prefix];
  const eventId = ev.eventId === undefined || ev.eventId === null ? '' : String(ev.eventId);
  if (!object || eventId === '') return null;
  const ids: string[] = [];
  const add = (v: unknown) => { if (typeof v === 'number' || (typeof v === 'string' && v !== '')) ids.push(String(v)); };
  add(ev.objectId);
  if (kind === 'merge') {
    add(ev.newObjectId);
    add(ev.primaryObjectId);
    if (Array.isArray(ev.mergedObjectIds)) for (const m of ev.mergedObjectIds) add(m);
  }
  if (kind === 'associationChange') add(ev.fromObjectId);
  return ids.length > 0 ? { eventId, object, ids: [...new Set(ids)] } : null;
}
