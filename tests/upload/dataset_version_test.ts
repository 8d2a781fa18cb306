/**
 * `createVersion`: when an upload ends, a dataset version is made, waited for and its metrics
 * put in the summary, with real values for known uploads (the sample images: 12 images, 3
 * concepts; boxes and polygons; text); a version not ready in time is reported, not waited on
 * for ever; a version that cannot be made is reported; throttling is waited out; a caller's stop
 * ends the wait at once.
 */
import { withLocalApi } from "./_local_api.ts";
import type { LocalApiOptions } from "../../server/local/local_api.ts";
import type { ClarifaiClient } from "../../src/clarifai/client.ts";
import { RetryPolicy } from "../../src/clarifai/retry_policy.ts";
import type { InputDraft } from "../../src/inputs/input_draft.ts";
import { summaryOf } from "../../src/pipeline/progress_event.ts";
import type { ProgressEvent, VersionEvent } from "../../src/pipeline/progress_event.ts";
import { runUpload, type RunUploadOptions } from "../../src/upload/run_upload.ts";
import { ensureDataset, uploadFolder } from "../../src/upload/upload.ts";
import { datasetVersionEvents, latestDatasetVersion } from "../../src/upload/dataset_version.ts";
import type { Interceptor } from "@connectrpc/connect";
import { retryInterceptor } from "../../src/clarifai/retry_interceptor.ts";
import { assert, assertEquals, assertStringIncludes } from "@std/assert";

const permissions: Deno.PermissionOptions = {
  read: true,
  write: true,
  net: ["127.0.0.1"],
  env: true,
};

const patient = () => new RetryPolicy({ maxAttempts: 20, baseDelayMs: 5, maxDelayMs: 40 });

function withApi(
  fn: (client: ClarifaiClient) => Promise<void>,
  api: LocalApiOptions = {},
  interceptors?: Interceptor[],
) {
  return withLocalApi(({ client }) => fn(client), {
    api,
    client: interceptors ? { interceptors, callRetry: false } : { callRetry: patient() },
  });
}

async function collect(events: ReadableStream<ProgressEvent>) {
  const all: ProgressEvent[] = [];
  const summary = await summaryOf(events, (e) => all.push(e));
  return { summary, events: all, versions: all.filter((e) => e.type === "version") };
}

const image = (id: string, file: string, extra: Partial<InputDraft> = {}): InputDraft => ({
  id,
  kind: "image",
  content: { type: "file", path: `samples/images/${file}` },
  location: file,
  concepts: [],
  datasetId: "shapes",
  ...extra,
});

Deno.test(
  "createVersion: the sample images' version has 12 images and 3 concepts of 4",
  { permissions },
  async () => {
    await withApi(async (client) => {
      const { summary, events, versions } = await collect(uploadFolder("samples/images", {
        client,
        recursive: true,
        labels: true,
        datasetId: "pets",
        createDataset: true,
        createVersion: true,
        rps: 0,
      }));
      assertEquals([summary.uploaded, summary.fatal], [12, undefined]);
      const version = summary.version;
      assert(version, "the summary has the version");
      assertEquals([version.status, version.datasetId, version.error], [
        "ready",
        "pets",
        undefined,
      ]);
      assertEquals(version.metrics, {
        inputs: 12,
        inputsByKind: { image: 12 },
        annotations: { concepts: 12, boundingBoxes: 0, polygons: 0, frames: 0 },
        concepts: ["bird", "cat", "dog"].map((id) => ({
          id,
          inputs: 4,
          inputTags: 4,
          boundingBoxes: 0,
          polygons: 0,
        })),
      });
      // Its events come after the batches, pending first, ready last, before the summary.
      assertEquals(versions[0].status, "pending");
      assertEquals(versions.at(-1)?.status, "ready");
      assert(events.indexOf(versions[0]) > events.findLastIndex((e) => e.type === "batch"));
      assertEquals(events.at(-1)?.type, "done");
      // The server holds it, ready, newest first.
      const latest = await latestDatasetVersion(client, client.userAppId, "pets");
      assertEquals([latest?.id, latest?.status], [version.id, "ready"]);
      assertEquals(latest?.metrics, version.metrics);
    });
  },
);

Deno.test(
  "createVersion after the processing wait: boxes, polygons and text counted by kind",
  { permissions },
  async () => {
    await withApi(async (client) => {
      await ensureDataset(client, "shapes", true);
      const box = (concept: string) => ({
        concepts: [concept],
        box: { left: 0.1, top: 0.1, right: 0.6, bottom: 0.6 },
      });
      const polygon = {
        concepts: ["cat"],
        polygon: [{ row: 0.1, col: 0.1 }, { row: 0.1, col: 0.5 }, { row: 0.5, col: 0.3 }],
      };
      const drafts: InputDraft[] = [
        image("c1", "cat/cat_01.png", { regions: [box("cat"), box("cat")] }),
        image("c2", "cat/cat_02.png", { regions: [polygon] }),
        image("d1", "dog/dog_01.png", { regions: [box("dog")], concepts: ["dog"] }),
        {
          id: "note",
          kind: "text",
          content: { type: "raw", text: "a cat" },
          location: "note",
          concepts: ["cat"],
          datasetId: "shapes",
        },
      ];
      const { summary, events } = await collect(runUpload(drafts, {
        client,
        userAppId: client.userAppId,
        rps: 0,
        wait: true,
        datasetId: "shapes",
        createVersion: true,
      }));
      assertEquals(summary.processing?.succeeded, 4);
      assert(
        events.findLastIndex((e) => e.type === "processing") <
          events.findIndex((e) => e.type === "version"),
        "the version is made after the wait",
      );
      const m = summary.version?.metrics;
      assert(m, JSON.stringify(summary.version));
      assertEquals(m.inputs, 4);
      assertEquals(m.inputsByKind, { image: 3, text: 1 });
      assertEquals(m.annotations, { concepts: 2, boundingBoxes: 3, polygons: 1, frames: 0 });
      assertEquals(
        m.concepts.map((c) => [c.id, c.inputs, c.inputTags, c.boundingBoxes, c.polygons]),
        [["cat", 3, 1, 2, 1], ["dog", 1, 1, 1, 0]],
      );
    });
  },
);

