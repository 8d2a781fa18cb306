import { createClient, createRouterTransport } from "@connectrpc/connect";
import { V2 } from "../../src/gen/clarifai/api/service_pb.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import type { DraftOrRejection, InputKind } from "../../src/inputs/input_draft.ts";
import { BatchStream } from "../../src/pipeline/batch_stream.ts";
import { ByteBudget, defaultByteBudget } from "../../src/pipeline/byte_budget.ts";
import { LoadStream } from "../../src/pipeline/load_stream.ts";
import type { ProgressEvent } from "../../src/pipeline/progress_event.ts";
import { UploadStream } from "../../src/pipeline/upload_stream.ts";
import { assert, assertEquals, assertLessOrEqual, assertRejects } from "@std/assert";

interface File {
  name: string;
  size: number;
  kind?: InputKind;
}

/**
 * Runs files through load → batch → upload with a budget, against a server that answers each
 * request after a few milliseconds. Counts, at every read, the content bytes read and not yet
 * answered by the server, the bytes the budget bounds.
 */
async function pipeline(
  files: File[],
  options: { budget: number; batchSize?: number; maxBatchBytes?: number; concurrency?: number },
) {
  const sizes = new Map(files.map((f) => [f.name, f.size]));
  const buffers: Uint8Array[] = [];
  let read = 0;
  let answered = 0;
  const outstandingAtRead: { name: string; size: number; outstanding: number }[] = [];
  const transport = createRouterTransport(({ service }) => {
    service(V2, {
      async postInputs(req) {
        await new Promise((resolve) => setTimeout(resolve, 3));
        for (const input of req.inputs) {
          answered += sizes.get(input.id)!;
        }
        return {
          status: { code: StatusCode.SUCCESS },
          inputs: req.inputs.map((i) => ({ id: i.id, status: { code: StatusCode.INPUT_PENDING } })),
        };
      },
    });
  });
  const budget = new ByteBudget(options.budget);
  const drafts: DraftOrRejection[] = files.map((f) => ({
    type: "draft",
    draft: {
      id: f.name,
      kind: f.kind ?? "image",
      content: { type: "file", path: f.name },
      location: f.name,
      concepts: [],
    },
  }));
  const events: ProgressEvent[] = await Array.fromAsync(
    ReadableStream.from(drafts)
      .pipeThrough(
        new LoadStream({
          concurrency: 8,
          budget,
          stat: (path) => Promise.resolve({ size: sizes.get(path)!, isFile: true }),
          readFile: async (path) => {
            const size = sizes.get(path)!;
            read += size;
            outstandingAtRead.push({ name: path, size, outstanding: read - answered });
            await new Promise((resolve) => setTimeout(resolve, 1));
            const bytes = new Uint8Array(size);
            buffers.push(bytes);
            return bytes;
          },
        }),
      )
      .pipeThrough(
        new BatchStream({
          batchSize: options.batchSize ?? 32,
          maxBatchBytes: options.maxBatchBytes ?? 1024 * 1024,
          budget,
        }),
      )
      .pipeThrough(
        new UploadStream({
          client: createClient(V2, transport),
          concurrency: options.concurrency ?? 4,
          budget,
        }),
      ),
  );
  const uploaded = events.flatMap((e) => e.type === "batch" ? e.ids : []);
  return { events, uploaded, outstandingAtRead, budget, buffers, read, answered };
}

Deno.test("ByteBudget: content read and not yet answered stays within the budget", async () => {
  // 19-unit images, batches of one (as 19 MB images in 32 MiB batches), a budget of 64.
  const files = Array.from({ length: 30 }, (_, i) => ({ name: `img${i}`, size: 19_000 }));
  const run = await pipeline(files, { budget: 64_000, maxBatchBytes: 32_000 });
  assertEquals(run.uploaded.length, 30);
  const most = Math.max(...run.outstandingAtRead.map((r) => r.outstanding));
  assertLessOrEqual(most, 64_000);
  // Reads ran ahead of the answers (the bound is not met by going one at a time)...
  assert(most >= 3 * 19_000, `at most ${most} bytes were outstanding`);
  // ...and the budget is back to zero at the end.
  assertEquals(run.budget.held, 0);
  assertLessOrEqual(run.budget.peak, 64_000);
});

Deno.test("ByteBudget: an input larger than the budget is read alone", async () => {
  const files: File[] = [
    { name: "a", size: 10_000 },
    { name: "b", size: 10_000 },
    { name: "big", size: 150_000, kind: "video" },
    { name: "c", size: 10_000 },
    { name: "d", size: 10_000 },
  ];
  const run = await pipeline(files, { budget: 50_000 });
  assertEquals(run.uploaded.sort(), ["a", "b", "big", "c", "d"]);
  const big = run.outstandingAtRead.find((r) => r.name === "big")!;
  assertEquals(big.outstanding, 150_000); // nothing else outstanding when it was read
  // Nothing read while it was outstanding: the next read saw it answered.
  const c = run.outstandingAtRead.find((r) => r.name === "c")!;
  assertLessOrEqual(c.outstanding, 50_000);
});

Deno.test("ByteBudget: a partial batch goes out when a read waits for room", async () => {
  // Batches of up to 32 inputs: without the flush, 5 files fill the budget inside one batch
  // that waits for a sixth that cannot be read: the pipeline would hang.
  const files = Array.from({ length: 40 }, (_, i) => ({ name: `f${i}`, size: 10_000 }));
  const run = await pipeline(files, { budget: 50_000, batchSize: 32 });
  assertEquals(run.uploaded.length, 40);
  assertLessOrEqual(Math.max(...run.outstandingAtRead.map((r) => r.outstanding)), 50_000);
});

Deno.test("ByteBudget: the upload stage frees the buffers it read once answered", async () => {
  const files = Array.from({ length: 6 }, (_, i) => ({ name: `f${i}`, size: 5_000 }));
  const run = await pipeline(files, { budget: 20_000 });
  assertEquals(run.buffers.length, 6);
  // Detached: their memory is given back without waiting for a garbage collection.
  for (const bytes of run.buffers) assertEquals(bytes.buffer.byteLength, 0);
});

Deno.test("ByteBudget: waits first come first served, and stops on abort", async () => {
  const budget = new ByteBudget(100);
  await budget.acquire(90);
  const order: string[] = [];
  const big = budget.acquire(50).then(() => order.push("big"));
  const small = budget.acquire(5).then(() => order.push("small"));
  // The small one fits but waits behind the big one.
  await new Promise((resolve) => setTimeout(resolve, 1));
  assertEquals(order, []);
  const abort = new AbortController();
  const aborted = budget.acquire(1, abort.signal);
  abort.abort(new Error("stop"));
  await assertRejects(() => aborted, Error, "stop");
  budget.release(90);
  await Promise.all([big, small]);
  assertEquals(order, ["big", "small"]);
  assertEquals(budget.held, 55);
  assertEquals(defaultByteBudget(4, 32), 96);
});
