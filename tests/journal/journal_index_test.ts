import { Journal, readJournal } from "../../src/journal/journal.ts";
import type { JournalEntry } from "../../src/journal/journal.ts";
import { JournalIndex } from "../../src/journal/journal_index.ts";
import { assert, assertEquals } from "@std/assert";

const RW = { read: true, write: true } as const;
const line = (e: JournalEntry) => JSON.stringify(e) + "\n";

async function withDir(fn: (dir: string) => Promise<void> | void) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("Journal.open agrees with readJournal on every kind of line", {
  permissions: RW,
}, async () => {
  await withDir(async (dir) => {
    const path = `${dir}/j.ndjson`;
    const entries: JournalEntry[] = [
      { t: "run", runId: "r1", time: "2026-01-01T00:00:00Z", target: "local" },
      { t: "sending", ids: ["a", "b", "c", "d"] },
      { t: "input", id: "a", location: "a", outcome: "uploaded", annotationIds: ["x1"] },
      { t: "input", id: "b", location: "b", outcome: "failed", reason: "timeout" },
      { t: "input", id: "c", location: "c", outcome: "failed", reason: "lost", maybeStored: true },
      { t: "input", id: "", location: "data.csv:9", outcome: "rejected", reason: "bad" },
      { t: "run", runId: "r2", time: "2026-01-01T00:01:00Z", target: "local" },
      { t: "input", id: "b", location: "b", outcome: "uploaded" },
      { t: "input", id: "e", location: "e", outcome: "processing-failed", reason: "not an image" },
      { t: "input", id: "a", location: "a", outcome: "uploaded", annotationIds: ["x2"] },
    ];
    await Deno.writeTextFile(path, entries.map(line).join(""));
    const state = await readJournal(path);
    const journal = await Journal.open(path);
    const index = journal.index;
    for (const id of ["a", "b", "c", "d", "e", "zz"]) {
      assertEquals(index.isUploaded(id), state.uploaded.has(id), `uploaded ${id}`);
      assertEquals(
        index.unansweredSince(id, index.offset),
        state.unanswered.has(id),
        `unanswered ${id}`,
      );
    }
    assertEquals(index.uploadedCount, state.uploaded.size);
    assertEquals([...index.annotationIds("a")!].sort(), ["x1", "x2"]);
    assertEquals([...index.failures()], [...state.failures.values()]);
    assertEquals(index.failureCount, state.failures.size);
    assertEquals(index.runs().map((r) => r.runId), ["r1", "r2"]);
    await journal.close();
  });
});

Deno.test("Journal.open applies only the lines its index has not seen", {
  permissions: RW,
}, async () => {
  await withDir(async (dir) => {
    const path = `${dir}/j.ndjson`;
    const journal = await Journal.open(path);
    await journal.append([
      { t: "run", runId: "r1", time: "t", target: "local" },
      { t: "input", id: "a", location: "a", outcome: "uploaded" },
    ]);
    await journal.close();
    // A line the index never saw (written by a process that died before indexing it) …
    await Deno.writeTextFile(
      path,
      line({ t: "input", id: "b", location: "b", outcome: "uploaded" }),
      {
        append: true,
      },
    );
    // … and an index entry the journal does not have, which only the index can know about:
    // if the journal were read again from the start, "z" would disappear.
    const raw = JournalIndex.open(Journal.indexPath(path));
    const offset = raw.offset;
    raw.apply([{ t: "input", id: "z", location: "z", outcome: "uploaded" }], offset);
    raw.close();
    const again = await Journal.open(path);
    assertEquals(
      ["a", "b", "z"].map((id) => again.index.isUploaded(id)),
      [true, true, true],
    );
    assertEquals(again.index.offset, (await Deno.stat(path)).size);
    await again.close();
  });
});

Deno.test("Journal.open rebuilds the index of a journal that was replaced or cut", {
  permissions: RW,
}, async (t) => {
  await withDir(async (dir) => {
    const path = `${dir}/j.ndjson`;
    const first = await Journal.open(path);
    await first.append([
      { t: "run", runId: "r1", time: "t1", target: "local" },
      { t: "input", id: "a", location: "a", outcome: "uploaded" },
      { t: "input", id: "b", location: "b", outcome: "uploaded" },
    ]);
    await first.close();
    await t.step("replaced by another journal of the same length or longer", async () => {
      await Deno.writeTextFile(
        path,
        line({ t: "run", runId: "r9", time: "t9", target: "local" }) +
          line({ t: "input", id: "c", location: "c", outcome: "uploaded" }) +
          line({ t: "input", id: "d", location: "d", outcome: "uploaded" }),
      );
      const j = await Journal.open(path);
      assertEquals(["a", "c", "d"].map((id) => j.index.isUploaded(id)), [false, true, true]);
      await j.close();
    });
    await t.step("removed", async () => {
      await Deno.remove(path);
      const j = await Journal.open(path);
      assertEquals([j.index.isUploaded("c"), j.index.uploadedCount], [false, 0]);
      await j.close();
    });
  });
});

Deno.test("Journal.open cuts a torn last line longer than one read", {
  permissions: RW,
}, async () => {
  await withDir(async (dir) => {
    const path = `${dir}/j.ndjson`;
    const good = line({ t: "input", id: "a", location: "a", outcome: "uploaded" });
    await Deno.writeTextFile(path, good + '{"t":"input","id":"b","reason":"' + "x".repeat(200_000));
    const journal = await Journal.open(path);
    assert(journal.repaired);
    assertEquals(await Deno.readTextFile(path), good);
    assertEquals([journal.index.isUploaded("a"), journal.index.isUploaded("b")], [true, false]);
    await journal.close();
  });
});

Deno.test("JournalIndex keeps the earliest unanswered request of an input", {
  permissions: RW,
}, async () => {
  await withDir((dir) => {
    const index = JournalIndex.open(`${dir}/i.sqlite`);
    index.apply([{ t: "sending", ids: ["a"] }], 10);
    const start = index.offset;
    index.apply([{ t: "sending", ids: ["a", "b"] }], 20);
    assertEquals([index.unansweredSince("a", start), index.unansweredSince("b", start)], [
      true,
      false,
    ]);
    index.apply([{ t: "input", id: "a", location: "a", outcome: "uploaded" }], 30);
    assertEquals(index.unansweredSince("a", 100), false);
    index.close();
  });
});
