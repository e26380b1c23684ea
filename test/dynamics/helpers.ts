/** Raw Web API calls against the Dataverse emulator, as a client on the wire would make them. */
import { startDynamicsEmulator, type DynamicsEmulator, type DynamicsEmulatorOptions } from '../../fixtures/dynamics-emulator/server.js';

export interface Wire {
  emu: DynamicsEmulator;
  token: string;
  /** A Web API request under /api/data/v9.2/. */
  api(method: string, path: string, opts?: { headers?: Record<string, string>; body?: unknown; raw?: string }): Promise<{ status: number; headers: Headers; json: any; text: string }>;
  close(): Promise<void>;
}

export async function getToken(emu: DynamicsEmulator, overrides: Record<string, string> = {}): Promise<Response> {
  return fetch(emu.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: emu.clientId, client_secret: emu.clientSecret, scope: `${emu.url}/.default`, ...overrides }).toString(),
  });
}

export async function wire(opts: DynamicsEmulatorOptions = {}): Promise<Wire> {
  const emu = await startDynamicsEmulator({ port: 0, ...opts });
  const token = ((await (await getToken(emu)).json()) as { access_token: string }).access_token;
  return {
    emu, token,
    async api(method, path, o = {}) {
      const headers: Record<string, string> = { accept: 'application/json', 'OData-MaxVersion': '4.0', 'OData-Version': '4.0', authorization: `Bearer ${token}`, ...o.headers };
      let body: string | undefined = o.raw;
      if (o.body !== undefined) { body = JSON.stringify(o.body); headers['content-type'] = 'application/json'; }
      const res = await fetch(`${emu.url}/api/data/v9.2/${path}`, { method, headers, body });
      const text = await res.text();
      let json: unknown;
      try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
      return { status: res.status, headers: res.headers, json, text };
    },
    close: () => emu.close(),
  };
}

/** A $batch body from parts `[method, path, body?, headers?]`; a nested array is a change set. */
export function batch(parts: Array<[string, string, unknown?, Record<string, string>?] | Array<[string, string, unknown?, Record<string, string>?]>>): { raw: string; contentType: string } {
  const b = 'batch_test';
  const lines: string[] = [];
  const op = (p: [string, string, unknown?, Record<string, string>?], boundary: string, contentId?: number) => {
    lines.push(`--${boundary}`, 'Content-Type: application/http', 'Content-Transfer-Encoding: binary');
    if (contentId !== undefined) lines.push(`Content-ID: ${contentId}`);
    lines.push('', `${p[0]} /api/data/v9.2/${p[1]} HTTP/1.1`);
    if (p[2] !== undefined) lines.push('Content-Type: application/json; type=entry');
    for (const [k, v] of Object.entries(p[3] ?? {})) lines.push(`${k}: ${v}`);
    lines.push('', p[2] !== undefined ? JSON.stringify(p[2]) : '');
  };
  parts.forEach((p, i) => {
    if (Array.isArray(p[0])) {
      const cs = `changeset_${i}`;
      lines.push(`--${b}`, `Content-Type: multipart/mixed; boundary=${cs}`, '');
      (p as Array<[string, string, unknown?]>).forEach((x, j) => op(x, cs, j + 1));
      lines.push(`--${cs}--`);
    } else op(p as [string, string, unknown?], b);
  });
  lines.push(`--${b}--`, '');
  return { raw: lines.join('\r\n'), contentType: `multipart/mixed; boundary="${b}"` };
}

/** Statuses of the parts of a batch answer, in order. */
export const partStatuses = (text: string) => [...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
