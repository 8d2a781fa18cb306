/**
 * Every fault knob of the local API, observed from a client: throttle, rps, unavailable (with
 * Retry-After), drop-after-commit, latency-ms, fail-input, and determinism under a seed.
 */
import { assert, assertEquals, assertGreater, assertRejects, assertThrows } from "@std/assert";
import { Code, ConnectError } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { StatusCode } from "../../../src/gen/clarifai/api/status/status_code_pb.ts";
import { InputIDConflictResolution } from "../../../src/gen/clarifai/api/resources_pb.ts";
import { startLocalApi } from "../../../server/local/local_api.ts";
import { FaultInjector, parseFaults } from "../../../server/local/faults.ts";
import { AUTH, jpeg, KEY, UA, v2Client } from "./_helpers.ts";

const NET: Deno.TestDefinition["permissions"] = { net: ["127.0.0.1"], read: true, env: true };

Deno.test("parseFaults reads the flag's knobs and rejects bad ones", async (t) => {
  await t.step("the full specification", () => {
    assertEquals(
      parseFaults(
        "throttle=0.1,unavailable=0.05,drop-after-commit=0.05,latency-ms=20,fail-input=0.01,rps=15,seed=7,retry-after=2",
      ),
      {
        throttle: 0.1,
        unavailable: 0.05,
        dropAfterCommit: 0.05,
        latencyMs: 20,
        failInput: 0.01,
        rps: 15,
        seed: 7,
        retryAfter: 2,
      },
    );
  });
  const bad: [string, string, ErrorConstructor][] = [
    ["unknown knob", "slow=1", SyntaxError],
    ["missing value", "throttle", SyntaxError],
    ["not a number", "throttle=abc", SyntaxError],
    ["probability over 1", "throttle=2", RangeError],
    ["negative latency", "latency-ms=-5", RangeError],
    ["fractional seed", "seed=1.5", RangeError],
  ];
  for (const [name, text, type] of bad) {
    await t.step(name, () => {
      assertThrows(() => parseFaults(text), type);
    });
  }
});

Deno.test("fault choices are deterministic under a seed and differ across seeds", () => {
  const run = (seed: number) => {
    const faults = new FaultInjector({ throttle: 0.3, unavailable: 0.3, seed });
    return Array.from({ length: 64 }, () => [faults.takeThrottle(), faults.takeUnavailable()]);
  };
  assertEquals(run(7), run(7));
  assert(JSON.stringify(run(7)) !== JSON.stringify(run(8)));
  const hits = run(7).filter(([throttled]) => throttled).length;
  assert(hits > 5 && hits < 40, `about 30% throttled: ${hits}/64`);
});

Deno.test({
  name: "throttle: in-body CONN_THROTTLED with transport OK",
  permissions: NET,
  async fn() {
    await using api = await startLocalApi({ dataDir: ":memory:", key: KEY, faults: "throttle=1" });
    const client = v2Client(api.baseUrl);
    const res = await client.getInputCount({ userAppId: UA }, AUTH);
    assertEquals(res.status?.code, StatusCode.CONN_THROTTLED);
    assertEquals(res.counts, undefined);
    assertEquals(api.faultCounts().throttled, 1);
    api.setFaults({});
    assertEquals((await client.getInputCount({ userAppId: UA }, AUTH)).status?.code, 10000);
  },
});

Deno.test({
  name: "rps: a token bucket answers CONN_THROTTLED beyond the rate",
  permissions: NET,
  async fn() {
    await using api = await startLocalApi({ dataDir: ":memory:", key: KEY, faults: { rps: 3 } });
    const client = v2Client(api.baseUrl);
    const codes = await Promise.all(
      Array.from({ length: 8 }, () => client.getInputCount({ userAppId: UA }, AUTH)),
    );
    const throttled = codes.filter((r) => r.status?.code === StatusCode.CONN_THROTTLED);
    assertGreater(throttled.length, 3);
    assertEquals(throttled[0].status?.details, "exceeded limit of 3 requests per second");
    assertEquals(api.faultCounts().rateLimited, throttled.length);
  },
});

Deno.test({
  name: "unavailable: HTTP 503 with Retry-After, UNAVAILABLE for Connect and gRPC clients",
  permissions: NET,
  async fn(t) {
    await using api = await startLocalApi({
      dataDir: ":memory:",
      key: KEY,
      faults: "unavailable=1,retry-after=3",
    });
    await t.step("REST: 503 and Retry-After", async () => {
      const res = await fetch(`${api.baseUrl}/v2/users/me/apps/demo/inputs/status`, {
        headers: { authorization: `Key ${KEY}` },
      });
      assertEquals(res.status, 503);
      assertEquals(res.headers.get("retry-after"), "3");
      await res.body?.cancel();
    });
    await t.step("Connect over HTTP/1.1", async () => {
      const err = await assertRejects(
        () => v2Client(api.baseUrl).getInputCount({ userAppId: UA }, AUTH),
        ConnectError,
      );
      assertEquals(err.code, Code.Unavailable);
    });
    await t.step("gRPC over HTTP/2", async () => {
      const client = v2Client(api.baseUrl, createGrpcTransport({ baseUrl: api.baseUrl }));
      const err = await assertRejects(
        () => client.getInputCount({ userAppId: UA }, AUTH),
        ConnectError,
      );
      assertEquals(err.code, Code.Unavailable);
    });
    assertEquals(api.faultCounts().unavailable, 3);
  },
});

