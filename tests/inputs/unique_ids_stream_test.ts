import { assertEquals, assertStrictEquals } from "@std/assert";
import { UniqueIdsStream } from "../../src/inputs/unique_ids_stream.ts";
import type { DraftOrRejection } from "../../src/inputs/input_draft.ts";

function draft(id: string, location: string): DraftOrRejection {
  return {
    type: "draft",
    draft: {
      id,
      kind: "image",
      content: { type: "file", path: `/data/${location}`, size: 1 },
      location,
      concepts: [],
    },
  };
}

async function run(items: DraftOrRejection[], stream = new UniqueIdsStream()) {
  return await Array.fromAsync(ReadableStream.from(items).pipeThrough(stream));
}

Deno.test("UniqueIdsStream passes the first draft of each ID and rejects the rest", async (t) => {
  const cases: [string, DraftOrRejection[], DraftOrRejection[]][] = [
    ["no duplicates", [draft("a", "a.jpg"), draft("b", "b.jpg")], [
      draft("a", "a.jpg"),
      draft("b", "b.jpg"),
    ]],
    ["a.jpg then a.png", [draft("a", "a.jpg"), draft("a", "a.png")], [
      draft("a", "a.jpg"),
      {
        type: "rejected",
        rejection: {
          location: "a.png",
          id: "a",
          reason: 'duplicate input ID "a": also produced by a.jpg',
        },
      },
    ]],
    [
      "every later copy names the first place",
      [draft("cat_01", "cats/cat_01.png"), draft("cat_01", "x/cat_01.jpg"), draft("cat_01", "y")],
      [
        draft("cat_01", "cats/cat_01.png"),
        {
          type: "rejected",
          rejection: {
            location: "x/cat_01.jpg",
            id: "cat_01",
            reason: 'duplicate input ID "cat_01": also produced by cats/cat_01.png',
          },
        },
        {
          type: "rejected",
          rejection: {
            location: "y",
            id: "cat_01",
            reason: 'duplicate input ID "cat_01": also produced by cats/cat_01.png',
          },
        },
      ],
    ],
    ["IDs are case-sensitive", [draft("A", "data.csv:2"), draft("a", "data.csv:3")], [
      draft("A", "data.csv:2"),
      draft("a", "data.csv:3"),
    ]],
    [
      "rejections and skips pass through and reserve nothing",
      [
        { type: "rejected", rejection: { location: "data.csv:2", id: "a", reason: "bad URL" } },
        { type: "skipped", skip: { location: "notes.md", reason: "not an input" } },
        draft("a", "data.csv:3"),
      ],
      [
        { type: "rejected", rejection: { location: "data.csv:2", id: "a", reason: "bad URL" } },
        { type: "skipped", skip: { location: "notes.md", reason: "not an input" } },
        draft("a", "data.csv:3"),
      ],
    ],
    ["an empty stream", [], []],
  ];
  for (const [name, input, expected] of cases) {
    await t.step(name, async () => {
      assertEquals(await run(input), expected);
    });
  }
});

Deno.test("UniqueIdsStream passes the draft object itself and counts distinct IDs", async () => {
  const first = draft("a", "a.jpg");
  const stream = new UniqueIdsStream();
  const out = await run([first, draft("b", "b.jpg"), draft("a", "c.jpg")], stream);
  assertStrictEquals(out[0], first);
  assertEquals(stream.idCount, 2);
});

Deno.test("UniqueIdsStream remembers IDs that were slices of large strings", async () => {
  // A CSV parser may hand out IDs sliced from a big chunk; the stream must still see them equal
  // to the same ID built any other way.
  const chunk = "row_000001,data.csv:2," + "x".repeat(100_000);
  const sliced = draft(chunk.slice(0, 10), chunk.slice(11, 21));
  const out = await run([sliced, draft("row_000001", "data.csv:9")]);
  assertEquals(out[1], {
    type: "rejected",
    rejection: {
      location: "data.csv:9",
      id: "row_000001",
      reason: 'duplicate input ID "row_000001": also produced by data.csv:2',
    },
  });
});

Deno.test("UniqueIdsStream handles 100,000 drafts with 10% repeated IDs", async () => {
  const count = 100_000;
  let i = 0;
  const source = new ReadableStream<DraftOrRejection>({
    pull(controller) {
      if (i === count) return controller.close();
      // every 10th draft repeats the ID of the draft before it
      const n = i % 10 === 9 ? i - 1 : i;
      controller.enqueue(draft(`input_${n}`, `data.csv:${i + 2}`));
      i++;
    },
  });
  const stream = new UniqueIdsStream();
  let drafts = 0;
  let rejected = 0;
  for await (const item of source.pipeThrough(stream)) {
    if (item.type === "draft") drafts++;
    else rejected++;
  }
  assertEquals({ drafts, rejected, ids: stream.idCount }, {
    drafts: 90_000,
    rejected: 10_000,
    ids: 90_000,
  });
});

Deno.test("UniqueIdsStream finds duplicates once its index is on disk", {
  permissions: { read: true, write: true },
}, async () => {
  const dir = await Deno.makeTempDir();
  try {
    const items = Array.from({ length: 50 }, (_, i) => draft(`id-${i % 40}`, `f${i}.jpg`));
    const stream = new UniqueIdsStream({ spillAt: 10, dir });
    const out = await run(items, stream);
    assertEquals(out.filter((i) => i.type === "draft").length, 40);
    const rejected = out.filter((i) => i.type === "rejected");
    assertEquals(rejected.length, 10);
    assertEquals(
      rejected[0].type === "rejected" && rejected[0].rejection.reason,
      'duplicate input ID "id-0": also produced by f0.jpg',
    );
    assertEquals(stream.idCount, 40);
    assertEquals([...Deno.readDirSync(dir)].length, 0, "the index file is removed at the end");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
