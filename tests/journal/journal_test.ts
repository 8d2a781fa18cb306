import { Journal, readJournal } from "../../src/journal/journal.ts";
import type { JournalEntry } from "../../src/journal/journal.ts";
import { retryDrafts } from "../../src/journal/retry_drafts.ts";
import { assert, assertEquals, assertThrows } from "@std/assert";

const RW = { read: true, write: true } as const;

async function withFile(text: string, fn: (path: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/journal.ndjson`;
  try {
    await Deno.writeTextFile(path, text);
    await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const lines = (...entries: JournalEntry[]) => entries.map((e) => JSON.stringify(e) + "\n").join("");
const draft = (id: string) => ({
  id,
  kind: "text" as const,
  content: { type: "raw" as const, text: id },
  location: `${id}.txt`,
  concepts: [],
});

Deno.test("readJournal: a missing file is an empty journal", { permissions: RW }, async () => {
  const state = await readJournal("/nonexistent/upflow/journal.ndjson");
  assertEquals([state.uploaded.size, state.failures.size, state.runs.length], [0, 0, 0]);
});

Deno.test(
  "readJournal follows each input to its latest outcome",
  { permissions: RW },
  async (t) => {
    const text = lines(
      { t: "run", runId: "r1", time: "2026-01-01T00:00:00Z", target: "local" },
      { t: "sending", ids: ["a", "b", "c", "d"] },
      { t: "input", id: "a", location: "a.txt", outcome: "uploaded", annotationIds: ["x1"] },
      {
        t: "input",
        id: "b",
        location: "b.txt",
        outcome: "failed",
        reason: "boom",
        draft: draft("b"),
      },
      {
        t: "input",
        id: "c",
        location: "c.txt",
        outcome: "failed",
        reason: "gave up",
        maybeStored: true,
        draft: draft("c"),
      },
      { t: "input", id: "", location: "data.csv:9", outcome: "rejected", reason: "empty input" },
      { t: "run", runId: "r2", time: "2026-01-01T00:01:00Z", target: "local" },
      { t: "sending", ids: ["b"] },
      { t: "input", id: "b", location: "b.txt", outcome: "uploaded" },
    );
    await withFile(text, async (path) => {
      const state = await readJournal(path);
      await t.step("uploaded, in order of outcome", () => {
        assertEquals([...state.uploaded].sort(), ["a", "b"]);
      });
      await t.step("a later success clears an earlier failure", () => {
        assertEquals([...state.failures.keys()].sort(), ["@data.csv:9", "c"]);
      });
      await t.step("unanswered: sent without outcome, or failed while maybe stored", () => {
        assertEquals([...state.unanswered].sort(), ["c", "d"]);
      });
      await t.step("annotation IDs of uploaded inputs", () => {
        assertEquals([...(state.annotationIds.get("a") ?? [])], ["x1"]);
      });
      await t.step("runs", () => assertEquals(state.runs.map((r) => r.runId), ["r1", "r2"]));
    });
  },
);

Deno.test("readJournal counts unparsable lines and repairs a torn last line", {
  permissions: RW,
}, async () => {
  const good = lines({ t: "input", id: "a", location: "a.txt", outcome: "uploaded" });
  await withFile(
    good + "not json\n" + '{"t":"nope"}\n' + '{"t":"input","id":"b","loc',
    async (path) => {
      const state = await readJournal(path);
      assertEquals([state.badLines, state.repaired], [2, true]);
      assertEquals(
        await Deno.readTextFile(path),
        good + "not json\n" + '{"t":"nope"}\n' + '{"t":"input","id":"b","loc',
      );
      await readJournal(path, { repair: true });
      assertEquals(await Deno.readTextFile(path), good + "not json\n" + '{"t":"nope"}\n');
    },
  );
});

Deno.test("Journal appends whole lines in call order and reads them back", {
  permissions: RW,
}, async () => {
  await withFile("", async (path) => {
    const journal = await Journal.open(path);
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      writes.push(journal.append([
        { t: "sending", ids: [`i${i}`] },
        { t: "input", id: `i${i}`, location: `${i}`, outcome: "uploaded" },
      ]));
    }
    await Promise.all(writes);
    await journal.close();
    const text = await Deno.readTextFile(path);
    const ids = text.trim().split("\n").map((l) => JSON.parse(l)).filter((e) => e.t === "input")
      .map((e) => e.id);
    assertEquals(ids, Array.from({ length: 200 }, (_, i) => `i${i}`));
    const state = await readJournal(path);
    assertEquals([state.uploaded.size, state.unanswered.size], [200, 0]);
  });
});

Deno.test("Journal gathers the appends made before a write starts into it, in call order", {
  permissions: RW,
}, async () => {
  await withFile("", async (path) => {
    const journal = await Journal.open(path);
    const first = journal.append([{ t: "sending", ids: ["a0"] }]);
    // Made before the first write started: one write for all 129 appends.
    const page = Array.from(
      { length: 128 },
      (_, i) =>
        journal.append([{ t: "input", id: `a${i}`, location: `${i}`, outcome: "uploaded" }]),
    );
    await Promise.all([first, ...page]);
    assertEquals(journal.writeCount, 1);
    // Awaited one by one, each append is its own write.
    for (const id of ["b", "c"]) {
      await journal.append([{ t: "input", id, location: id, outcome: "uploaded" }]);
    }
    assertEquals([journal.writeCount, journal.index.uploadedCount], [3, 130]);
    await journal.close();
    const ids = (await Deno.readTextFile(path)).trim().split("\n").map((l) => JSON.parse(l))
      .filter((e) => e.t === "input").map((e) => e.id);
    assertEquals(ids, [...Array.from({ length: 128 }, (_, i) => `a${i}`), "b", "c"]);
    const again = await Journal.open(path);
    assertEquals([again.index.uploadedCount, again.index.isUploaded("a127")], [130, true]);
    await again.close();
  });
});

Deno.test("Journal: a line that cannot be serialised throws to its own append only", {
  permissions: RW,
}, async () => {
  await withFile("", async (path) => {
    const journal = await Journal.open(path);
    const first = journal.append([{ t: "input", id: "x", location: "x", outcome: "uploaded" }]);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    assertThrows(() =>
      journal.append([
        { t: "input", id: "y", location: "y", outcome: "failed", draft: circular as never },
      ]), TypeError);
    const last = journal.append([{ t: "input", id: "z", location: "z", outcome: "uploaded" }]);
    await Promise.all([first, last]);
    assertEquals(["x", "y", "z"].map((id) => journal.index.isUploaded(id)), [true, false, true]);
    assertEquals([journal.writeCount, journal.index.failureCount], [1, 0]);
    await journal.close();
  });
});

Deno.test("Journal.open repairs a torn line so appends start on a fresh line", {
  permissions: RW,
}, async () => {
  await withFile('{"t":"sending","ids":["a"]}\n{"t":"inp', async (path) => {
    const journal = await Journal.open(path);
    assert(journal.repaired);
    await journal.append([{ t: "input", id: "a", location: "a", outcome: "uploaded" }]);
    await journal.close();
    const state = await readJournal(path);
    assertEquals([state.badLines, state.repaired, state.uploaded.has("a")], [0, false, true]);
  });
});

Deno.test("retryDrafts re-sends failures with drafts and explains the rest", {
  permissions: RW,
}, async (t) => {
  const text = lines(
    {
      t: "input",
      id: "a",
      location: "a.txt",
      outcome: "failed",
      reason: "timeout",
      draft: draft("a"),
    },
    {
      t: "input",
      id: "b",
      location: "b.txt",
      outcome: "failed",
      code: "INPUT_DUPLICATE",
      reason: "already exists",
      draft: draft("b"),
    },
    {
      t: "input",
      id: "c",
      location: "c.txt",
      outcome: "processing-failed",
      reason: "not an image",
    },
    { t: "input", id: "", location: "data.csv:4", outcome: "rejected", reason: "bad geopoints" },
  );
  await withFile(text, async (path) => {
    const state = await readJournal(path);
    await t.step("by default duplicates are not re-sent", () => {
      const plan = retryDrafts(state);
      assertEquals(plan.drafts.map((d) => d.id), ["a"]);
      assertEquals(plan.notRetried.map((n) => n.location), ["b.txt", "c.txt", "data.csv:4"]);
    });
    await t.step("with new IDs, duplicates go under a fresh ID", () => {
      const plan = retryDrafts(state, { newIdsForDuplicates: true });
      assertEquals(plan.drafts.length, 2);
      assert(/^b-[0-9a-f]{8}$/.test(plan.drafts[1].id), plan.drafts[1].id);
    });
  });
});
