import { createClient, createRouterTransport } from "@connectrpc/connect";
import { V2 } from "../../src/gen/clarifai/api/service_pb.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import {
  processingState,
  ProcessingWaitStream,
} from "../../src/pipeline/processing_wait_stream.ts";
import type { ProcessingWaitOptions } from "../../src/pipeline/processing_wait_stream.ts";
import type { ProgressEvent } from "../../src/pipeline/progress_event.ts";
import { FatalUploadError } from "../../src/clarifai/errors.ts";
import { RetryPolicy } from "../../src/clarifai/retry_policy.ts";
import { Journal, readJournal } from "../../src/journal/journal.ts";
import { assert, assertEquals, assertLessOrEqual, assertRejects } from "@std/assert";

/**
 * A server whose inputs are processed when the test says so (`process(ids)`), or at once with
 * `auto`; `fail` marks inputs that fail. It counts the calls of each method.
 */
function fakeServer(options: { auto?: boolean; unavailable?: number } = {}) {
  const processed = new Set<string>();
  const failed = new Set<string>();
  const listed: string[][] = [];
  const perPage: number[] = [];
  let addJobPolls = 0;
  let unavailable = options.unavailable ?? 0;
  const transport = createRouterTransport(({ service }) => {
    service(V2, {
      getInputsAddJob() {
        addJobPolls++;
        return { status: { code: StatusCode.SUCCESS } };
      },
      listInputs(req) {
        listed.push(req.ids);
        perPage.push(req.perPage);
        if (unavailable-- > 0) return { status: { code: StatusCode.TRY_AGAIN } };
        return {
          status: { code: StatusCode.SUCCESS },
          inputs: req.ids.map((id) => ({
            id,
            status: !processed.has(id) && !options.auto
              ? { code: StatusCode.INPUT_PENDING }
              : failed.has(id)
              ? { code: StatusCode.INPUT_FAILED, description: "bad image", details: "truncated" }
              : { code: StatusCode.INPUT_SUCCESS },
          })),
        };
      },
    });
  });
  return {
    client: createClient(V2, transport),
    listed,
    perPage,
    get addJobPolls() {
      return addJobPolls;
    },
    process(...ids: string[]) {
      for (const id of ids) processed.add(id);
    },
    fail(...ids: string[]) {
      for (const id of ids) failed.add(id);
    },
  };
}

function batch(n: number, ids: string[]): ProgressEvent {
  return { type: "batch", batch: n, ids, bytes: ids.length, attempts: 1, jobIds: [`job${n}`] };
}

function idsOf(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2));
}

/** A wait fed by hand: `input` takes events; `done` resolves when the output is drained. */
function feed(
  options: Omit<ProcessingWaitOptions, "client">,
  client: ProcessingWaitOptions["client"],
) {
  let input!: ReadableStreamDefaultController<ProgressEvent>;
  const events: ProgressEvent[] = [];
  const wait = new ProcessingWaitStream({ client, ...options });
  const done = new ReadableStream<ProgressEvent>({ start: (c) => void (input = c) })
    .pipeThrough(wait)
    .pipeTo(new WritableStream({ write: (e) => void events.push(e) }));
  return { input, events, done, wait };
}

const last = (events: ProgressEvent[]) => events.findLast((e) => e.type === "processing");

Deno.test("processingState: success, still processing, failed", () => {
  assertEquals(processingState({ code: StatusCode.INPUT_SUCCESS }), "succeeded");
  assertEquals(processingState({ code: StatusCode.INPUT_PENDING }), "processing");
  assertEquals(processingState({ code: StatusCode.INPUT_IN_PROGRESS }), "processing");
  assertEquals(processingState(undefined), "processing");
  assertEquals(processingState({ code: StatusCode.INPUT_FAILED }), "failed");
  assertEquals(processingState({ code: StatusCode.INPUT_UNSUPPORTED_FORMAT }), "failed");
});

Deno.test("ProcessingWaitStream reads input states while later batches go out", async () => {
  const server = fakeServer();
  const { input, events, done } = feed({ pollMs: 1, maxPollMs: 4, uploadPollMs: 1 }, server.client);
  input.enqueue(batch(1, ["a", "b"]));
  await until(() => server.listed.length >= 1);
  server.process("a", "b");
  // Batch 1 is settled while the upload goes on.
  await until(() => events.some((e) => e.type === "processing" && e.succeeded === 2));

  server.fail("c");
  input.enqueue(batch(2, ["c"]));
  await until(() => server.listed.some((ids) => ids.includes("c")));
  server.process("c");
  input.close();
  await done;

  // Settled inputs are not read again.
  assert(server.listed.every((ids) => !ids.includes("c") || !ids.includes("a")));
  const failed = events.filter((e) => e.type === "failed");
  assertEquals(failed.length, 1);
  assertEquals(
    failed[0].type === "failed" &&
      [failed[0].id, failed[0].stage, failed[0].code, failed[0].reason],
    ["c", "processing", "INPUT_FAILED", "bad image: truncated"],
  );
  assertEquals(last(events), { type: "processing", pending: 0, succeeded: 2, failed: 1 });
  assertEquals(server.addJobPolls, 0);
});

