/**
 * `s3://` sources end to end: a real S3 server (s3rver) started here, the local API, and the
 * upload engine (and the CLI, for the SIGKILL case) in between.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { RetryPolicy } from "../../../src/clarifai/retry_policy.ts";
import { startS3rver, type TestS3 } from "./_s3rver.ts";
import { type LocalApi, startLocalApi } from "../../../server/local/local_api.ts";
import { type ClarifaiClient, createClarifaiClient } from "../../../src/clarifai/client.ts";
import { StatusCode } from "../../../src/gen/clarifai/api/status/status_code_pb.ts";
import { type ProgressEvent, summaryOf } from "../../../src/pipeline/progress_event.ts";
import { runUpload } from "../../../src/upload/run_upload.ts";
import { uploadS3Folder } from "../../../src/sources/s3/upload_s3_folder.ts";
import { s3FolderSource } from "../../../src/sources/s3/s3_folder_source.ts";
import { s3ObjectOpener } from "../../../src/sources/s3/s3_object_opener.ts";
import { readJournal } from "../../../src/journal/journal.ts";

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A small "image": the PNG signature and some bytes of its own. */
function image(seed: number, size = 64): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set(PNG);
  for (let i = PNG.length; i < size; i++) bytes[i] = (seed * 31 + i * 7) & 0xff;
  return bytes;
}

/** The class folders the tests upload: 3 cats, 2 dogs (one with no extension), and noise. */
async function fillBucket(s3: TestS3, bucket: string) {
  await s3.createBucket(bucket);
  const objects: [string, Uint8Array | string][] = [
    ["pets/cats/tabby 01.jpg", image(1)],
    ["pets/cats/tabby 02.jpg", image(2)],
    ["pets/cats/siamese.png", image(3)],
    ["pets/dogs/rex.jpg", image(4)],
    ["pets/dogs/fido", image(5)],
    ["pets/dogs/notes.md", "# not an input"],
    ["pets/.cache/x.jpg", image(6)],
    ["other/elsewhere.jpg", image(7)],
  ];
  for (const [key, body] of objects) await s3.put(bucket, key, body);
}

const EXPECTED = new Map([
  ["tabby_01", "cats"],
  ["tabby_02", "cats"],
  ["siamese", "cats"],
  ["rex", "dogs"],
  ["fido", "dogs"],
]);

async function withServers(
  fn: (s3: TestS3, api: LocalApi, client: ClarifaiClient) => Promise<void>,
  apiOptions: Parameters<typeof startLocalApi>[0] = {},
) {
  const s3 = await startS3rver();
  const api = await startLocalApi({ port: 0, dataDir: ":memory:", key: "k", ...apiOptions });
  const client = createClarifaiClient({ base: api.baseUrl, pat: "k", userId: "u", appId: "a" });
  try {
    await fn(s3, api, client);
  } finally {
    client.close();
    await api.close();
    await s3.close();
  }
}

async function heldInputs(client: ClarifaiClient) {
  const r = await client.listInputs({ userAppId: client.userAppId, perPage: 1000 });
  assertEquals(r.status?.code, StatusCode.SUCCESS);
  return r.inputs;
}

Deno.test("a bucket prefix of class folders uploads with labels, exactly once", async () => {
  await withServers(async (s3, _api, client) => {
    await fillBucket(s3, "data");
    const dir = await Deno.makeTempDir();
    const journal = `${dir}/run.ndjson`;
    const events: ProgressEvent[] = [];
    const options = {
      client,
      s3: s3.client(),
      recursive: true,
      labels: true,
      journal,
      rps: 0,
    };
    const summary = await summaryOf(
      uploadS3Folder("s3://data/pets", options),
      (e) => events.push(e),
    );
    assertEquals(summary.uploaded, 5);
    assertEquals(summary.rejected, 0);
    assertEquals(summary.skipped, 2); // notes.md, .cache/x.jpg
    const start = events.find((e) => e.type === "start");
    assertEquals(start?.type === "start" && start.total, { inputs: 5, bytes: 5 * 64 });
    const skipped = events.filter((e) => e.type === "skipped").map((e) =>
      e.type === "skipped" ? e.location : ""
    );
    assertEquals(skipped.sort(), ["s3://data/pets/.cache/x.jpg", "s3://data/pets/dogs/notes.md"]);

    const inputs = await heldInputs(client);
    assertEquals(inputs.length, 5);
    for (const input of inputs) {
      assertEquals(input.data?.concepts.map((c) => c.id), [EXPECTED.get(input.id)]);
      // The bytes the local API holds are the object's.
      const held = new Uint8Array(await (await fetch(input.data!.image!.url)).arrayBuffer());
      const seed = [...EXPECTED.keys()].indexOf(input.id) + 1;
      assertEquals(held, image(seed));
    }

    // The same command again: everything resumed from the journal, nothing sent.
    const again = await summaryOf(uploadS3Folder("s3://data/pets", options));
    assertEquals([again.uploaded, again.alreadyUploaded, again.failed], [0, 5, 0]);
    assertEquals((await heldInputs(client)).length, 5);
    const text = await Deno.readTextFile(journal);
    assertStringIncludes(text, "s3://data/pets");
    assertEquals(text.includes("S3RVER"), false, "no credential in the journal");
    await Deno.remove(dir, { recursive: true });
  });
});

