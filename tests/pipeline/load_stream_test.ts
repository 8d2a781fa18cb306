import { assert, assertEquals, assertGreater, assertLessOrEqual, assertThrows } from "@std/assert";
import { toBinary } from "@bufbuild/protobuf";
import { LoadStream, type LoadStreamOptions } from "../../src/pipeline/load_stream.ts";
import type { LoadedItem } from "../../src/pipeline/loaded_input.ts";
import type { DraftOrRejection, InputKind } from "../../src/inputs/input_draft.ts";
import { InputSchema } from "../../src/gen/clarifai/api/resources_pb.ts";

const MB = 1024 * 1024;

function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fileDraft(
  id: string,
  path: string,
  kind: InputKind = "image",
  size?: number,
): DraftOrRejection {
  return {
    type: "draft",
    draft: {
      id,
      kind,
      content: { type: "file", path, ...(size === undefined ? {} : { size }) },
      location: path,
      concepts: [],
    },
  };
}

function describe(item: LoadedItem): string {
  if (item.type === "loaded") return `loaded:${item.loaded.draft.id}`;
  if (item.type === "rejected") {
    return `rejected:${item.rejection.location}: ${item.rejection.reason}`;
  }
  return `skipped:${item.skip.location}`;
}

async function load(items: DraftOrRejection[], options?: LoadStreamOptions): Promise<LoadedItem[]> {
  return await Array.fromAsync(ReadableStream.from(items).pipeThrough(new LoadStream(options)));
}

/** An in-memory file system that records reads and how many are in flight. */
function fakeFiles(sizes: Record<string, number>, delay: () => number = () => 0) {
  const stats = { reads: [] as string[], statted: [] as string[], inFlight: 0, maxInFlight: 0 };
  const options: LoadStreamOptions = {
    stat: (path) => {
      stats.statted.push(path);
      if (!(path in sizes)) return Promise.reject(new Deno.errors.NotFound(`no ${path}`));
      return Promise.resolve({ size: sizes[path], isFile: true });
    },
    readFile: async (path) => {
      stats.reads.push(path);
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      try {
        await new Promise((resolve) => setTimeout(resolve, delay()));
        return new TextEncoder().encode(path.padEnd(sizes[path], "."));
      } finally {
        stats.inFlight--;
      }
    },
  };
  return { stats, options };
}

Deno.test("LoadStream validates concurrency", { permissions: {} }, async (t) => {
  for (const value of [0, 65, 1.5, NaN, -1]) {
    await t.step(String(value), () => {
      assertThrows(
        () => new LoadStream({ concurrency: value }),
        RangeError,
        `Cannot create LoadStream: concurrency must be an integer from 1 to 64: current value is ${value}`,
      );
    });
  }
  new LoadStream({ concurrency: 1 });
  new LoadStream({ concurrency: 64 });
});

Deno.test("LoadStream loads every content type", { permissions: {} }, async () => {
  const { options } = fakeFiles({ "a.jpg": 10, "b.txt": 5 });
  const items: DraftOrRejection[] = [
    fileDraft("a", "a.jpg"),
    { type: "rejected", rejection: { location: "x.csv:3", reason: "bad" } },
    fileDraft("b", "b.txt", "text"),
    { type: "skipped", skip: { location: "notes.md", reason: "not an input" } },
    {
      type: "draft",
      draft: {
        id: "c",
        kind: "image",
        content: { type: "url", url: "https://x.test/c.jpg" },
        location: "x.csv:4",
        concepts: ["cat"],
      },
    },
    {
      type: "draft",
      draft: {
        id: "d",
        kind: "text",
        content: { type: "raw", text: "héllo" },
        location: "x.csv:5",
        concepts: [],
      },
    },
    {
      type: "draft",
      draft: {
        id: "e",
        kind: "audio",
        content: { type: "bytes", bytes: new Uint8Array([1, 2, 3]) },
        location: "upload:e",
        concepts: [],
      },
    },
  ];
  const out = await load(items, options);
  assertEquals(out.map(describe), [
    "loaded:a",
    "rejected:x.csv:3: bad",
    "loaded:b",
    "skipped:notes.md",
    "loaded:c",
    "loaded:d",
    "loaded:e",
  ]);
  const loaded = out.flatMap((item) => item.type === "loaded" ? [item.loaded] : []);
  for (const l of loaded) assertEquals(l.encodedSize, toBinary(InputSchema, l.input).length);
  assertEquals(loaded.map((l) => l.contentBytes), [10, 5, 0, 6, 3]);
  assertEquals(loaded[0].input.data?.image?.base64, new TextEncoder().encode("a.jpg....."));
  assertEquals(loaded[1].input.data?.text?.raw, "b.txt");
  assertEquals(loaded[2].input.data?.image?.url, "https://x.test/c.jpg");
});

