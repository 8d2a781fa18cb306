/**
 * Dataset versions in the local API over gRPC (HTTP/2), Connect (HTTP/1.1) and REST: processed
 * asynchronously (pending → in progress → ready, waiting for the dataset's inputs), with the
 * metrics the official Python SDK's `get_upload_status` reads (input counts by kind, annotation
 * counts by concept); listing, deleting, unknown datasets and versions.
 */
import { assert, assertEquals } from "@std/assert";
import type { Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  type DatasetVersionMetricsGroup,
  DatasetVersionMetricsGroupType,
} from "../../../src/gen/clarifai/api/resources_pb.ts";
import { StatusCode } from "../../../src/gen/clarifai/api/status/status_code_pb.ts";
import { type LocalApi, startLocalApi } from "../../../server/local/local_api.ts";
import { AUTH, jpeg, KEY, UA, v2Client } from "./_helpers.ts";

const NET: Deno.TestDefinition["permissions"] = { net: ["127.0.0.1"], read: true, env: true };

function transports(api: LocalApi): [string, Transport][] {
  return [
    ["gRPC (HTTP/2)", createGrpcTransport({ baseUrl: api.baseUrl })],
    ["Connect (HTTP/1.1)", createConnectTransport({ baseUrl: api.baseUrl })],
  ];
}

const box = { topRow: 0.1, leftCol: 0.1, bottomRow: 0.5, rightCol: 0.5 };
const cat = { id: "cat", value: 1 };

/** The metrics of a group, by the value that names it. */
function byValue(groups: DatasetVersionMetricsGroup[]) {
  return new Map(groups.map((g) => [String(g.value?.kind.value), g]));
}

/** Fills dataset `ds` with 2 images (concepts, a box), 1 text (metadata, geo), 1 unlabeled image. */
async function fill(client: ReturnType<typeof v2Client>, ds: string) {
  const created = await client.postDatasets({ userAppId: UA, datasets: [{ id: ds }] }, AUTH);
  assertEquals(created.status?.code, StatusCode.SUCCESS);
  const posted = await client.postInputs({
    userAppId: UA,
    inputs: [
      {
        id: `${ds}-1`,
        datasetIds: [ds],
        data: { image: { base64: jpeg(40, 1) }, concepts: [cat] },
      },
      {
        id: `${ds}-2`,
        datasetIds: [ds],
        data: { image: { base64: jpeg(40, 2) }, concepts: [cat, { id: "pet", value: 1 }] },
      },
      {
        id: `${ds}-3`,
        datasetIds: [ds],
        data: {
          text: { raw: "a review" },
          concepts: [{ id: "positive", value: 1 }],
          metadata: { stars: 5 },
          geo: { geoPoint: { longitude: 2.35, latitude: 48.85 } },
        },
      },
      { id: `${ds}-4`, datasetIds: [ds], data: { image: { base64: jpeg(40, 3) } } },
    ],
  }, AUTH);
  assertEquals(posted.status?.code, StatusCode.SUCCESS);
  const boxes = await client.postAnnotations({
    userAppId: UA,
    annotations: [{
      inputId: `${ds}-1`,
      data: { regions: [{ regionInfo: { boundingBox: box }, data: { concepts: [cat] } }] },
    }],
  }, AUTH);
  assertEquals(boxes.status?.code, StatusCode.SUCCESS);
}

