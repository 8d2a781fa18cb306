import { assert, assertEquals, assertLessOrEqual, assertThrows } from "@std/assert";
import { create, toBinary } from "@bufbuild/protobuf";
import {
  type BatchItem,
  BatchStream,
  MAX_VIDEO_REQUEST_BYTES,
} from "../../src/pipeline/batch_stream.ts";
import {
  encodedInputSize,
  postInputsRequestSize,
  requestOverheadBytes,
  varintSize,
} from "../../src/pipeline/encoded_size.ts";
import type { LoadedInput, LoadedItem } from "../../src/pipeline/loaded_input.ts";
import type { InputKind } from "../../src/inputs/input_draft.ts";
import { toInput } from "../../src/inputs/to_input.ts";
import { InputIDConflictResolution, InputSchema } from "../../src/gen/clarifai/api/resources_pb.ts";
import { PostInputsRequestSchema } from "../../src/gen/clarifai/api/service_pb.ts";

/** A small seeded PRNG (mulberry32): the same seed gives the same sequence. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function loaded(id: string, kind: InputKind, contentSize: number, concepts: string[] = []) {
  const draft = {
    id,
    kind,
    content: { type: "bytes" as const, bytes: new Uint8Array(contentSize).fill(7) },
    location: `${id}.bin`,
    concepts,
  };
  const input = toInput(draft);
  const encodedSize = toBinary(InputSchema, input).length;
  return {
    type: "loaded" as const,
    loaded: { draft, input, encodedSize, contentBytes: contentSize },
  };
}

function realRequestSize(inputs: LoadedInput[]): number {
  const request = create(PostInputsRequestSchema, { inputs: inputs.map((l) => l.input) });
  return toBinary(PostInputsRequestSchema, request).length;
}

async function run(items: LoadedItem[], stream: BatchStream): Promise<BatchItem[]> {
  return await Array.fromAsync(ReadableStream.from(items).pipeThrough(stream));
}

Deno.test("BatchStream validates its options", { permissions: {} }, async (t) => {
  const cases: { options: ConstructorParameters<typeof BatchStream>[0]; message: string }[] = [
    {
      options: { batchSize: 0 },
      message:
        "Cannot create BatchStream: batchSize must be an integer from 1 to 128: current value is 0",
    },
    {
      options: { batchSize: 129 },
      message:
        "Cannot create BatchStream: batchSize must be an integer from 1 to 128: current value is 129",
    },
    {
      options: { batchSize: 2.5 },
      message:
        "Cannot create BatchStream: batchSize must be an integer from 1 to 128: current value is 2.5",
    },
    {
      options: { maxBatchBytes: 1023 },
      message:
        "Cannot create BatchStream: maxBatchBytes must be an integer from 1024 to 134217728: current value is 1023",
    },
    {
      options: { maxBatchBytes: 200 * 1024 * 1024 },
      message:
        "Cannot create BatchStream: maxBatchBytes must be an integer from 1024 to 134217728: current value is 209715200",
    },
    {
      options: { maxBatchBytes: NaN },
      message:
        "Cannot create BatchStream: maxBatchBytes must be an integer from 1024 to 134217728: current value is NaN",
    },
    {
      options: { maxBatchBytes: 2048, requestOverheadBytes: 2048 },
      message:
        "Cannot create BatchStream: requestOverheadBytes must be an integer from 0 to 2047: current value is 2048",
    },
    {
      options: { requestOverheadBytes: -1 },
      message:
        "Cannot create BatchStream: requestOverheadBytes must be an integer from 0 to 33554431: current value is -1",
    },
  ];
  for (const c of cases) {
    await t.step(JSON.stringify(c.options), () => {
      assertThrows(() => new BatchStream(c.options), RangeError, c.message);
    });
  }
  await t.step("limits themselves are accepted", () => {
    new BatchStream({ batchSize: 1, maxBatchBytes: 1024, requestOverheadBytes: 0 });
    new BatchStream({ batchSize: 128, maxBatchBytes: 128 * 1024 * 1024 });
  });
});

Deno.test("encoded sizes equal the real encoding", { permissions: {} }, async (t) => {
  // Sizes around every varint boundary of the bytes, the media, the data and the input.
  const boundaries = [0, 1, 100, 120, 124, 125, 126, 127, 128, 129, 130, 16370, 16380, 16383];
  const sizes = [...boundaries, 16384, 16390, 70_000, 2_097_140, 2_097_152, 2_097_160];

  await t.step("encodedInputSize() for every kind and size", () => {
    for (const kind of ["image", "video", "audio", "text"] as const) {
      for (const size of sizes) {
        if (kind === "text" && size === 0) continue;
        const { loaded: l } = loaded(`id-${size}`, kind, size, size % 2 ? ["a", "b"] : []);
        if (kind === "text") l.input.data!.text!.raw = "x".repeat(size);
        assertEquals(encodedInputSize(l.input), toBinary(InputSchema, l.input).length);
      }
    }
  });

  await t.step("encodedInputSize() with metadata, geo, datasets and URLs", () => {
    const input = toInput({
      id: "m",
      kind: "image",
      content: { type: "bytes", bytes: new Uint8Array(130) },
      location: "m",
      concepts: ["x"],
      metadata: { a: [1, "two", { three: null }] },
      geo: { longitude: 1, latitude: 2 },
      datasetId: "d",
    });
    assertEquals(encodedInputSize(input), toBinary(InputSchema, input).length);
    const url = toInput({
      id: "u",
      kind: "video",
      content: { type: "url", url: "https://x.test/v.mp4" },
      location: "u",
      concepts: [],
    });
    assertEquals(encodedInputSize(url), toBinary(InputSchema, url).length);
  });

  await t.step("postInputsRequestSize() over several inputs", () => {
    const inputs = sizes.map((size) => loaded(`i${size}`, "image", size).loaded);
    assertEquals(
      postInputsRequestSize(inputs.map((l) => l.encodedSize)),
      realRequestSize(inputs),
    );
    assertEquals(postInputsRequestSize([]), 0);
  });

  await t.step("requestOverheadBytes() adds the other fields exactly", () => {
    const fields = {
      userAppId: { userId: "someone", appId: "an-app" },
      inputsAddJobId: "job-0123456789",
      inputIdConflictResolution: InputIDConflictResolution.SUFFIX,
    };
    const inputs = [loaded("a", "image", 300).loaded, loaded("b", "text", 5).loaded];
    const request = create(PostInputsRequestSchema, {
      ...fields,
      inputs: inputs.map((l) => l.input),
    });
    assertEquals(
      postInputsRequestSize(inputs.map((l) => l.encodedSize), requestOverheadBytes(fields)),
      toBinary(PostInputsRequestSchema, request).length,
    );
  });

  await t.step("varintSize()", () => {
    const cases: [number, number][] = [[0, 1], [127, 1], [128, 2], [16383, 2], [16384, 3]];
    for (const [value, size] of [...cases, [2 ** 21 - 1, 3], [2 ** 21, 4], [2 ** 28, 5]]) {
      assertEquals(varintSize(value), size);
    }
  });
});

Deno.test(
  "BatchStream cuts by count, by bytes and around videos",
  { permissions: {} },
  async (t) => {
    const ids = (out: BatchItem[]) =>
      out.map((item) =>
        item.type === "batch" ? item.inputs.map((l) => l.draft.id).join(",") : `!${item.type}`
      );

    await t.step("by count", async () => {
      const items = ["a", "b", "c", "d", "e"].map((id) => loaded(id, "image", 10));
      assertEquals(ids(await run(items, new BatchStream({ batchSize: 2 }))), ["a,b", "c,d", "e"]);
    });

    await t.step("by bytes: a batch never exceeds maxBatchBytes", async () => {
      // Each image input is 400 content bytes: 400 + 3 (base64 field) + 3 (image) + 3 (data)
      // + 3 (id) = 412 encoded, 415 as a request field; three need 1245 bytes.
      const items = ["a", "b", "c", "d"].map((id) => loaded(id, "image", 400));
      const out = await run(items, new BatchStream({ batchSize: 10, maxBatchBytes: 1024 }));
      assertEquals(ids(out), ["a,b", "c,d"]);
      for (const item of out) {
        assert(item.type === "batch");
        assertEquals(item.encodedBytes, realRequestSize(item.inputs));
        assertLessOrEqual(item.encodedBytes, 1024);
      }
    });

    await t.step("a video travels alone", async () => {
      const items = [
        loaded("a", "image", 10),
        loaded("v1", "video", 10),
        loaded("v2", "video", 10),
        loaded("b", "image", 10),
        loaded("c", "image", 10),
      ];
      assertEquals(ids(await run(items, new BatchStream())), ["a", "v1", "v2", "b,c"]);
    });

    await t.step("an input over maxBatchBytes is rejected with its size in MB", async () => {
      const items = [
        loaded("a", "image", 10),
        loaded("big", "image", 2000),
        loaded("b", "image", 10),
      ];
      const out = await run(items, new BatchStream({ maxBatchBytes: 1024 }));
      assertEquals(ids(out), ["!rejected", "a,b"]);
      assert(out[0].type === "rejected");
      assertEquals(out[0].rejection, {
        location: "big.bin",
        id: "big",
        reason:
          "the input is 2017 bytes encoded: more than the 1024 bytes a request may hold (maxBatchBytes)",
      });
      const mb = 1024 * 1024;
      // A lone video may exceed maxBatchBytes, up to the request limit for videos.
      const video = await run(
        [loaded("v", "video", 3 * mb)],
        new BatchStream({ maxBatchBytes: 2 * mb }),
      );
      assertEquals(ids(video), ["v"]);
      const huge = await run(
        [loaded("v", "video", 130 * mb)],
        new BatchStream({ maxBatchBytes: 2 * mb }),
      );
      assert(huge[0].type === "rejected");
      assertEquals(
        huge[0].rejection.reason,
        "the input is 130.0 MB encoded: more than the 122.1 MB a request may hold (a video's request limit)",
      );
    });

    await t.step("the overhead counts in every batch", async () => {
      const items = ["a", "b", "c"].map((id) => loaded(id, "image", 400));
      const out = await run(
        items,
        new BatchStream({ maxBatchBytes: 1245, requestOverheadBytes: 1 }),
      );
      assertEquals(ids(out), ["a,b", "c"]);
      assert(out[0].type === "batch");
      assertEquals(out[0].encodedBytes, 1 + 2 * 415);
    });

    await t.step("empty input, no batch", async () => {
      assertEquals(await run([], new BatchStream()), []);
    });
  },
);

Deno.test(
  "BatchStream passes rejections and skips through at once",
  { permissions: {} },
  async () => {
    const stream = new BatchStream({ batchSize: 3 });
    const writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    const writes = [
      writer.write(loaded("a", "image", 10)),
      writer.write({ type: "rejected", rejection: { location: "x.csv:3", reason: "bad" } }),
      writer.write({ type: "skipped", skip: { location: "notes.md", reason: "not an input" } }),
    ];
    // "a" waits in the batch being filled; the rejection and the skip do not wait for it.
    const first = await reader.read();
    assertEquals(first.value?.type, "rejected");
    const second = await reader.read();
    assertEquals(second.value?.type, "skipped");
    writes.push(writer.close());
    const third = await reader.read();
    assert(third.value?.type === "batch");
    assertEquals(third.value.inputs.map((l) => l.draft.id), ["a"]);
    assertEquals((await reader.read()).done, true);
    await Promise.all(writes);
  },
);

Deno.test(
  "BatchStream holds its invariants on 400 random sequences",
  { permissions: {} },
  async () => {
    const random = prng(20240611);
    const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
    let batches = 0, rejectedOversize = 0, videos = 0;

    for (let run = 0; run < 400; run++) {
      const batchSize = int(1, 12);
      const maxBatchBytes = int(1024, 8192);
      const overhead = random() < 0.5 ? 0 : int(1, 60);
      const items: LoadedItem[] = [];
      const count = int(0, 40);
      for (let i = 0; i < count; i++) {
        const id = `r${run}-${i}`;
        const roll = random();
        if (roll < 0.08) {
          items.push({ type: "rejected", rejection: { location: id, reason: "invalid", id } });
        } else if (roll < 0.12) {
          items.push({ type: "skipped", skip: { location: id, reason: "hidden" } });
        } else {
          const kind: InputKind = roll < 0.22 ? "video" : roll < 0.3 ? "text" : "image";
          const sizeRoll = random();
          const size = sizeRoll < 0.1
            ? int(maxBatchBytes - 20, maxBatchBytes + 200) // around the limit
            : sizeRoll < 0.5
            ? int(1, 200)
            : int(1, Math.floor(maxBatchBytes / 2));
          items.push(loaded(id, kind, size, random() < 0.3 ? ["c1", "c2"] : []));
        }
      }

      const out = await Array.fromAsync(
        ReadableStream.from(items).pipeThrough(
          new BatchStream({ batchSize, maxBatchBytes, requestOverheadBytes: overhead }),
        ),
      );

      const fits = (l: LoadedInput) =>
        overhead + 1 + varintSize(l.encodedSize) + l.encodedSize <=
          (l.draft.kind === "video" ? MAX_VIDEO_REQUEST_BYTES : maxBatchBytes);
      const expectedInputs = items.flatMap((item) =>
        item.type === "loaded" && fits(item.loaded) ? [item.loaded.draft.id] : []
      );
      const expectedPassed = items.flatMap((item) =>
        item.type === "loaded" ? fits(item.loaded) ? [] : [`rejected:${item.loaded.draft.id}`] : [
          item.type === "rejected"
            ? `rejected:${item.rejection.id}`
            : `skipped:${item.skip.location}`,
        ]
      );

      const gotInputs: string[] = [];
      const gotPassed: string[] = [];
      const outBatches = [];
      for (const item of out) {
        if (item.type === "batch") {
          outBatches.push(item);
          gotInputs.push(...item.inputs.map((l) => l.draft.id));
        } else if (item.type === "rejected") {
          gotPassed.push(`rejected:${item.rejection.id}`);
        } else {
          gotPassed.push(`skipped:${item.skip.location}`);
        }
      }
      // Nothing lost, nothing duplicated, order preserved.
      assertEquals(gotInputs, expectedInputs);
      assertEquals(gotPassed, expectedPassed);

      for (const [index, batch] of outBatches.entries()) {
        const where = `run ${run}, batch ${index}`;
        assert(batch.inputs.length >= 1, where);
        assertLessOrEqual(batch.inputs.length, batchSize, where);
        const hasVideo = batch.inputs.some((l) => l.draft.kind === "video");
        assertLessOrEqual(
          batch.encodedBytes,
          hasVideo ? MAX_VIDEO_REQUEST_BYTES : maxBatchBytes,
          where,
        );
        assertEquals(batch.encodedBytes, overhead + realRequestSize(batch.inputs), where);
        if (hasVideo) {
          assertEquals(batch.inputs.length, 1, `${where}: a video shares its request`);
          videos++;
        }
        // Greedy: a batch that is not full ends only where the next input did not fit, a video
        // came, or the stream ended.
        const next = outBatches[index + 1];
        if (!hasVideo && batch.inputs.length < batchSize && next !== undefined) {
          const first = next.inputs[0];
          assert(
            first.draft.kind === "video" ||
              batch.encodedBytes + 1 + varintSize(first.encodedSize) + first.encodedSize >
                maxBatchBytes,
            `${where} was cut early`,
          );
        }
      }
      batches += outBatches.length;
      rejectedOversize += expectedPassed.length;
    }
    // The generator exercised every path.
    assert(
      batches > 1000 && rejectedOversize > 100 && videos > 200,
      `${batches} ${rejectedOversize} ${videos}`,
    );
  },
);