Deno.test(
  "LoadStream rejects oversize content without reading it",
  { permissions: {} },
  async () => {
    const { stats, options } = fakeFiles({
      "big.jpg": 20 * MB,
      "ok.jpg": 100,
      "big.mp4": 128 * MB,
      "ok.mp4": MB,
    });
    const out = await load([
      fileDraft("big", "big.jpg"),
      fileDraft("ok", "ok.jpg"),
      fileDraft("bigv", "big.mp4", "video"),
      fileDraft("okv", "ok.mp4", "video"),
      fileDraft("given", "given.jpg", "image", 25 * MB), // size given by the source: no stat
      {
        type: "draft",
        draft: {
          id: "bytes",
          kind: "audio",
          content: { type: "bytes", bytes: new Uint8Array(20 * MB) },
          location: "upload:bytes",
          concepts: [],
        },
      },
    ], options);
    assertEquals(out.map(describe), [
      "rejected:big.jpg: image is 20.0 MB: Clarifai accepts images under 20 MB",
      "loaded:ok",
      "rejected:big.mp4: video is 128.0 MB: Clarifai accepts videos under 128 MB",
      "loaded:okv",
      "rejected:given.jpg: image is 25.0 MB: Clarifai accepts images under 20 MB",
      "rejected:upload:bytes: audio is 20.0 MB: Clarifai accepts audios under 20 MB",
    ]);
    assertEquals(stats.reads, ["ok.jpg", "ok.mp4"]);
    assertEquals(stats.statted, ["big.jpg", "ok.jpg", "big.mp4", "ok.mp4"]);
    assert(out[0].type === "rejected");
    assertEquals(out[0].rejection.id, "big");
  },
);

Deno.test(
  "LoadStream rejects missing, empty, non-file and non-UTF-8 files",
  { permissions: { read: true, write: true } },
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeFile(`${dir}/empty.jpg`, new Uint8Array());
      await Deno.writeFile(`${dir}/latin1.txt`, new Uint8Array([0x63, 0x61, 0x66, 0xe9]));
      await Deno.writeTextFile(`${dir}/good.txt`, "café");
      await Deno.mkdir(`${dir}/folder.jpg`);
      const out = await load([
        fileDraft("missing", `${dir}/missing.jpg`),
        fileDraft("empty", `${dir}/empty.jpg`),
        fileDraft("folder", `${dir}/folder.jpg`),
        fileDraft("latin1", `${dir}/latin1.txt`, "text"),
        fileDraft("good", `${dir}/good.txt`, "text"),
        fileDraft("gone", `${dir}/gone.jpg`, "image", 10), // listed with a size, then deleted
      ]);
      assertEquals(out.map(describe), [
        `rejected:${dir}/missing.jpg: file not found: ${dir}/missing.jpg`,
        `rejected:${dir}/empty.jpg: the file ${dir}/empty.jpg is empty (0 bytes)`,
        `rejected:${dir}/folder.jpg: ${dir}/folder.jpg is not a file`,
        `rejected:${dir}/latin1.txt: Cannot convert input "latin1": the text is not valid UTF-8 (save it as UTF-8)`,
        "loaded:good",
        `rejected:${dir}/gone.jpg: file not found: ${dir}/gone.jpg`,
      ]);
      assert(out[4].type === "loaded");
      assertEquals(out[4].loaded.input.data?.text?.raw, "café");
      assertEquals(out[4].loaded.contentBytes, 5);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "LoadStream keeps order and the read limit under random delays",
  { permissions: {} },
  async (t) => {
    const random = prng(99);
    for (const concurrency of [1, 2, 3, 4, 8]) {
      await t.step(`concurrency ${concurrency}`, async () => {
        const sizes: Record<string, number> = {};
        const items: DraftOrRejection[] = [];
        for (let i = 0; i < 120; i++) {
          const path = `f${i}.jpg`;
          sizes[path] = 8 + Math.floor(random() * 50);
          if (random() < 0.1) {
            items.push({ type: "rejected", rejection: { location: `r${i}`, reason: "bad" } });
          }
          items.push(fileDraft(`id${i}`, random() < 0.05 ? `missing${i}.jpg` : path));
        }
        const { stats, options } = fakeFiles(sizes, () => Math.floor(random() * 4));
        const out = await load(items, { ...options, concurrency });
        const expected = items.map((item) =>
          item.type === "draft"
            ? item.draft.content.type === "file" && item.draft.content.path.startsWith("missing")
              ? `rejected:${item.draft.location}: file not found: ${item.draft.location}`
              : `loaded:${item.draft.id}`
            : `rejected:${item.type === "rejected" ? item.rejection.location : ""}: bad`
        );
        assertEquals(out.map(describe), expected);
        assertLessOrEqual(stats.maxInFlight, concurrency);
        assertEquals(stats.maxInFlight, concurrency, "the allowed concurrency is used");
      });
    }
  },
);

