import { assertEquals } from "@std/assert";
import { startS3rver } from "./_s3rver.ts";
import { startLocalApi } from "../../../server/local/local_api.ts";
import { createClarifaiClient } from "../../../src/clarifai/client.ts";
import { type ProgressEvent, summaryOf } from "../../../src/pipeline/progress_event.ts";
import { uploadS3Csv } from "../../../src/sources/s3/upload_s3_csv.ts";
import { s3CsvSource } from "../../../src/sources/s3/s3_csv_source.ts";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);

Deno.test("csv s3://… reads the CSV from the bucket and its file paths beside it", async () => {
  const s3 = await startS3rver();
  const api = await startLocalApi({ port: 0, dataDir: ":memory:", key: "k" });
  const client = createClarifaiClient({ base: api.baseUrl, pat: "k", userId: "u", appId: "a" });
  try {
    await s3.createBucket("data");
    await s3.put("data", "sets/cats/01.png", PNG);
    await s3.put("data", "sets/dogs/02.png", PNG);
    await s3.put("data", "secret.png", PNG);
    await s3.put(
      "data",
      "sets/pets.csv",
      [
        "input,concepts,metadata",
        'cats/01.png,cat,"{""n"":1}"',
        "dogs/02.png,dog,",
        "../secret.png,cat,",
        "dogs/missing.png,dog,",
        "",
      ].join("\n"),
    );
    const s3client = s3.client();
    const drafts = await Array.fromAsync(
      s3CsvSource(s3client, "s3://data/sets/pets.csv", {
        inputType: "image",
        csvType: "file_path",
      }),
    );
    assertEquals(drafts.map((d) => d.type), ["draft", "draft", "rejected", "draft"]);
    assertEquals(drafts[2], {
      type: "rejected",
      rejection: {
        location: "s3://data/sets/pets.csv:4",
        reason: 'file path "../secret.png" is outside the CSV\'s folder s3://data/sets/',
      },
    });

    const events: ProgressEvent[] = [];
    const summary = await summaryOf(
      uploadS3Csv("s3://data/sets/pets.csv", {
        client,
        s3: s3client,
        inputType: "image",
        csvType: "file_path",
        rps: 0,
      }),
      (e) => events.push(e),
    );
    assertEquals([summary.uploaded, summary.rejected], [2, 2]);
    const reasons = events.flatMap((e) =>
      e.type === "rejected" ? [`${e.location}: ${e.reason}`] : []
    );
    assertEquals(
      reasons[1],
      "s3://data/sets/pets.csv:5: Cannot read s3://data/sets/dogs/missing.png: no such object (deleted since it was listed?)",
    );
    const listed = await client.listInputs({ userAppId: client.userAppId, perPage: 100 });
    assertEquals(
      listed.inputs.map((i) => [i.id, i.data?.concepts[0].id]).sort(),
      [["cats_01", "cat"], ["dogs_02", "dog"]],
    );
  } finally {
    client.close();
    await api.close();
    await s3.close();
  }
});

Deno.test("upflow coco s3://…/instances.json --images s3://… uploads images with boxes", async () => {
  const s3 = await startS3rver();
  const api = await startLocalApi({ port: 0, dataDir: ":memory:", key: "k" });
  const client = createClarifaiClient({ base: api.baseUrl, pat: "k", userId: "u", appId: "a" });
  try {
    await s3.createBucket("data");
    await s3.put("data", "train/a.png", PNG);
    await s3.put("data", "train/b.png", PNG);
    await s3.put(
      "data",
      "coco/instances.json",
      JSON.stringify({
        images: [
          { id: 1, file_name: "a.png", width: 100, height: 50 },
          { id: 2, file_name: "b.png", width: 10, height: 10 },
          { id: 3, file_name: "missing.png", width: 10, height: 10 },
        ],
        annotations: [{ id: 9, image_id: 1, category_id: 4, bbox: [10, 5, 40, 20] }],
        categories: [{ id: 4, name: "cat" }],
      }),
    );
    const cli = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../../../src/cli/main.ts", import.meta.url).pathname,
        "coco",
        "s3://data/coco/instances.json",
        "--images",
        "s3://data/train",
        "--base",
        api.baseUrl,
        "--user",
        "u",
        "--app",
        "a",
        "--journal",
        `${await Deno.makeTempDir()}/j.ndjson`,
        "--json",
      ],
      env: {
        CLARIFAI_PAT: "k",
        AWS_ACCESS_KEY_ID: "S3RVER",
        AWS_SECRET_ACCESS_KEY: "S3RVER",
        AWS_ENDPOINT_URL: s3.endpoint,
      },
    }).output();
    const events = new TextDecoder().decode(cli.stdout).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    const done = events.find((e) => e.type === "done");
    assertEquals([done.summary.uploaded, done.summary.annotations, done.summary.rejected], [
      2,
      1,
      1,
    ]);
    assertEquals(
      events.find((e) => e.type === "rejected").reason,
      "Cannot read s3://data/train/missing.png: no such object (deleted since it was listed?)",
    );
    assertEquals(cli.code, 1);
    const annotations = await client.listAnnotations({ userAppId: client.userAppId, perPage: 10 });
    const box = annotations.annotations.find((a) => a.data?.regions.length)?.data?.regions[0]
      .regionInfo?.boundingBox;
    assertEquals(
      [box?.leftCol, box?.topRow, box?.rightCol, box?.bottomRow],
      [0.1, 0.1, 0.5, 0.5].map(Math.fround),
    );
  } finally {
    client.close();
    await api.close();
    await s3.close();
  }
});
