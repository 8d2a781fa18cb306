import { assertEquals, assertRejects } from "@std/assert";
import { Code, ConnectError, createRouterTransport } from "@connectrpc/connect";
import type { ServiceImpl } from "@connectrpc/connect";
import { V2 } from "../../src/gen/clarifai/api/service_pb.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import { type ClarifaiClientOptions, createClarifaiClient } from "../../src/clarifai/client.ts";
import { RetryPolicy } from "../../src/clarifai/retry_policy.ts";
import { RateLimiter } from "../../src/clarifai/rate_limiter.ts";
import { callerRetries, CONTROL_CALL_ATTEMPTS } from "../../src/clarifai/retry_interceptor.ts";

const NONE = { permissions: "none" } as const;

function routerClient(impl: Partial<ServiceImpl<typeof V2>>, options: ClarifaiClientOptions = {}) {
  return createClarifaiClient({
    pat: "k",
    userId: "me",
    appId: "photos",
    transport: (settings) =>
      createRouterTransport(({ service }) => service(V2, impl), { transport: settings }),
    ...options,
  });
}

/** A policy that records its waits instead of sleeping. */
function recordingPolicy(maxAttempts?: number): { policy: RetryPolicy; waits: number[] } {
  const waits: number[] = [];
  const policy = new RetryPolicy({
    maxAttempts,
    random: () => 0.5,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
  });
  return { policy, waits };
}

Deno.test(
  "every control call waits out throttled answers and UNAVAILABLE errors",
  NONE,
  async (t) => {
    const { policy, waits } = recordingPolicy();
    let n = 0;
    // Each method fails twice (one throttled answer, one transport error), then answers.
    const flaky = <T>(answer: () => T) => () => {
      n++;
      if (n % 3 === 1) return { status: { code: StatusCode.CONN_THROTTLED } } as T;
      if (n % 3 === 2) throw new ConnectError("overloaded", Code.Unavailable);
      return answer();
    };
    const ok = { code: StatusCode.SUCCESS };
    const client = routerClient({
      getDataset: flaky(() => ({ status: ok, dataset: { id: "ds" } })),
      postDatasets: flaky(() => ({ status: ok, datasets: [{ id: "ds" }] })),
      postDatasetInputs: flaky(() => ({ status: ok })),
      listInputs: flaky(() => ({ status: ok, inputs: [{ id: "a" }] })),
      getInputsAddJob: flaky(() => ({ status: ok, inputsAddJob: { id: "j" } })),
      getInputCount: flaky(() => ({ status: ok, counts: { processed: 3 } })),
      listDatasetInputs: flaky(() => ({ status: ok })),
    }, { callRetry: policy });
    const userAppId = client.userAppId;
    const calls: [string, () => Promise<{ status?: { code: number } }>][] = [
      ["GetDataset", () => client.getDataset({ userAppId, datasetId: "ds" })],
      ["PostDatasets", () => client.postDatasets({ userAppId, datasets: [{ id: "ds" }] })],
      ["PostDatasetInputs", () => client.postDatasetInputs({ userAppId, datasetId: "ds" })],
      ["ListInputs", () => client.listInputs({ userAppId })],
      ["GetInputsAddJob", () => client.getInputsAddJob({ userAppId, id: "j" })],
      ["GetInputCount", () => client.getInputCount({ userAppId })],
      ["ListDatasetInputs", () => client.listDatasetInputs({ userAppId, datasetId: "ds" })],
    ];
    for (const [name, call] of calls) {
      await t.step(name, async () => {
        const before = n;
        const response = await call();
        assertEquals(response.status?.code, StatusCode.SUCCESS);
        assertEquals(n - before, 3, "two retries");
      });
    }
    assertEquals(waits.length, calls.length * 2);
    client.close();
  },
);

