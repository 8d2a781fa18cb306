import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertGreater,
  assertLessOrEqual,
  assertRejects,
  assertThrows,
} from "@std/assert";
import { Code, ConnectError } from "@connectrpc/connect";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import {
  parseRetryAfter,
  retryAfterOf,
  type RetryInfo,
  RetryPolicy,
  type RetryPolicyOptions,
  withRetry,
} from "../../src/clarifai/retry_policy.ts";
import { FatalUploadError } from "../../src/clarifai/errors.ts";
import { RateLimiter } from "../../src/clarifai/rate_limiter.ts";

const NONE = { permissions: "none" } as const;

/** A small deterministic PRNG (mulberry32) for distribution checks. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function recordingPolicy(options: RetryPolicyOptions = {}) {
  const waits: number[] = [];
  const policy = new RetryPolicy({
    random: () => 0.5,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
    ...options,
  });
  return { policy, waits };
}

Deno.test("RetryPolicy rejects bad options", NONE, async (t) => {
  const cases: [string, RetryPolicyOptions, string][] = [
    [
      "maxAttempts 0",
      { maxAttempts: 0 },
      "Cannot create RetryPolicy: maxAttempts must be a positive integer: current value is 0",
    ],
    [
      "maxAttempts 1.5",
      { maxAttempts: 1.5 },
      "Cannot create RetryPolicy: maxAttempts must be a positive integer: current value is 1.5",
    ],
    [
      "negative base",
      { baseDelayMs: -1 },
      "Cannot create RetryPolicy: baseDelayMs must be a number of at least 0: current value is -1",
    ],
    [
      "NaN cap",
      { maxDelayMs: NaN },
      "Cannot create RetryPolicy: maxDelayMs must be a number of at least 0: current value is NaN",
    ],
  ];
  for (const [name, options, message] of cases) {
    await t.step(name, () => {
      assertThrows(() => new RetryPolicy(options), RangeError, message);
    });
  }
});

Deno.test("backoff ceilings double from the base up to the cap", NONE, async (t) => {
  const policy = new RetryPolicy({ baseDelayMs: 100, maxDelayMs: 5000 });
  const expected = [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000];
  for (const [retry, ceiling] of expected.entries()) {
    await t.step(`retry ${retry}`, () => assertEquals(policy.ceilingMs(retry), ceiling));
  }
});

Deno.test("full jitter stays within [0, ceiling) and spreads uniformly", NONE, async (t) => {
  for (const retry of [0, 3, 8]) {
    await t.step(`retry ${retry}`, () => {
      const policy = new RetryPolicy({
        baseDelayMs: 100,
        maxDelayMs: 5000,
        random: seeded(42 + retry),
      });
      const ceiling = policy.ceilingMs(retry);
      const samples = Array.from({ length: 4000 }, () => policy.delayMs(retry));
      for (const delay of samples) {
        assert(delay >= 0 && delay < ceiling, `${delay} within [0, ${ceiling})`);
      }
      const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
      assertAlmostEquals(mean, ceiling / 2, ceiling * 0.03);
      // Each quarter of the range holds about a quarter of the samples.
      const quarters = [0, 0, 0, 0];
      for (const delay of samples) quarters[Math.floor((delay / ceiling) * 4)]++;
      for (const count of quarters) assertAlmostEquals(count / samples.length, 0.25, 0.03);
    });
  }
  await t.step("the extremes of random map to the ends of the range", () => {
    assertEquals(new RetryPolicy({ baseDelayMs: 100, random: () => 0 }).delayMs(2), 0);
    assertAlmostEquals(
      new RetryPolicy({ baseDelayMs: 100, random: () => 0.999999 }).delayMs(2),
      400,
      0.001,
    );
  });
});

Deno.test("Retry-After is a lower bound of the delay", NONE, () => {
  const policy = new RetryPolicy({ baseDelayMs: 1000, random: () => 0.5 });
  assertEquals(policy.delayMs(0, 100), 500);
  assertEquals(policy.delayMs(0, 2500), 2500);
  assertEquals(policy.delayMs(0, undefined), 500);
});

Deno.test("parseRetryAfter() reads seconds and HTTP dates", NONE, async (t) => {
  const now = Date.parse("2025-06-01T12:00:00Z");
  const cases: [string, string | null | undefined, number | undefined][] = [
    ["integer seconds", "7", 7000],
    ["zero", "0", 0],
    ["fractional seconds", "1.5", 1500],
    ["padded", " 2 ", 2000],
    ["HTTP date", "Sun, 01 Jun 2025 12:00:30 GMT", 30_000],
    ["date in the past", "Sun, 01 Jun 2025 11:00:00 GMT", 0],
    ["negative", "-3", undefined],
    ["garbage", "later", undefined],
    ["empty", "", undefined],
    ["null", null, undefined],
    ["undefined", undefined, undefined],
  ];
  for (const [name, value, expected] of cases) {
    await t.step(name, () => assertEquals(parseRetryAfter(value, now), expected));
  }
});

Deno.test("retryAfterOf() reads the header kept in a ConnectError's metadata", NONE, () => {
  assertEquals(
    retryAfterOf(new ConnectError("HTTP 503", Code.Unavailable, { "Retry-After": "4" })),
    4000,
  );
  assertEquals(retryAfterOf(new ConnectError("HTTP 503", Code.Unavailable)), undefined);
});

Deno.test(
  "withRetry() retries thrown retryable errors, then returns the success",
  NONE,
  async () => {
    const { policy, waits } = recordingPolicy({ baseDelayMs: 100 });
    const retries: RetryInfo[] = [];
    let calls = 0;
    const result = await withRetry(
      (attempt) => {
        calls++;
        assertEquals(attempt, calls);
        if (attempt < 3) return Promise.reject(new ConnectError("down", Code.Unavailable));
        return Promise.resolve({ status: { code: StatusCode.SUCCESS } });
      },
      policy,
      { onRetry: (info) => retries.push(info) },
    );
    assertEquals(result.status.code, StatusCode.SUCCESS);
    assertEquals(calls, 3);
    assertEquals(waits, [50, 100]);
    assertEquals(retries.map((r) => [r.attempt, r.delayMs]), [[1, 50], [2, 100]]);
    assert(retries[0].error instanceof ConnectError);
  },
);

Deno.test(
  "withRetry() retries retryable in-body codes and returns the last response when attempts run out",
  NONE,
  async () => {
    const { policy, waits } = recordingPolicy({ maxAttempts: 3, baseDelayMs: 10 });
    const retries: RetryInfo[] = [];
    let calls = 0;
    const result = await withRetry(
      () => {
        calls++;
        return Promise.resolve({ status: { code: StatusCode.TRY_AGAIN, details: `try ${calls}` } });
      },
      policy,
      { onRetry: (info) => retries.push(info) },
    );
    assertEquals(calls, 3);
    assertEquals(result.status.details, "try 3");
    assertEquals(waits.length, 2);
    assertEquals(retries.map((r) => r.status?.code), [StatusCode.TRY_AGAIN, StatusCode.TRY_AGAIN]);
  },
);

Deno.test("withRetry() rethrows the last retryable error when attempts run out", NONE, async () => {
  const { policy } = recordingPolicy({ maxAttempts: 2 });
  let calls = 0;
  const error = await assertRejects(() =>
    withRetry(() => {
      calls++;
      return Promise.reject(new ConnectError(`down ${calls}`, Code.Unavailable));
    }, policy), ConnectError);
  assertEquals(calls, 2);
  assertEquals(error.rawMessage, "down 2");
});

Deno.test(
  "withRetry() does not retry fatal outcomes and throws FatalUploadError",
  NONE,
  async (t) => {
    await t.step("fatal in-body code", async () => {
      const { policy, waits } = recordingPolicy();
      let calls = 0;
      const error = await assertRejects(() =>
        withRetry(() => {
          calls++;
          return Promise.resolve({ status: { code: StatusCode.CONN_KEY_INVALID, details: "bad" } });
        }, policy), FatalUploadError);
      assertEquals(calls, 1);
      assertEquals(waits, []);
      assertEquals(error.statusCode, StatusCode.CONN_KEY_INVALID);
    });
    await t.step("Unauthenticated", async () => {
      const { policy } = recordingPolicy();
      let calls = 0;
      const error = await assertRejects(() =>
        withRetry(() => {
          calls++;
          return Promise.reject(new ConnectError("no", Code.Unauthenticated));
        }, policy), FatalUploadError);
      assertEquals(calls, 1);
      assertEquals(error.connectCode, Code.Unauthenticated);
    });
  },
);

Deno.test(
  "withRetry() returns other responses and throws other errors at once",
  NONE,
  async (t) => {
    const cases: [string, StatusCode][] = [
      ["SUCCESS", StatusCode.SUCCESS],
      ["MIXED_STATUS", StatusCode.MIXED_STATUS],
      ["FAILURE", StatusCode.FAILURE],
      ["RPC_MAX_MESSAGE_SIZE_EXCEEDED", StatusCode.RPC_MAX_MESSAGE_SIZE_EXCEEDED],
    ];
    for (const [name, code] of cases) {
      await t.step(name, async () => {
        const { policy } = recordingPolicy();
        let calls = 0;
        const result = await withRetry(() => {
          calls++;
          return Promise.resolve({ status: { code } });
        }, policy);
        assertEquals(calls, 1);
        assertEquals(result.status.code, code);
      });
    }
    await t.step("InvalidArgument error", async () => {
      const { policy } = recordingPolicy();
      let calls = 0;
      await assertRejects(() =>
        withRetry(() => {
          calls++;
          return Promise.reject(new ConnectError("bad", Code.InvalidArgument));
        }, policy), ConnectError);
      assertEquals(calls, 1);
    });
    await t.step("a response without status", async () => {
      const result = await withRetry(() => Promise.resolve(42), recordingPolicy().policy);
      assertEquals(result, 42);
    });
  },
);

Deno.test(
  "withRetry() honours Retry-After and gives up on hints longer than the limit",
  NONE,
  async (t) => {
    await t.step("a short hint sets the wait", async () => {
      const { policy, waits } = recordingPolicy({ baseDelayMs: 100 });
      let calls = 0;
      await withRetry(() => {
        calls++;
        if (calls === 1) {
          return Promise.reject(
            new ConnectError("HTTP 429", Code.Unavailable, { "retry-after": "3" }),
          );
        }
        return Promise.resolve("ok");
      }, policy);
      assertEquals(waits, [3000]);
    });
    await t.step("a hint past maxRetryAfterMs ends the retries", async () => {
      const { policy, waits } = recordingPolicy({ maxRetryAfterMs: 10_000 });
      let calls = 0;
      await assertRejects(() =>
        withRetry(() => {
          calls++;
          return Promise.reject(
            new ConnectError("HTTP 429", Code.Unavailable, { "retry-after": "3600" }),
          );
        }, policy), ConnectError);
      assertEquals(calls, 1);
      assertEquals(waits, []);
    });
  },
);

Deno.test("withRetry() stops waiting when the signal aborts", NONE, async () => {
  const controller = new AbortController();
  const policy = new RetryPolicy({ baseDelayMs: 60_000, random: () => 0.9 });
  let calls = 0;
  const done = withRetry(
    () => {
      calls++;
      return Promise.resolve({ status: { code: StatusCode.TRY_AGAIN } });
    },
    policy,
    {
      signal: controller.signal,
      onRetry: () => queueMicrotask(() => controller.abort(new Error("user stopped"))),
    },
  );
  await assertRejects(() => done, Error, "user stopped");
  assertEquals(calls, 1);
});

Deno.test(
  "withRetry() paces attempts through a rate limiter and tells it about throttling",
  NONE,
  async () => {
    let now = 0;
    const clock = {
      now: () => now,
      sleep: (ms: number) => {
        now += ms;
        return Promise.resolve();
      },
    };
    const limiter = new RateLimiter({ rps: 10, clock });
    const { policy } = recordingPolicy({ baseDelayMs: 0 });
    const answers = [StatusCode.CONN_THROTTLED, StatusCode.SUCCESS];
    let calls = 0;
    const result = await withRetry(
      () => Promise.resolve({ status: { code: answers[calls++] } }),
      policy,
      { rateLimiter: limiter },
    );
    assertEquals(result.status.code, StatusCode.SUCCESS);
    // Halved to 5 rps by the throttled answer, then one success adds 1/5.
    assertAlmostEquals(limiter.rate, 5.2, 1e-9);
    // The second attempt waited for its slot at 10 rps (reserved before the halving).
    assertEquals(now, 100);

    const before = limiter.rate;
    await assertRejects(() =>
      withRetry(
        () => Promise.reject(new ConnectError("slow down", Code.ResourceExhausted)),
        new RetryPolicy({ maxAttempts: 1 }),
        { rateLimiter: limiter },
      ), ConnectError);
    assertLessOrEqual(limiter.rate, before);
    assertGreater(limiter.rate, 0);
  },
);
