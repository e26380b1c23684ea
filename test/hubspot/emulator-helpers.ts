/** Starts the bundled emulator and a connector pointed at it. */
import { startEmulator, type Emulator, type EmulatorOptions } from '../../fixtures/hubspot-emulator/server.js';
import { createHubSpotConnector, type HubSpotConnector, type HubSpotOptions } from '../../connectors/hubspot/index.js';
import type { ReadBatch, ReadOptions } from '../../src/connector.js';

export const TOKEN = 'pat-na1-test-0123456789abcdef';

export interface Setup {
  emu: Emulator;
  conn: HubSpotConnector;
  waits: Array<[string, number]>;
  connect(extra?: Record<string, unknown>, options?: HubSpotOptions): HubSpotConnector;
  close(): Promise<void>;
}

/** Fast retries for tests; the emulator's search limit is the real 5/s unless raised. */
export const FAST: HubSpotOptions = { retry: { baseDelayMs: 5, maxDelayMs: 50, lockedWaitMs: 50 } };

export async function setup(emuOpts: EmulatorOptions = {}, options: HubSpotOptions = {}): Promise<Setup> {
  const emu = await startEmulator({ port: 0, token: TOKEN, ...emuOpts });
  const waits: Array<[string, number]> = [];
  const made: HubSpotConnector[] = [];
  const connect = (extra: Record<string, unknown> = {}, opts: HubSpotOptions = options) => {
    const c = createHubSpotConnector(
      { name: 'hubspot', app: 'hubspot', baseDir: '.', token: TOKEN, base_url: emu.url, ...extra },
      { onWait: (reason, ms) => waits.push([reason, ms]) },
      { ...FAST, ...opts, retry: { ...FAST.retry, ...opts.retry } },
    );
    made.push(c);
    return c;
  };
  const conn = connect();
  return {
    emu, conn, waits, connect,
    close: async () => {
      for (const c of made) await c.close();
      await emu.close();
    },
  };
}

export async function readAll(conn: HubSpotConnector, object: string, opts: ReadOptions): Promise<{ batches: ReadBatch[]; cursor: string | null }> {
  const batches: ReadBatch[] = [];
  for await (const b of conn.read(object, opts)) batches.push(b);
  return { batches, cursor: batches.reduce<string | null>((c, b) => b.cursor ?? c, opts.since) };
}

export async function admin(emu: Emulator, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${emu.url}${path}`, {
    method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`admin ${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}
