/**
 * The local API's `fetchUrls`: URL inputs fetched as Clarifai fetches them, from a local HTTP
 * host and from presigned URLs of a real S3 server (s3rver); failures end `INPUT_FAILED` with
 * the reason, and upflow's `--wait` reports them.
 */
import { assertEquals, assertStringIncludes } from "@std/assert";
import { startLocalApi } from "../../../server/local/local_api.ts";
import { createClarifaiClient } from "../../../src/clarifai/client.ts";
import { StatusCode } from "../../../src/gen/clarifai/api/status/status_code_pb.ts";
import type { InputDraft } from "../../../src/inputs/input_draft.ts";
import { summaryOf } from "../../../src/pipeline/progress_event.ts";
import { runUpload } from "../../../src/upload/run_upload.ts";
import { uploadS3Folder } from "../../../src/sources/s3/upload_s3_folder.ts";
import { startS3rver } from "../../sources/s3/_s3rver.ts";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

function urlDraft(id: string, url: string, kind: "image" | "text" = "image"): InputDraft {
  return { id, kind, content: { type: "url", url }, location: `urls.csv:${id}`, concepts: [] };
}

async function statuses(api: { baseUrl: string }) {
  const client = createClarifaiClient({ base: api.baseUrl, pat: "k", userId: "u", appId: "a" });
  try {
    const listed = await client.listInputs({ userAppId: client.userAppId, perPage: 100 });
    return new Map(listed.inputs.map((i) => [i.id, i.status]));
  } finally {
    client.close();
  }
}

Deno.test("with fetchUrls, URL inputs that cannot be fetched or are not their kind fail", async () => {
  const host = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/cat.png") return new Response(PNG);
    if (path === "/page.png") return new Response("<html>a page, not a picture</html>");
    if (path === "/notes.txt") return new Response("some text");
    return new Response("gone", { status: 404, statusText: "Not Found" });
  });
  const base = `http://127.0.0.1:${host.addr.port}`;
  const drafts = [
    urlDraft("good", `${base}/cat.png`),
    urlDraft("missing", `${base}/nothing.png`),
    urlDraft("wrong_kind", `${base}/page.png`),
    urlDraft("text", `${base}/notes.txt`, "text"),
    urlDraft("unreachable", "http://127.0.0.1:9/x.png"),
  ];
  for (const fetchUrls of [true, false]) {
    const api = await startLocalApi({ port: 0, dataDir: ":memory:", key: "k", fetchUrls });
    const client = createClarifaiClient({ base: api.baseUrl, pat: "k", userId: "u", appId: "a" });
    try {
      const summary = await summaryOf(runUpload(drafts, {
        client,
        userAppId: { userId: "u", appId: "a" },
        rps: 0,
        wait: true,
      }));
      assertEquals(summary.uploaded, 5);
      const held = await statuses(api);
      if (!fetchUrls) {
        // Off (the default): URL inputs succeed unfetched.
        assertEquals(summary.processing, { succeeded: 5, failed: 0, pending: 0 });
        continue;
      }
      assertEquals(summary.processing, { succeeded: 2, failed: 3, pending: 0 });
      assertEquals(held.get("good")?.code, StatusCode.INPUT_SUCCESS);
      assertEquals(held.get("text")?.code, StatusCode.INPUT_SUCCESS);
      assertEquals(held.get("missing")?.code, StatusCode.INPUT_FAILED);
      assertEquals(
        held.get("missing")?.details,
        `could not fetch ${base}/nothing.png: HTTP 404 Not Found`,
      );
      assertEquals(
        held.get("wrong_kind")?.details,
        `${base}/page.png: content is not a supported image format (JPEG, PNG, GIF, WEBP, BMP, TIFF)`,
      );
      assertStringIncludes(
        held.get("unreachable")?.details ?? "",
        "could not fetch http://127.0.0.1:9/x.png",
      );
    } finally {
      client.close();
      await api.close();
    }
  }
  await host.shutdown();
});

Deno.test("--via url with fetchUrls: presigned URLs are fetched from the bucket", async () => {
  const s3 = await startS3rver();
  // Processing waits a little, so that an object can be deleted after its URL was sent.
  const api = await startLocalApi({
    port: 0,
    dataDir: ":memory:",
    key: "k",
    fetchUrls: true,
    processingDelayMs: 1500,
  });
  const client = createClarifaiClient({ base: api.baseUrl, pat: "k", userId: "u", appId: "a" });
  try {
    await s3.createBucket("pets");
    for (const name of ["a", "b", "c"]) await s3.put("pets", `cats/${name}.png`, PNG);
    await s3.put("pets", "cats/d.png", "not a png at all");
    const events = uploadS3Folder("s3://pets/cats", {
      client,
      s3: s3.client(),
      via: "url",
      rps: 0,
    });
    const summary = await summaryOf(events);
    assertEquals(summary.uploaded, 4);
    // Deleted after its URL was sent, before the local API fetches it.
    await s3.remove("pets", "cats/c.png");
    // Wait for the processing to end, then read what the local API made of each URL.
    for (let i = 0; i < 300; i++) {
      const held = await statuses(api);
      if ([...held.values()].every((s) => s?.code !== StatusCode.INPUT_PENDING)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const held = await statuses(api);
    assertEquals(held.get("a")?.code, StatusCode.INPUT_SUCCESS);
    assertEquals(held.get("b")?.code, StatusCode.INPUT_SUCCESS);
    assertEquals(held.get("c")?.code, StatusCode.INPUT_FAILED);
    assertEquals(
      held.get("c")?.details,
      `could not fetch ${s3.endpoint}/pets/cats/c.png: HTTP 404 Not Found`,
    );
    assertEquals(held.get("d")?.code, StatusCode.INPUT_FAILED);
    assertStringIncludes(held.get("d")?.details ?? "", "content is not a supported image format");
    // The details never show the URL's query (the presigned signature).
    for (const status of held.values()) assertEquals(status?.details.includes("X-Amz"), false);
  } finally {
    client.close();
    await api.close();
    await s3.close();
  }
});
