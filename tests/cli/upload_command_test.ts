// The CLI's option mapping (src/cli/upload_command.ts): flags onto the core's options schema,
// problems worded with the flags, and the default journal path.
import { assert, assertEquals, assertMatch, assertNotEquals, assertThrows } from "@std/assert";
import {
  defaultJournalPath,
  FLAG_OPTIONS,
  uploadOptionsFrom,
  UsageError,
} from "../../src/cli/upload_command.ts";
import { UPLOAD_OPTION_RULES } from "../../src/upload/upload_options.ts";

/** How `csv` maps its flags: `--input-type` names the one kind of every row. */
const CSV_FLAGS = { ...FLAG_OPTIONS, "input-type": "inputType" } as const;

Deno.test("every flag maps onto an option of the schema, and every option has its flag", () => {
  const names = Object.keys(UPLOAD_OPTION_RULES);
  for (const [flag, name] of Object.entries(FLAG_OPTIONS)) {
    assert(names.includes(name), `--${flag} maps onto ${name}, which the schema does not know`);
  }
  // inputType is the csv command's reading of --input-type (CSV_FLAGS).
  const mapped = new Set([...Object.values(FLAG_OPTIONS), "inputType"]);
  assertEquals(names.filter((name) => !mapped.has(name)), []);
});

Deno.test("flags become the schema's options", async (t) => {
  await t.step("the engine's flags", () => {
    const options = uploadOptionsFrom({
      dataset: "photos",
      "create-dataset": true,
      "batch-size": "64",
      "max-batch-mb": "8",
      concurrency: "2",
      rps: "0",
      retries: "3",
      "dry-run": true,
      shard: "1/4",
      existing: "new-id",
      "no-digest": true,
      journal: "j.ndjson",
      transport: "grpc-web",
    });
    assertEquals(options.datasetId, "photos");
    assertEquals(options.createDataset, true);
    assertEquals(options.batchSize, 64);
    assertEquals(options.maxBatchBytes, 8 * 1024 * 1024);
    assertEquals(options.concurrency, 2);
    assertEquals(options.rps, 0);
    assertEquals(options.retry?.maxAttempts, 3);
    assertEquals(options.dryRun, true);
    assertEquals(options.shard, { index: 1, count: 4 });
    assertEquals(options.existing, "new-id");
    assertEquals(options.digest, false);
    assertEquals(options.journal, "j.ndjson");
    assertEquals(options.transport, "grpc-web");
    assertEquals(typeof options.local, "function", "the embedded local API is the fallback");
  });
  await t.step("folder flags, --include and --exclude given more than once", () => {
    const options = uploadOptionsFrom({
      recursive: true,
      labels: true,
      "id-from": "path",
      "input-type": "image,text",
      include: ["*.jpg", "cats/**"],
      exclude: ["drafts/"],
    });
    assertEquals(options.recursive, true);
    assertEquals(options.labels, true);
    assertEquals(options.idFrom, "path");
    assertEquals(options.inputTypes, ["image", "text"]);
    assertEquals(options.include, ["*.jpg", "cats/**"]);
    assertEquals(options.exclude, ["drafts/"]);
  });
  await t.step("csv flags: one input type, the CSV type resolved by the SDKs' rule", () => {
    assertEquals(uploadOptionsFrom({ "input-type": "image" }, CSV_FLAGS).csvType, "url");
    assertEquals(uploadOptionsFrom({ "input-type": "text" }, CSV_FLAGS).csvType, "raw");
    const options = uploadOptionsFrom(
      { "input-type": "video", "csv-type": "file_path" },
      CSV_FLAGS,
    );
    assertEquals([options.inputType, options.csvType], ["video", "file_path"]);
  });
  await t.step("flags the schema does not know are left alone", () => {
    const options = uploadOptionsFrom({ json: true, "local-data": "/tmp/x", help: false });
    assertEquals(Object.keys(options), ["local"]);
  });
});

Deno.test("problems are usage errors worded with the flags", async (t) => {
  const cases: [string, Record<string, string | boolean | string[]>, string][] = [
    ["batch size", { "batch-size": "0" }, '--batch-size must be an integer from 1 to 128: got "0"'],
    ["batch megabytes", { "max-batch-mb": "128" }, "--max-batch-mb must be a number above 0"],
    ["concurrency", { concurrency: "65" }, "--concurrency must be an integer from 1 to 64"],
    ["rate", { rps: "-1" }, "--rps must be an integer from 0 to 100000"],
    ["retries", { retries: "many" }, '--retries must be an integer from 1 to 100: got "many"'],
    ["shard", { shard: "4/4" }, "--shard must be K/N with N from 1 to"],
    ["existing", { existing: "keep" }, '--existing must be skip, fail or new-id: got "keep"'],
    ["ID rule", { "id-from": "name" }, '--id-from must be stem or path: got "name"'],
    ["kinds", { "input-type": "image,pdf" }, "--input-type must be input types, comma-separated"],
    ["transport", { transport: "http" }, '--transport must be grpc or grpc-web: got "http"'],
    ["include", { include: ["*.jpg", "[abc"] }, '--include: Invalid pattern "[abc": "[" is not'],
    ["exclude", { exclude: ["{a,b"] }, '--exclude: Invalid pattern "{a,b": "{" is not closed'],
    [
      "--create-dataset alone",
      { "create-dataset": true },
      "--create-dataset needs --dataset ID",
    ],
    ["--wait with --dry-run", { wait: true, "dry-run": true }, "--wait makes no sense with"],
  ];
  for (const [name, values, message] of cases) {
    await t.step(name, () => {
      const error = assertThrows(() => uploadOptionsFrom(values), UsageError);
      assert(
        error.message.startsWith(message),
        `${error.message}\n  should start with\n${message}`,
      );
    });
  }
  await t.step("csv: raw text needs text inputs, in the csv command's words", () => {
    assertThrows(
      () => uploadOptionsFrom({ "input-type": "image", "csv-type": "raw" }, CSV_FLAGS),
      UsageError,
      '--csv-type raw works only with --input-type text: got "image"',
    );
    assertThrows(
      () => uploadOptionsFrom({ "input-type": "image,text" }, CSV_FLAGS),
      UsageError,
      "--input-type must be one of image, video, audio, text",
    );
  });
});

Deno.test("the default journal path: one per command, source, dataset, target and shard", () => {
  const env = new Map<string, string>();
  const path = (command: string, source: string, options = {}) =>
    defaultJournalPath(command, source, options, env);
  const first = path("folder", "samples/images", { datasetId: "demo" });
  assertMatch(first, /^\.upflow\/journals\/folder-images-demo-[0-9a-f]{10}\.ndjson$/);
  assertEquals(path("folder", "samples/images/", { datasetId: "demo" }), first, "same folder");
  assertNotEquals(path("folder", "samples/images", { datasetId: "other" }), first);
  assertNotEquals(path("csv", "samples/images", { datasetId: "demo" }), first);
  assertNotEquals(path("folder", "samples/images", { datasetId: "demo", base: "http://x" }), first);
  assertMatch(
    path("folder", "s3://pets/cats", { shard: { index: 2, count: 8 } }),
    /^\.upflow\/journals\/folder-cats-[0-9a-f]{10}-shard2of8\.ndjson$/,
  );
  env.set("CLARIFAI_PAT", "secret");
  const clarifai = path("folder", "samples/images", { datasetId: "demo" });
  assertNotEquals(clarifai, first, "Clarifai and the local API keep separate journals");
  assert(!clarifai.includes("secret"));
});
