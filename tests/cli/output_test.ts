import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { startLocalApi } from "../../server/local/local_api.ts";
import config from "../../deno.json" with { type: "json" };
import { baseEnv, lastLineOf, upflow, withTempDir } from "./_upflow.ts";

const PERMISSIONS = { read: true, write: true, run: true, env: true, net: true } as const;

Deno.test({
  name: "upflow --version, and the version in --json's start event",
  permissions: PERMISSIONS,
  async fn() {
    await withTempDir(async (dir) => {
      const env = baseEnv(dir);
      const version = await upflow(["--version"], env);
      assertEquals([version.code, version.stdout], [0, `upflow ${config.version}\n`]);
      const run = await upflow(
        ["folder", "samples/images", "--dry-run", "--json", "--journal", `${dir}/j.ndjson`],
        env,
      );
      const start = JSON.parse(run.stdout.split("\n")[0]);
      assertEquals([start.type, start.version], ["start", config.version]);
    });
  },
});

Deno.test({
  name: "Unknown commands and flags get a 'did you mean'; flags that contradict are usage errors",
  permissions: PERMISSIONS,
  async fn(t) {
    await withTempDir(async (dir) => {
      const env = baseEnv(dir);
      const cases: [string[], string][] = [
        [["fodler", "x"], 'unknown command "fodler" (did you mean folder?)'],
        [["folder", "x", "--recursve"], "unknown option --recursve (did you mean --recursive?)"],
        [["csv", "x", "--datset", "d"], "unknown option --datset (did you mean --dataset?)"],
        [["csv", "x", "--json=yes"], '--json takes no value: got "--json=yes"'],
        [["csv", "x", "--dataset"], "--dataset needs a value"],
        [["csv", "x", "-q", "-v"], "--quiet and --verbose contradict each other"],
        [["csv", "x", "--create-dataset"], "--create-dataset needs --dataset ID"],
        [["csv", "x", "--dry-run", "--wait"], "--wait makes no sense with --dry-run"],
        [["csv", "x", "--progress-interval", "soon"], "--progress-interval must be a number"],
      ];
      for (const [args, message] of cases) {
        await t.step(args.join(" "), async () => {
          const run = await upflow(args, env);
          assertEquals(run.code, 2, run.stderr);
          assertStringIncludes(run.stderr, message);
          assert(!run.stderr.includes("Usage: deno task upflow <command>"), "no help dump");
          assert(!run.stderr.includes("'-- \""), "no parser quoting");
        });
      }
    });
  },
});

Deno.test({
  name: "-q prints only the summary; -v each batch and each retry with its wait",
  permissions: PERMISSIONS,
  async fn(t) {
    await withTempDir(async (dir) => {
      const env = baseEnv(dir);
      await t.step("quiet", async () => {
        const run = await upflow(
          [
            "folder",
            "samples/images",
            "--recursive",
            "--dry-run",
            "-q",
            "--journal",
            `${dir}/q.ndjson`,
          ],
          env,
        );
        assertEquals(run.code, 0, run.stderr);
        assertEquals(run.stderr, "");
        assertMatch(run.stdout, /^ {2}would upload\s+12 {2}/m);
        assertEquals(lastLineOf(run.stdout), "done: would upload 12 inputs");
      });
      await t.step("verbose", async () => {
        const api = await startLocalApi({
          port: 0,
          dataDir: ":memory:",
          key: "k",
          // Seeded so that a PostInputs attempt (after the presence check's first calls) fails.
          faults: { unavailable: 0.4, retryAfter: 0, seed: 13 },
        });
        try {
          const run = await upflow([
            "folder",
            "samples/images",
            "--recursive",
            "-v",
            "--batch-size",
            "4",
            "--rps",
            "0",
            "--retries",
            "20",
            "--journal",
            `${dir}/v.ndjson`,
          ], {
            ...env,
            CLARIFAI_PAT: "k",
            CLARIFAI_GRPC_BASE: api.baseUrl,
            CLARIFAI_USER_ID: "u",
            CLARIFAI_APP_ID: "a",
          });
          assertEquals(run.code, 0, run.stdout + run.stderr);
          assertMatch(run.stderr, /^batch \d+: 4 inputs, [\d.]+ kB, \d+ requests?$/m);
          assertMatch(
            run.stderr,
            /^retry: PostInputs attempt \d+ failed \((?:UNAVAILABLE|Unavailable)[^)]*\); next attempt in [\d.]+s$/m,
          );
        } finally {
          await api.close();
        }
      });
    });
  },
});

Deno.test({
  name: "Off a terminal: a plain progress line every --progress-interval seconds",
  permissions: PERMISSIONS,
  async fn() {
    await withTempDir(async (dir) => {
      const api = await startLocalApi({
        port: 0,
        dataDir: ":memory:",
        key: "k",
        faults: { latencyMs: 300 },
      });
      try {
        const run = await upflow([
          "folder",
          "samples/images",
          "--recursive",
          "--batch-size",
          "2",
          "--concurrency",
          "1",
          "--rps",
          "0",
          "--progress-interval",
          "0.4",
          "--journal",
          `${dir}/p.ndjson`,
        ], {
          ...baseEnv(dir),
          CLARIFAI_PAT: "k",
          CLARIFAI_GRPC_BASE: api.baseUrl,
          CLARIFAI_USER_ID: "u",
          CLARIFAI_APP_ID: "a",
        });
        assertEquals(run.code, 0, run.stderr);
        const lines = run.stderr.split("\n").filter((l) => l.startsWith("progress: "));
        assert(lines.length >= 2, `progress lines:\n${run.stderr}`);
        assertMatch(lines[0], /^progress: \[[#.]+\]\s+\d+\/12\s.*inputs\/s/);
        assert(!run.stderr.includes("\r") && !run.stderr.includes("\x1b"), "plain text only");
      } finally {
        await api.close();
      }
    });
  },
});
