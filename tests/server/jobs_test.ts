import { assertEquals } from "@std/assert";
import { Jobs } from "../../server/jobs.ts";
import { runUpload } from "../../src/upload/run_upload.ts";
import type { ProgressEvent } from "../../src/pipeline/progress_event.ts";
import { deadlineTest } from "./_helpers.ts";

const drafts = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    id: `t${i}`,
    kind: "text" as const,
    content: { type: "raw" as const, text: `text ${i}` },
    location: `t${i}`,
    concepts: [],
  }));

async function lines(stream: ReadableStream<Uint8Array>) {
  return (await new Response(stream).text()).trim().split("\n").map((l) => JSON.parse(l));
}

Deno.test(deadlineTest(60_000, {
  name: "Jobs: readers follow live, late readers replay, a new process finds the job on disk",
  permissions: { read: true, write: true },
  async fn() {
    const dataDir = await Deno.makeTempDir();
    const jobs = new Jobs({ dataDir });
    const job = await jobs.create({ kind: "csv", source: "test", settings: { patFrom: "server" } });
    // A source that the test releases step by step.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => release = resolve);
    const source = (async function* () {
      yield* drafts(5);
      await gate;
      yield* drafts(10).slice(5);
    })();
    const early = lines(job.follow());
    const running = job.run(runUpload(source, { dryRun: true, batchSize: 5, signal: job.signal }));
    // Leave one reader mid-way: the job goes on.
    const leaver = job.follow({ onDisconnect: () => left++ });
    let left = 0;
    const reader = leaver.getReader();
    await reader.read();
    await reader.cancel();
    assertEquals(left, 1);
    release();
    await running;
    const late = await lines(job.follow());
    assertEquals(await early, late);
    assertEquals(late.at(-1).summary.uploaded, 10);
    assertEquals(job.record.state, "completed");

    // Another registry over the same folder (a restarted service) finds it on disk.
    const again = await new Jobs({ dataDir }).get(job.id);
    assertEquals(again?.record.counts.uploaded, 10);
    assertEquals(await lines(again!.follow()), late);
    assertEquals(await new Jobs({ dataDir }).get("../../etc/passwd"), undefined);
    await Deno.remove(dataDir, { recursive: true });
  },
}));

Deno.test(deadlineTest(60_000, {
  name:
    "Jobs: a run that throws still ends its log with a summary; a running job reads as interrupted after a restart",
  permissions: { read: true, write: true },
  async fn() {
    const dataDir = await Deno.makeTempDir();
    const jobs = new Jobs({ dataDir });
    const failing = await jobs.create({
      kind: "csv",
      source: "bad",
      settings: { patFrom: "server" },
    });
    await failing.run(
      new ReadableStream<ProgressEvent>({
        start(c) {
          c.enqueue({ type: "start", runId: "r1", target: "dry run", dryRun: true });
        },
        pull() {
          throw new SyntaxError("Syntax error on line 3: unclosed quote");
        },
      }),
    );
    const log = await lines(failing.follow());
    assertEquals(log.at(-1).summary.fatal, {
      code: "BAD_INPUT",
      message: "Syntax error on line 3: unclosed quote",
    });
    assertEquals(failing.record.state, "failed");

    const never = await jobs.create({
      kind: "folder",
      source: "x",
      settings: { patFrom: "server" },
    });
    assertEquals((await new Jobs({ dataDir }).get(never.id))?.record.state, "interrupted");
    assertEquals(jobs.countByState().failed, 1);
    await Deno.remove(dataDir, { recursive: true });
  },
}));