Deno.test(
  "createVersion: a version not ready in time is reported, with progress while it waits",
  { permissions },
  async () => {
    await withApi(async (client) => {
      await ensureDataset(client, "slow", true);
      const started = performance.now();
      const { summary, versions } = await collect(runUpload([image("c1", "cat/cat_01.png", {
        datasetId: "slow",
      })], {
        client,
        userAppId: client.userAppId,
        rps: 0,
        datasetId: "slow",
        createVersion: true,
        versionTimeoutMs: 800,
      }));
      assert(performance.now() - started < 30_000, "the wait is bounded");
      assertEquals(summary.uploaded, 1);
      assertEquals(summary.fatal, undefined, "the upload itself is fine");
      assertEquals(summary.version?.status, "timed out");
      assertStringIncludes(summary.version?.error ?? "", "not ready after");
      assertEquals(summary.version?.metrics, undefined);
      assertEquals(versions.at(-1)?.status, "timed out");
    }, { versionStepMs: 60_000 });
  },
);

Deno.test("datasetVersionEvents: heartbeats while the status stays the same", {
  permissions,
}, async () => {
  await withApi(async (client) => {
    await ensureDataset(client, "slow", true);
    const events: VersionEvent[] = [];
    for await (
      const e of datasetVersionEvents(client, client.userAppId, "slow", {
        id: "v-heartbeat",
        timeoutMs: 700,
        pollMs: 20,
        heartbeatMs: 100,
      })
    ) events.push(e);
    assertEquals(events[0].status, "pending");
    assert(events.filter((e) => e.status === "pending").length >= 3, JSON.stringify(events));
    assertEquals(events.at(-1)?.status, "timed out");
    assert(events.every((e) => e.id === "v-heartbeat"));
    // Elapsed time only grows.
    assert(events.every((e, i) => i === 0 || e.elapsedMs >= events[i - 1].elapsedMs));
  }, { versionStepMs: 60_000 });
});

Deno.test("createVersion: a version that cannot be made is reported", {
  permissions,
}, async () => {
  await withApi(async (client) => {
    const { summary } = await collect(runUpload([{
      id: "t1",
      kind: "text",
      content: { type: "raw", text: "hi" },
      location: "t1",
      concepts: [],
    }], {
      client,
      userAppId: client.userAppId,
      rps: 0,
      datasetId: "nowhere",
      createVersion: true,
    }));
    assertEquals([summary.uploaded, summary.fatal], [1, undefined]);
    assertEquals(summary.version?.status, "failed");
    assertStringIncludes(
      summary.version?.error ?? "",
      'Could not create a version of dataset "nowhere"',
    );
  });
});

Deno.test("createVersion: throttling of every call is waited out", {
  permissions,
}, async () => {
  // The client's retry interceptor, as createClarifaiClient installs it, with a callback.
  const retried = new Set<string>();
  const retry = retryInterceptor({ policy: patient(), onRetry: (i) => retried.add(i.method) });
  await withApi(
    async (client) => {
      const { summary } = await collect(uploadFolder("samples/images", {
        client,
        recursive: true,
        labels: true,
        datasetId: "pets",
        createDataset: true,
        createVersion: true,
        wait: true,
        rps: 0,
        retry: patient(),
      }));
      assertEquals([summary.uploaded, summary.failed, summary.fatal], [12, 0, undefined]);
      assertEquals(summary.version?.status, "ready", JSON.stringify(summary.version));
      assertEquals(summary.version?.metrics?.inputs, 12);
      assertEquals(summary.version?.metrics?.annotations.concepts, 12);
      // The version's own calls met throttling too, and waited it out.
      const versionCalls = [
        "PostDatasetVersions",
        "GetDatasetVersion",
        "ListDatasetVersionMetricsGroups",
      ];
      assert(versionCalls.some((m) => retried.has(m)), `retried: ${[...retried].join(", ")}`);
    },
    { faults: "throttle=0.3,seed=11" },
    [retry],
  );
});

Deno.test("createVersion: the caller's stop ends the wait at once", {
  permissions,
}, async () => {
  await withApi(async (client) => {
    await ensureDataset(client, "slow", true);
    const stop = new AbortController();
    const options: RunUploadOptions = {
      client,
      userAppId: client.userAppId,
      rps: 0,
      datasetId: "slow",
      createVersion: true,
      signal: stop.signal,
    };
    const started = performance.now();
    const summary = await summaryOf(
      runUpload([image("c1", "cat/cat_01.png", { datasetId: "slow" })], options),
      (e) => {
        if (e.type === "version") stop.abort();
      },
    );
    assert(performance.now() - started < 4_000, "no grace period, no version timeout");
    assertEquals([summary.uploaded, summary.cancelled], [1, true]);
    assertEquals(summary.version, undefined);
  }, { versionStepMs: 60_000 });
});
