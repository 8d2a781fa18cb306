/**
 * Clarifai's semantics in the local API: auth, request limits, duplicates (SKIP / SUFFIX),
 * processing by magic bytes, counts, paging, deletes, job cancel, annotations, datasets.
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { Code, ConnectError } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { InputIDConflictResolution } from "../../../src/gen/clarifai/api/resources_pb.ts";
import { StatusCode } from "../../../src/gen/clarifai/api/status/status_code_pb.ts";
import { type LocalApi, startLocalApi } from "../../../server/local/local_api.ts";
import { AUTH, jpeg, KEY, mp4, png, UA, v2Client } from "./_helpers.ts";

const NET: Deno.TestDefinition["permissions"] = { net: ["127.0.0.1"], read: true, env: true };

/** Runs `fn` against a fresh in-memory API. */
function withApi(
  fn: (api: LocalApi, client: ReturnType<typeof v2Client>, t: Deno.TestContext) => Promise<void>,
  options: Parameters<typeof startLocalApi>[0] = {},
) {
  return async (t: Deno.TestContext) => {
    await using api = await startLocalApi({ dataDir: ":memory:", key: KEY, ...options });
    await fn(api, v2Client(api.baseUrl), t);
  };
}

const image = (id: string, bytes = jpeg()) => ({ id, data: { image: { base64: bytes } } });

Deno.test({
  name: "auth and user_app_id come first",
  permissions: NET,
  fn: withApi(async (_api, client, t) => {
    const cases: [string, Record<string, string>, object, StatusCode][] = [
      ["no key", {}, { userAppId: UA }, StatusCode.CONN_CREDENTIALS_INVALID],
      ["Bearer scheme", { authorization: `Bearer ${KEY}` }, { userAppId: UA }, 11002],
      ["wrong key", { authorization: "Key nope" }, { userAppId: UA }, StatusCode.CONN_KEY_INVALID],
      ["no user_app_id", AUTH.headers, {}, StatusCode.CONN_INVALID_REQUEST],
      ["no app_id", AUTH.headers, { userAppId: { userId: "me" } }, StatusCode.CONN_INVALID_REQUEST],
    ];
    for (const [name, headers, request, code] of cases) {
      await t.step(name, async () => {
        const res = await client.postInputs(
          { ...request, inputs: [image("never")] },
          { headers },
        );
        assertEquals(res.status?.code, code);
        assertEquals(res.inputs.length, 0);
      });
    }
    const count = await client.getInputCount({ userAppId: UA }, AUTH);
    assertEquals(count.counts?.toProcess ?? 0, 0, "nothing was stored");
  }),
});

