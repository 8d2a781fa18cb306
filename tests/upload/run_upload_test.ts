/**
 * `runUpload`'s branches: a dry run (no client, batches reported, plain drafts validated), a
 * missing client, resume from a journal (annotations added since are sent again), the
 * processing wait, inputs the server holds already, and the ends that are not a clean finish:
 * a fatal answer, a source that breaks, a run stopped by its caller.
 */
import { withLocalApi } from "./_local_api.ts";
import type { LocalApi, LocalApiOptions } from "../../server/local/local_api.ts";
import type { ClarifaiClient } from "../../src/clarifai/client.ts";
import { RetryPolicy } from "../../src/clarifai/retry_policy.ts";
import type { DraftOrRejection, InputDraft } from "../../src/inputs/input_draft.ts";
import { readJournal } from "../../src/journal/journal.ts";
import { summaryOf } from "../../src/pipeline/progress_event.ts";
import type { ProgressEvent } from "../../src/pipeline/progress_event.ts";
import { type DraftSource, runUpload } from "../../src/upload/run_upload.ts";
import type { RunUploadOptions } from "../../src/upload/run_upload.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";

const permissions: Deno.PermissionOptions = {
  read: true,
  write: true,
  net: ["127.0.0.1"],
  env: true,
};

const retry = () => new RetryPolicy({ maxAttempts: 6, baseDelayMs: 5, maxDelayMs: 50 });

