/**
 * Issue 14 point 11: `stop --delete` under `match: none` forgets the only
 * thing that pairs the records: it says the next run would create every
 * record again, and needs --yes (or a yes at the prompt) before forgetting.
 */
import { describe, expect, it } from 'vitest';
import { crmCsv } from './crm-csv.js';
import { useWorkspaces } from './support.js';

const workspace = useWorkspaces();

describe('stop --delete under match: none', () => {
  it('warns that every record would be created again, and forgets nothing without --yes', async () => {
    const w = workspace();
    crmCsv(w, { people: [{ email: 'ann@example.com', first_name: 'Ann' }], sync: { match: 'none' } });
    expect((await w.run('run')).exitCode).toBe(0);
    const refused = await w.run('stop', 'contacts', '--delete');
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/match: none.*create every record/);
    const state = w.sqlite('.datasync/state.db');
    expect(state.count('links'), 'nothing forgotten').toBe(1);
    const confirmed = await w.run('stop', 'contacts', '--delete', '--yes');
    expect(confirmed.exitCode).toBe(0);
    expect(confirmed.stderr).toMatch(/create every record/);
    expect(state.count('links')).toBe(0);
  });
});
