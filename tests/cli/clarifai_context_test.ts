import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { startLocalApi } from "../../server/local/local_api.ts";
import { baseEnv, lastLineOf, upflow, withTempDir } from "./_upflow.ts";

const PERMISSIONS = { read: true, write: true, run: true, env: true, net: true } as const;
const GOOD_PAT = "ctx-pat-7f3e9a1b";
const WRONG_PAT = "ctx-pat-WRONG-55aa";

async function writeConfig(home: string, base: string): Promise<string> {
  const path = `${home}/.config/clarifai/config`;
  await Deno.mkdir(`${home}/.config/clarifai`, { recursive: true });
  // As `clarifai login` writes it (PyYAML's safe_dump).
  await Deno.writeTextFile(
    path,
    `contexts:
  other:
    CLARIFAI_API_BASE: ${base}
    CLARIFAI_PAT: ${WRONG_PAT}
    CLARIFAI_USER_ID: bob
  work:
    CLARIFAI_API_BASE: ${base}
    CLARIFAI_PAT: ${GOOD_PAT}
    CLARIFAI_USER_ID: ada
current_context: work
`,
  );
  return path;
}

Deno.test({
  name: "Credentials: flags, then environment, then the Clarifai CLI's active context (--context)",
  permissions: PERMISSIONS,
  async fn(t) {
    await withTempDir(async (home) => {
      const api = await startLocalApi({ port: 0, dataDir: ":memory:", key: GOOD_PAT });
      try {
        const config = await writeConfig(home, api.baseUrl);
        const env = { ...baseEnv(home), CLARIFAI_APP_ID: "photos" };
        const csv = ["csv", "samples/reviews.csv", "--dataset", "d", "--create-dataset"];

        await t.step(
          "the active context gives PAT, user and base; the env gives the app",
          async () => {
            const run = await upflow([...csv, "--journal", `${home}/a.ndjson`], env);
            assertEquals(run.code, 0, run.stdout + run.stderr);
            const first = run.stderr.split("\n")[0];
            assertStringIncludes(first, `uploading to ${api.baseUrl}`);
            assertStringIncludes(first, `PAT from context "work" of ${config}`);
            assert(!(run.stdout + run.stderr).includes(GOOD_PAT), "the PAT is never printed");
            const status = await upflow(["status", "--dataset", "d"], env);
            assertEquals(status.code, 0, status.stderr);
            assertMatch(status.stdout, /dataset\s+d: 5 inputs/);
            // Under user ada (from the context) and app photos (from the environment):
            const explicit = await upflow([
              "status",
              "--dataset",
              "d",
              "--user",
              "ada",
              "--app",
              "photos",
            ], {
              ...baseEnv(home),
              CLARIFAI_PAT: GOOD_PAT,
              CLARIFAI_GRPC_BASE: api.baseUrl,
            });
            assertMatch(explicit.stdout, /dataset\s+d: 5 inputs/);
          },
        );

        await t.step(
          "--context picks another context; its wrong PAT is named as the cause",
          async () => {
            const run = await upflow([
              ...csv,
              "--context",
              "other",
              "--journal",
              `${home}/b.ndjson`,
            ], env);
            assertEquals(run.code, 3, run.stdout + run.stderr);
            assertStringIncludes(run.stderr.split("\n")[0], 'PAT from context "other"');
            const last = lastLineOf(run.stdout);
            assertMatch(last, /^error: Clarifai rejected the credentials/);
            assertStringIncludes(last, `in use: PAT from context "other" of ${config}`);
            assert(!(run.stdout + run.stderr).includes(WRONG_PAT));
          },
        );

        await t.step("--context with a typo: usage error with a suggestion", async () => {
          const run = await upflow([...csv, "--context", "wrok"], env);
          assertEquals(run.code, 2);
          assertStringIncludes(run.stderr, "--context wrok: no such context");
          assertStringIncludes(run.stderr, "(did you mean work?)");
        });

        await t.step("CLARIFAI_PAT in the environment wins over the context", async () => {
          const run = await upflow([...csv, "--journal", `${home}/c.ndjson`], {
            ...env,
            CLARIFAI_PAT: WRONG_PAT,
            CLARIFAI_USER_ID: "ada",
            CLARIFAI_GRPC_BASE: api.baseUrl,
          });
          assertEquals(run.code, 3, run.stdout + run.stderr);
          assertStringIncludes(run.stderr.split("\n")[0], "PAT from CLARIFAI_PAT");
        });

        await t.step("CLARIFAI_PAT set empty: no context, the embedded local API", async () => {
          const run = await upflow(
            [...csv, "--journal", `${home}/d.ndjson`, "--local-data", `${home}/local`],
            { ...env, CLARIFAI_PAT: "" },
          );
          assertEquals(run.code, 0, run.stdout + run.stderr);
          assertStringIncludes(run.stderr.split("\n")[0], "the embedded local API");
        });

        await t.step("a config that is not YAML is named with its line", async () => {
          await Deno.writeTextFile(config, "contexts:\n  work:\n    - nope\n");
          const run = await upflow([...csv, "--journal", `${home}/e.ndjson`], env);
          assertEquals(run.code, 2);
          assertStringIncludes(run.stderr, `${config}:3: lists are not supported`);
        });
      } finally {
        await api.close();
      }
    });
  },
});