Deno.test(
  "answers that are not retryable come back at once, fatal ones included",
  NONE,
  async () => {
    const { policy, waits } = recordingPolicy();
    let calls = 0;
    const client = routerClient({
      getDataset: () => (calls++, { status: { code: StatusCode.CONN_KEY_INVALID } }),
      listInputs: () => (calls++, { status: { code: StatusCode.INPUT_DOES_NOT_EXIST } }),
    }, { callRetry: policy });
    const got = await client.getDataset({ userAppId: client.userAppId, datasetId: "ds" });
    assertEquals(got.status?.code, StatusCode.CONN_KEY_INVALID);
    const listed = await client.listInputs({ userAppId: client.userAppId });
    assertEquals(listed.status?.code, StatusCode.INPUT_DOES_NOT_EXIST);
    assertEquals([calls, waits.length], [2, 0]);
    client.close();
  },
);

Deno.test("when the attempts run out the last answer or error is the call's", NONE, async () => {
  const { policy } = recordingPolicy(3);
  let throttled = 0, unavailable = 0;
  const client = routerClient({
    getDataset: () => (throttled++, { status: { code: StatusCode.CONN_THROTTLED } }),
    getInputCount: () => {
      unavailable++;
      throw new ConnectError("down", Code.Unavailable);
    },
  }, { callRetry: policy });
  const got = await client.getDataset({ userAppId: client.userAppId, datasetId: "ds" });
  assertEquals(got.status?.code, StatusCode.CONN_THROTTLED);
  await assertRejects(() => client.getInputCount({ userAppId: client.userAppId }), ConnectError);
  assertEquals([throttled, unavailable], [3, 3]);
  client.close();
});

Deno.test("the default policy makes 10 attempts; callRetry: false sends once", NONE, async () => {
  let calls = 0;
  const impl = {
    getDataset: () => (calls++, { status: { code: StatusCode.CONN_THROTTLED } }),
  };
  const patient = routerClient(impl, {
    callRetry: new RetryPolicy({ maxAttempts: CONTROL_CALL_ATTEMPTS, baseDelayMs: 0 }),
  });
  await patient.getDataset({ userAppId: patient.userAppId, datasetId: "ds" });
  assertEquals(calls, 10);
  calls = 0;
  const once = routerClient(impl, { callRetry: false });
  await once.getDataset({ userAppId: once.userAppId, datasetId: "ds" });
  assertEquals(calls, 1);
});

Deno.test("a call whose caller retries it is sent once", NONE, async () => {
  const { policy, waits } = recordingPolicy();
  let calls = 0;
  const client = routerClient({
    postInputs: () => (calls++, { status: { code: StatusCode.CONN_THROTTLED } }),
  }, { callRetry: policy });
  const response = await client.postInputs({ userAppId: client.userAppId }, callerRetries());
  assertEquals(response.status?.code, StatusCode.CONN_THROTTLED);
  assertEquals([calls, waits.length], [1, 0]);
  client.close();
});

Deno.test(
  "retried attempts go through the rate limiter, which learns from throttling",
  NONE,
  async () => {
    const { policy } = recordingPolicy();
    const limiter = new RateLimiter({ rps: 1000 });
    let calls = 0;
    const client = routerClient({
      getInputCount: () =>
        ++calls < 3
          ? { status: { code: StatusCode.CONN_THROTTLED } }
          : { status: { code: StatusCode.SUCCESS } },
    }, { callRetry: policy, rateLimiter: limiter });
    await client.getInputCount({ userAppId: client.userAppId });
    assertEquals(calls, 3);
    assertEquals(limiter.rate < 1000, true, `the rate went down: ${limiter.rate}`);
    client.close();
  },
);

Deno.test("the deadline bounds the waits too", NONE, async () => {
  let calls = 0;
  const client = routerClient({
    getInputCount: () => (calls++, { status: { code: StatusCode.CONN_THROTTLED } }),
  }, { callRetry: new RetryPolicy({ baseDelayMs: 60_000, random: () => 1 }), timeoutMs: 50 });
  const started = performance.now();
  await assertRejects(() => client.getInputCount({ userAppId: client.userAppId }));
  assertEquals(calls, 1);
  assertEquals(performance.now() - started < 10_000, true);
  client.close();
});
