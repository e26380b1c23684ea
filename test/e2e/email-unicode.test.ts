/**
 * Issue 14 point 11: an email with a zero-width space (pasted from a web page)
 * is the same address: it is normalised (NFKC, invisible characters removed)
 * before it is validated and matched, so it pairs with the clean one instead
 * of being created as a second contact.
 */
import { describe, expect, it } from 'vitest';
import { CSV_HEADER, crmCsv } from './crm-csv.js';
import { useWorkspaces } from './support.js';

const workspace = useWorkspaces();

describe('emails with invisible characters', () => {
  it('ann\\u200b@example.com pairs with ann@example.com; nothing is created twice', async () => {
    const w = workspace();
    w.writeCsv('contacts.csv', CSV_HEADER, [
      { id: 1, email: 'ann\u200b@example.com', firstname: 'Ann', lastname: 'Lee', jobtitle: 'CEO' },
      { id: 2, email: '\ufeffｂｏ@example.com', firstname: 'Bo', lastname: 'Berg', jobtitle: 'CTO' },
    ]);
    const s = crmCsv(w, { people: [{ email: 'ann@example.com', first_name: 'Ann' }, { email: 'bo@example.com', first_name: 'Bo' }] });
    const r = await w.runJson();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(s.crm.count('people')).toBe(2);
    expect(w.readCsv('contacts.csv')).toHaveLength(2);
    expect(r.json.syncs[0]!.linked).toBe(2);
  });
});
