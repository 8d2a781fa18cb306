/**
 * The batch stage: `BatchStream` over 20,000 pre-built loaded inputs (30 KB images, shared
 * bytes), in batches of 32 and of 128 under 64 MiB, and with a 1 MiB byte bound that cuts
 * batches by size.
 *
 * Run: `deno bench -A bench/batch_stream_bench.ts`
 */
import { BatchStream } from "../src/pipeline/batch_stream.ts";
import type { LoadedItem } from "../src/pipeline/loaded_input.ts";
import { toInput } from "../src/inputs/to_input.ts";
import { encodedInputSize } from "../src/pipeline/encoded_size.ts";
import type { InputDraft } from "../src/inputs/input_draft.ts";

const COUNT = 20_000;
const BYTES = new Uint8Array(30_000);
BYTES.set([0xff, 0xd8, 0xff, 0xe0]);
const ITEMS: LoadedItem[] = [];
for (let i = 0; i < COUNT; i++) {
  const draft: InputDraft = {
    id: `img-${i}`,
    kind: "image",
    content: { type: "file", path: `images/cat/img-${i}.jpg` },
    location: `images/cat/img-${i}.jpg`,
    concepts: ["cat"],
    datasetId: "demo",
  };
  const input = toInput(draft, BYTES);
  ITEMS.push({
    type: "loaded",
    loaded: { draft, input, encodedSize: encodedInputSize(input), contentBytes: BYTES.length },
  });
}

async function run(options: { batchSize: number; maxBatchBytes?: number }, batches: number) {
  let count = 0;
  let inputs = 0;
  for await (const item of ReadableStream.from(ITEMS).pipeThrough(new BatchStream(options))) {
    if (item.type === "batch") {
      count++;
      inputs += item.inputs.length;
    }
  }
  if (inputs !== COUNT || count !== batches) {
    throw new Error(`got ${count} batches of ${inputs} inputs, expected ${batches} of ${COUNT}`);
  }
}

Deno.bench({
  name: "BatchStream: 20,000 inputs, batches of 32",
  group: "batch",
  baseline: true,
  async fn() {
    await run({ batchSize: 32 }, Math.ceil(COUNT / 32));
  },
});

Deno.bench({
  name: "BatchStream: 20,000 inputs, batches of 128",
  group: "batch",
  async fn() {
    await run({ batchSize: 128 }, Math.ceil(COUNT / 128));
  },
});

Deno.bench({
  name: "BatchStream: 20,000 inputs, 1 MiB bound (34 per batch)",
  group: "batch",
  async fn() {
    const perBatch = Math.floor(
      1024 * 1024 / (ITEMS[0].type === "loaded" ? ITEMS[0].loaded.encodedSize + 4 : 1),
    );
    await run({ batchSize: 128, maxBatchBytes: 1024 * 1024 }, Math.ceil(COUNT / perBatch));
  },
});

Deno.bench({
  name: "baseline: ReadableStream.from(items) drained, no batching",
  group: "batch",
  async fn() {
    let n = 0;
    for await (const _ of ReadableStream.from(ITEMS)) n++;
    if (n !== COUNT) throw new Error("lost items");
  },
});
