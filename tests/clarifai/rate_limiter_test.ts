import { assertAlmostEquals, assertEquals, assertRejects, assertThrows } from "@std/assert";
import {
  abortableSleep,
  type Clock,
  RateLimiter,
  type RateLimiterOptions,
} from "../../src/clarifai/rate_limiter.ts";

const NONE = { permissions: "none" } as const;

/** A clock whose sleep advances time at once, recording each start time. */
class FakeClock implements Clock {
  time = 0;
  now(): number {
    return this.time;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.time += ms;
    return Promise.resolve();
  }
}

async function startTimes(limiter: RateLimiter, clock: FakeClock, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    await limiter.acquire();
    times.push(clock.now());
  }
  return times;
}

Deno.test("RateLimiter rejects bad options", NONE, async (t) => {
  const cases: [string, RateLimiterOptions, string][] = [
    [
      "rps 0",
      { rps: 0 },
      "Cannot create RateLimiter: rps must be a positive number: current value is 0",
    ],
    ["rps Infinity", { rps: Infinity }, "rps must be a positive number: current value is Infinity"],
    [
      "minRps above rps",
      { rps: 5, minRps: 6 },
      "minRps must be at most rps (5): current value is 6",
    ],
    ["burst 0", { burst: 0 }, "burst must be a positive integer: current value is 0"],
    ["burst 1.5", { burst: 1.5 }, "burst must be a positive integer: current value is 1.5"],
    [
      "increaseRps -1",
      { increaseRps: -1 },
      "increaseRps must be a positive number: current value is -1",
    ],
    [
      "cooldownMs -1",
      { cooldownMs: -1 },
      "cooldownMs must be a non-negative number: current value is -1",
    ],
  ];
  for (const [name, options, message] of cases) {
    await t.step(name, () => {
      assertThrows(() => new RateLimiter(options), RangeError, message);
    });
  }
});

Deno.test("RateLimiter defaults to Clarifai's 15 requests per second", NONE, () => {
  const limiter = new RateLimiter();
  assertEquals(limiter.rate, 15);
  assertEquals(limiter.maxRate, 15);
});

Deno.test("acquire() paces requests at the configured rate", NONE, async () => {
  const clock = new FakeClock();
  const limiter = new RateLimiter({ rps: 10, clock });
  assertEquals(await startTimes(limiter, clock, 5), [0, 100, 200, 300, 400]);
});

Deno.test("acquire() lets a burst start back to back", NONE, async () => {
  const clock = new FakeClock();
  const limiter = new RateLimiter({ rps: 10, burst: 3, clock });
  assertEquals(await startTimes(limiter, clock, 6), [0, 0, 0, 100, 200, 300]);
});

Deno.test("acquire() does not wait after an idle period", NONE, async () => {
  const clock = new FakeClock();
  const limiter = new RateLimiter({ rps: 10, clock });
  await startTimes(limiter, clock, 3);
  clock.time = 10_000;
  assertEquals(await startTimes(limiter, clock, 2), [10_000, 10_100]);
});

Deno.test("concurrent acquire() calls are spaced, in call order", NONE, async () => {
  const clock = new FakeClock();
  const waits: number[] = [];
  clock.sleep = (ms) => {
    waits.push(ms);
    return Promise.resolve();
  };
  const limiter = new RateLimiter({ rps: 4, clock });
  await Promise.all([limiter.acquire(), limiter.acquire(), limiter.acquire()]);
  assertEquals(waits, [250, 500]);
});

Deno.test("onThrottled() halves the rate, once per cooldown, down to the floor", NONE, async () => {
  const clock = new FakeClock();
  const limiter = new RateLimiter({ rps: 16, minRps: 1, cooldownMs: 1000, clock });
  limiter.onThrottled();
  assertEquals(limiter.rate, 8);
  limiter.onThrottled(); // the answers of requests already in flight: ignored
  limiter.onThrottled();
  assertEquals(limiter.rate, 8);
  clock.time += 1000;
  limiter.onThrottled();
  assertEquals(limiter.rate, 4);
  for (let i = 0; i < 10; i++) {
    clock.time += 1000;
    limiter.onThrottled();
  }
  assertEquals(limiter.rate, 1);

  // Pacing follows the lower rate.
  clock.time += 60_000;
  const start = clock.time;
  const times = await startTimes(limiter, clock, 3);
  assertEquals(times.map((t) => t - start), [0, 1000, 2000]);
});

Deno.test(
  "onThrottled() with a Retry-After hint holds every request until it passes",
  NONE,
  async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ rps: 10, clock });
    limiter.onThrottled(2000);
    assertEquals(await startTimes(limiter, clock, 2), [2000, 2200]);
  },
);

Deno.test("onSuccess() recovers additively up to the configured rate", NONE, () => {
  const clock = new FakeClock();
  const limiter = new RateLimiter({ rps: 15, cooldownMs: 0, clock });
  limiter.onThrottled();
  limiter.onThrottled();
  assertEquals(limiter.rate, 3.75);
  // increaseRps 1: each success adds 1/rate, so about +1 rps per second of traffic.
  limiter.onSuccess();
  assertAlmostEquals(limiter.rate, 3.75 + 1 / 3.75, 1e-12);

  // Simulate traffic at the current rate: the rate climbs by about 1 rps per second.
  let seconds = 0;
  let successes = 0;
  while (limiter.rate < 15) {
    const perSecond = Math.floor(limiter.rate);
    for (let i = 0; i < perSecond; i++) limiter.onSuccess();
    successes += perSecond;
    seconds++;
  }
  assertEquals(limiter.rate, 15, "capped at rps");
  // From ~4 to 15 rps at ~1 rps per second: between 8 and 16 seconds of successes.
  if (seconds < 8 || seconds > 16) throw new Error(`recovered in ${seconds} s (${successes})`);
  limiter.onSuccess();
  assertEquals(limiter.rate, 15);
});

Deno.test("acquire() rejects when the signal aborts", NONE, async () => {
  const limiter = new RateLimiter({ rps: 1 });
  await limiter.acquire();
  const controller = new AbortController();
  const waiting = limiter.acquire(controller.signal);
  controller.abort(new Error("stop"));
  await assertRejects(() => waiting, Error, "stop");
  await assertRejects(
    () => limiter.acquire(AbortSignal.abort(new Error("already"))),
    Error,
    "already",
  );
});

Deno.test("abortableSleep() waits, and clears its timer on abort", NONE, async () => {
  const start = performance.now();
  await abortableSleep(20);
  if (performance.now() - start < 15) throw new Error("did not wait");
  const controller = new AbortController();
  const sleeping = abortableSleep(60_000, controller.signal);
  controller.abort(new Error("cut"));
  await assertRejects(() => sleeping, Error, "cut"); // the sanitizer fails if the timer is left
});
