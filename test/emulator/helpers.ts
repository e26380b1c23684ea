import { type Emulator, type EmulatorOptions, startEmulator } from '../../fixtures/hubspot-emulator/server.js';

export const TOKEN = 'pat-na1-test-token';

export interface Api {
  emu: Emulator;
  call(method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number; body: any; headers: Headers }>;
}

export async function start(opts: EmulatorOptions = {}): Promise<Api> {
  const emu = await startEmulator({ token: TOKEN, rateLimit: { max: 10_000, windowMs: 10_000 }, searchPerSecond: 1_000, ...opts });
  return {
    emu,
    async call(method, path, body, token = TOKEN) {
      const headers: Record<string, string> = {};
      if (token !== null) headers['Authorization'] = `Bearer ${token}`;
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const res = await fetch(emu.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
    },
  };
}

export function contacts(n: number, from = 0): { properties: Record<string, string> }[] {
  return Array.from({ length: n }, (_, i) => ({
    properties: { email: `user${from + i}@example.com`, firstname: `First${from + i}`, lastname: `Last${from + i}` },
  }));
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