Deno.test("LoadStream reads only as the reader pulls", { permissions: {} }, async () => {
  const sizes: Record<string, number> = {};
  const items: DraftOrRejection[] = [];
  for (let i = 0; i < 100; i++) {
    sizes[`f${i}`] = 10;
    items.push(fileDraft(`id${i}`, `f${i}`));
  }
  const { stats, options } = fakeFiles(sizes);
  const concurrency = 3;
  const reader = ReadableStream.from(items)
    .pipeThrough(new LoadStream({ ...options, concurrency }))
    .getReader();
  let delivered = 0;
  for (let step = 0; step < 5; step++) {
    assert(!(await reader.read()).done);
    delivered++;
    // Give the pipe every chance to run ahead.
    await new Promise((resolve) => setTimeout(resolve, 20));
    assertLessOrEqual(stats.reads.length, delivered + concurrency + 1);
  }
  await reader.cancel();
  assertLessOrEqual(stats.reads.length, 5 + concurrency + 1);
});

Deno.test(
  "LoadStream cancellation aborts reads in flight and waits for them",
  { permissions: {} },
  async () => {
    let started = 0, ended = 0;
    const signals: AbortSignal[] = [];
    const stream = ReadableStream.from(
      Array.from({ length: 20 }, (_, i) => fileDraft(`id${i}`, `f${i}`)),
    ).pipeThrough(
      new LoadStream({
        concurrency: 4,
        stat: () => Promise.resolve({ size: 10, isFile: true }),
        readFile: (path, { signal }) => {
          started++;
          signals.push(signal);
          // The first file reads in 10 ms; the others never finish unless aborted.
          if (path === "f0") {
            return new Promise((resolve) =>
              setTimeout(() => {
                ended++;
                resolve(new Uint8Array(10));
              }, 10)
            );
          }
          return new Promise((_, reject) => {
            // An aborted read takes a moment to end, as a real one does.
            signal.addEventListener("abort", () => {
              setTimeout(() => {
                ended++;
                reject(signal.reason);
              }, 5);
            }, { once: true });
          });
        },
      }),
    );
    const reader = stream.getReader();
    const first = await reader.read();
    assert(first.value?.type === "loaded");
    assertEquals(started, 4);
    await reader.cancel("stop");
    assertEquals(ended, started, "every read ended before cancel() resolved");
    assert(signals.every((signal) => signal.aborted));
  },
);

Deno.test(
  "LoadStream cancellation leaks no file handle (real files)",
  { permissions: { read: true, write: true } },
  async (t) => {
    const dir = await Deno.makeTempDir();
    try {
      const items: DraftOrRejection[] = [];
      for (let i = 0; i < 12; i++) {
        await Deno.writeFile(`${dir}/f${i}.jpg`, new Uint8Array(2 * MB).fill(i));
        items.push(fileDraft(`id${i}`, `${dir}/f${i}.jpg`));
      }
      await t.step("cancel from downstream", async () => {
        const reader = ReadableStream.from(items).pipeThrough(new LoadStream({ concurrency: 4 }))
          .getReader();
        const first = await reader.read();
        assert(first.value?.type === "loaded");
        assertEquals(first.value.loaded.contentBytes, 2 * MB);
        await reader.cancel();
      });
      await t.step("cancel while a slow reader holds files open", async () => {
        // Reads in small chunks with pauses, so files are open when the stream is cancelled;
        // the sanitizers fail the step if a handle or a timer outlives cancel().
        let opened = 0, closed = 0;
        const slowRead = async (path: string, { signal }: { signal: AbortSignal }) => {
          const file = await Deno.open(path);
          opened++;
          try {
            const out = new Uint8Array((await file.stat()).size);
            let offset = 0;
            while (offset < out.length) {
              signal.throwIfAborted();
              // The first file is quick, the others slow: they are still open after it.
              await new Promise((resolve) => setTimeout(resolve, path.endsWith("f0.jpg") ? 0 : 5));
              const n = await file.read(out.subarray(offset, offset + 256 * 1024));
              if (n === null) break;
              offset += n;
            }
            return out;
          } finally {
            file.close();
            closed++;
          }
        };
        const reader = ReadableStream.from(items)
          .pipeThrough(new LoadStream({ concurrency: 4, readFile: slowRead }))
          .getReader();
        assert((await reader.read()).value?.type === "loaded");
        assertGreater(opened - closed, 0, "files are open when the stream is cancelled");
        await reader.cancel();
        assertEquals(closed, opened);
      });
      await t.step("error from upstream", async () => {
        let n = 0;
        const source = new ReadableStream<DraftOrRejection>({
          pull(controller) {
            if (n === 6) controller.error(new Error("source broke"));
            else controller.enqueue(items[n++]);
          },
        });
        const reader = source.pipeThrough(new LoadStream({ concurrency: 4 })).getReader();
        let error: unknown;
        try {
          while (!(await reader.read()).done) { /* drain */ }
        } catch (e) {
          error = e;
        }
        assert(error instanceof Error && error.message === "source broke");
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
