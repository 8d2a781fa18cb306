/**
 * How the CLI reports a dataset version: its status lines while it waits (on a terminal, the bar
 * line; elsewhere, a line per event), its metrics after the summary, and a version that did not
 * become ready makes the run end "with problems" and exit 1.
 */
import { assertEquals, assertStringIncludes } from "@std/assert";
import { RunReporter } from "../../src/cli/report_run.ts";
import { ExitCode } from "../../src/cli/exit_code.ts";
import type { ProgressEvent, UploadSummary } from "../../src/pipeline/progress_event.ts";
import { zeroCounts } from "../../src/pipeline/progress_event.ts";

const base: UploadSummary = {
  ...zeroCounts(),
  uploaded: 3,
  runId: "r1",
  dryRun: false,
  batches: 1,
  bytes: 30,
  durationMs: 900,
  inputsPerSecond: 3,
  megabytesPerSecond: 0,
};

const METRICS = {
  inputs: 3,
  inputsByKind: { image: 2, text: 1 },
  annotations: { concepts: 3, boundingBoxes: 2, polygons: 1, frames: 0 },
  concepts: [
    { id: "cat", inputs: 2, inputTags: 2, boundingBoxes: 2, polygons: 1 },
    { id: "dog", inputs: 1, inputTags: 1, boundingBoxes: 0, polygons: 0 },
  ],
};

async function report(events: ProgressEvent[], tty = false) {
  let out = "";
  let err = "";
  const reporter = new RunReporter({
    out: (t) => out += t,
    err: (t) => err += t,
    tty,
    handleSigint: false,
    progressIntervalMs: 0,
  });
  const code = await reporter.run(ReadableStream.from(events));
  return { code, out, err };
}

const version = (status: "pending" | "in progress", elapsedMs: number): ProgressEvent => ({
  type: "version",
  id: "v1",
  datasetId: "pets",
  status,
  elapsedMs,
});

Deno.test("a ready version: status lines while it waits, metrics after the summary", async () => {
  const { code, out, err } = await report([
    { type: "start", runId: "r1", target: "here", dryRun: false },
    version("pending", 0),
    version("in progress", 300),
    version("in progress", 5300),
    {
      type: "version",
      id: "v1",
      datasetId: "pets",
      status: "ready",
      elapsedMs: 6000,
      metrics: METRICS,
    },
    {
      type: "done",
      summary: {
        ...base,
        version: { id: "v1", datasetId: "pets", status: "ready", waitedMs: 6000, metrics: METRICS },
      },
    },
  ]);
  assertEquals(code, ExitCode.Ok);
  assertStringIncludes(err, 'dataset version v1 of "pets": pending (0.0s)\n');
  assertStringIncludes(err, 'dataset version v1 of "pets": in progress (5.3s)\n');
  assertStringIncludes(
    out,
    'dataset version v1 of "pets": ready after 6.0s\n' +
      "  inputs       3 (image 2, text 1)\n" +
      "  annotations  3 concepts, 2 bounding boxes, 1 polygon, 0 frames\n" +
      "  concepts     2: cat 2, dog 1\n",
  );
  assertStringIncludes(out, "done: uploaded 3 inputs");
});

Deno.test("on a terminal the wait redraws one line", async () => {
  const { err } = await report([
    { type: "start", runId: "r1", target: "here", dryRun: false },
    version("pending", 0),
    version("in progress", 5300),
    { type: "done", summary: base },
  ], true);
  assertStringIncludes(err, '\r\x1b[2Kdataset version v1 of "pets": in progress (5.3s)');
});

Deno.test("a version that timed out: reported, and the run exits 1", async () => {
  const error = "The version is not ready after 600 s (in progress); it stays on the server";
  const { code, out } = await report([
    { type: "start", runId: "r1", target: "here", dryRun: false },
    {
      type: "done",
      summary: {
        ...base,
        version: { id: "v1", datasetId: "pets", status: "timed out", waitedMs: 600_000, error },
      },
    },
  ]);
  assertEquals(code, ExitCode.SomeFailed);
  assertStringIncludes(out, `dataset version v1 of "pets": timed out after`);
  assertStringIncludes(out, error);
  assertStringIncludes(
    out,
    "done with problems: uploaded 3 inputs, the dataset version timed out",
  );
});