Deno.test({
  name: "PostInputs request limits",
  permissions: NET,
  fn: withApi(async (api, client, t) => {
    await t.step("more than 128 inputs", async () => {
      const res = await client.postInputs({
        userAppId: UA,
        inputs: Array.from(
          { length: 129 },
          (_, i) => ({ id: `t${i}`, data: { text: { raw: "x" } } }),
        ),
      }, AUTH);
      assertEquals(res.status?.code, StatusCode.CONN_INVALID_REQUEST);
      assertStringIncludes(res.status!.details, "at most 128 inputs");
    });
    await t.step("two videos in one request", async () => {
      const res = await client.postInputs({
        userAppId: UA,
        inputs: [1, 2].map((i) => ({ id: `v${i}`, data: { video: { base64: mp4() } } })),
      }, AUTH);
      assertEquals(res.status?.code, StatusCode.CONN_INVALID_REQUEST);
      assertEquals(res.status?.details, "only 1 video per request: got 2");
    });
    await t.step("an image of 20 MB is over the per-kind limit", async () => {
      const res = await client.postInputs({
        userAppId: UA,
        inputs: [image("huge", jpeg(20 * 1024 * 1024)), image("small")],
      }, { ...AUTH, timeoutMs: 20_000 });
      assertEquals(res.status?.code, StatusCode.MIXED_STATUS);
      assertEquals(res.inputs[0].status?.code, StatusCode.INPUT_OVER_LIMIT);
      assertStringIncludes(res.inputs[0].status!.details, "under 20 MB");
      assertEquals(res.inputs[1].status?.code, StatusCode.INPUT_PENDING);
    });
    await t.step("invalid content", async () => {
      const res = await client.postInputs({
        userAppId: UA,
        inputs: [
          { id: "empty" },
          { id: "two-kinds", data: { image: { base64: jpeg() }, text: { raw: "x" } } },
          { id: "ftp", data: { image: { url: "ftp://example.com/a.jpg" } } },
          { id: "bad id!", data: { text: { raw: "x" } } },
          {
            id: "bad-box",
            data: {
              text: { raw: "x" },
              regions: [{
                regionInfo: { boundingBox: { leftCol: 0.5, rightCol: 0.2, bottomRow: 1 } },
              }],
            },
          },
        ],
      }, AUTH);
      assertEquals(res.status?.code, StatusCode.FAILURE);
      assertEquals(res.inputs.map((i) => i.status?.code), [
        StatusCode.INPUT_INVALID_ARGUMENT,
        StatusCode.INPUT_INVALID_ARGUMENT,
        StatusCode.INPUT_INVALID_URL,
        StatusCode.INPUT_INVALID_ARGUMENT,
        StatusCode.INPUT_INVALID_ARGUMENT,
      ]);
    });
    await t.step("the whole request above the size limit", async () => {
      await using small = await startLocalApi({
        dataDir: ":memory:",
        key: KEY,
        maxRequestBytes: 10_000,
      });
      const err = await assertRejects(
        () =>
          v2Client(
            small.baseUrl,
            createConnectTransport({ baseUrl: small.baseUrl, useBinaryFormat: true }),
          )
            .postInputs({ userAppId: UA, inputs: [image("big", jpeg(20_000))] }, AUTH),
        ConnectError,
      );
      assertEquals(err.code, Code.ResourceExhausted);
      const rest = await fetch(`${small.baseUrl}/v2/users/me/apps/demo/inputs`, {
        method: "POST",
        headers: { authorization: `Key ${KEY}` },
        body: JSON.stringify({
          inputs: [{ data: { image: { base64: btoa("x".repeat(20_000)) } } }],
        }),
      });
      assertEquals(rest.status, 413);
      assertEquals((await rest.json()).status.code, StatusCode.RPC_MAX_MESSAGE_SIZE_EXCEEDED);
    });
    void api;
  }),
});

