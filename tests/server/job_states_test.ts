import { assertEquals, assertStringIncludes } from "@std/assert";
import { Jobs } from "../../server/jobs.ts";
import { runUpload } from "../../src/upload/run_upload.ts";
import { lockJournal } from "../../src/journal/journal_lock.ts";
import type { InputDraft } from "../../src/inputs/input_draft.ts";
import { deadlineTest } from "./_helpers.ts";

const PERMISSIONS = { read: true, write: true } as const;

function text(id: string): InputDraft {
  return { id, kind: "text", content: { type: "raw", text: id }, location: id, concepts: [] };
}

Deno.test(deadlineTest(60_000, {
  name: "Job states: completed, completed_with_failures, failed",
  permissions: PERMISSIONS,
  async fn(t) {
    const dir = await Deno.makeTempDir();
    const jobs = new Jobs({ dataDir: dir });
    const cases: [string, InputDraft[], string][] = [
      ["every input uploaded", [text("a"), text("b")], "completed"],
      ["one rejected, one uploaded", [text("a"), text("bad id!")], "completed_with_failures"],
      ["every input rejected", [text("bad id!"), text("also bad!")], "failed"],
    ];
    for (const [name, drafts, state] of cases) {
      await t.step(name, async () => {
        const job = await jobs.create({
          kind: "csv",
          source: name,
          settings: { patFrom: "server" },
        });
        await job.run(
          runUpload(drafts, { dryRun: true, signal: job.signal, journal: job.journalPath }),
        );
        assertEquals(job.record.state, state);
        assertEquals(jobs.countByState()[job.record.state] > 0, true);
      });
    }
    await Deno.remove(dir, { recursive: true });
  },
}));

Deno.test(deadlineTest(60_000, {
  name: "A job whose journal another run holds fails at once with JOURNAL_IN_USE",
  permissions: PERMISSIONS,
  async fn() {
    const dir = await Deno.makeTempDir();
    const jobs = new Jobs({ dataDir: dir });
    const job = await jobs.create({
      kind: "retry",
      source: "held",
      settings: { patFrom: "server" },
    });
    const lock = await lockJournal(job.journalPath, "upflow retry (a CLI run)");
    await job.run(runUpload([text("a")], { dryRun: true, signal: job.signal }));
    await lock.release();
    assertEquals(job.record.state, "failed");
    assertEquals(job.record.summary?.fatal?.code, "JOURNAL_IN_USE");
    assertStringIncludes(job.record.summary?.fatal?.message ?? "", `process ${Deno.pid}`);
    assertStringIncludes(job.record.summary?.fatal?.message ?? "", "upflow retry (a CLI run)");
    // The job released nothing it did not hold: the lock was the CLI run's until it let go.
    await (await lockJournal(job.journalPath)).release();
    await Deno.remove(dir, { recursive: true });
  },
}));
