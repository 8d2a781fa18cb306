import { assert, assertEquals, assertMatch } from "@std/assert";
import { baseEnv, lastLineOf, upflow, withTempDir } from "./_upflow.ts";
import { lastLine } from "../../src/cli/report_run.ts";
import { zeroCounts } from "../../src/pipeline/progress_event.ts";

const PERMISSIONS = { read: true, write: true, run: true, env: true, net: true } as const;

Deno.test({
  name:
    "A run that uploads nothing says why in its last line, and exits 1 when it skipped or rejected",
  permissions: PERMISSIONS,
  async fn(t) {
    await withTempDir(async (dir) => {
      const env = baseEnv(dir);
      const local = ["--local-data", `${dir}/local`];

      await t.step("class subfolders without --recursive", async () => {
        const run = await upflow([
          "folder",
          "samples/images",
          ...local,
          "--journal",
          `${dir}/a.ndjson`,
        ], env);
        assertEquals(run.code, 1, run.stdout + run.stderr);
        assertEquals(
          lastLineOf(run.stdout),
          "nothing uploaded: the folder holds only subfolders (bird, cat, dog); add --recursive to " +
            "upload their files (with --labels to label them by folder name)",
        );
        assertMatch(
          run.stdout,
          /^ {2}skipped\s+3 {2}3 subfolders, walked only with --recursive \(bird, cat, dog\)$/m,
        );
      });

      await t.step("every record rejected", async () => {
        const csv = `${dir}/bad.csv`;
        await Deno.writeTextFile(csv, "inputid,input\nbad id!,x\nalso bad!,y\n");
        const run = await upflow([
          "csv",
          csv,
          ...local,
          "--no-labels",
          "--journal",
          `${dir}/b.ndjson`,
        ], env);
        assertEquals(run.code, 1);
        assertEquals(
          lastLineOf(run.stdout),
          "nothing uploaded: 2 records rejected (the reasons are above and in the journal)",
        );
        // retry cannot re-send records validation refused: it lists them after its first line.
        const retry = await upflow(["retry", `${dir}/b.ndjson`, ...local], env);
        assertEquals(retry.code, 1, retry.stdout + retry.stderr);
        assertMatch(retry.stderr.split("\n")[0], /^uploading to the embedded local API/);
        assertMatch(retry.stderr, /^\/.*bad\.csv:2: not retried: /m);
        assertEquals(
          lastLineOf(retry.stdout),
          "nothing uploaded: 2 records cannot be retried (listed above): fix the source and run " +
            "the original command again",
        );
      });

      await t.step("everything uploaded before", async () => {
        const csv = ["csv", "samples/reviews.csv", ...local, "--journal", `${dir}/c.ndjson`];
        assertEquals((await upflow(csv, env)).code, 0);
        const again = await upflow(csv, env);
        assertEquals(again.code, 0);
        assertEquals(
          lastLineOf(again.stdout),
          "nothing to upload: all 5 inputs were uploaded by an earlier run (see the journal)",
        );
      });
    });
  },
});

Deno.test({
  name: "A fatal error: a short summary, then one last line with what, where and how to fix",
  permissions: PERMISSIONS,
  async fn(t) {
    await withTempDir(async (dir) => {
      const env = baseEnv(dir);
      const local = ["--local-data", `${dir}/local`];

      await t.step("a missing folder", async () => {
        const run = await upflow([
          "folder",
          `${dir}/nope`,
          ...local,
          "--journal",
          `${dir}/a.ndjson`,
        ], env);
        assertEquals(run.code, 3);
        assertEquals(
          lastLineOf(run.stdout),
          `error: Cannot walk folder "${dir}/nope": it does not exist; check the path`,
        );
        assert(!run.stdout.includes("rejected"), `no all-zero table:\n${run.stdout}`);
      });

      await t.step("a CSV with a header upflow does not know", async () => {
        const run = await upflow(
          [
            "csv",
            "tests/fixtures/bad/csv/unknown_header.csv",
            ...local,
            "--journal",
            `${dir}/b.ndjson`,
          ],
          env,
        );
        assertEquals(run.code, 3, run.stdout + run.stderr);
        const last = lastLineOf(run.stdout);
        assertMatch(last, /^error: .*unknown_header\.csv.*colour/);
        assert(run.stdout.trimEnd().split("\n").length <= 6, `short:\n${run.stdout}`);
      });

      await t.step("a dataset that does not exist", async () => {
        const run = await upflow(
          [
            "csv",
            "samples/reviews.csv",
            "--dataset",
            "nope",
            ...local,
            "--journal",
            `${dir}/c.ndjson`,
          ],
          env,
        );
        assertEquals(run.code, 3);
        assertMatch(
          lastLineOf(run.stdout),
          /^error: Dataset "nope" does not exist .*--create-dataset/,
        );
      });
    });
  },
});

Deno.test("lastLine: inputs found on the server whose processing failed are named", () => {
  const base = {
    ...zeroCounts(),
    runId: "r",
    dryRun: false,
    batches: 0,
    bytes: 0,
    durationMs: 1,
    inputsPerSecond: 0,
    megabytesPerSecond: 0,
    journal: "j.ndjson",
  };
  assertEquals(
    lastLine({ ...base, present: 7, processing: { succeeded: 0, failed: 3, pending: 0 } }, []),
    "nothing to upload: 7 inputs are on the server already; 3 inputs on the server failed " +
      "processing (listed above and in the journal)",
  );
  assertEquals(
    lastLine({ ...base, failed: 1, processing: { succeeded: 0, failed: 2, pending: 0 } }, []),
    "nothing uploaded: 1 input failed and 2 inputs on the server failed processing (the " +
      "reasons are above and in the journal)",
  );
});
