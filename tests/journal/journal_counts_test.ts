/**
 * `journalCounts` and `upflow status --journal`: a sharded upload's journals summed from their
 * indexes; a journal without an index is indexed into a temporary file, never changed.
 */
import { journalCounts, journalPaths } from "../../src/journal/journal_counts.ts";
import { Journal } from "../../src/journal/journal.ts";
import type { JournalEntry } from "../../src/journal/journal.ts";
import { baseEnv, upflow, withTempDir } from "../cli/_upflow.ts";
import { assertEquals, assertMatch, assertRejects, assertThrows } from "@std/assert";

const RW = { read: true, write: true } as const;

async function journal(path: string, entries: JournalEntry[]) {
  const j = await Journal.open(path);
  await j.append(entries);
  await j.close();
}

const uploaded = (id: string): JournalEntry => ({
  t: "input",
  id,
  location: `${id}.jpg`,
  outcome: "uploaded",
});

Deno.test("journalCounts sums a sharded upload's journals from their indexes", {
  permissions: RW,
}, async () => {
  await withTempDir(async (dir) => {
    await journal(`${dir}/up-shard0of2.ndjson`, [
      { t: "run", runId: "r0", time: "t", target: "x" },
      uploaded("a"),
      uploaded("b"),
      { t: "input", id: "c", location: "c.jpg", outcome: "failed", reason: "no" },
    ]);
    await journal(`${dir}/up-shard1of2.ndjson`, [
      { t: "run", runId: "r1", time: "t", target: "x" },
      uploaded("d"),
    ]);
    const counts = await journalCounts([`${dir}/up-shard*of2.ndjson`]);
    assertEquals(counts, {
      journals: [`${dir}/up-shard0of2.ndjson`, `${dir}/up-shard1of2.ndjson`],
      uploaded: 3,
      failed: 1,
      runs: 2,
      unindexedBytes: 0,
    });
    // The same journal named twice counts once.
    assertEquals(
      (await journalCounts([`${dir}/up-shard0of2.ndjson`, `${dir}/up-shard*`])).uploaded,
      3,
    );
    assertThrows(() => journalPaths([`${dir}/none-*.ndjson`]), Deno.errors.NotFound);
    await assertRejects(() => journalCounts([`${dir}/none.ndjson`]), Deno.errors.NotFound);
  });
});

Deno.test(
  "journalCounts indexes a journal without an index into a temporary file, leaving it as it was",
  {
    permissions: RW,
  },
  async () => {
    await withTempDir(async (dir) => {
      const path = `${dir}/elsewhere.ndjson`;
      const lines = Array.from({ length: 20_000 }, (_, i) => JSON.stringify(uploaded(`i${i}`)));
      // A torn last line (the writer died mid-write) is left out and reported.
      const text = lines.join("\n") + '\n{"t":"input","id":"late"';
      await Deno.writeTextFile(path, text);
      const counts = await journalCounts([path]);
      assertEquals([counts.uploaded, counts.unindexedBytes], [20_000, 24]);
      assertEquals(await Deno.readTextFile(path), text);
      assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["elsewhere.ndjson"]);

      // An index that describes another journal (this one was replaced since) is not believed.
      await journal(`${dir}/other.ndjson`, [uploaded("x")]);
      await Deno.rename(`${dir}/other.ndjson.index.sqlite`, `${path}.index.sqlite`);
      assertEquals((await journalCounts([path])).uploaded, 20_000);
    });
  },
);

Deno.test("upflow status --journal sums the shards' journals beside the server's counts", {
  permissions: { read: true, write: true, run: true, env: true, net: true },
}, async () => {
  await withTempDir(async (dir) => {
    const env = baseEnv(dir);
    const local = ["--local-data", `${dir}/local`];
    for (const k of [0, 1]) {
      const run = await upflow([
        "folder",
        "samples/images",
        "--recursive",
        "--shard",
        `${k}/2`,
        "--journal",
        `${dir}/samples-shard${k}of2.ndjson`,
        ...local,
      ], env);
      assertEquals(run.code, 0, run.stderr);
    }
    const pattern = `${dir}/samples-shard*of2.ndjson`;
    const offline = await upflow(["status", "--journal", pattern, "--offline", "--json"], env);
    assertEquals(offline.code, 0, offline.stderr);
    const { journal: counts } = JSON.parse(offline.stdout);
    assertEquals([counts.journals.length, counts.uploaded, counts.failed], [2, 12, 0]);

    const both = await upflow(["status", "--journal", pattern, ...local], env);
    assertEquals(both.code, 0, both.stderr);
    assertMatch(both.stdout, /^journals {4}2: /m);
    assertMatch(both.stdout, /^ {2}uploaded {2}12 /m);
    assertMatch(both.stdout, /^processed {3}12$/m);

    const usage = await upflow(["status", "--offline"], env);
    assertEquals(usage.code, 2, usage.stderr);
  });
});