Deno.test("without recursive, subfolders are skipped with a reason", async () => {
  await withServers(async (s3, _api, client) => {
    await fillBucket(s3, "data");
    const events: ProgressEvent[] = [];
    const summary = await summaryOf(
      uploadS3Folder("s3://data/pets/", { client, s3: s3.client(), rps: 0 }),
      (e) => events.push(e),
    );
    assertEquals(summary.uploaded, 0);
    const reasons = events.flatMap((e) =>
      e.type === "skipped" ? [`${e.location}: ${e.reason}`] : []
    );
    assertEquals(reasons, [
      's3://data/pets/.cache/: hidden (the name starts with ".")',
      "s3://data/pets/cats/: a folder: subfolders are listed only with recursive on",
      "s3://data/pets/dogs/: a folder: subfolders are listed only with recursive on",
    ]);
  });
});

Deno.test("include and exclude patterns match keys under the prefix", async () => {
  await withServers(async (s3, _api, client) => {
    await fillBucket(s3, "data");
    const events: ProgressEvent[] = [];
    const summary = await summaryOf(
      uploadS3Folder("s3://data/pets", {
        client,
        s3: s3.client(),
        recursive: true,
        include: ["*.jpg"],
        exclude: ["dogs/"],
        rps: 0,
      }),
      (e) => events.push(e),
    );
    assertEquals(summary.uploaded, 2);
    assertEquals((await heldInputs(client)).map((i) => i.id).sort(), ["tabby_01", "tabby_02"]);
    const skipped = events.flatMap((e) => e.type === "skipped" ? [e.location] : []);
    assert(skipped.includes("s3://data/pets/cats/siamese.png"));
    assert(skipped.includes("s3://data/pets/dogs/rex.jpg"));
  });
});

Deno.test("an object changed between listing and reading is rejected, not sent", async () => {
  await withServers(async (s3, _api, client) => {
    await fillBucket(s3, "data");
    const s3client = s3.client();
    const drafts = await Array.fromAsync(
      s3FolderSource(s3client, "s3://data/pets/cats", { labels: true }),
    );
    await s3.put("data", "pets/cats/siamese.png", image(99, 80)); // rewritten after the listing
    await s3.remove("data", "pets/cats/tabby 02.jpg"); // deleted after the listing
    const events: ProgressEvent[] = [];
    const summary = await summaryOf(
      runUpload(drafts, {
        client,
        userAppId: { userId: "u", appId: "a" },
        rps: 0,
        openObject: s3ObjectOpener(s3client),
      }),
      (e) => events.push(e),
    );
    assertEquals([summary.uploaded, summary.rejected], [1, 2]);
    const reasons = events.flatMap((e) =>
      e.type === "rejected" ? [`${e.location}: ${e.reason}`] : []
    );
    assertEquals(reasons.sort(), [
      "s3://data/pets/cats/siamese.png: Cannot read s3://data/pets/cats/siamese.png: the object changed since it was listed (its ETag differs): list it again",
      "s3://data/pets/cats/tabby 02.jpg: Cannot read s3://data/pets/cats/tabby 02.jpg: no such object (deleted since it was listed?)",
    ]);
    assertEquals((await heldInputs(client)).map((i) => i.id), ["tabby_01"]);
  });
});

Deno.test("--via url sends presigned URLs, which the local API records", async () => {
  await withServers(async (s3, _api, client) => {
    await fillBucket(s3, "data");
    const dir = await Deno.makeTempDir();
    const journal = `${dir}/run.ndjson`;
    const summary = await summaryOf(
      uploadS3Folder("s3://data/pets", {
        client,
        s3: s3.client(),
        recursive: true,
        labels: true,
        via: "url",
        urlExpiresSeconds: 900,
        journal,
        rps: 0,
      }),
    );
    assertEquals([summary.uploaded, summary.bytes], [5, 0]);
    const inputs = await heldInputs(client);
    assertEquals(inputs.length, 5);
    for (const input of inputs) {
      const url = new URL(input.data!.image!.url);
      assertEquals(url.origin, s3.endpoint);
      assertEquals(url.searchParams.get("X-Amz-Expires"), "900");
      assert(url.searchParams.get("X-Amz-Signature"));
      // Whoever holds the URL reads the object.
      const seed = [...EXPECTED.keys()].indexOf(input.id) + 1;
      assertEquals(new Uint8Array(await (await fetch(url)).arrayBuffer()), image(seed));
    }
    const text = await Deno.readTextFile(journal);
    assertEquals(text.includes("X-Amz-Signature"), false, "no presigned URL in the journal");
    await Deno.remove(dir, { recursive: true });
  });
});

Deno.test("the journal keeps s3:// drafts of failures, and a retry reads them again", async () => {
  await withServers(async (s3, api, client) => {
    await fillBucket(s3, "data");
    const dir = await Deno.makeTempDir();
    const journal = `${dir}/run.ndjson`;
    api.setFaults("unavailable=1,retry-after=0");
    const first = await summaryOf(
      uploadS3Folder("s3://data/pets/cats", {
        client,
        s3: s3.client(),
        journal,
        rps: 0,
        retry: new RetryPolicy({ maxAttempts: 1 }),
      }),
    );
    assertEquals(first.failed, 3);
    api.setFaults({});
    const state = await readJournal(journal);
    const drafts = [...state.failures.values()].map((f) => f.draft!);
    assertEquals(drafts.map((d) => d.content.type), ["object", "object", "object"]);
    const retried = await summaryOf(runUpload(drafts, {
      client,
      userAppId: { userId: "u", appId: "a" },
      journal,
      rps: 0,
      openObject: s3ObjectOpener(s3.client()),
    }));
    assertEquals(retried.uploaded, 3);
    assertEquals((await heldInputs(client)).length, 3);
    await Deno.remove(dir, { recursive: true });
  });
});
