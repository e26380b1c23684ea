/**
 * Issue 13 point 16: a secret is masked where it stands as a token, never
 * inside other words. A one-letter token `e` turned "the next run" into
 * "th**** n****xt run".
 */
import { describe, expect, it } from 'vitest';
import { useWorkspaces } from './support.js';

const workspace = useWorkspaces();

describe('secret redaction (issue 13.16)', () => {
  it('masks the token, not its letters inside other words', async () => {
    const w = workspace();
    // Port 9 (discard) on loopback: nothing listens, the check fails at once with a message and a hint.
    const r = await w.run('connect', 'hubspot', '--token', 'e', '--base-url', 'http://127.0.0.1:9');
    expect(r.exitCode).toBe(3);
    expect(r.stderr).not.toContain('****');
    expect(r.stderr).toContain('cannot reach HubSpot at http://127.0.0.1:9');
    expect(r.stderr).toContain('the sync resumes on the next run');
  });

  it('still masks a whole token in a message', async () => {
    const w = workspace();
    const token = 'pat-na1-abcdef-123456-secret';
    // The token in a URL the client echoes back: the base_url is not a secret, but its query holds the token.
    const r = await w.run('connect', 'hubspot', '--token', token, '--base-url', `http://127.0.0.1:9/?t=${token}`);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).not.toContain(token);
    expect(r.stderr).toContain('…cret');
  });
});
