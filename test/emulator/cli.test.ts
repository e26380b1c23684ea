import { describe, expect, it } from 'vitest';
import { parseCliArgs, parseRateLimit } from '../../fixtures/hubspot-emulator/main.js';

describe('emulator command line', () => {
  it('parses the documented flags', () => {
    const seed = { contacts: [{ properties: { email: 'a@b.example' } }] };
    const opts = parseCliArgs(
      ['hubspot', '--port', '0', '--token', 'T', '--rate-limit', '100/10s', '--seed', 'seed.json', '--search-rate', '4', '--daily-limit', '250000'],
      () => JSON.stringify(seed),
    );
    expect(opts).toEqual({ port: 0, token: 'T', rateLimit: { max: 100, windowMs: 10_000 }, searchPerSecond: 4, dailyLimit: 250_000, seed });
  });

  it('reads rate limits in several units and rejects nonsense', () => {
    expect(parseRateLimit('190/10000ms')).toEqual({ max: 190, windowMs: 10_000 });
    expect(parseRateLimit('5/s')).toEqual({ max: 5, windowMs: 1_000 });
    expect(() => parseRateLimit('fast')).toThrow(/100\/10s/);
    expect(() => parseCliArgs(['--port', 'x'])).toThrow(/--port/);
    expect(() => parseCliArgs(['salesforce'])).toThrow(/hubspot/);
  });
});
