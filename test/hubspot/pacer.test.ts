import { describe, expect, it } from 'vitest';
import { HUBSPOT_LIMITS, Pacer, RollingWindowLimiter } from '../../src/http/pacer.js';
import { fakeClock } from './helpers.js';

describe('RollingWindowLimiter', () => {
  it('lets max requests through, then waits until the oldest leaves the window', () => {
    const clock = fakeClock();
    const l = new RollingWindowLimiter(3, 1000, clock);
    for (let i = 0; i < 3; i++) { expect(l.delay()).toBe(0); l.take().done(); clock.advance(100); }
    const wait = l.delay();
    expect(wait).toBeGreaterThan(600);
    expect(wait).toBeLessThanOrEqual(1000);
    clock.advance(wait);
    expect(l.delay()).toBe(0);
  });

  it('frees a slot from the time the answer arrived, not when the request left', () => {
    const clock = fakeClock();
    const l = new RollingWindowLimiter(1, 1000, clock);
    const slot = l.take();
    clock.advance(400);
    slot.done();
    clock.advance(700);
    expect(l.delay()).toBeGreaterThan(0); // 1100 ms after send, 700 ms after the answer
  });

  it('adopts the window and counts requests other apps made (headers)', () => {
    const clock = fakeClock();
    const l = new RollingWindowLimiter(100, 10_000, clock);
    l.take().done();
    l.observe({ max: 10, remaining: 2, windowMs: 1000 });
    expect(l.max).toBe(10);
    expect(l.windowMs).toBe(1000);
    l.take(); l.take();
    expect(l.delay()).toBeGreaterThan(0);
    clock.advance(1100);
    expect(l.delay()).toBe(0);
  });

  it('blocks every request after a 429 for the given time', () => {
    const clock = fakeClock();
    const l = new RollingWindowLimiter(100, 10_000, clock);
    l.block(5000);
    expect(l.delay()).toBe(5000);
  });
});

describe('Pacer', () => {
  it('keeps search at 5 per second, apart from the burst window', async () => {
    const clock = fakeClock();
    const pacer = new Pacer({ ...HUBSPOT_LIMITS, clock });
    const waits: number[] = [];
    const start = clock.now();
    for (let i = 0; i < 11; i++) (await pacer.acquire('search', (ms) => waits.push(ms))).done();
    expect(clock.now() - start).toBeGreaterThanOrEqual(2000);
    expect(waits.length).toBeGreaterThan(0);
    // Reads did not wait for search.
    const before = clock.now();
    (await pacer.acquire('read', () => {})).done();
    expect(clock.now()).toBe(before);
  });

  it('feeds header figures only to the burst limiter of classes that use it', () => {
    const clock = fakeClock();
    const pacer = new Pacer({ ...HUBSPOT_LIMITS, clock });
    pacer.observe('search', { max: 1, remaining: 0, windowMs: 1000 });
    expect(pacer.limiter('burst')!.max).toBe(100);
    pacer.observe('read', { max: 190, remaining: 150, windowMs: 10_000 });
    expect(pacer.limiter('burst')!.max).toBe(190);
  });
});
