// GET /v1/uploads: newest first, pages that together hold every job once, a state filter,
// totals by state, jobs left running by an earlier process read as interrupted, bad queries 400.
import { assertEquals, assertRejects } from "@std/assert";
import { join } from "node:path";
import { listJobs } from "../../../server/pages/job_list.ts";
import { UploadService } from "../../../server/upload_service.ts";
import { runUpload } from "../../../src/upload/run_upload.ts";

Deno.test("listJobs: pages, order, filter, totals and interrupted jobs", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "upflow-jobs-" });
  const service = await UploadService.open({ root: ".", dataDir, log: () => {} });
  try {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const job = await service.jobs.create({
        kind: "csv",
        source: `job ${i}`,
        settings: { patFrom: "server", dryRun: true },
      });
      ids.push(job.id);
      if (i < 3) {
        await job.run(runUpload([
          {
            id: `a${i}`,
            kind: "text",
            content: { type: "raw", text: "hi" },
            location: "a",
            concepts: [],
          },
        ], { dryRun: true, signal: job.signal, journal: job.journalPath }));
      }
      await new Promise((resolve) => setTimeout(resolve, 5)); // distinct creation times
    }
    // A job an earlier process left running.
    const old = "00000000000000000000beef";
    await Deno.mkdir(join(dataDir, "jobs", old), { recursive: true });
    await Deno.writeTextFile(
      join(dataDir, "jobs", old, "job.json"),
      JSON.stringify({
        id: old,
        kind: "folder",
        source: "folder x",
        state: "running",
        createdAt: "2020-01-01T00:00:00.000Z",
        counts: {
          uploaded: 1,
          alreadyUploaded: 0,
          failed: 0,
          rejected: 0,
          skipped: 0,
          annotations: 0,
          annotationsFailed: 0,
          retries: 0,
        },
        bytes: 0,
        settings: { patFrom: "server" },
      }),
    );

    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await listJobs(service, { limit: 2, ...(token ? { pageToken: token } : {}) });
      seen.push(...page.jobs.map((job) => job.id));
      token = page.nextPageToken;
      pages++;
    } while (token);
    assertEquals(pages, 3);
    assertEquals(seen, [...ids.reverse(), old]);

    const all = await listJobs(service);
    assertEquals(all.totals, {
      running: 2,
      completed: 3,
      completed_with_failures: 0,
      failed: 0,
      cancelled: 0,
      interrupted: 1,
    });
    assertEquals(all.jobs.at(-1)?.state, "interrupted");
    assertEquals(all.jobs[0].state, "running");
    const completed = await listJobs(service, { state: "completed" });
    assertEquals(completed.jobs.map((job) => job.source), ["job 2", "job 1", "job 0"]);
    assertEquals(completed.jobs[0].counts.uploaded, 1);

    await assertRejects(() => listJobs(service, { limit: 0 }), RangeError, "limit");
    await assertRejects(() => listJobs(service, { pageToken: "abc" }), RangeError, "page_token");
    // deno-lint-ignore no-explicit-any
    await assertRejects(() => listJobs(service, { state: "done" as any }), RangeError, "state");
  } finally {
    await service.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
