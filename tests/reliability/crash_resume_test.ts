/**
 * Crash and resume: the CLI is killed with SIGKILL at random moments (half of them right after
 * its journal grew), then the same command is run again; every input ends up held exactly once,
 * with its data and boxes, and the journal reads back cleanly (a torn last line is cut off on
 * open; every third run gets half a line appended before it resumes). The default run has 6 runs; the
 * soak script runs 20 (`deno run -A tests/reliability/soak.ts --inputs 0 --crash-runs 20`).
 */
import { assert, assertEquals, assertGreater } from "@std/assert";
import { readJournal } from "../../src/journal/journal.ts";
import { crashAndResume } from "./_crash.ts";

Deno.test({
  name: "crash and resume: SIGKILL at random moments, resumed runs end exactly-once",
  permissions: { read: true, write: true, run: true, env: true, net: true },
  async fn() {
    const report = await crashAndResume({ runs: 6, inputs: 200, seed: 3 });
    const details = report.details.join("\n");
    assertGreater(report.kills, 0, "some runs were killed");
    assertGreater(report.tornForced + report.tornNatural, 0, "a torn line was met");
    assertEquals(report.repaired, report.tornForced + report.tornNatural, details);
    assertEquals(report.lost, 0, details);
    assertEquals(report.duplicated, 0, details);
    assertEquals(report.unexplained, 0, details);
    assertEquals(report.unreadableJournals, 0, details);
  },
});

Deno.test({
  name: "crash and resume: a journal cut anywhere reads back its whole lines, and is repaired",
  permissions: { read: true, write: true },
  async fn(t) {
    const dir = await Deno.makeTempDir();
    try {
      const lines = [
        { t: "run", runId: "r", time: "2024-01-01T00:00:00Z", target: "x" },
        { t: "sending", ids: ["a", "b"] },
        { t: "input", id: "a", location: "x.csv:2", outcome: "uploaded" },
        {
          t: "input",
          id: "b",
          location: "x.csv:3",
          outcome: "failed",
          reason: "gave up",
          draft: {},
        },
      ].map((l) => JSON.stringify(l) + "\n");
      const whole = new TextEncoder().encode(lines.join(""));
      const ends = lines.reduce<number[]>((acc, l) => [...acc, (acc.at(-1) ?? 0) + l.length], []);
      // Every cut point, as a crash mid-write would leave the file.
      for (let cut = 0; cut <= whole.length; cut++) {
        const path = `${dir}/j${cut}.ndjson`;
        await Deno.writeFile(path, whole.subarray(0, cut));
        const complete = ends.filter((e) => e <= cut).length;
        const state = await readJournal(path, { repair: true });
        assertEquals(state.badLines, 0);
        assertEquals(state.repaired, !ends.includes(cut) && cut > 0, `cut ${cut}`);
        assertEquals(state.uploaded.has("a"), complete >= 3, `cut ${cut}`);
        assertEquals(state.failures.has("b"), complete >= 4, `cut ${cut}`);
        assertEquals(state.unanswered.has("b"), complete >= 2 && complete < 4, `cut ${cut}`);
        assertEquals((await Deno.stat(path)).size, ends[complete - 1] ?? 0, `repaired at ${cut}`);
      }
      await t.step("checked every cut point", () => assert(whole.length > 100));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