Deno.test({
  name: "drop-after-commit: the write is stored, the answer never comes, a resend is a duplicate",
  permissions: NET,
  async fn(t) {
    await using api = await startLocalApi({
      dataDir: ":memory:",
      key: KEY,
      faults: { dropAfterCommit: 1 },
    });
    const cases = [
      ["Connect over HTTP/1.1", v2Client(api.baseUrl)],
      ["gRPC over HTTP/2", v2Client(api.baseUrl, createGrpcTransport({ baseUrl: api.baseUrl }))],
    ] as const;
    for (const [name, client] of cases) {
      await t.step(name, async () => {
        api.setFaults({ dropAfterCommit: 1 });
        const id = `dropped-${name.length}`;
        const request = { userAppId: UA, inputs: [{ id, data: { image: { base64: jpeg() } } }] };
        await assertRejects(() => client.postInputs(request, AUTH), ConnectError);
        api.setFaults({});
        const got = await client.getInput({ userAppId: UA, inputId: id }, AUTH);
        assertEquals(got.input?.id, id, "committed before the connection was dropped");
        const again = await client.postInputs({
          ...request,
          inputIdConflictResolution: InputIDConflictResolution.SKIP,
        }, AUTH);
        assertEquals(again.inputs[0].status?.code, StatusCode.INPUT_DUPLICATE);
      });
    }
    assertEquals(api.faultCounts().droppedAfterCommit, 2);
  },
});

Deno.test({
  name: "drop-after-commit also applies to PostAnnotations",
  permissions: NET,
  async fn() {
    await using api = await startLocalApi({ dataDir: ":memory:", key: KEY });
    // gRPC over HTTP/2: fetch-based clients may resend a POST by themselves when a reused
    // keep-alive connection drops (hyper retries it), which hides the drop from the caller.
    const client = v2Client(api.baseUrl, createGrpcTransport({ baseUrl: api.baseUrl }));
    await client.postInputs({
      userAppId: UA,
      inputs: [{ id: "a1", data: { image: { base64: jpeg() } } }],
    }, AUTH);
    api.setFaults("drop-after-commit=1");
    await assertRejects(() =>
      client.postAnnotations({
        userAppId: UA,
        annotations: [{ id: "ann-1", inputId: "a1", data: { concepts: [{ id: "x", value: 1 }] } }],
      }, AUTH)
    );
    api.setFaults({});
    const listed = await client.listAnnotations({ userAppId: UA, ids: ["ann-1"] }, AUTH);
    assertEquals(listed.annotations.map((a) => a.id), ["ann-1"]);
    assertEquals(api.faultCounts().droppedAfterCommit, 1);
  },
});

Deno.test({
  name: "latency-ms: every request is delayed",
  permissions: NET,
  async fn() {
    await using api = await startLocalApi({
      dataDir: ":memory:",
      key: KEY,
      faults: { latencyMs: 80 },
    });
    const client = v2Client(api.baseUrl);
    const started = performance.now();
    await client.getInputCount({ userAppId: UA }, AUTH);
    assertGreater(performance.now() - started, 75);
    assertEquals(api.faultCounts().delayed, 1);
  },
});

Deno.test({
  name: "fail-input: accepted inputs end INPUT_FAILED during processing",
  permissions: NET,
  async fn() {
    await using api = await startLocalApi({
      dataDir: ":memory:",
      key: KEY,
      faults: "fail-input=0.5,seed=3",
    });
    const client = v2Client(api.baseUrl);
    const posted = await client.postInputs({
      userAppId: UA,
      inputsAddJobId: "job-f",
      inputs: Array.from({ length: 40 }, (_, i) => ({
        id: `f${i}`,
        data: { image: { base64: jpeg(32, i) } },
      })),
    }, AUTH);
    assertEquals(posted.status?.code, StatusCode.SUCCESS, "accepted at first");
    await api.waitForProcessing();
    const failed = await client.listInputs({
      userAppId: UA,
      status: { code: StatusCode.INPUT_FAILED },
    }, AUTH);
    const injected = api.faultCounts().failedInputs;
    assertGreater(injected, 5);
    assertEquals(failed.inputs.length, injected);
    assertEquals(failed.inputs[0].status?.details, "processing failed (fail-input fault)");
    const job = await client.getInputsAddJob({ userAppId: UA, id: "job-f" }, AUTH);
    assertEquals(job.inputsAddJob?.progress?.failedCount, BigInt(injected));
    assertEquals(job.inputsAddJob?.progress?.successCount, BigInt(40 - injected));
  },
});