Deno.test({
  name: "input IDs: generated when absent, identical IDs in one request, SKIP and SUFFIX",
  permissions: NET,
  fn: withApi(async (api, client, t) => {
    await t.step("an input without an ID gets a generated one", async () => {
      const res = await client.postInputs({
        userAppId: UA,
        inputs: [{ data: { text: { raw: "a" } } }],
      }, AUTH);
      assertMatch(res.inputs[0].id, /^[0-9a-f]{32}$/);
    });
    await t.step("identical IDs inside one request are errors, the rest goes on", async () => {
      const res = await client.postInputs({
        userAppId: UA,
        inputs: [image("twin"), image("twin"), image("single")],
      }, AUTH);
      assertEquals(res.status?.code, StatusCode.MIXED_STATUS);
      assertEquals(res.inputs.map((i) => i.status?.code), [
        StatusCode.INPUT_INVALID_ARGUMENT,
        StatusCode.INPUT_INVALID_ARGUMENT,
        StatusCode.INPUT_PENDING,
      ]);
      const got = await client.getInput({ userAppId: UA, inputId: "twin" }, AUTH);
      assertEquals(got.status?.code, StatusCode.CONN_DOES_NOT_EXIST);
    });
    for (
      const [name, mode] of [["NOT_SET", undefined], [
        "SKIP",
        InputIDConflictResolution.SKIP,
      ]] as const
    ) {
      await t.step(
        `${name}: a stored ID is a per-input duplicate error, nothing stored`,
        async () => {
          const res = await client.postInputs({
            userAppId: UA,
            inputIdConflictResolution: mode,
            inputs: [image("single", png())],
          }, AUTH);
          assertEquals(res.status?.code, StatusCode.FAILURE);
          assertEquals(res.inputs[0].status?.code, StatusCode.INPUT_DUPLICATE);
          assertEquals(res.inputs[0].status?.details, "Input has a duplicate ID.");
          const count = await client.listInputs({ userAppId: UA, ids: ["single"] }, AUTH);
          assertEquals(
            count.inputs[0].data?.image?.url.endsWith(
              await sha256Hex(jpeg()),
            ),
            true,
            "the first content is kept",
          );
        },
      );
    }
    await t.step("SUFFIX: -1 .. -9, then a random suffix", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        const res = await client.postInputs({
          userAppId: UA,
          inputIdConflictResolution: InputIDConflictResolution.SUFFIX,
          inputs: [image("single")],
        }, AUTH);
        assertEquals(res.status?.code, StatusCode.SUCCESS);
        ids.push(res.inputs[0].id);
      }
      assertEquals(ids.slice(0, 9), Array.from({ length: 9 }, (_, i) => `single-${i + 1}`));
      assertMatch(ids[9], /^single-[0-9a-f]{8}$/);
    });
    await t.step("dataset_ids naming a dataset that does not exist", async () => {
      const res = await client.postInputs({
        userAppId: UA,
        inputs: [{ ...image("orphan"), datasetIds: ["nowhere"] }],
      }, AUTH);
      assertEquals(res.inputs[0].status?.code, StatusCode.INPUT_INVALID_ARGUMENT);
      assertStringIncludes(res.inputs[0].status!.details, '"nowhere" does not exist');
      assertEquals(api.store.inputs.get(api.store.appKey("me", "demo"), "orphan"), undefined);
    });
  }),
});

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test({
  name: "processing sniffs content by magic bytes; URLs are recorded and succeed",
  permissions: NET,
  fn: withApi(async (api, client) => {
    const wav = new TextEncoder().encode("RIFF\0\0\0\0WAVEfmt ");
    const res = await client.postInputs({
      userAppId: UA,
      inputsAddJobId: "job-sniff",
      inputs: [
        image("real-jpeg"),
        image("png-as-image", png()),
        image("text-as-image", new TextEncoder().encode("just some text")),
        { id: "wav", data: { audio: { base64: wav } } },
        { id: "jpeg-as-audio", data: { audio: { base64: jpeg() } } },
        { id: "by-url", data: { image: { url: "https://example.com/cat.jpg" } } },
        { id: "raw-text", data: { text: { raw: "héllo" } } },
      ],
    }, AUTH);
    assertEquals(res.status?.code, StatusCode.SUCCESS);
    await api.waitForProcessing();
    const listed = await client.listInputs({ userAppId: UA }, AUTH);
    const codes = Object.fromEntries(listed.inputs.map((i) => [i.id, i.status?.code]));
    assertEquals(codes, {
      "real-jpeg": StatusCode.INPUT_SUCCESS,
      "png-as-image": StatusCode.INPUT_SUCCESS,
      "text-as-image": StatusCode.INPUT_FAILED,
      "wav": StatusCode.INPUT_SUCCESS,
      "jpeg-as-audio": StatusCode.INPUT_FAILED,
      "by-url": StatusCode.INPUT_SUCCESS,
      "raw-text": StatusCode.INPUT_SUCCESS,
    });
    const failed = listed.inputs.find((i) => i.id === "jpeg-as-audio");
    assertEquals(failed?.status?.details, "content is a jpeg image, not an audio");
    const count = await client.getInputCount({ userAppId: UA }, AUTH);
    assertEquals([count.counts?.processed, count.counts?.errors, count.counts?.toProcess], [
      5,
      2,
      0,
    ]);
    const job = await client.getInputsAddJob({ userAppId: UA, id: "job-sniff" }, AUTH);
    assertEquals(job.inputsAddJob?.progress?.failedCount, 2n);
  }),
});

Deno.test({
  name: "pending inputs, cancelling a job, paging, status filter, deleting",
  permissions: NET,
  fn: withApi(async (api, client, t) => {
    const res = await client.postInputs({
      userAppId: UA,
      inputsAddJobId: "job-slow",
      inputs: Array.from({ length: 5 }, (_, i) => image(`p${i}`, jpeg(40, i))),
    }, AUTH);
    assertEquals(res.inputsAddJob?.progress?.pendingCount, 5n);
    await t.step("counts while pending", async () => {
      const count = await client.getInputCount({ userAppId: UA }, AUTH);
      assertEquals(count.counts?.toProcess, 5);
      const job = await client.getInputsAddJob({ userAppId: UA, id: "job-slow" }, AUTH);
      assertEquals(job.inputsAddJob?.status?.code, StatusCode.JOB_QUEUED);
    });
    await t.step("paging", async () => {
      const page2 = await client.listInputs({ userAppId: UA, page: 2, perPage: 2 }, AUTH);
      assertEquals(page2.inputs.map((i) => i.id), ["p2", "p3"]);
      const tooBig = await client.listInputs({ userAppId: UA, perPage: 1001 }, AUTH);
      assertEquals(tooBig.status?.code, StatusCode.CONN_INVALID_REQUEST);
    });
    await t.step("cancel fails the pending inputs", async () => {
      const cancelled = await client.cancelInputsAddJob({ userAppId: UA, id: "job-slow" }, AUTH);
      assertEquals(cancelled.inputsAddJob?.progress?.failedCount, 5n);
      assertEquals(cancelled.inputsAddJob?.status?.code, StatusCode.JOB_FAILED);
      const failed = await client.listInputs({
        userAppId: UA,
        status: { code: StatusCode.INPUT_FAILED },
      }, AUTH);
      assertEquals(failed.inputs.length, 5);
      const unknown = await client.getInputsAddJob({ userAppId: UA, id: "nope" }, AUTH);
      assertEquals(unknown.status?.code, StatusCode.CONN_DOES_NOT_EXIST);
    });
    await t.step(
      "delete: unknown IDs delete nothing; known ones go with their content",
      async () => {
        const bad = await client.deleteInputs({ userAppId: UA, ids: ["p0", "ghost"] }, AUTH);
        assertEquals(bad.status?.code, StatusCode.INPUT_DOES_NOT_EXIST);
        const ok = await client.deleteInputs({ userAppId: UA, ids: ["p0", "p1"] }, AUTH);
        assertEquals(ok.status?.code, StatusCode.SUCCESS);
        const left = await client.listInputs({ userAppId: UA }, AUTH);
        assertEquals(left.inputs.map((i) => i.id), ["p2", "p3", "p4"]);
        assertEquals(api.store.blobs.get(await sha256Hex(jpeg(40, 0))), undefined);
      },
    );
  }, { processingDelayMs: 60_000 }),
});

