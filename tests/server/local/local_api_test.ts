/**
 * The local API over every protocol on one port: the official clarifai-nodejs-grpc client
 * (grpc-js over h2c), Connect and gRPC-web over HTTP/1.1, Connect's gRPC transport over HTTP/2,
 * and the documented REST paths via fetch; plus restart persistence.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { createRequire } from "node:module";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import {
  createConnectTransport as createNodeConnectTransport,
  createGrpcTransport,
} from "@connectrpc/connect-node";
import type { Transport } from "@connectrpc/connect";
import theirResources from "npm:clarifai-nodejs-grpc@11.11.0/proto/clarifai/api/resources_pb";
import theirService from "npm:clarifai-nodejs-grpc@11.11.0/proto/clarifai/api/service_pb";
import { V2Client } from "npm:clarifai-nodejs-grpc@11.11.0/proto/clarifai/api/service_grpc_pb";
import { StatusCode } from "../../../src/gen/clarifai/api/status/status_code_pb.ts";
import { startLocalApi } from "../../../server/local/local_api.ts";
import { AUTH, jpeg, KEY, png, UA, v2Client } from "./_helpers.ts";

// grpc-js from the very copy the official client uses (no extra dependency needed).
const requireFromTheirs = createRequire(
  import.meta.resolve("npm:clarifai-nodejs-grpc@11.11.0/proto/clarifai/api/service_grpc_pb"),
);
const grpc = requireFromTheirs("@grpc/grpc-js");

const NET: Deno.TestDefinition["permissions"] = {
  net: ["127.0.0.1"],
  read: true,
  env: true,
  sys: true,
};

Deno.test({
  name:
    "official clarifai-nodejs-grpc client: PostInputs with regions, ListInputs, GetInputsAddJob",
  permissions: NET,
  async fn() {
    await using api = await startLocalApi({ dataDir: ":memory:", key: KEY });
    const client = new V2Client(
      `127.0.0.1:${api.port}`,
      grpc.credentials.createInsecure(),
    );
    const metadata = new grpc.Metadata();
    metadata.set("authorization", `Key ${KEY}`);
    // deno-lint-ignore no-explicit-any
    const unary = <T>(method: string, request: unknown, md = metadata): Promise<any> =>
      new Promise<T>((resolve, reject) =>
        // deno-lint-ignore no-explicit-any
        (client as any)[method](request, md, (err: Error | null, res: T) =>
          err ? reject(err) : resolve(res))
      );
    try {
      const userAppId = new theirResources.UserAppIDSet().setUserId(UA.userId).setAppId(UA.appId);
      const inputs = ["cat-1", "cat-2"].map((id, i) => {
        const box = new theirResources.BoundingBox().setTopRow(0.1).setLeftCol(0.2)
          .setBottomRow(0.5).setRightCol(0.6 + i * 0.1);
        const region = new theirResources.Region().setRegionInfo(
          new theirResources.RegionInfo().setBoundingBox(box),
        );
        const regionData = new theirResources.Data();
        regionData.addConcepts(new theirResources.Concept().setId("cat").setValue(1));
        region.setData(regionData);
        // The second makes a request over 64 KiB: parsed ahead, in a reused buffer.
        const data = new theirResources.Data()
          .setImage(new theirResources.Image().setBase64(jpeg(i === 0 ? 100 : 300_000, 7)));
        data.addRegions(region);
        return new theirResources.Input().setId(id).setData(data);
      });
      const post = new theirService.PostInputsRequest().setUserAppId(userAppId)
        .setInputsList(inputs).setInputsAddJobId("job-grpc-js");
      const posted = await unary("postInputs", post);
      assertEquals(posted.getStatus().getCode(), StatusCode.SUCCESS);
      assertEquals(
        posted.getInputsList().map((i: { getId(): string }) => i.getId()),
        ["cat-1", "cat-2"],
      );
      assertEquals(posted.getInputsList()[0].getStatus().getCode(), StatusCode.INPUT_PENDING);
      assertEquals(posted.getInputsAddJob().getId(), "job-grpc-js");

      await api.waitForProcessing();
      const listed = await unary(
        "listInputs",
        new theirService.ListInputsRequest().setUserAppId(userAppId).setPerPage(10),
      );
      assertEquals(listed.getStatus().getCode(), StatusCode.SUCCESS);
      const first = listed.getInputsList()[0];
      assertEquals(first.getId(), "cat-1");
      assertEquals(first.getStatus().getCode(), StatusCode.INPUT_SUCCESS);
      const region = first.getData().getRegionsList()[0];
      assertAlmost(region.getRegionInfo().getBoundingBox().getRightCol(), 0.6);
      assertEquals(region.getData().getConceptsList()[0].getId(), "cat");
      assert(region.getId() !== "", "a region ID is assigned");
      assertMatch(first.getData().getImage().getUrl(), /\/local\/blobs\/[0-9a-f]{64}$/);
      const second = await fetch(listed.getInputsList()[1].getData().getImage().getUrl());
      assertEquals(new Uint8Array(await second.arrayBuffer()), jpeg(300_000, 7));

      const job = await unary(
        "getInputsAddJob",
        new theirService.GetInputsAddJobRequest().setUserAppId(userAppId).setId("job-grpc-js"),
      );
      const progress = job.getInputsAddJob().getProgress();
      assertEquals(
        [progress.getPendingCount(), progress.getSuccessCount(), progress.getFailedCount()],
        [0, 2, 0],
      );

      // A wrong key is an in-body status with transport OK, and no data.
      const wrong = new grpc.Metadata();
      wrong.set("authorization", "Key nope");
      const denied = await unary(
        "listInputs",
        new theirService.ListInputsRequest().setUserAppId(userAppId),
        wrong,
      );
      assertEquals(denied.getStatus().getCode(), StatusCode.CONN_KEY_INVALID);
      assertEquals(denied.getInputsList().length, 0);

      // A method the local API does not implement: in-body NOT_IMPLEMENTED over gRPC.
      const unknown = await new Promise<InstanceType<typeof theirService.MultiInputResponse>>(
        (resolve, reject) =>
          client.makeUnaryRequest(
            "/clarifai.api.V2/ListModels",
            () => Buffer.from([]),
            (bytes: Uint8Array) => theirService.MultiInputResponse.deserializeBinary(bytes),
            {},
            metadata,
            (err: Error | null, res?: InstanceType<typeof theirService.MultiInputResponse>) =>
              err ? reject(err) : resolve(res!),
          ),
      );
      assertEquals(unknown.getStatus()!.getCode(), StatusCode.NOT_IMPLEMENTED);
    } finally {
      client.close();
    }
  },
});

function assertAlmost(actual: number, expected: number): void {
  assert(Math.abs(actual - expected) < 1e-6, `${actual} ≈ ${expected}`);
}

Deno.test({
  name: "Connect, gRPC-web and gRPC clients: post with regions, list, read job progress",
  permissions: NET,
  async fn(t) {
    await using api = await startLocalApi({ dataDir: ":memory:", key: KEY });
    const transports: [string, Transport][] = [
      ["Connect JSON (HTTP/1.1)", createConnectTransport({ baseUrl: api.baseUrl })],
      [
        "Connect binary (HTTP/1.1)",
        createConnectTransport({ baseUrl: api.baseUrl, useBinaryFormat: true }),
      ],
      ["gRPC-web (HTTP/1.1)", createGrpcWebTransport({ baseUrl: api.baseUrl })],
      [
        // node:http client: sequential calls reuse one keep-alive connection.
        "Keep-alive Connect (HTTP/1.1, node:http)",
        createNodeConnectTransport({
          baseUrl: api.baseUrl,
          httpVersion: "1.1",
          useBinaryFormat: true,
        }),
      ],
      ["gRPC (HTTP/2, connect-node)", createGrpcTransport({ baseUrl: api.baseUrl })],
    ];
    for (const [name, transport] of transports) {
      await t.step(name, async () => {
        const client = v2Client(api.baseUrl, transport);
        const prefix = name.split(" ")[0].toLowerCase().replace(/[^a-z]/g, "");
        const ids = [`${prefix}-${name.length}-a`, `${prefix}-${name.length}-b`];
        const jobId = `job-${prefix}-${name.length}`;
        const posted = await client.postInputs({
          userAppId: UA,
          inputsAddJobId: jobId,
          inputs: ids.map((id) => ({
            id,
            data: {
              image: { base64: png(80) },
              concepts: [{ id: "dog", value: 1 }],
              regions: [{
                regionInfo: {
                  boundingBox: { topRow: 0.1, leftCol: 0.1, bottomRow: 0.9, rightCol: 0.9 },
                },
              }],
            },
          })),
        }, AUTH);
        assertEquals(posted.status?.code, StatusCode.SUCCESS);
        assertEquals(posted.inputs.map((i) => i.status?.code), [
          StatusCode.INPUT_PENDING,
          StatusCode.INPUT_PENDING,
        ]);
        await api.waitForProcessing();
        const listed = await client.listInputs({ userAppId: UA, ids }, AUTH);
        assertEquals(listed.inputs.map((i) => i.id), ids);
        assertEquals(listed.inputs[0].data?.regions.length, 1);
        assertEquals(listed.inputs[0].data?.concepts[0].id, "dog");
        assertEquals(listed.inputs[0].status?.code, StatusCode.INPUT_SUCCESS);
        const job = await client.getInputsAddJob({ userAppId: UA, id: jobId }, AUTH);
        assertEquals(job.inputsAddJob?.progress?.successCount, 2n);
        assertEquals(job.inputsAddJob?.status?.code, StatusCode.JOB_COMPLETED);
      });
    }
    await t.step("unknown method over Connect: in-body NOT_IMPLEMENTED", async () => {
      const res = await fetch(`${api.baseUrl}/clarifai.api.V2/ListModels`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Key ${KEY}` },
        body: "{}",
      });
      assertEquals(res.status, 200);
      assertEquals((await res.json()).status.code, "NOT_IMPLEMENTED");
    });
  },
});

Deno.test({
  name: "REST: the documented cURL calls for datasets and inputs",
  permissions: NET,
  async fn(t) {
    await using api = await startLocalApi({ dataDir: ":memory:", key: KEY });
    const base = `${api.baseUrl}/v2/users/${UA.userId}/apps/${UA.appId}`;
    const headers = { "Authorization": `Key ${KEY}`, "Content-Type": "application/json" };
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { http: res.status, json: await res.json() };
    };

    await t.step("POST datasets", async () => {
      const { http, json } = await call("POST", "/datasets", {
        datasets: [{ id: "pets", description: "cats and dogs" }],
      });
      assertEquals(http, 200);
      assertEquals(json.datasets[0].id, "pets");
      assertEquals(json.datasets[0].user_id, UA.userId);
    });
    await t.step("POST inputs (bytes as base64, snake_case)", async () => {
      const { http, json } = await call("POST", "/inputs", {
        inputs: [
          { id: "rest-1", data: { image: { base64: btoa(String.fromCharCode(...jpeg(40))) } } },
          {
            id: "rest-2",
            data: { image: { url: "https://samples.clarifai.com/metro-north.jpg" } },
          },
        ],
        inputs_add_job_id: "job-rest",
      });
      assertEquals(http, 200);
      assertEquals(json.status.code, StatusCode.SUCCESS);
      assertEquals(json.inputs_add_job.id, "job-rest");
    });
    await t.step("POST datasets/{dataset_id}/inputs, as in Clarifai's docs", async () => {
      const { http, json } = await call("POST", "/datasets/pets/inputs", {
        dataset_inputs: [{ input: { id: "rest-1" } }, { input: { id: "rest-2" } }],
      });
      assertEquals(http, 200);
      assertEquals(json.status.code, StatusCode.SUCCESS);
      assertEquals(
        json.dataset_inputs.map((d: { input: { status: { code: number } } }) =>
          d.input.status.code
        ),
        [StatusCode.DATASET_INPUT_SUCCESS, StatusCode.DATASET_INPUT_SUCCESS],
      );
    });
    await t.step("GET datasets/{dataset_id}/inputs and inputs/status", async () => {
      await api.waitForProcessing();
      const { json } = await call("GET", "/datasets/pets/inputs?per_page=1&page=2");
      assertEquals(json.dataset_inputs.map((d: { input: { id: string } }) => d.input.id), [
        "rest-2",
      ]);
      const counts = await call("GET", "/inputs/status");
      assertEquals(counts.json.counts.processed, 2);
    });
    await t.step("GET inputs with filters, GET one input", async () => {
      const { json } = await call("GET", "/inputs?ids=rest-2&status.code=30000");
      assertEquals(json.inputs.map((i: { id: string }) => i.id), ["rest-2"]);
      const one = await call("GET", "/inputs/rest-1");
      assertEquals(one.json.input.id, "rest-1");
      assertEquals(one.json.input.dataset_ids, ["pets"]);
      const blob = await fetch(one.json.input.data.image.url);
      assertEquals(new Uint8Array(await blob.arrayBuffer()), jpeg(40));
    });
    await t.step("missing and wrong keys answer in-body statuses, never data", async () => {
      const missing = await fetch(`${base}/inputs`);
      assertEquals(missing.status, 401);
      const body = await missing.json();
      assertEquals(body.status.code, StatusCode.CONN_CREDENTIALS_INVALID);
      assertEquals(body.inputs, undefined);
      const wrong = await fetch(`${base}/inputs`, { headers: { Authorization: "Key wrong" } });
      assertEquals((await wrong.json()).status.code, StatusCode.CONN_KEY_INVALID);
    });
    await t.step("unimplemented and unknown paths", async () => {
      const res = await call("GET", "/models");
      assertEquals(res.http, 404);
      assertEquals(res.json.status.code, StatusCode.NOT_IMPLEMENTED);
      assertStringIncludes(res.json.status.details, "GET /v2/users/me/apps/demo/models");
      const bad = await fetch(`${base}/inputs`, { method: "POST", headers, body: "{nope" });
      assertEquals((await bad.json()).status.code, StatusCode.CONN_BAD_REQUEST_FORMAT);
    });
    await t.step("DELETE inputs with a body", async () => {
      const { json } = await call("DELETE", "/inputs", { ids: ["rest-2"] });
      assertEquals(json.status.code, StatusCode.SUCCESS);
      const gone = await call("GET", "/inputs/rest-2");
      assertEquals(gone.http, 404);
      assertEquals(gone.json.status.code, StatusCode.CONN_DOES_NOT_EXIST);
    });
  },
});

Deno.test({
  name: "data survives a restart on the same data folder; pending inputs are processed then",
  permissions: { net: ["127.0.0.1"], read: true, write: true, env: true, sys: true },
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "upflow-local-" });
    try {
      {
        await using api = await startLocalApi({ dataDir, key: KEY, processingDelayMs: 60_000 });
        const client = v2Client(api.baseUrl);
        await client.postDatasets({ userAppId: UA, datasets: [{ id: "kept" }] }, AUTH);
        const posted = await client.postInputs({
          userAppId: UA,
          inputs: [{ id: "survivor", data: { image: { base64: jpeg() } }, datasetIds: ["kept"] }],
        }, AUTH);
        assertEquals(posted.inputs[0].status?.code, StatusCode.INPUT_PENDING);
      }
      await using api = await startLocalApi({ dataDir, key: KEY });
      await api.waitForProcessing();
      const client = v2Client(api.baseUrl);
      const got = await client.getInput({ userAppId: UA, inputId: "survivor" }, AUTH);
      assertEquals(got.input?.status?.code, StatusCode.INPUT_SUCCESS);
      assertEquals(got.input?.datasetIds, ["kept"]);
      const dataset = await client.getDataset({ userAppId: UA, datasetId: "kept" }, AUTH);
      assertEquals(dataset.status?.code, StatusCode.SUCCESS);
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