Deno.test({
  name: "dataset versions: pending → in progress → ready, with the SDK's metrics",
  permissions: NET,
  async fn(t) {
    await using api = await startLocalApi({ dataDir: ":memory:", key: KEY, versionStepMs: 60 });
    for (const [name, transport] of transports(api)) {
      await t.step(name, async () => {
        const client = v2Client(api.baseUrl, transport);
        const ds = name.startsWith("gRPC") ? "grpc" : "connect";
        await fill(client, ds);
        await api.waitForProcessing();

        const posted = await client.postDatasetVersions({
          userAppId: UA,
          datasetId: ds,
          datasetVersions: [{ id: `${ds}-v1`, description: "SDK Upload Status" }],
        }, AUTH);
        assertEquals(posted.status?.code, StatusCode.SUCCESS);
        assertEquals(posted.datasetVersions[0].status?.code, StatusCode.DATASET_VERSION_PENDING);
        assertEquals(posted.datasetVersions[0].datasetId, ds);

        // While it is not ready, the metrics are an empty SUCCESS (the SDK waits on that).
        const early = await client.listDatasetVersionMetricsGroups(
          { userAppId: UA, datasetId: ds, datasetVersionId: `${ds}-v1` },
          AUTH,
        );
        assertEquals(early.status?.code, StatusCode.SUCCESS);
        assertEquals(early.datasetVersionMetricsGroups.length, 0);

        const seen: number[] = [];
        for (let i = 0; i < 200; i++) {
          const got = await client.getDatasetVersion(
            { userAppId: UA, datasetId: ds, datasetVersionId: `${ds}-v1` },
            AUTH,
          );
          const code = got.datasetVersion!.status!.code;
          if (seen.at(-1) !== code) seen.push(code);
          if (code === StatusCode.DATASET_VERSION_READY) {
            assertEquals(got.datasetVersion?.description, "SDK Upload Status");
            assertEquals(got.datasetVersion?.metrics["/"]?.inputsCount, 4n);
            break;
          }
          await new Promise((r) => setTimeout(r, 10));
        }
        // The states only move forward (how many a poll sees depends on the machine's speed).
        const order = [
          StatusCode.DATASET_VERSION_PENDING,
          StatusCode.DATASET_VERSION_IN_PROGRESS,
          StatusCode.DATASET_VERSION_READY,
        ];
        assertEquals(seen, order.filter((code) => seen.includes(code)));
        assertEquals(seen.at(-1), StatusCode.DATASET_VERSION_READY);

        const metrics = await client.listDatasetVersionMetricsGroups(
          { userAppId: UA, datasetId: ds, datasetVersionId: `${ds}-v1` },
          AUTH,
        );
        const groups = byValue(metrics.datasetVersionMetricsGroups);
        const total = groups.get("total")!.metrics!;
        assertEquals(total.inputsCount, 4n);
        assertEquals(total.unlabeledInputsCount, 1n);
        assertEquals(total.inputsWithMetadataCount, 1n);
        assertEquals(total.inputsWithGeoCount, 1n);
        assertEquals(total.positiveInputTagsCount, 4n); // cat, cat, pet, positive
        assertEquals(total.boundingBoxesCount, 1n);
        assertEquals(total.polygonsCount, 0n);
        assertEquals(groups.get("image")?.type, DatasetVersionMetricsGroupType.INPUT_TYPE);
        assertEquals(groups.get("image")?.metrics?.inputsCount, 3n);
        assertEquals(groups.get("text")?.metrics?.inputsCount, 1n);
        const catGroup = groups.get("cat")!;
        assertEquals(catGroup.type, DatasetVersionMetricsGroupType.CONCEPT_ID);
        assertEquals(catGroup.metrics?.positiveInputTagsCount, 2n);
        assertEquals(catGroup.metrics?.boundingBoxesCount, 1n);
        assertEquals(groups.get("pet")?.metrics?.positiveInputTagsCount, 1n);

        const onlyConcepts = await client.listDatasetVersionMetricsGroups({
          userAppId: UA,
          datasetId: ds,
          datasetVersionId: `${ds}-v1`,
          types: [DatasetVersionMetricsGroupType.CONCEPT_ID],
        }, AUTH);
        assertEquals(
          onlyConcepts.datasetVersionMetricsGroups.map((g) => g.value?.kind.value),
          ["cat", "pet", "positive"],
        );

        await client.postDatasetVersions({
          userAppId: UA,
          datasetId: ds,
          datasetVersions: [{ id: `${ds}-v2` }],
        }, AUTH);
        const listed = await client.listDatasetVersions({ userAppId: UA, datasetId: ds }, AUTH);
        assertEquals(listed.datasetVersions.map((v) => v.id), [`${ds}-v2`, `${ds}-v1`]);
        const again = await client.postDatasetVersions({
          userAppId: UA,
          datasetId: ds,
          datasetVersions: [{ id: `${ds}-v2` }],
        }, AUTH);
        assertEquals(again.status?.code, StatusCode.DATABASE_DUPLICATE_KEY);

        const deleted = await client.deleteDatasetVersions(
          { userAppId: UA, datasetId: ds, datasetVersionIds: [`${ds}-v1`] },
          AUTH,
        );
        assertEquals(deleted.status?.code, StatusCode.SUCCESS);
        const gone = await client.getDatasetVersion(
          { userAppId: UA, datasetId: ds, datasetVersionId: `${ds}-v1` },
          AUTH,
        );
        assertEquals(gone.status?.code, StatusCode.CONN_DOES_NOT_EXIST);
        const missing = await client.deleteDatasetVersions(
          { userAppId: UA, datasetId: ds, datasetVersionIds: [`${ds}-v2`, "nope"] },
          AUTH,
        );
        assertEquals(missing.status?.code, StatusCode.CONN_DOES_NOT_EXIST);
        const kept = await client.listDatasetVersions({ userAppId: UA, datasetId: ds }, AUTH);
        assertEquals(kept.datasetVersions.map((v) => v.id), [`${ds}-v2`], "nothing was deleted");
        const noDataset = await client.postDatasetVersions(
          { userAppId: UA, datasetId: "nope", datasetVersions: [{}] },
          AUTH,
        );
        assertEquals(noDataset.status?.code, StatusCode.CONN_DOES_NOT_EXIST);
      });
    }
  },
});

