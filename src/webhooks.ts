/**
 * The webhook receiver of `watch` (issue 18): an HTTP server per listen
 * address that takes HubSpot's event POSTs, checks each request's v3
 * signature (connectors/hubspot/webhooks.ts), answers at once (HubSpot
 * retries anything slower than 5 s or not 2xx), and gathers the record ids
 * the events name for the watcher's next targeted pass.
 *
 * Events are hints. Nothing here reads or writes a record: the targeted pass
 * reads the records from HubSpot itself, and polling stays the source of
 * truth. So memory is bounded by dropping, never by blocking: the event ids
 * seen (for de-duplication) are the last `DEDUP_IDS`, and past
 * `MAX_PENDING` record ids waiting for a pass the hints are dropped and a
 * full pass is asked for instead (`overflowed`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkSignature, eventHint, type WebhookSettings } from '../connectors/hubspot/webhooks.js';
import type { WebhookRow } from './state/store.js';

/** Event ids remembered for de-duplication (HubSpot retries a delivery for up to 24 hours). */
export const DEDUP_IDS = 100_000;
/** Record ids waiting for a targeted pass, at most; past it, a full pass instead. */
export const MAX_PENDING = 100_000;
/** The largest request body taken (HubSpot sends at most 100 events per request: a few tens of KB). */
export const MAX_BODY = 5 * 1024 * 1024;

/** One receiver's counters, as the state keeps them (`minutes`: events per minute of the last 15, epoch minute → count). */
export type WebhookStats = WebhookRow;

interface Endpoint { settings: WebhookSettings; stats: WebhookStats }

export class WebhookHub {
  private readonly endpoints = new Map<string, Endpoint>(); // `${host}:${port} ${path}` → endpoint
  private readonly servers: Server[] = [];
  private readonly seen = new Map<string, true>();
  private pending = new Map<string, Map<string, Set<string>>>(); // connection → object → ids
  private pendingCount = 0;
  private firstPendingAt = 0;
  /** More hints came than a pass is worth: a full pass reads them all. */
  overflowed = false;
  /** Set by every change of the stats (the watcher writes them to the state). */
  dirty = false;
  private wake: (() => void) | null = null;

  constructor(private readonly log: (line: string) => void, private readonly now: () => number = Date.now) {}

