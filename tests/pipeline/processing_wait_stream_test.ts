import { createClient, createRouterTransport } from "@connectrpc/connect";
import { V2 } from "../../src/gen/clarifai/api/service_pb.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import { ProcessingWaitStream } from "../../src/pipeline/processing_wait_stream.ts";
import type { ProgressEvent } from "../../src/pipeline/progress_event.ts";
import { FatalUploadError } from "../../src/clarifai/errors.ts";
import { assert, assertEquals, assertRejects } from "@std/assert";

/**
 * A server whose jobs are processed when the test says so: `process(jobId)` marks a job's
 * inputs as succeeded (or some failed).
 */
function fakeServer() {
  const jobs = new Map<string, { ids: string[]; done: boolean; failed: Set<string> }>();
  const polls: string[] = [];
  const listed: string[][] = [];
  const transport = createRouterTransport(({ service }) => {
    service(V2, {
      getInputsAddJob(req) {
        polls.push(req.id);
        const job = jobs.get(req.id);
        if (!job) return { status: { code: StatusCode.SUCCESS } };
        const n = BigInt(job.ids.length);
        const failed = BigInt(job.failed.size);
        return {
          status: { code: StatusCode.SUCCESS },
          inputsAddJob: {
            id: req.id,
            progress: job.done
              ? { successCount: n - failed, failedCount: failed }
              : { pendingCount: n },
          },
        };
      },
      listInputs(req) {
        listed.push(req.ids);
        const failed = new Set([...jobs.values()].flatMap((j) => [...j.failed]));
        const waiting = new Set([...jobs.values()].filter((j) => !j.done).flatMap((j) => j.ids));
        return {
          status: { code: StatusCode.SUCCESS },
          inputs: req.ids.map((id) => ({
            id,
            status: waiting.has(id)
              ? { code: StatusCode.INPUT_PENDING }
              : failed.has(id)
              ? { code: StatusCode.INPUT_FAILED, description: "bad image" }
              : { code: StatusCode.INPUT_SUCCESS },
          })),
        };
      },
    });
  });
  return {
    client: createClient(V2, transport),
    polls,
    listed,
    job(id: string, ids: string[], failed: string[] = []) {
      jobs.set(id, { ids, done: false, failed: new Set(failed) });
    },
    process(id: string) {
      jobs.get(id)!.done = true;
    },
  };
}

function batch(n: number, ids: string[]): ProgressEvent {
  return { type: "batch", batch: n, ids, bytes: ids.length, attempts: 1, jobIds: [`job${n}`] };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2));
}

Deno.test("ProcessingWaitStream polls each batch's job while later batches go out", async () => {
  const server = fakeServer();
  let input!: ReadableStreamDefaultController<ProgressEvent>;
  const events: ProgressEvent[] = [];
  const done = ReadableStream.from(
    new ReadableStream<ProgressEvent>({ start: (c) => void (input = c) }),
  )
    .pipeThrough(new ProcessingWaitStream({ client: server.client, pollMs: 1, maxPollMs: 4 }))
    .pipeTo(new WritableStream({ write: (e) => void events.push(e) }));

  server.job("job1", ["a", "b"]);
  input.enqueue(batch(1, ["a", "b"]));
  await until(() => server.polls.includes("job1"));
  server.process("job1");
  // Batch 1 is accounted for while the upload goes on: its inputs are counted succeeded.
  await until(() => events.some((e) => e.type === "processing" && e.succeeded === 2));
  assertEquals(server.listed, []); // a clean job is not read input by input

  server.job("job2", ["c"], ["c"]);
  input.enqueue(batch(2, ["c"]));
  await until(() => server.polls.includes("job2"));
  server.process("job2");
  input.close();
  await done;

  assertEquals(server.listed, [["c"]]); // the job that saw a failure is read input by input
  const failed = events.filter((e) => e.type === "failed");
  assertEquals(failed.length, 1);
  assertEquals(failed[0].type === "failed" && failed[0].reason, "bad image");
  assertEquals(events.at(-1), { type: "processing", pending: 0, succeeded: 2, failed: 1 });
});

Deno.test("ProcessingWaitStream polls the oldest batch first, one call at a time", async () => {
  const server = fakeServer();
  const items: ProgressEvent[] = [];
  for (let n = 1; n <= 50; n++) {
    server.job(`job${n}`, [`i${n}`]);
    items.push(batch(n, [`i${n}`]));
  }
  // Jobs are processed in order, a few polls apart.
  let polled = 0;
  const timer = setInterval(() => {
    polled++;
    const n = Math.min(50, polled);
    server.process(`job${n}`);
  }, 1);
  const events = await Array.fromAsync(
    ReadableStream.from(items)
      .pipeThrough(new ProcessingWaitStream({ client: server.client, pollMs: 1, maxPollMs: 2 })),
  );
  clearInterval(timer);
  assertEquals(events.at(-1), { type: "processing", pending: 0, succeeded: 50, failed: 0 });
  // Each round stops at the first job still processing: polls of a later job come only after
  // every earlier job was seen done.
  const firstPoll = new Map<string, number>();
  server.polls.forEach((id, at) => firstPoll.has(id) || firstPoll.set(id, at));
  for (let n = 2; n <= 50; n++) {
    assert(firstPoll.get(`job${n}`)! > firstPoll.get(`job${n - 1}`)!);
  }
});

Deno.test("ProcessingWaitStream: a fatal answer to a poll errors the stream", async () => {
  const transport = createRouterTransport(({ service }) => {
    service(V2, {
      getInputsAddJob() {
        return { status: { code: StatusCode.CONN_KEY_INVALID, description: "bad key" } };
      },
    });
  });
  const stream = ReadableStream.from([batch(1, ["a"])])
    .pipeThrough(new ProcessingWaitStream({ client: createClient(V2, transport), pollMs: 1 }));
  await assertRejects(() => Array.fromAsync(stream), FatalUploadError);
});

Deno.test("ProcessingWaitStream follows a batch with no job ID by its inputs until they settle", async () => {
  // The answer to the request that stored these inputs was lost (the retry found them stored):
  // no job ID, so the wait reads them by ID, and again while they are still processing.
  const server = fakeServer();
  server.job("lost", ["a", "b"], ["b"]); // known to the server only
  let input!: ReadableStreamDefaultController<ProgressEvent>;
  const events: ProgressEvent[] = [];
  const done = ReadableStream.from(
    new ReadableStream<ProgressEvent>({ start: (c) => void (input = c) }),
  )
    .pipeThrough(new ProcessingWaitStream({ client: server.client, pollMs: 1, maxPollMs: 4 }))
    .pipeTo(new WritableStream({ write: (e) => void events.push(e) }));
  input.enqueue({ type: "batch", batch: 1, ids: ["a", "b"], bytes: 2, attempts: 2, jobIds: [] });
  input.close();
  await until(() => server.listed.length >= 2); // read once, still processing, read again
  server.process("lost");
  await done;
  const failed = events.filter((e) => e.type === "failed");
  assertEquals(failed.map((e) => e.type === "failed" && e.id), ["b"]);
  assertEquals(events.at(-1), { type: "processing", pending: 0, succeeded: 1, failed: 1 });
});
