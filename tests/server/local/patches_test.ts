/**
 * Input-level annotations, PatchInputs, PatchAnnotations, DeleteAnnotations, ListDatasets,
 * PatchDatasets and DeleteDatasets in the local API, over gRPC (HTTP/2), Connect (HTTP/1.1) and
 * REST.
 */
import { assert, assertEquals } from "@std/assert";
import type { Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { createGrpcTransport } from "@connectrpc/connect-node";
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

type Client = ReturnType<typeof v2Client>;
const box = { topRow: 0.1, leftCol: 0.1, bottomRow: 0.5, rightCol: 0.5 };

async function annotationsOf(client: Client, inputId: string) {
  const listed = await client.listAnnotations({ userAppId: UA, inputIds: [inputId] }, AUTH);
  assertEquals(listed.status?.code, StatusCode.SUCCESS);
  return listed.annotations;
}

async function conceptsOf(client: Client, inputId: string) {
  const got = await client.getInput({ userAppId: UA, inputId }, AUTH);
  return got.input?.data?.concepts.map((c) => c.id) ?? [];
}

Deno.test({
  name:
    "PostInputs makes an input-level annotation of the concepts; PatchInputs and DeleteInputs keep it in step",
  permissions: NET,
  async fn(t) {
    await using api = await startLocalApi({ dataDir: ":memory:", key: KEY });
    for (const [name, transport] of transports(api)) {
      await t.step(name, async () => {
        const client = v2Client(api.baseUrl, transport);
        const p = name.startsWith("gRPC") ? "g" : "c";
        const posted = await client.postInputs({
          userAppId: UA,
          inputs: [
            {
              id: `${p}-1`,
              data: {
                image: { base64: jpeg(40, 1) },
                concepts: [{ id: "cat", value: 1 }],
                metadata: { source: "web", nested: { a: 1, b: 2 } },
              },
            },
            { id: `${p}-2`, data: { text: { raw: "no labels" } } },
          ],
        }, AUTH);
        assertEquals(posted.status?.code, StatusCode.SUCCESS);

        const [level] = await annotationsOf(client, `${p}-1`);
        assertEquals(level.inputLevel, true);
        assertEquals(level.data?.concepts.map((c) => [c.id, c.value]), [["cat", 1]]);
        assertEquals(level.status?.code, StatusCode.ANNOTATION_SUCCESS);
        assertEquals(await annotationsOf(client, `${p}-2`), [], "no concepts, no annotation");

        const merged = await client.patchInputs({
          userAppId: UA,
          action: "merge",
          inputs: [{
            id: `${p}-1`,
            data: { concepts: [{ id: "pet", value: 1 }], metadata: { nested: { c: 3 } } },
          }],
        }, AUTH);
        assertEquals(merged.status?.code, StatusCode.SUCCESS);
        assertEquals(merged.inputs[0].status?.code, StatusCode.INPUT_MODIFY_SUCCESS);
        assertEquals(await conceptsOf(client, `${p}-1`), ["cat", "pet"]);
        const afterMerge = await client.getInput({ userAppId: UA, inputId: `${p}-1` }, AUTH);
        assertEquals(afterMerge.input?.data?.metadata, {
          source: "web",
          nested: { a: 1, b: 2, c: 3 },
        });
        assert(afterMerge.input?.data?.image?.url, "content untouched");
        const levels = await annotationsOf(client, `${p}-1`);
        assertEquals(levels.length, 1, "the same input-level annotation, updated");
        assertEquals(levels[0].id, level.id);
        assertEquals(levels[0].data?.concepts.map((c) => c.id), ["cat", "pet"]);

        await client.patchInputs({
          userAppId: UA,
          action: "remove",
          inputs: [{
            id: `${p}-1`,
            data: { concepts: [{ id: "cat" }], metadata: { nested: { a: 0 } } },
          }],
        }, AUTH);
        const afterRemove = await client.getInput({ userAppId: UA, inputId: `${p}-1` }, AUTH);
        assertEquals(afterRemove.input?.data?.concepts.map((c) => c.id), ["pet"]);
        assertEquals(afterRemove.input?.data?.metadata, { source: "web", nested: { b: 2, c: 3 } });

        await client.patchInputs({
          userAppId: UA,
          action: "overwrite",
          inputs: [{
            id: `${p}-1`,
            data: { concepts: [{ id: "dog", value: 1 }], metadata: { x: 1 } },
          }],
        }, AUTH);
        const afterOverwrite = await client.getInput({ userAppId: UA, inputId: `${p}-1` }, AUTH);
        assertEquals(afterOverwrite.input?.data?.concepts.map((c) => c.id), ["dog"]);
        assertEquals(afterOverwrite.input?.data?.metadata, { x: 1 });
        assertEquals((await annotationsOf(client, `${p}-1`))[0].data?.concepts.map((c) => c.id), [
          "dog",
        ]);

        await client.patchInputs({
          userAppId: UA,
          action: "remove",
          inputs: [{ id: `${p}-1`, data: { concepts: [{ id: "dog" }] } }],
        }, AUTH);
        assertEquals(await annotationsOf(client, `${p}-1`), [], "no concepts left: no annotation");

        const mixed = await client.patchInputs({
          userAppId: UA,
          inputs: [
            { id: `${p}-2`, data: { concepts: [{ id: "text", value: 1 }] } },
            { id: "nope", data: { concepts: [{ id: "x", value: 1 }] } },
            { id: `${p}-2`, data: { concepts: [{ id: "bad", value: 7 }] } },
          ],
        }, AUTH);
        assertEquals(mixed.status?.code, StatusCode.MIXED_STATUS);
        assertEquals(mixed.inputs.map((i) => i.status?.code), [
          StatusCode.INPUT_MODIFY_SUCCESS,
          StatusCode.INPUT_DOES_NOT_EXIST,
          StatusCode.INPUT_INVALID_ARGUMENT,
        ]);
        const badAction = await client.patchInputs(
          { userAppId: UA, action: "replace", inputs: [{ id: `${p}-2` }] },
          AUTH,
        );
        assertEquals(badAction.status?.code, StatusCode.CONN_INVALID_REQUEST);

        await client.deleteInputs({ userAppId: UA, ids: [`${p}-2`] }, AUTH);
        assertEquals(await annotationsOf(client, `${p}-2`), [], "deleted with its input");
      });
    }
  },
});

Deno.test({
  name: "PatchAnnotations and DeleteAnnotations",
  permissions: NET,
  async fn(t) {
    await using api = await startLocalApi({ dataDir: ":memory:", key: KEY });
    for (const [name, transport] of transports(api)) {
      await t.step(name, async () => {
        const client = v2Client(api.baseUrl, transport);
        const p = name.startsWith("gRPC") ? "g" : "c";
        const input = `${p}-img`;
        await client.postInputs({
          userAppId: UA,
          inputs: [{
            id: input,
            data: { image: { base64: jpeg(40, 7) }, concepts: [{ id: "cat", value: 1 }] },
          }],
        }, AUTH);
        const posted = await client.postAnnotations({
          userAppId: UA,
          annotations: [1, 2, 3].map((n) => ({
            id: `${p}-a${n}`,
            inputId: input,
            data: {
              regions: [{
                id: `${p}-r${n}`,
                regionInfo: { boundingBox: box },
                data: { concepts: [{ id: "cat", value: 1 }] },
              }],
            },
          })),
        }, AUTH);
        assertEquals(posted.status?.code, StatusCode.SUCCESS);

        const merged = await client.patchAnnotations({
          userAppId: UA,
          action: "merge",
          annotations: [{
            id: `${p}-a1`,
            inputId: input,
            data: {
              regions: [{
                id: `${p}-r1`,
                regionInfo: { boundingBox: { ...box, rightCol: 0.9 } },
                data: { concepts: [{ id: "dog", value: 1 }] },
              }],
            },
          }],
        }, AUTH);
        assertEquals(merged.status?.code, StatusCode.SUCCESS);
        assertEquals(merged.annotations[0].status?.code, StatusCode.ANNOTATION_SUCCESS);
        const region = merged.annotations[0].data?.regions[0];
        assertEquals(merged.annotations[0].data?.regions.length, 1, "matched by region ID");
        assertEquals(region?.data?.concepts[0].id, "dog");
        assertEquals(Math.fround(region!.regionInfo!.boundingBox!.rightCol), Math.fround(0.9));

        const removed = await client.patchAnnotations({
          userAppId: UA,
          action: "remove",
          deleteIfEmptyData: true,
          annotations: [{ id: `${p}-a2`, data: { regions: [{ id: `${p}-r2` }] } }],
        }, AUTH);
        assertEquals(removed.status?.code, StatusCode.SUCCESS);
        const ids = (await annotationsOf(client, input)).map((a) => a.id);
        assert(!ids.includes(`${p}-a2`), "left empty: deleted");

        const unknown = await client.patchAnnotations({
          userAppId: UA,
          annotations: [{ id: "nope", data: { concepts: [{ id: "x", value: 1 }] } }],
        }, AUTH);
        assertEquals(unknown.status?.code, StatusCode.FAILURE);
        assertEquals(unknown.annotations[0].status?.code, StatusCode.CONN_DOES_NOT_EXIST);

        const missing = await client.deleteAnnotations(
          { userAppId: UA, ids: [`${p}-a1`, "nope"] },
          AUTH,
        );
        assertEquals(missing.status?.code, StatusCode.CONN_DOES_NOT_EXIST);
        const mismatch = await client.deleteAnnotations(
          { userAppId: UA, ids: [`${p}-a1`], inputIds: ["other"] },
          AUTH,
        );
        assertEquals(
          mismatch.status?.code,
          StatusCode.CONN_DOES_NOT_EXIST,
          "ids pair with input_ids",
        );
        const everything = await client.deleteAnnotations({ userAppId: UA }, AUTH);
        assertEquals(everything.status?.code, StatusCode.CONN_INVALID_REQUEST);

        const one = await client.deleteAnnotations(
          { userAppId: UA, ids: [`${p}-a1`], inputIds: [input] },
          AUTH,
        );
        assertEquals(one.status?.code, StatusCode.SUCCESS);
        const byInput = await client.deleteAnnotations({ userAppId: UA, inputIds: [input] }, AUTH);
        assertEquals(byInput.status?.code, StatusCode.SUCCESS);
        const left = await annotationsOf(client, input);
        assertEquals(left.map((a) => a.inputLevel), [true], "the input-level annotation stays");
      });
    }
  },
});

Deno.test({
  name: "ListDatasets pages and sorts; PatchDatasets; DeleteDatasets keeps the inputs",
  permissions: NET,
  async fn(t) {
    await using api = await startLocalApi({ dataDir: ":memory:", key: KEY, versionStepMs: 0 });
    for (const [name, transport] of transports(api)) {
      await t.step(name, async () => {
        const client = v2Client(api.baseUrl, transport);
        const p = name.startsWith("gRPC") ? "g" : "c";
        const userAppId = { userId: UA.userId, appId: `datasets-${p}` };
        for (const id of ["b", "a", "c"]) {
          await client.postDatasets({
            userAppId,
            datasets: [{ id: `${p}-${id}`, metadata: { k: { x: 1 } } }],
          }, AUTH);
        }
        const newest = await client.listDatasets({ userAppId }, AUTH);
        assertEquals(newest.datasets.map((d) => d.id), [`${p}-c`, `${p}-a`, `${p}-b`]);
        const byId = await client.listDatasets({
          userAppId,
          sortAscending: true,
          sortBy: { case: "sortById", value: true },
          perPage: 2,
          page: 2,
        }, AUTH);
        assertEquals(byId.datasets.map((d) => d.id), [`${p}-c`]);
        const searched = await client.listDatasets({ userAppId, search: `${p}-A` }, AUTH);
        assertEquals(searched.datasets.map((d) => d.id), [`${p}-a`]);

        const merged = await client.patchDatasets({
          userAppId,
          action: "merge",
          datasets: [{ id: `${p}-a`, description: "first", metadata: { k: { y: 2 } } }],
        }, AUTH);
        assertEquals(merged.status?.code, StatusCode.SUCCESS);
        assertEquals(merged.datasets[0].metadata, { k: { x: 1, y: 2 } });
        const overwritten = await client.patchDatasets({
          userAppId,
          action: "overwrite",
          datasets: [{ id: `${p}-a`, metadata: { z: 3 } }],
        }, AUTH);
        assertEquals(overwritten.datasets[0].metadata, { z: 3 });
        assertEquals(overwritten.datasets[0].description, "");
        const got = await client.getDataset({ userAppId, datasetId: `${p}-a` }, AUTH);
        assertEquals(got.dataset?.metadata, { z: 3 });
        const unknown = await client.patchDatasets({ userAppId, datasets: [{ id: "nope" }] }, AUTH);
        assertEquals(unknown.status?.code, StatusCode.CONN_DOES_NOT_EXIST);

        await client.postInputs({
          userAppId,
          inputs: [{ id: `${p}-t`, datasetIds: [`${p}-a`], data: { text: { raw: "kept" } } }],
        }, AUTH);
        await client.postDatasetVersions({
          userAppId,
          datasetId: `${p}-a`,
          datasetVersions: [{ id: "v" }],
        }, AUTH);
        const missing = await client.deleteDatasets(
          { userAppId, datasetIds: [`${p}-a`, "nope"] },
          AUTH,
        );
        assertEquals(missing.status?.code, StatusCode.CONN_DOES_NOT_EXIST);
        const deleted = await client.deleteDatasets({ userAppId, datasetIds: [`${p}-a`] }, AUTH);
        assertEquals(deleted.status?.code, StatusCode.SUCCESS);
        const gone = await client.getDataset({ userAppId, datasetId: `${p}-a` }, AUTH);
        assertEquals(gone.status?.code, StatusCode.CONN_DOES_NOT_EXIST);
        const input = await client.getInput({ userAppId, inputId: `${p}-t` }, AUTH);
        assertEquals(input.input?.id, `${p}-t`, "inputs outlive their dataset");
        assertEquals(input.input?.datasetIds, []);
        await client.postDatasets({ userAppId, datasets: [{ id: `${p}-a` }] }, AUTH);
        const versions = await client.listDatasetVersions({ userAppId, datasetId: `${p}-a` }, AUTH);
        assertEquals(versions.datasetVersions, [], "its versions went with it");
      });
    }
  },
});

Deno.test({
  name: "REST: PATCH inputs, PATCH/DELETE annotations, GET/PATCH/DELETE datasets",
  permissions: NET,
  async fn() {
    await using api = await startLocalApi({ dataDir: ":memory:", key: KEY });
    const base = `${api.baseUrl}/v2/users/${UA.userId}/apps/${UA.appId}`;
    const headers = { Authorization: `Key ${KEY}`, "Content-Type": "application/json" };
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { http: res.status, json: await res.json() };
    };
    await call("POST", "/datasets", { datasets: [{ id: "pets" }] });
    const posted = await call("POST", "/inputs", {
      inputs: [{
        id: "r1",
        dataset_ids: ["pets"],
        data: { text: { raw: "hi" }, concepts: [{ id: "cat", value: 1 }] },
      }],
    });
    assertEquals(posted.json.status.code, StatusCode.SUCCESS);
    const listed = await call("GET", "/annotations?input_ids=r1");
    assertEquals(listed.json.annotations.length, 1);
    assertEquals(listed.json.annotations[0].input_level, true);
    assertEquals(listed.json.annotations[0].data.concepts[0].id, "cat");

    const patched = await call("PATCH", "/inputs", {
      action: "merge",
      inputs: [{ id: "r1", data: { concepts: [{ id: "dog", value: 1 }] } }],
    });
    assertEquals([patched.http, patched.json.status.code], [200, StatusCode.SUCCESS]);
    const annotation = await call("POST", "/annotations", {
      annotations: [{ id: "ra", input_id: "r1", data: { concepts: [{ id: "x", value: 1 }] } }],
    });
    assertEquals(annotation.json.status.code, StatusCode.SUCCESS);
    const patchedAnnotation = await call("PATCH", "/annotations", {
      action: "overwrite",
      annotations: [{ id: "ra", input_id: "r1", data: { concepts: [{ id: "y", value: 1 }] } }],
    });
    assertEquals(patchedAnnotation.json.annotations[0].data.concepts[0].id, "y");
    const deleted = await call("DELETE", "/inputs/annotations", { ids: ["ra"], input_ids: ["r1"] });
    assertEquals([deleted.http, deleted.json.status.code], [200, StatusCode.SUCCESS]);

    const datasets = await call("GET", "/datasets?per_page=10");
    assertEquals(datasets.json.datasets.map((d: { id: string }) => d.id), ["pets"]);
    const patchedDataset = await call("PATCH", "/datasets", {
      action: "merge",
      datasets: [{ id: "pets", description: "cats" }],
    });
    assertEquals(patchedDataset.json.datasets[0].description, "cats");
    const gone = await call("DELETE", "/datasets", { dataset_ids: ["pets"] });
    assertEquals([gone.http, gone.json.status.code], [200, StatusCode.SUCCESS]);
    const missing = await call("DELETE", "/datasets", { dataset_ids: ["pets"] });
    assertEquals([missing.http, missing.json.status.code], [404, StatusCode.CONN_DOES_NOT_EXIST]);
  },
});
