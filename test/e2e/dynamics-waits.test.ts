/**
 * Issue 14 point 9 for Dynamics: the time one run spends waiting on the
 * organisation is bounded and configurable (`max_wait`, `timeout_ms` of the
 * connection, as for HubSpot). An organisation answering 429 forever, or not
 * answering at all, stops the run with exit 3 and a sentence naming
 * `max_wait`; the waits are printed as they happen; `health` shows Queued.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DynamicsEmulator } from '../../fixtures/dynamics-emulator/server.js';
import { dsync, dynamicsConnection, startOrg } from './dynamics-support.js';
import { CRM_SCHEMA } from './hubspot-support.js';
import { explain, useWorkspaces, type Workspace } from './support.js';

const workspace = useWorkspaces();
let org: DynamicsEmulator | undefined;
afterEach(async () => {
  await org?.close();
  org = undefined;
});

function setup(w: Workspace, emu: DynamicsEmulator, extra: Record<string, unknown>): void {
  w.sqlite('crm.db', CRM_SCHEMA);
  w.writeConfig({
    connections: {
      dyn: { ...dynamicsConnection(emu, 'org1'), ...extra },
      crm: { app: 'sqlite', path: './crm.db', objects: { contacts: { table: 'people', id: 'id', updated_at: 'modified_at' } } },
    },
    syncs: [{ name: 'contacts', object: 'contacts', between: ['dyn', 'crm'], direction: 'two-way', default_app: 'dyn' }],
  });
}

async function queued(w: Workspace, text: RegExp): Promise<void> {
  const h = await dsync(w, ['health', '--json']);
  const report = JSON.parse(h.stdout) as { syncs: { status: string; statusText: string }[] };
  expect(report.syncs[0]!.status, h.stdout).toBe('Queued');
  expect(report.syncs[0]!.statusText).toMatch(text);
}

describe('a Dynamics organisation that keeps datasync waiting', () => {
  it('answering 429 forever: each wait is printed, the run gives up after max_wait with exit 3, health says Queued', async () => {
    org = await startOrg('org1');
    org.store.create('contacts', { emailaddress1: 'ann@example.com', firstname: 'Ann' });
    const w = workspace();
    setup(w, org, { max_wait: '4s' });
    const first = await dsync(w, ['run']);
    expect(first.exitCode, explain(first)).toBe(0);

    org.faults.add({ status: 429, retryAfter: 1, path: '/api/data', count: 100_000 });
    const r = await dsync(w, ['run']);
    expect(r.exitCode, explain(r)).toBe(3);
    const waits = r.stderr.split('\n').filter((l) => /waiting \d+ s \(rate limit\), then retrying/.test(l));
    expect(waits.length, r.stderr).toBeGreaterThanOrEqual(2);
    expect(r.stderr).toMatch(/Dynamics kept datasync waiting.*limit is 4 s/);
    expect(r.stderr).toMatch(/max_wait/);
    // 4 s of 1 s waits: a handful of requests, not the 60 retries a 429 gets without a bound.
    expect(org.stats().throttled, r.stderr).toBeLessThan(12);
    await queued(w, /rate limit|kept datasync waiting/);
  });

  it('not answering at all: each request gives up after timeout_ms, the run after max_wait, exit 3', async () => {
    org = await startOrg('org1');
    org.store.create('contacts', { emailaddress1: 'ann@example.com', firstname: 'Ann' });
    const w = workspace();
    setup(w, org, { max_wait: '3s', timeout_ms: 1000 });
    expect((await dsync(w, ['run'])).exitCode).toBe(0);

    org.faults.add({ delayMs: 600_000, path: '/api/data', count: 100_000 });
    const r = await dsync(w, ['run']);
    expect(r.exitCode, explain(r)).toBe(3);
    // Printed as it happens, and the time the requests hung counts towards max_wait.
    expect(r.stderr).toMatch(/waiting \d+ s \(no answer in 1 s\), then retrying/);
    expect(r.stderr).toMatch(/Dynamics kept datasync waiting \(no answer in 1 s\)/);
    expect(r.stderr).toMatch(/max_wait/);
    await queued(w, /kept datasync waiting/);
  });

  it('refuses a max_wait that is not a duration, exit 2', async () => {
    org = await startOrg('org1');
    const w = workspace();
    setup(w, org, { max_wait: 'soon' });
    const r = await dsync(w, ['run']);
    expect(r.exitCode, explain(r)).toBe(2);
    expect(r.stderr).toMatch(/max_wait/);
  });
});
