/**
 * The upload engine against the local API with its fault knobs on: every input stored exactly
 * once with its data, failures journaled and retried, fatal outcomes reported.
 */
import { withLocalApi } from "./_local_api.ts";
import { createClarifaiClient } from "../../src/clarifai/client.ts";
import type { LocalApi } from "../../server/local/local_api.ts";
import type { ClarifaiClient } from "../../src/clarifai/client.ts";
import { RetryPolicy } from "../../src/clarifai/retry_policy.ts";
import type { InputDraft } from "../../src/inputs/input_draft.ts";
import { summaryOf } from "../../src/pipeline/progress_event.ts";
import type { ProgressEvent } from "../../src/pipeline/progress_event.ts";
import { runUpload } from "../../src/upload/run_upload.ts";
import { uploadInputs } from "../../src/upload/upload.ts";
import { readJournal } from "../../src/journal/journal.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import { assert, assertEquals, assertGreater } from "@std/assert";

const fastRetry = () => new RetryPolicy({ maxAttempts: 12, baseDelayMs: 5, maxDelayMs: 50 });

function drafts(n: number, prefix = "t"): InputDraft[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}${i}`,
    kind: "text" as const,
    content: { type: "raw" as const, text: `text number ${i}` },
    location: `gen.csv:${i + 2}`,
    concepts: [i % 2 ? "odd" : "even"],
    metadata: { n: i, tag: `x${i % 7}` },
  }));
}

function withApi(
  faults: string | undefined,
  fn: (api: LocalApi, client: ClarifaiClient) => Promise<void>,
) {
  return withLocalApi(({ api, client }) => fn(api, client), { api: { faults } });
}

/** Lists every input the server holds for the test app, with its data. */
async function allInputs(client: ClarifaiClient) {
  const out = new Map<string, { concepts: string[]; n: unknown }>();
  for (let page = 1;; page++) {
    const r = await client.listInputs({ userAppId: client.userAppId, page, perPage: 1000 });
    assertEquals(r.status?.code, StatusCode.SUCCESS);
    for (const input of r.inputs) {
      assert(!out.has(input.id), `input ${input.id} listed twice`);
      out.set(input.id, {
        concepts: input.data?.concepts.map((c) => c.id) ?? [],
        n: input.data?.metadata?.n,
      });
    }
    if (r.inputs.length < 1000) break;
  }
  return out;
}

function assertAllPresent(held: Map<string, { concepts: string[]; n: unknown }>, n: number) {
  assertEquals(held.size, n);
  for (let i = 0; i < n; i++) {
    const input = held.get(`t${i}`);
    assert(input, `t${i} missing`);
    assertEquals(input.concepts, [i % 2 ? "odd" : "even"]);
    assertEquals(input.n, i);
  }
}

for (
  const [name, faults] of [
    ["throttling", "throttle=0.3,seed=3"],
    ["a token-bucket rate limit", "rps=6,seed=4"],
    ["transport UNAVAILABLE", "unavailable=0.3,retry-after=0,seed=5"],
    ["drop-after-commit", "drop-after-commit=0.3,seed=6"],
  ] as const
) {
  Deno.test({
    name: `every input is stored exactly once under ${name}`,
    permissions: { net: true, read: true, env: true },
    async fn() {
      await withApi(faults, async (api, client) => {
        const n = 600;
        const summary = await summaryOf(runUpload(drafts(n), {
          client,
          userAppId: { userId: "u", appId: "a" },
          batchSize: 32,
          concurrency: 4,
          // The client's own limit starts above the server's, and learns from the throttling.
          rps: name === "a token-bucket rate limit" ? 40 : 0,
          retry: fastRetry(),
        }));
        assertEquals(summary.failed, 0);
        assertEquals(summary.uploaded, n);
        assertGreater(summary.retries, 0, "the faults caused retries");
        const counts = api.faultCounts() as unknown as Record<string, number>;
        assertGreater(Object.values(counts).reduce((a, b) => a + b, 0), 0);
        api.setFaults({});
        assertAllPresent(await allInputs(client), n);
      });
    },
  });
}

Deno.test({
  name: "every input fault at once, then a retry from the journal brings the rest in",
  permissions: { net: true, read: true, write: true, env: true },
  async fn() {
    const dir = await Deno.makeTempDir();
    const journal = `${dir}/run.ndjson`;
    try {
      await withApi(
        "throttle=0.2,unavailable=0.2,drop-after-commit=0.2,latency-ms=2,seed=11",
        async (api, client) => {
          const n = 400;
          // Few attempts: some batches give up and are journaled as failed.
          const first = await summaryOf(runUpload(drafts(n), {
            client,
            userAppId: { userId: "u", appId: "a" },
            batchSize: 8,
            rps: 0,
            journal,
            retry: new RetryPolicy({ maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 }),
          }));
          assertEquals(first.uploaded + first.failed, n);
          assertGreater(first.failed, 0, "some inputs failed with only 2 attempts");
          const state = await readJournal(journal);
          assertEquals(state.failures.size, first.failed);
          for (const f of state.failures.values()) {
            assert(f.reason && f.reason.length > 0, "every failure has a reason");
            assert(f.draft, "every failure keeps its draft for retry");
          }
          // The retry: the failures' drafts, into the same journal, with patient retries.
          api.setFaults("throttle=0.2,unavailable=0.2,drop-after-commit=0.2,seed=12");
          const reasons: string[] = [];
          const retried = await summaryOf(
            runUpload(
              [...state.failures.values()].map((f) => f.draft!),
              {
                client,
                userAppId: { userId: "u", appId: "a" },
                rps: 0,
                journal,
                retry: fastRetry(),
              },
            ),
            (e) => e.type === "failed" && reasons.push(`${e.id}: ${e.reason}`),
          );
          assertEquals(retried.failed, 0, reasons.join("\n"));
          // Inputs stored by a request whose answer was lost are found on the server, not resent.
          assertEquals(retried.uploaded + retried.present, first.failed);
          assertEquals((await readJournal(journal)).failures.size, 0);
          api.setFaults({});
          assertAllPresent(await allInputs(client), n);
        },
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a real duplicate is reported as failed, not counted as uploaded",
  permissions: { net: true, read: true, env: true },
  async fn() {
    await withApi(undefined, async (_api, client) => {
      const userAppId = { userId: "u", appId: "a" };
      await summaryOf(runUpload(drafts(3), { client, userAppId, rps: 0 }));
      const events: ProgressEvent[] = [];
      // With existing inputs failing (not skipped as present), the server's answer decides.
      const summary = await summaryOf(
        runUpload(drafts(3), { client, userAppId, rps: 0, existing: "fail" }),
        (e) => events.push(e),
      );
      assertEquals(summary.uploaded, 0);
      assertEquals(summary.failed, 3);
      const failed = events.filter((e) => e.type === "failed");
      assert(failed.every((e) => e.type === "failed" && e.code === "INPUT_DUPLICATE"));
    });
  },
});

Deno.test({
  name: "a wrong key stops the run with a fatal summary and nothing stored",
  permissions: { net: true, read: true, env: true },
  async fn() {
    await withApi(undefined, async (_api, good) => {
      const bad = createClarifaiClient({
        base: good.base,
        pat: "wrong-key",
        userId: "u",
        appId: "a",
      });
      try {
        const summary = await summaryOf(uploadInputs(drafts(10), { client: bad }));
        assert(summary.fatal, "the run is fatal");
        assertEquals(summary.uploaded, 0);
        assert(!summary.fatal.message.includes("wrong-key"), "the key is not echoed");
        assertEquals((await allInputs(good)).size, 0);
      } finally {
        bad.close();
      }
    });
  },
});

Deno.test({
  name: "a missing dataset is fatal unless createDataset is set",
  permissions: { net: true, read: true, env: true },
  async fn() {
    await withApi(undefined, async (_api, client) => {
      const missing = await summaryOf(uploadInputs(drafts(2), { client, datasetId: "nope" }));
      assert(missing.fatal);
      assertEquals(missing.fatal.message.includes("nope"), true);
      const made = await summaryOf(
        uploadInputs(drafts(2).map((d) => ({ ...d, datasetId: "made" })), {
          client,
          datasetId: "made",
          createDataset: true,
        }),
      );
      assertEquals(made.uploaded, 2);
      const listed = await client.listDatasetInputs({
        userAppId: client.userAppId,
        datasetId: "made",
      });
      assertEquals(listed.datasetInputs.map((d) => d.input?.id).sort(), ["t0", "t1"]);
    });
  },
});

Deno.test({
  name: "waiting for processing reports inputs that fail processing",
  permissions: { net: true, read: true, env: true },
  async fn() {
    await withApi("fail-input=0.25,seed=9", async (_api, client) => {
      const events: ProgressEvent[] = [];
      const summary = await summaryOf(
        runUpload(drafts(80), {
          client,
          userAppId: { userId: "u", appId: "a" },
          rps: 0,
          wait: true,
        }),
        (e) => events.push(e),
      );
      assertEquals(summary.uploaded, 80);
      assert(summary.processing);
      assertEquals(summary.processing.pending, 0);
      assertGreater(summary.processing.failed, 0);
      assertEquals(summary.processing.succeeded + summary.processing.failed, 80);
      const failedProcessing = events.filter((e) =>
        e.type === "failed" && e.stage === "processing"
      );
      assertEquals(failedProcessing.length, summary.processing.failed);
    });
  },
});

Deno.test({
  name: "a region added to the source after an upload is posted when the run is repeated",
  permissions: { net: true, read: true, write: true, env: true },
  async fn() {
    const dir = await Deno.makeTempDir();
    const journal = `${dir}/run.ndjson`;
    const png = await Deno.readFile("samples/images/cat/cat_01.png");
    const image = (regions: InputDraft["regions"]): InputDraft => ({
      id: "cat1",
      kind: "image",
      content: { type: "bytes", bytes: png },
      location: "cats/cat1.png",
      concepts: ["cat"],
      regions,
    });
    const first = { concepts: ["cat"], box: { left: 0.1, top: 0.1, right: 0.5, bottom: 0.5 } };
    const second = { concepts: ["ear"], box: { left: 0.2, top: 0.2, right: 0.3, bottom: 0.3 } };
    try {
      await withApi(undefined, async (_api, client) => {
        const options = { client, userAppId: { userId: "u", appId: "a" }, rps: 0, journal };
        const one = await summaryOf(runUpload([image([first])], options));
        assertEquals([one.uploaded, one.annotations], [1, 1]);
        const two = await summaryOf(runUpload([image([first, second])], options));
        assertEquals([two.uploaded, two.failed, two.annotations], [1, 0, 2]);
        const three = await summaryOf(runUpload([image([first, second])], options));
        assertEquals([three.uploaded, three.alreadyUploaded], [0, 1]);
        const listed = await client.listAnnotations({
          userAppId: client.userAppId,
          inputIds: ["cat1"],
        });
        const boxes = listed.annotations.filter((a) => a.data?.regions.length);
        assertEquals(boxes.length, 2, "each region stored once");
        assertEquals((await allInputs(client)).size, 1);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