Deno.test({
  name: "annotations: unknown inputs, geometry, duplicate IDs, listing",
  permissions: NET,
  fn: withApi(async (_api, client, t) => {
    await client.postInputs({ userAppId: UA, inputs: [image("img-1"), image("img-2")] }, AUTH);
    const box = (leftCol: number, topRow: number, rightCol: number, bottomRow: number) => ({
      regions: [{ regionInfo: { boundingBox: { leftCol, topRow, rightCol, bottomRow } } }],
    });
    const polygon = (points: [number, number][]) => ({
      regions: [{
        regionInfo: { polygon: { points: points.map(([col, row]) => ({ col, row })) } },
      }],
    });
    const cases: [string, object, StatusCode][] = [
      ["a valid box", box(0.1, 0.1, 0.5, 0.5), StatusCode.ANNOTATION_SUCCESS],
      ["the full image", box(0, 0, 1, 1), StatusCode.ANNOTATION_SUCCESS],
      ["left = right", box(0.5, 0.1, 0.5, 0.6), StatusCode.ANNOTATION_INVALID_ARGUMENT],
      ["left > right", box(0.6, 0.1, 0.5, 0.6), StatusCode.ANNOTATION_INVALID_ARGUMENT],
      ["bottom > 1", box(0.1, 0.1, 0.5, 1.2), StatusCode.ANNOTATION_INVALID_ARGUMENT],
      ["negative top", box(0.1, -0.1, 0.5, 0.5), StatusCode.ANNOTATION_INVALID_ARGUMENT],
      ["a triangle", polygon([[0, 0], [1, 0], [0.5, 1]]), StatusCode.ANNOTATION_SUCCESS],
      ["two points", polygon([[0, 0], [1, 0]]), StatusCode.ANNOTATION_INVALID_ARGUMENT],
      [
        "a point outside",
        polygon([[0, 0], [1.5, 0], [0.5, 1]]),
        StatusCode.ANNOTATION_INVALID_ARGUMENT,
      ],
      ["no data", {}, StatusCode.ANNOTATION_INVALID_ARGUMENT],
      ["concepts only", { concepts: [{ id: "cat", value: 1 }] }, StatusCode.ANNOTATION_SUCCESS],
    ];
    for (const [i, [name, data, code]] of cases.entries()) {
      await t.step(name, async () => {
        const res = await client.postAnnotations({
          userAppId: UA,
          annotations: [{ id: `ann-${i}`, inputId: "img-1", data }],
        }, AUTH);
        assertEquals(res.annotations[0].status?.code, code, res.annotations[0].status?.details);
        assertEquals(
          res.status?.code,
          code === StatusCode.ANNOTATION_SUCCESS ? StatusCode.SUCCESS : StatusCode.FAILURE,
        );
      });
    }
    await t.step("unknown input, duplicates stored and in the request", async () => {
      const data = { concepts: [{ id: "dog", value: 1 }] };
      const res = await client.postAnnotations({
        userAppId: UA,
        annotations: [
          { id: "x-1", inputId: "ghost", data },
          { id: "ann-0", inputId: "img-2", data },
          { id: "same", inputId: "img-2", data },
          { id: "same", inputId: "img-2", data },
          { id: "fresh", inputId: "img-2", data },
        ],
      }, AUTH);
      assertEquals(res.status?.code, StatusCode.MIXED_STATUS);
      assertEquals(res.annotations.map((a) => a.status?.code), [
        StatusCode.INPUT_DOES_NOT_EXIST,
        StatusCode.DATABASE_DUPLICATE_KEY,
        StatusCode.ANNOTATION_INVALID_ARGUMENT,
        StatusCode.ANNOTATION_INVALID_ARGUMENT,
        StatusCode.ANNOTATION_SUCCESS,
      ]);
    });
    await t.step("list by input and by ID, paged", async () => {
      const byInput = await client.listAnnotations({ userAppId: UA, inputIds: ["img-2"] }, AUTH);
      assertEquals(byInput.annotations.map((a) => a.id), ["fresh"]);
      const page = await client.listAnnotations({ userAppId: UA, page: 2, perPage: 2 }, AUTH);
      assertEquals(page.annotations.map((a) => a.id), ["ann-6", "ann-10"]);
      const one = await client.listAnnotations({ userAppId: UA, ids: ["ann-0"] }, AUTH);
      assert(one.annotations[0].data?.regions[0].id !== "", "region IDs are assigned");
    });
  }),
});