Deno.test({
  name: "a dataset version stays in progress while the dataset's inputs are pending",
  permissions: NET,
  async fn() {
    // Inputs are processed a minute after they are stored: long after this test ends.
    await using api = await startLocalApi({
      dataDir: ":memory:",
      key: KEY,
      processingDelayMs: 60_000,
      versionStepMs: 0,
    });
    const client = v2Client(api.baseUrl);
    await fill(client, "slow");
    const posted = await client.postDatasetVersions(
      { userAppId: UA, datasetId: "slow", datasetVersions: [{}] },
      AUTH,
    );
    const id = posted.datasetVersions[0].id;
    assert(/^[0-9a-f]{32}$/.test(id), "a generated version ID");
    const state = async () =>
      (await client.getDatasetVersion(
        { userAppId: UA, datasetId: "slow", datasetVersionId: id },
        AUTH,
      )).datasetVersion!.status!.code;
    let code = await state();
    while (code === StatusCode.DATASET_VERSION_PENDING) {
      await new Promise((r) => setTimeout(r, 5));
      code = await state();
    }
    for (let i = 0; i < 5; i++) {
      assertEquals(code, StatusCode.DATASET_VERSION_IN_PROGRESS, "never ready with inputs pending");
      await new Promise((r) => setTimeout(r, 10));
      code = await state();
    }
    const metrics = await client.listDatasetVersionMetricsGroups(
      { userAppId: UA, datasetId: "slow", datasetVersionId: id },
      AUTH,
    );
    assertEquals(metrics.datasetVersionMetricsGroups.length, 0);
  },
});

Deno.test({
  name: "dataset versions over REST at Clarifai's paths",
  permissions: NET,
  async fn() {
    await using api = await startLocalApi({ dataDir: ":memory:", key: KEY, versionStepMs: 0 });
    await fill(v2Client(api.baseUrl), "rest");
    await api.waitForProcessing();
    const base = `${api.baseUrl}/v2/users/${UA.userId}/apps/${UA.appId}/datasets/rest/versions`;
    const headers = { Authorization: `Key ${KEY}`, "Content-Type": "application/json" };
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { http: res.status, json: await res.json() };
    };
    const posted = await call("POST", "", { dataset_versions: [{ id: "r1" }] });
    assertEquals([posted.http, posted.json.dataset_versions[0].id], [200, "r1"]);
    await api.waitForProcessing();
    const got = await call("GET", "/r1");
    assertEquals(got.json.dataset_version.status.code, StatusCode.DATASET_VERSION_READY);
    assertEquals(got.json.dataset_version.metrics["/"].inputs_count, "4");
    const metrics = await call("GET", "/r1/metrics?types=CONCEPT_ID");
    assertEquals(
      metrics.json.dataset_version_metrics_groups.map((g: { value: string }) => g.value),
      ["cat", "pet", "positive"],
    );
    const listed = await call("GET", "?per_page=5");
    assertEquals(listed.json.dataset_versions.map((v: { id: string }) => v.id), ["r1"]);
    const unknown = await call("GET", "/nope");
    assertEquals([unknown.http, unknown.json.status.code], [404, StatusCode.CONN_DOES_NOT_EXIST]);
    const deleted = await call("DELETE", "", { dataset_version_ids: ["r1"] });
    assertEquals([deleted.http, deleted.json.status.code], [200, StatusCode.SUCCESS]);
  },
});