  /** Starts a server per listen address; answers the URL of each endpoint. */
  async start(all: WebhookSettings[]): Promise<string[]> {
    const byAddress = new Map<string, WebhookSettings[]>();
    for (const s of all) {
      const key = `${s.host}:${s.port}`;
      (byAddress.get(key) ?? byAddress.set(key, []).get(key)!).push(s);
    }
    const urls: string[] = [];
    for (const group of byAddress.values()) {
      const { host, port } = group[0]!;
      const routes = new Map<string, Endpoint>();
      const server = createServer((req, res) => this.handle(routes, req, res));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => { server.off('error', reject); resolve(); });
      });
      this.servers.push(server);
      const bound = (server.address() as AddressInfo).port;
      const shown = host.includes(':') ? `[${host}]` : host;
      for (const settings of group) {
        const url = `http://${shown}:${bound}${settings.path}`;
        const endpoint: Endpoint = { settings, stats: emptyStats(settings.connection, url) };
        routes.set(settings.path, endpoint);
        this.endpoints.set(`${host}:${bound} ${settings.path}`, endpoint);
        urls.push(url);
      }
    }
    return urls;
  }

  stats(): WebhookStats[] {
    return [...this.endpoints.values()].map((e) => ({ ...e.stats, minutes: { ...e.stats.minutes } }));
  }

  /** Record ids waiting for a targeted pass. */
  get waiting(): number {
    return this.pendingCount;
  }

  /** ms since the first hint still waiting arrived (0: none waiting). */
  waitingFor(): number {
    return this.pendingCount === 0 ? 0 : this.now() - this.firstPendingAt;
  }

  /** Resolves on the next hint (or at once when some are waiting or overflowed). */
  nextHint(): Promise<void> {
    if (this.pendingCount > 0 || this.overflowed) return Promise.resolve();
    return new Promise((resolve) => { this.wake = resolve; });
  }

  /** Stops waiting for a hint (the watcher woke for another reason). */
  cancelWait(): void {
    this.wake = null;
  }

  /**
   * Takes up to `max` waiting record ids for one targeted pass:
   * connection → object → ids. The rest wait for the next pass.
   */
  drain(max: number): Map<string, Map<string, string[]>> {
    const out = new Map<string, Map<string, string[]>>();
    let taken = 0;
    for (const [conn, objects] of this.pending) {
      for (const [object, ids] of objects) {
        const list: string[] = [];
        for (const id of ids) {
          if (taken >= max) break;
          list.push(id);
          ids.delete(id);
          taken++;
        }
        if (list.length > 0) (out.get(conn) ?? out.set(conn, new Map()).get(conn)!).set(object, list);
        if (ids.size === 0) objects.delete(object);
      }
      if (objects.size === 0) this.pending.delete(conn);
    }
    this.pendingCount -= taken;
    if (this.pendingCount > 0) this.firstPendingAt = this.now();
    return out;
  }

  /** A full pass has started: it reads whatever the dropped hints named. */
  clearOverflow(): void {
    this.overflowed = false;
  }

  /** Counts a targeted pass for the connections it served. */
  passDone(connections: Iterable<string>): void {
    const at = new Date(this.now()).toISOString();
    const names = new Set(connections);
    for (const e of this.endpoints.values()) {
      if (!names.has(e.settings.connection)) continue;
      e.stats.targetedPasses++;
      e.stats.lastPassAt = at;
    }
    this.dirty = true;
  }

  async close(): Promise<void> {
    this.wake = null;
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    })));
  }

  private handle(routes: Map<string, Endpoint>, req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]!;
    const endpoint = routes.get(path);
    if (!endpoint) return answer(res, 404, 'not a webhook endpoint of datasync');
    if (req.method !== 'POST') return answer(res, 405, 'POST only');
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        answer(res, 413, 'request too large');
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return;
      this.receive(endpoint, req, res, Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', () => undefined);
  }

  private receive(endpoint: Endpoint, req: IncomingMessage, res: ServerResponse, body: string): void {
    const { settings, stats } = endpoint;
    const header = (name: string) => { const v = req.headers[name]; return Array.isArray(v) ? v[0] : v; };
    // The URI HubSpot signed: the URL it called. Behind a proxy that is `url` (with the query string as received).
    const query = (req.url ?? '').includes('?') ? (req.url ?? '').slice((req.url ?? '').indexOf('?')) : '';
    const uri = settings.url ? settings.url.split('?')[0] + query : `http://${header('host') ?? `${settings.host}:${settings.port}`}${req.url ?? ''}`;
    const check = checkSignature({
      clientSecret: settings.clientSecret, method: req.method ?? 'POST', uri, body,
      timestamp: header('x-hubspot-request-timestamp'), signature: header('x-hubspot-signature-v3'), nowMs: this.now(),
    });
    if (!check.ok) {
      stats.signatureFailures++;
      stats.lastFailureAt = new Date(this.now()).toISOString();
      stats.lastFailure = check.reason;
      this.dirty = true;
      this.log(`webhooks ${settings.connection}: refused a request from ${req.socket.remoteAddress ?? '?'} with 401: ${check.reason}`);
      return answer(res, 401, 'invalid signature');
    }
    let events: unknown;
    try {
      events = JSON.parse(body);
    } catch {
      this.log(`webhooks ${settings.connection}: a signed request whose body is not JSON, ignored`);
      return answer(res, 400, 'expected a JSON array of events');
    }
    // Answered before anything else happens: the pass it triggers runs on its own time.
    answer(res, 204);
    const list = Array.isArray(events) ? events : [events];
    let added = 0;
    const minute = String(Math.floor(this.now() / 60_000));
    for (const e of list) {
      const hint = eventHint(e);
      if (!hint) continue;
      if (this.seen.has(hint.eventId)) {
        stats.duplicates++;
        continue;
      }
      this.remember(hint.eventId);
      stats.events++;
      stats.minutes[minute] = (stats.minutes[minute] ?? 0) + 1;
      for (const id of hint.ids) added += this.hint(settings.connection, hint.object, id);
    }
    stats.lastEventAt = new Date(this.now()).toISOString();
    pruneMinutes(stats.minutes, Number(minute));
    this.dirty = true;
    if (added > 0 || this.overflowed) {
      const wake = this.wake;
      this.wake = null;
      wake?.();
    }
  }

  private remember(eventId: string): void {
    this.seen.set(eventId, true);
    if (this.seen.size > DEDUP_IDS) this.seen.delete(this.seen.keys().next().value!);
  }

  /** 1 when the id was not waiting yet. */
  private hint(connection: string, object: string, id: string): number {
    if (this.overflowed) return 0;
    const objects = this.pending.get(connection) ?? this.pending.set(connection, new Map()).get(connection)!;
    const ids = objects.get(object) ?? objects.set(object, new Set()).get(object)!;
    if (ids.has(id)) return 0;
    if (this.pendingCount >= MAX_PENDING) {
      // Too many to read one by one: drop them all, a full pass reads every change anyway.
      this.pending.clear();
      this.pendingCount = 0;
      this.overflowed = true;
      this.log(`webhooks: more than ${MAX_PENDING} records waiting for a targeted pass; a full pass instead`);
      return 0;
    }
    if (this.pendingCount === 0) this.firstPendingAt = this.now();
    ids.add(id);
    this.pendingCount++;
    return 1;
  }
}

function answer(res: ServerResponse, status: number, text?: string): void {
  if (res.headersSent) return;
  res.writeHead(status, text ? { 'content-type': 'text/plain; charset=utf-8' } : {});
  res.end(text);
}

function emptyStats(connection: string, url: string): WebhookStats {
  return {
    connection, url, events: 0, duplicates: 0, signatureFailures: 0, lastEventAt: null, lastFailureAt: null, lastFailure: null,
    targetedPasses: 0, lastPassAt: null, minutes: {},
  };
}

function pruneMinutes(minutes: Record<string, number>, current: number): void {
  for (const k of Object.keys(minutes)) if (Number(k) < current - 15) delete minutes[k];
}
