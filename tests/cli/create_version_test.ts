/**
 * `--create-version` as a user runs it: the text summary shows the version's metrics, `--json`
 * carries them in the `done` event, `upflow status --dataset` shows the latest version, the
 * flag works on the csv command too, needs `--dataset`, and a local API that throttles from its
 * first request on still ends with a ready version.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { join } from "node:path";
import { baseEnv, upflow, withTempDir } from "./_upflow.ts";
import { cliEnv, runCli, startApi, summaryOfOutput } from "../reliability/_harness.ts";

const permissions: Deno.PermissionOptions = {
  read: true,
  write: true,
  run: true,
  env: true,
  net: true,
};

const PETS = ["--dataset", "pets", "--create-dataset", "--create-version"];

Deno.test({
  name: "upflow folder --create-version: the version's metrics in the summary and in status",
  permissions,
  async fn(t) {
    await withTempDir(async (dir) => {
      const env = baseEnv(dir);
      const local = ["--local-data", join(dir, "local")];
      await t.step("text: the summary shows inputs by kind, annotations, concepts", async () => {
        const run = await upflow([
          "folder",
          "samples/images",
          "--recursive",
          "--labels",
          ...PETS,
          ...local,
          "--journal",
          join(dir, "text.ndjson"),
        ], env);
        assertEquals(run.code, 0, run.stderr);
        assertStringIncludes(run.stdout, '": ready after');
        assertStringIncludes(run.stdout, "  inputs       12 (image 12)\n");
        assertStringIncludes(
          run.stdout,
          "  annotations  12 concepts, 0 bounding boxes, 0 polygons, 0 frames\n",
        );
        assertStringIncludes(run.stdout, "  concepts     3: bird 4, cat 4, dog 4\n");
        assertStringIncludes(run.stderr, "dataset version ", "the wait is visible");
      });
      await t.step("status --dataset shows the latest version", async () => {
        const run = await upflow(["status", "--dataset", "pets", ...local], env);
        assertEquals(run.code, 0, run.stderr);
        assertStringIncludes(run.stdout, "dataset     pets: 12 inputs\n");
        assert(/version {5}[0-9a-f]{32} \(ready, made /.test(run.stdout), run.stdout);
        assertStringIncludes(run.stdout, "  concepts     3: bird 4, cat 4, dog 4");
        const json = await upflow(["status", "--dataset", "pets", "--json", ...local], env);
        const dataset = JSON.parse(json.stdout).dataset;
        assertEquals(dataset.latestVersion.status, "ready");
        assertEquals(dataset.latestVersion.metrics.inputsByKind, { image: 12 });
      });
      await t.step("--json: the done event carries the version", async () => {
        const run = await upflow([
          "csv",
          "samples/reviews.csv",
          "--input-type",
          "text",
          "--csv-type",
          "raw",
          "--dataset",
          "reviews",
          "--create-dataset",
          "--create-version",
          "--json",
          ...local,
          "--journal",
          join(dir, "csv.ndjson"),
        ], env);
        assertEquals(run.code, 0, run.stderr);
        const events = run.stdout.trim().split("\n").map((l) => JSON.parse(l));
        const summary = events.at(-1).summary;
        assertEquals(summary.version.status, "ready");
        assertEquals(summary.version.metrics.inputs, 5);
        assertEquals(summary.version.metrics.inputsByKind, { text: 5 });
        assert(events.some((e) => e.type === "version" && e.status === "pending"));
      });
      await t.step("a status of a dataset without versions says so", async () => {
        const made = await upflow([
          "csv",
          "samples/reviews.csv",
          "--input-type",
          "text",
          "--csv-type",
          "raw",
          "--dataset",
          "plain",
          "--create-dataset",
          ...local,
          "--journal",
          join(dir, "plain.ndjson"),
        ], env);
        assertEquals(made.code, 0, made.stderr);
        const run = await upflow(["status", "--dataset", "plain", ...local], env);
        assertStringIncludes(run.stdout, "version     none");
      });
    });
  },
});

Deno.test({
  name: "upflow --create-version needs --dataset",
  permissions,
  async fn() {
    await withTempDir(async (dir) => {
      const run = await upflow(["folder", "samples/images", "--create-version"], baseEnv(dir));
      assertEquals(run.code, 2);
      assertStringIncludes(run.stderr, "--create-version needs --dataset");
    });
  },
});

Deno.test({
  name: "upflow --create-version against a local API that throttles (throttle=0.3) ends ready",
  permissions,
  async fn() {
    const api = await startApi({ faults: "throttle=0.3,seed=5" });
    const dir = await Deno.makeTempDir({ prefix: "upflow-version-" });
    try {
      const run = await runCli([
        "folder",
        join(Deno.cwd(), "samples/images"),
        "--recursive",
        "--labels",
        ...PETS,
        "--wait",
        "--json",
        "--retries",
        "12",
        "--journal",
        join(dir, "journal.ndjson"),
      ], { env: cliEnv(api, "throttled"), cwd: dir, timeoutMs: 120_000 });
      const summary = summaryOfOutput(run.stdout);
      const about = `exit ${run.code}\n${run.stderr.slice(0, 2000)}\n${JSON.stringify(summary)}`;
      assertEquals(run.code, 0, about);
      assertEquals([summary?.uploaded, summary?.failed, summary?.fatal], [12, 0, undefined]);
      assertEquals(summary?.version?.status, "ready", about);
      assertEquals(summary?.version?.metrics?.inputs, 12);
      assertEquals(summary?.version?.metrics?.annotations?.concepts, 12);
      assert(api.api.faultCounts().throttled > 0, "the API throttled");
    } finally {
      await api.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