function texts(n: number, prefix = "t"): InputDraft[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}${i}`,
    kind: "text" as const,
    content: { type: "raw" as const, text: `text ${prefix}${i}` },
    location: `gen.csv:${i + 2}`,
    concepts: ["word"],
  }));
}

function withApi(
  fn: (client: ClarifaiClient, dir: string, local: LocalApi) => Promise<void>,
  api: LocalApiOptions = {},
  pat = "k",
) {
  return withLocalApi(({ api, client, dir }) => fn(client, dir, api), { api, client: { pat } });
}

async function run(source: DraftSource, options: RunUploadOptions) {
  const events: ProgressEvent[] = [];
  const summary = await summaryOf(
    runUpload(source, { rps: 0, retry: retry(), ...options }),
    (e) => events.push(e),
  );
  return { summary, events };
}

const live = (client: ClarifaiClient): RunUploadOptions => ({
  client,
  userAppId: client.userAppId,
});

Deno.test("runUpload: a dry run batches, validates plain drafts and sends nothing", async () => {
  const items: (InputDraft | DraftOrRejection)[] = [
    ...texts(5),
    { id: "bad id!", kind: "text", content: { type: "raw", text: "x" }, location: "x:1" } as never,
    { type: "skipped", skip: { location: "notes.md", reason: "not an input" } },
  ];
  const { summary, events } = await run(items, { dryRun: true, batchSize: 2 });
  const start = events[0];
  assert(start.type === "start");
  assertEquals([start.target, start.dryRun], ["dry run", true]);
  assertEquals(
    events.filter((e) => e.type === "batch").map((e) => e.type === "batch" && e.ids),
    [["t0", "t1"], ["t2", "t3"], ["t4"]],
  );
  const rejected = events.find((e) => e.type === "rejected");
  assert(rejected?.type === "rejected");
  assertEquals(rejected.location, "x:1");
  assertEquals(
    [summary.dryRun, summary.uploaded, summary.batches, summary.rejected, summary.skipped],
    [true, 5, 3, 1, 1],
  );
  assertEquals(summary.bytes, 5 * "text t0".length);
  // Counts follow every batch; the last two events are the final counts and the summary.
  assertEquals(events.filter((e) => e.type === "progress").length >= 4, true);
  assertEquals(events.slice(-2).map((e) => e.type), ["progress", "done"]);
});

Deno.test("runUpload: a live run without a client is a programming error", async () => {
  await assertRejects(
    () => summaryOf(runUpload(texts(1))),
    TypeError,
    "runUpload needs a client unless dryRun is set",
  );
});

Deno.test("runUpload: a journal resumes the run it records", { permissions }, async () => {
  await withApi(async (client, dir) => {
    const journal = `${dir}/run.ndjson`;
    const first = await run(texts(6), { ...live(client), journal });
    assertEquals([first.summary.uploaded, first.summary.journal], [6, journal]);

    const again = await run(texts(8), { ...live(client), journal });
    const start = again.events[0];
    assert(start.type === "start");
    assertEquals([start.resumed, start.journal], [6, journal]);
    assertEquals([again.summary.alreadyUploaded, again.summary.uploaded], [6, 2]);
    assertEquals(again.summary.present, 0, "the journal answers before the server is asked");
  });
});

Deno.test(
  "runUpload: an input resumed with annotations the journal does not record is sent again",
  { permissions },
  async () => {
    await withApi(async (client, dir) => {
      const journal = `${dir}/run.ndjson`;
      const image: InputDraft = {
        id: "cat1",
        kind: "image",
        content: { type: "file", path: "samples/images/cat/cat_01.png" },
        location: "cat/cat_01.png",
        concepts: [],
      };
      await run([image], { ...live(client), journal });
      const boxed: InputDraft = {
        ...image,
        regions: [{ concepts: ["cat"], box: { left: 0.1, top: 0.1, right: 0.5, bottom: 0.5 } }],
      };
      const { summary } = await run([boxed], { ...live(client), journal });
      assertEquals([summary.alreadyUploaded, summary.uploaded], [0, 1]);
      assertEquals([summary.annotations, summary.failed], [1, 0]);
      const listed = await client.listAnnotations({
        userAppId: client.userAppId,
        inputIds: ["cat1"],
      });
      assertEquals(
        listed.annotations.filter((a) => a.data?.regions.length).length,
        1,
        "the box is on the server",
      );
      // Recorded now: a third run skips it.
      const third = await run([boxed], { ...live(client), journal });
      assertEquals([third.summary.alreadyUploaded, third.summary.uploaded], [1, 0]);
    });
  },
);

Deno.test(
  "runUpload: wait reports processing until nothing is pending",
  { permissions },
  async () => {
    await withApi(async (client) => {
      const { summary, events } = await run(texts(5), { ...live(client), wait: true });
      assertEquals(summary.processing, { succeeded: 5, failed: 0, pending: 0 });
      const processing = events.filter((e) => e.type === "processing");
      assert(processing.length >= 1);
      // The wait comes after the batches.
      const lastBatch = events.findLastIndex((e) => e.type === "batch");
      assert(events.findIndex((e) => e.type === "processing") > lastBatch);
    }, { processingDelayMs: 100 });
  },
);

Deno.test("runUpload: inputs the server holds already", { permissions }, async (t) => {
  await withApi(async (client) => {
    await run(texts(4), live(client));
    await t.step("are counted present and not sent (default skip)", async () => {
      const { summary, events } = await run(texts(5), live(client));
      assertEquals([summary.present, summary.uploaded], [4, 1]);
      assertEquals(events.filter((e) => e.type === "batch").length, 1);
    });
    await t.step("fail as duplicates with existing: fail", async () => {
      const { summary, events } = await run(texts(5), { ...live(client), existing: "fail" });
      assertEquals([summary.present, summary.failed, summary.uploaded], [0, 5, 0]);
      assert(events.every((e) => e.type !== "failed" || e.code === "INPUT_DUPLICATE"));
    });
  });
});

Deno.test(
  "runUpload: held inputs whose processing failed are judged by the wait, not by presence",
  { permissions },
  async (t) => {
    await withApi(async (client, dir, local) => {
      const all = [...texts(3, "ok"), ...texts(2, "bad")];
      await run(all.slice(0, 3), live(client));
      await local.waitForProcessing(); // processed before the fault is on
      local.setFaults("fail-input=1");
      await run(all.slice(3), live(client));
      await local.waitForProcessing();
      local.setFaults({});
      await t.step("without --wait, no run judges processing: all present", async () => {
        const { summary, events } = await run(all, live(client));
        assertEquals([summary.present, summary.failed, summary.rejected], [5, 0, 0]);
        assertEquals(summary.processing, undefined);
        assert(events.every((e) => e.type !== "failed"));
      });
      await t.step(
        "with --wait, the failures are reported, journaled and not present",
        async () => {
          const journal = `${dir}/again.ndjson`;
          const { summary, events } = await run(all, { ...live(client), journal, wait: true });
          assertEquals([summary.present, summary.failed, summary.rejected], [3, 0, 0]);
          assertEquals(summary.processing, { succeeded: 0, failed: 2, pending: 0 });
          const failed = events.filter((e) => e.type === "failed");
          assertEquals(
            failed.map((e) => e.type === "failed" && [e.id, e.location, e.stage, e.present]),
            [["bad0", "gen.csv:2", "processing", "verified"], [
              "bad1",
              "gen.csv:3",
              "processing",
              "verified",
            ]],
          );
          const state = await readJournal(journal);
          assertEquals([...state.uploaded].sort(), ["ok0", "ok1", "ok2"]);
          assertEquals(
            [...state.failures.values()].map((f) => [f.id, f.outcome, f.reason]),
            [
              [
                "bad0",
                "processing-failed",
                "Download failed: processing failed (fail-input fault)",
              ],
              [
                "bad1",
                "processing-failed",
                "Download failed: processing failed (fail-input fault)",
              ],
            ],
          );
        },
      );
    });
  },
);

Deno.test("runUpload: a fatal answer ends the run with its code", { permissions }, async () => {
  await withApi(
    async (client) => {
      const { summary, events } = await run(texts(3), live(client));
      assert(summary.fatal, "the run ends fatal");
      assertStringIncludes(summary.fatal.code, "CONN_");
      assertEquals(summary.uploaded, 0);
      assertEquals(events.at(-1)?.type, "done");
    },
    {},
    "wrong key",
  );
});

Deno.test("runUpload: a source that breaks ends the run with a summary", async (t) => {
  async function* breaking(err: Error): AsyncIterable<InputDraft> {
    yield* texts(3);
    throw err;
  }
  await t.step("an error with a code", async () => {
    const err = Object.assign(new Error("no such file"), { code: "enoent" });
    const { summary } = await run(breaking(err), { dryRun: true });
    assertEquals(summary.fatal, { code: "ENOENT", message: "no such file" });
  });
  await t.step("a syntax error of the source", async () => {
    const { summary } = await run(breaking(new SyntaxError("q.csv:3: bad header")), {
      dryRun: true,
    });
    assertEquals(summary.fatal, { code: "INVALID_SOURCE", message: "q.csv:3: bad header" });
  });
  await t.step("anything else, by its name", async () => {
    const { summary } = await run(breaking(new RangeError("out of range")), { dryRun: true });
    assertEquals(summary.fatal?.code, "RangeError");
  });
});

Deno.test("runUpload: stopped by its caller", { permissions }, async (t) => {
  await t.step("before it starts: nothing is sent, the summary says cancelled", async () => {
    await withApi(async (client) => {
      const { summary } = await run(texts(10), {
        ...live(client),
        signal: AbortSignal.abort(),
      });
      assertEquals([summary.cancelled, summary.uploaded], [true, 0]);
    });
  });
  await t.step("while sending: what was answered is counted and journaled", async () => {
    await withApi(async (client, dir) => {
      const stop = new AbortController();
      async function* slow(): AsyncIterable<InputDraft> {
        for (const [i, draft] of texts(400).entries()) {
          if (i === 6) stop.abort();
          yield draft;
          await new Promise((r) => setTimeout(r, 2));
        }
      }
      const journal = `${dir}/run.ndjson`;
      const { summary } = await run(slow(), {
        ...live(client),
        batchSize: 2,
        journal,
        signal: stop.signal,
      });
      assertEquals(summary.cancelled, true);
      assert(summary.uploaded < 400, `stopped early (${summary.uploaded})`);
      const held = await client.listInputs({ userAppId: client.userAppId, perPage: 1000 });
      assertEquals(
        held.inputs.length,
        summary.uploaded,
        "the summary counts what the server holds",
      );
      // The next run resumes from what was journaled.
      const again = await run(texts(400), { ...live(client), journal });
      assertEquals(again.summary.alreadyUploaded + again.summary.present, summary.uploaded);
      assertEquals(
        again.summary.alreadyUploaded + again.summary.present + again.summary.uploaded,
        400,
      );
    });
  });
});

Deno.test("runUpload: cancelling the stream closes the journal", { permissions }, async () => {
  await withApi(async (client, dir) => {
    const journal = `${dir}/run.ndjson`;
    const reader = runUpload(texts(50), { ...live(client), rps: 0, batchSize: 5, journal })
      .getReader();
    let batches = 0;
    while (batches < 2) {
      const { value } = await reader.read();
      if (value?.type === "batch") batches++;
    }
    await reader.cancel("enough");
    const again = await run(texts(50), { ...live(client), journal });
    assert(again.summary.alreadyUploaded >= 10, `resumed ${again.summary.alreadyUploaded}`);
    assertEquals(
      again.summary.alreadyUploaded + again.summary.present + again.summary.uploaded,
      50,
    );
  });
});