Deno.test({
  name: "datasets: create, duplicates, get, add inputs (not atomic), list",
  permissions: NET,
  fn: withApi(async (_api, client, t) => {
    await client.postInputs({ userAppId: UA, inputs: [image("d1"), image("d2")] }, AUTH);
    await t.step("create and get", async () => {
      const res = await client.postDatasets({ userAppId: UA, datasets: [{ id: "ds" }] }, AUTH);
      assertEquals(res.datasets[0].appId, UA.appId);
      const got = await client.getDataset({ userAppId: UA, datasetId: "ds" }, AUTH);
      assertEquals(got.dataset?.id, "ds");
      const missing = await client.getDataset({ userAppId: UA, datasetId: "nope" }, AUTH);
      assertEquals(missing.status?.code, StatusCode.CONN_DOES_NOT_EXIST);
    });
    await t.step("a duplicate dataset ID fails the request, nothing stored", async () => {
      const res = await client.postDatasets({
        userAppId: UA,
        datasets: [{ id: "other" }, { id: "ds" }],
      }, AUTH);
      assertEquals(res.status?.code, StatusCode.DATABASE_DUPLICATE_KEY);
      const other = await client.getDataset({ userAppId: UA, datasetId: "other" }, AUTH);
      assertEquals(other.status?.code, StatusCode.CONN_DOES_NOT_EXIST);
    });
    await t.step("add inputs: per-item status, MIXED_STATUS", async () => {
      const res = await client.postDatasetInputs({
        userAppId: UA,
        datasetId: "ds",
        datasetInputs: [{ input: { id: "d1" } }, { input: { id: "ghost" } }, {
          input: { id: "d2" },
        }],
      }, AUTH);
      assertEquals(res.status?.code, StatusCode.MIXED_STATUS);
      assertEquals(res.datasetInputs.map((d) => d.input?.status?.code), [
        StatusCode.DATASET_INPUT_SUCCESS,
        StatusCode.INPUT_DOES_NOT_EXIST,
        StatusCode.DATASET_INPUT_SUCCESS,
      ]);
      const unknown = await client.postDatasetInputs({
        userAppId: UA,
        datasetId: "nope",
        datasetInputs: [{ input: { id: "d1" } }],
      }, AUTH);
      assertEquals(unknown.status?.code, StatusCode.CONN_DOES_NOT_EXIST);
    });
    await t.step("list, paged", async () => {
      const all = await client.listDatasetInputs({ userAppId: UA, datasetId: "ds" }, AUTH);
      assertEquals(all.datasetInputs.map((d) => d.input?.id), ["d1", "d2"]);
      const second = await client.listDatasetInputs({
        userAppId: UA,
        datasetId: "ds",
        page: 2,
        perPage: 1,
      }, AUTH);
      assertEquals(second.datasetInputs.map((d) => d.input?.id), ["d2"]);
    });
    await t.step("users and apps are separate spaces", async () => {
      const elsewhere = await client.getDataset({
        userAppId: { userId: "me", appId: "other-app" },
        datasetId: "ds",
      }, AUTH);
      assertEquals(elsewhere.status?.code, StatusCode.CONN_DOES_NOT_EXIST);
    });
  }),
});
