/**
 * Request pacing: a rolling-window limiter per request class, so the client
 * stays under an app's rate limits instead of bouncing off them.
 *
 * A slot is stamped when the request starts and re-stamped when its answer
 * arrives: the server counts a request when it arrives, which is later than
 * when we sent it, so freeing the slot from the answer's time never frees it
 * before the server does.
 */
import type { Clock } from './clock.js';
import { largest } from '../lists.js';

export type RequestClass = 'read' | 'write' | 'search' | 'associations' | 'auth';
export const REQUEST_CLASSES: readonly RequestClass[] = ['read', 'write', 'search', 'associations', 'auth'];

export interface LimitSpec { max: number; windowMs: number }

/** What the app said about its window in response headers. */
export interface ObservedLimit { max?: number; remaining?: number; windowMs?: number }

export interface Slot { done(): void }

interface Stamp { t: number }

/** Small safety margin on every window, for clock granularity. */
const MARGIN_MS = 25;

export class RollingWindowLimiter {
  private stamps: Stamp[] = [];
  private blockedUntil = 0;

  constructor(public max: number, public windowMs: number, private readonly clock: Clock) {}

  /** Milliseconds to wait before the next request may start (0: go now). */
  delay(): number {
    const now = this.clock.now();
    this.prune(now);
    let wait = Math.max(0, this.blockedUntil - now);
    if (this.stamps.length >= this.max) {
      const oldestThatMustExpire = this.stamps[this.stamps.length - this.max]!;
      wait = Math.max(wait, oldestThatMustExpire.t + this.windowMs + MARGIN_MS - now);
    }
    return wait;
  }

  /** Takes a slot now; call `done()` when the answer arrives. */
  take(): Slot {
    const stamp: Stamp = { t: this.clock.now() };
    this.stamps.push(stamp);
    return { done: () => { stamp.t = Math.max(stamp.t, this.clock.now()); } };
  }

  /**
   * Adopts the app's own figures. When the app has counted more requests in
   * the window than we sent (other apps share the budget), the difference is
   * booked as if sent just now, which is conservative.
   */
  observe(o: ObservedLimit): void {
    if (o.max !== undefined && o.max > 0) this.max = o.max;
    if (o.windowMs !== undefined && o.windowMs > 0) this.windowMs = o.windowMs;
    if (o.remaining === undefined) return;
    const now = this.clock.now();
    this.prune(now);
    const usedByServer = this.max - Math.max(0, o.remaining);
    for (let i = this.stamps.length; i < usedByServer; i++) this.stamps.push({ t: now });
  }

  /** Blocks every request for `ms` (after a 429: wait out the window). */
  block(ms: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, this.clock.now() + ms);
  }

  private prune(now: number): void {
    this.stamps.sort((a, b) => a.t - b.t);
    while (this.stamps.length > 0 && this.stamps[0]!.t + this.windowMs + MARGIN_MS <= now) this.stamps.shift();
  }
}

export interface PacerOptions {
  /** Limiters by name. */
  limits: Record<string, LimitSpec>;
  /** Which limiters each request class passes through. */
  routes: Record<RequestClass, string[]>;
  clock: Clock;
}

/** HubSpot's figures (reference §8): lowest plan burst, 5/s search, associations §6.5. */
export const HUBSPOT_LIMITS: Pick<PacerOptions, 'limits' | 'routes'> = {
  limits: {
    burst: { max: 100, windowMs: 10_000 },
    search: { max: 5, windowMs: 1_000 },
    associations: { max: 100, windowMs: 10_000 },
  },
  routes: {
    read: ['burst'],
    write: ['burst'],
    associations: ['burst', 'associations'],
    search: ['search'],
    auth: [],
  },
};

export class Pacer {
  private readonly limiters = new Map<string, RollingWindowLimiter>();

  constructor(private readonly opts: PacerOptions) {
    for (const [name, l] of Object.entries(opts.limits)) {
      this.limiters.set(name, new RollingWindowLimiter(l.max, l.windowMs, opts.clock));
    }
  }

  limiter(name: string): RollingWindowLimiter | undefined {
    return this.limiters.get(name);
  }

  private route(cls: RequestClass): RollingWindowLimiter[] {
    return (this.opts.routes[cls] ?? []).map((n) => this.limiters.get(n)).filter((l): l is RollingWindowLimiter => !!l);
  }

  /** Waits until every limiter of the class has a free slot, then takes them. */
  async acquire(cls: RequestClass, onWait: (ms: number) => void, signal?: AbortSignal): Promise<Slot> {
    const route = this.route(cls);
    for (;;) {
      const wait = largest(route.map((l) => l.delay()), 0);
      if (wait <= 0) break;
      onWait(wait);
      await this.opts.clock.sleep(wait, signal);
    }
    const slots = route.map((l) => l.take());
    return { done: () => slots.forEach((s) => s.done()) };
  }

  /** Feeds response headers to the limiter that they describe. */
  observe(cls: RequestClass, o: ObservedLimit, limiterName = 'burst'): void {
    if (!this.route(cls).includes(this.limiters.get(limiterName)!)) return;
    this.limiters.get(limiterName)?.observe(o);
  }

  /** After a 429: no request of this class starts for `ms`. */
  block(cls: RequestClass, ms: number): void {
    for (const l of this.route(cls)) l.block(ms);
  }

  windowOf(cls: RequestClass): number {
    return largest(this.route(cls).map((l) => l.windowMs), 0);
  }
}
