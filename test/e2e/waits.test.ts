/**
 * Issue 14 point 9 (and issue 13 point 9): an app answering 429 forever. The
 * waits and retries are printed as they happen, the time spent waiting on
 * the app is bounded (`max_wait` of the connection), the run stops with exit
 * 3 and a sentence, and `health` shows the sync as Queued with the reason.
 */
import { describe, expect, it } from 'vitest';
import { CRM_SCHEMA, datasync, startHub, writeHubConfig } from './hubspot-support.js';
import { useWorkspaces } from './support.js';

const workspace = useWorkspaces();

describe('an app that keeps answering 429', () => {
  it('run prints each wait, gives up after max_wait with exit 3, and health says Queued with the reason', async () => {
    const w = workspace();
    const hub = await startHub({ seed: { contacts: [{ properties: { email: 'ann@example.com', firstname: 'Ann' } }] } });
    try {
      w.sqlite('crm.db', CRM_SCHEMA);
      writeHubConfig(w, hub.url, { objects: ['contacts'], hubspot: { max_wait: '4s' } });
      expect((await datasync(w, ['run'])).exitCode).toBe(0);
      await hub.faults([{ status: 429, count: 100_000, retryAfter: 1 }]);
      const r = await datasync(w, ['run']);
      expect(r.exitCode, r.stderr).toBe(3);
      const waits = r.stderr.split('\n').filter((l) => /waiting \d+ s \(rate limit\), then retrying/.test(l));
      expect(waits.length, r.stderr).toBeGreaterThanOrEqual(2);
      expect(r.stderr).toMatch(/kept datasync waiting.*limit is 4 s/);
      expect(r.stderr).toMatch(/max_wait/);
      const h = await datasync(w, ['health', '--json']);
      const report = JSON.parse(h.stdout) as { syncs: { status: string; statusText: string }[] };
      expect(report.syncs[0]!.status).toBe('Queued');
      expect(report.syncs[0]!.statusText).toMatch(/rate limit|kept datasync waiting/);
    } finally {
      await hub.close();
    }
  });
});