Deno.test("ProcessingWaitStream: 25 batches of 32 settle with a few ListInputs calls", async () => {
  const server = fakeServer();
  // The server processes each batch a little after it arrives, as uploads go on; the wait has
  // its default delays.
  const { input, events, done } = feed({}, server.client);
  for (let n = 1; n <= 25; n++) {
    const ids = idsOf(`b${n}-`, 32);
    input.enqueue(batch(n, ids));
    setTimeout(() => server.process(...ids), 3);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  input.close();
  await done;
  assertEquals(last(events), { type: "processing", pending: 0, succeeded: 800, failed: 0 });
  assertEquals(server.addJobPolls, 0);
  // One call per round, each reading every input not yet settled (800 < one page).
  assertLessOrEqual(server.listed.length, 4, `${server.listed.length} ListInputs calls`);
  assertEquals(server.perPage, server.listed.map((ids) => ids.length));
});

Deno.test("ProcessingWaitStream: everything already processed takes one call", async () => {
  const server = fakeServer({ auto: true });
  const items = Array.from({ length: 25 }, (_, i) => batch(i + 1, idsOf(`b${i}-`, 32)));
  const events = await Array.fromAsync(
    ReadableStream.from(items).pipeThrough(
      new ProcessingWaitStream({ client: server.client, pollMs: 1 }),
    ),
  );
  assertEquals(last(events), { type: "processing", pending: 0, succeeded: 800, failed: 0 });
  assertEquals(server.listed.length, 1);
  assertEquals(server.listed[0].length, 800);
});

Deno.test("ProcessingWaitStream: an input the server does not list is looked for 5 times, then pending", async () => {
  const server = fakeServer({ auto: true });
  const gone = new Set(["b1"]);
  const client = createClient(
    V2,
    createRouterTransport(({ service }) => {
      service(V2, {
        async listInputs(req) {
          const answer = await server.client.listInputs(req);
          return { ...answer, inputs: answer.inputs.filter((input) => !gone.has(input.id)) };
        },
      });
    }),
  );
  const events = await Array.fromAsync(
    ReadableStream.from([batch(1, ["b0", "b1", "b2"])]).pipeThrough(
      new ProcessingWaitStream({ client, pollMs: 1, maxPollMs: 1 }),
    ),
  );
  assertEquals(last(events), { type: "processing", pending: 1, succeeded: 2, failed: 0 });
  assertEquals(server.listed.map((ids) => ids.join()), ["b0,b1,b2", "b1", "b1", "b1", "b1"]);
});

Deno.test("ProcessingWaitStream reads 1,000 inputs per call, oldest first", async () => {
  const server = fakeServer();
  const ids = idsOf("i", 2500);
  const { input, events, done } = feed({ pollMs: 1, maxPollMs: 2, uploadPollMs: 1 }, server.client);
  input.enqueue(batch(1, ids));
  await until(() => server.listed.length >= 1);
  assertEquals(server.listed[0], ids.slice(0, 1000));
  // The server processes the middle of the first page: the next round reads the rest of that
  // page first, then newer inputs to make up a page.
  server.process(...ids.slice(100, 200));
  await until(() => server.listed.some((page) => page[100] === "i200"));
  const after = server.listed.find((page) => page[100] === "i200")!;
  assertEquals(after, [...ids.slice(0, 100), ...ids.slice(200, 1100)]);
  server.process(...ids);
  input.close();
  await done;
  assertEquals(last(events), { type: "processing", pending: 0, succeeded: 2500, failed: 0 });
  assert(server.listed.every((page) => page.length <= 1000));
});

Deno.test("ProcessingWaitStream: the end is prompt even while rounds are far apart", async () => {
  const server = fakeServer({ auto: true });
  const { input, events, done } = feed(
    { pollMs: 20, maxPollMs: 60_000, uploadPollMs: 60_000 },
    server.client,
  );
  input.enqueue(batch(1, ["a"]));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assertEquals(server.listed.length, 0, "no round while the upload goes on, a minute apart");
  const ended = performance.now();
  input.close();
  await done;
  assertLessOrEqual(performance.now() - ended, 1000);
  assertEquals(last(events), { type: "processing", pending: 0, succeeded: 1, failed: 0 });
});

Deno.test("ProcessingWaitStream: a fatal answer to a read errors the stream", async () => {
  const transport = createRouterTransport(({ service }) => {
    service(V2, {
      listInputs() {
        return { status: { code: StatusCode.CONN_KEY_INVALID, description: "bad key" } };
      },
    });
  });
  const stream = ReadableStream.from([batch(1, ["a"])])
    .pipeThrough(new ProcessingWaitStream({ client: createClient(V2, transport), pollMs: 1 }));
  await assertRejects(() => Array.fromAsync(stream), FatalUploadError);
});

Deno.test("ProcessingWaitStream: reads that keep failing after the end leave the rest pending", async () => {
  const server = fakeServer({ unavailable: 100 });
  const events = await Array.fromAsync(
    ReadableStream.from([batch(1, ["a", "b"])]).pipeThrough(
      new ProcessingWaitStream({
        client: server.client,
        pollMs: 1,
        retry: new RetryPolicy({ maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 }),
      }),
    ),
  );
  assertEquals(last(events), { type: "processing", pending: 2, succeeded: 0, failed: 0 });
  assertEquals(server.listed.length, 2, "one round, its two attempts");
});

Deno.test("ProcessingWaitStream: a round that fails during the upload is tried again later", async () => {
  const server = fakeServer({ auto: true, unavailable: 2 });
  const { input, events, done } = feed({
    pollMs: 1,
    maxPollMs: 5,
    uploadPollMs: 1,
    retry: new RetryPolicy({ maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 }),
  }, server.client);
  input.enqueue(batch(1, ["a"]));
  await until(() => events.some((e) => e.type === "processing" && e.succeeded === 1));
  input.close();
  await done;
  assertEquals(last(events), { type: "processing", pending: 0, succeeded: 1, failed: 0 });
});

Deno.test("ProcessingWaitStream follows a batch with no job ID by its inputs until they settle", async () => {
  // The answer to the request that stored these inputs was lost (the retry found them stored):
  // no job ID; the wait reads them by ID like any other, again while they are still processing.
  const server = fakeServer();
  server.fail("b");
  const { input, events, done } = feed({ pollMs: 1, maxPollMs: 4 }, server.client);
  input.enqueue({ type: "batch", batch: 1, ids: ["a", "b"], bytes: 2, attempts: 2, jobIds: [] });
  input.close();
  await until(() => server.listed.length >= 2); // read once, still processing, read again
  server.process("a", "b");
  await done;
  const failed = events.filter((e) => e.type === "failed");
  assertEquals(failed.map((e) => e.type === "failed" && e.id), ["b"]);
  assertEquals(last(events), { type: "processing", pending: 0, succeeded: 1, failed: 1 });
});

Deno.test("ProcessingWaitStream follows inputs held already and journals their failures", async () => {
  const dir = await Deno.makeTempDir();
  const journal = await Journal.open(`${dir}/j.ndjson`);
  try {
    const server = fakeServer({ auto: true });
    server.fail("held-bad", "sent-bad");
    const wait = new ProcessingWaitStream({ client: server.client, pollMs: 1, journal });
    wait.follow([
      { id: "held-ok", location: "cats/ok.jpg", present: "verified" },
      { id: "held-bad", location: "cats/bad.jpg", present: "unverified" },
    ]);
    const events = await Array.fromAsync(
      ReadableStream.from([batch(1, ["sent-ok", "sent-bad"])]).pipeThrough(wait),
    );
    const failed = events.filter((e) => e.type === "failed");
    assertEquals(
      failed.map((e) => e.type === "failed" && [e.id, e.location, e.present]),
      [["held-bad", "cats/bad.jpg", "unverified"], ["sent-bad", "sent-bad", undefined]],
    );
    assertEquals(last(events), { type: "processing", pending: 0, succeeded: 2, failed: 2 });
    await journal.close();
    const state = await readJournal(`${dir}/j.ndjson`);
    assertEquals(
      [...state.failures.values()].map((f) => [f.id, f.outcome, f.location, f.reason]),
      [
        ["held-bad", "processing-failed", "cats/bad.jpg", "bad image: truncated"],
        ["sent-bad", "processing-failed", "sent-bad", "bad image: truncated"],
      ],
    );
  } finally {
    await journal.close().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ProcessingWaitStream: cancelling stops the rounds", async () => {
  const server = fakeServer();
  const wait = new ProcessingWaitStream({ client: server.client, pollMs: 1, uploadPollMs: 1 });
  const reader = ReadableStream.from([batch(1, ["a"])]).pipeThrough(wait).getReader();
  await reader.read(); // the batch
  await until(() => server.listed.length >= 1);
  await reader.cancel();
  const calls = server.listed.length;
  await new Promise((resolve) => setTimeout(resolve, 20));
  assertLessOrEqual(server.listed.length, calls + 1);
});

Deno.test("ProcessingWaitStream: an abort errors the stream", async () => {
  const server = fakeServer();
  const abort = new AbortController();
  const stream = ReadableStream.from([batch(1, ["a"])]).pipeThrough(
    new ProcessingWaitStream({ client: server.client, pollMs: 1, signal: abort.signal }),
  );
  setTimeout(() => abort.abort(new Error("stop")), 10);
  await assertRejects(() => Array.fromAsync(stream), Error, "stop");
});
