/**
 * An adaptive client-side rate limiter for Clarifai calls: {@linkcode RateLimiter}, a token
 * bucket that starts at the account's quota (15 requests per second by default), halves its
 * rate when the server says it is throttling, and climbs back additively while calls succeed.
 *
 * @module
 */

/** Time as the rate limiter sees it; tests inject a fake one. */
export interface Clock {
  /** The current time in milliseconds. */
  now(): number;
  /**
   * Waits `ms` milliseconds, or rejects with the signal's reason when it aborts first.
   *
   * @param ms How long to wait.
   * @param signal Aborts the wait.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * Waits `ms` milliseconds with a real timer, or rejects with `signal.reason` when the signal
 * aborts first (the timer is cleared, so nothing is left pending).
 *
 * @param ms How long to wait (0 or less resolves on the next macrotask).
 * @param signal Aborts the wait.
 * @returns A promise that resolves after the delay.
 *
 * @example Usage
 * ```ts
 * import { abortableSleep } from "./rate_limiter.ts";
 * import { assertRejects } from "@std/assert";
 *
 * await abortableSleep(1);
 * await assertRejects(() => abortableSleep(10_000, AbortSignal.abort(new Error("stop"))));
 * ```
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The real clock: `Date.now()` and {@linkcode abortableSleep}. */
export const systemClock: Clock = { now: () => Date.now(), sleep: abortableSleep };

/** Options of {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** The highest rate, requests per second (default 15, Clarifai's default quota). */
  rps?: number;
  /** The rate never falls below this, requests per second (default 1, at most `rps`). */
  minRps?: number;
  /** How many requests may start back to back before pacing applies (default 1). */
  burst?: number;
  /**
   * How fast the rate climbs back while calls succeed, in requests per second gained per second
   * of successful traffic (default 1): each success adds `increaseRps / rate`.
   */
  increaseRps?: number;
  /**
   * After a halving, further throttled answers within this many milliseconds do not halve again
   * (default 1000), so that the answers to requests already in flight count once.
   */
  cooldownMs?: number;
  /** The clock (default: the real one). */
  clock?: Clock;
}

function positive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(
      `Cannot create RateLimiter: ${name} must be a positive number: current value is ${value}`,
    );
  }
}

/**
 * An adaptive token bucket: {@linkcode RateLimiter.acquire} before each request;
 * {@linkcode RateLimiter.onThrottled} when the answer says "too fast" (the rate halves, down to
 * `minRps`); {@linkcode RateLimiter.onSuccess} after each other answer (the rate climbs back,
 * additively, up to `rps`).
 *
 * @example Pace requests and slow down on throttling
 * ```ts
 * import { RateLimiter } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const limiter = new RateLimiter({ rps: 200 });
 * await limiter.acquire();
 * limiter.onThrottled();
 * assertEquals(limiter.rate, 100);
 * limiter.onSuccess();
 * assertEquals(limiter.rate, 100.01);
 * ```
 */
export class RateLimiter {
  #maxRate: number;
  #minRate: number;
  #rate: number;
  #burst: number;
  #increase: number;
  #cooldownMs: number;
  #clock: Clock;
  /** The theoretical time the next request may start, were there no burst allowance. */
  #nextAt = -Infinity;
  #lastDecreaseAt = -Infinity;

  /**
   * Creates a limiter running at `rps`.
   *
   * @param options Rates, burst, recovery speed, cooldown and clock.
   */
  constructor(options: RateLimiterOptions = {}) {
    const rps = options.rps ?? 15;
    positive("rps", rps);
    const minRps = options.minRps ?? Math.min(1, rps);
    positive("minRps", minRps);
    if (minRps > rps) {
      throw new RangeError(
        `Cannot create RateLimiter: minRps must be at most rps (${rps}): current value is ${minRps}`,
      );
    }
    const burst = options.burst ?? 1;
    if (!Number.isInteger(burst) || burst < 1) {
      throw new RangeError(
        `Cannot create RateLimiter: burst must be a positive integer: current value is ${burst}`,
      );
    }
    const increase = options.increaseRps ?? 1;
    positive("increaseRps", increase);
    const cooldownMs = options.cooldownMs ?? 1000;
    if (!Number.isFinite(cooldownMs) || cooldownMs < 0) {
      throw new RangeError(
        `Cannot create RateLimiter: cooldownMs must be a non-negative number: current value is ${cooldownMs}`,
      );
    }
    this.#maxRate = rps;
    this.#minRate = minRps;
    this.#rate = rps;
    this.#burst = burst;
    this.#increase = increase;
    this.#cooldownMs = cooldownMs;
    this.#clock = options.clock ?? systemClock;
  }

  /** The current rate, requests per second. */
  get rate(): number {
    return this.#rate;
  }

  /** The configured highest rate, requests per second. */
  get maxRate(): number {
    return this.#maxRate;
  }

  /**
   * Waits until one more request may start at the current rate. Waiters are served in call
   * order. A wait cut short by `signal` rejects with its reason (the slot it had reserved is
   * not handed back).
   *
   * @param signal Aborts the wait.
   * @returns A promise that resolves when the request may start.
   *
   * @example Usage
   * ```ts
   * import { RateLimiter } from "@upflow/upflow";
   * import { assertRejects } from "@std/assert";
   *
   * const limiter = new RateLimiter({ rps: 1 });
   * await limiter.acquire(); // the first one starts at once
   * await assertRejects(() => limiter.acquire(AbortSignal.abort(new Error("stop"))));
   * ```
   */
  async acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const now = this.#clock.now();
    const interval = 1000 / this.#rate;
    const start = Math.max(this.#nextAt, now);
    this.#nextAt = start + interval;
    const allowedAt = start - (this.#burst - 1) * interval;
    if (allowedAt > now) await this.#clock.sleep(allowedAt - now, signal);
  }

  /**
   * Records a "too fast" answer: halves the rate (not below `minRps`), at most once per
   * cooldown, and when the server gave a hint, holds every request until it has passed.
   *
   * @param retryAfterMs The server's Retry-After hint in milliseconds, if any.
   *
   * @example Usage
   * ```ts
   * import { RateLimiter } from "@upflow/upflow";
   * import { assertEquals } from "@std/assert";
   *
   * const limiter = new RateLimiter({ rps: 15, cooldownMs: 0 });
   * limiter.onThrottled();
   * limiter.onThrottled();
   * assertEquals(limiter.rate, 3.75);
   * ```
   */
  onThrottled(retryAfterMs?: number): void {
    const now = this.#clock.now();
    if (now - this.#lastDecreaseAt >= this.#cooldownMs) {
      this.#rate = Math.max(this.#minRate, this.#rate / 2);
      this.#lastDecreaseAt = now;
    }
    if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > 0) {
      this.#nextAt = Math.max(this.#nextAt, now + retryAfterMs);
    }
  }

  /**
   * Records an answer that was not throttled: the rate climbs by `increaseRps / rate`, so by
   * about `increaseRps` for each second of successful traffic, up to `rps`.
   *
   * @example Usage
   * ```ts
   * import { RateLimiter } from "@upflow/upflow";
   * import { assertEquals } from "@std/assert";
   *
   * const limiter = new RateLimiter({ rps: 4, increaseRps: 2 });
   * limiter.onThrottled(); // 2 rps
   * limiter.onSuccess(); // + 2 / 2
   * assertEquals(limiter.rate, 3);
   * ```
   */
  onSuccess(): void {
    this.#rate = Math.min(this.#maxRate, this.#rate + this.#increase / this.#rate);
  }
}
