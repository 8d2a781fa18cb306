import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { slowFolderArgs, spawnUpflow, upflow, withSlowApi, withTempDir } from "./_upflow.ts";

const PERMISSIONS = { read: true, write: true, run: true, env: true, net: true } as const;

Deno.test({
  name: "A second run on a journal in use exits at once, naming the process that holds it",
  permissions: PERMISSIONS,
  async fn() {
    await withTempDir((dir) =>
      // A slow API keeps the first run busy for a few seconds.
      withSlowApi(dir, async (env) => {
        const args = slowFolderArgs(`${dir}/journal.ndjson`);
        const first = spawnUpflow(args, env);
        const firstOutput = first.output();
        // Wait for the first run to hold the journal.
        let journal: string | undefined;
        for (let i = 0; i < 400 && journal === undefined; i++) {
          await new Promise((r) => setTimeout(r, 25));
          const holder = await Deno.readTextFile(`${dir}/journal.ndjson.lock`).catch(() => "");
          if (holder.includes(`"pid":${first.pid}`)) journal = `${dir}/journal.ndjson`;
        }
        assert(journal !== undefined, "the first run holds its journal's lock");
        const started = performance.now();
        const second = await upflow(args, env);
        const seconds = (performance.now() - started) / 1000;
        assertEquals(second.code, 3, second.stdout + second.stderr);
        assertStringIncludes(second.stderr, `is in use by process ${first.pid}`);
        assertStringIncludes(second.stderr, "folder samples/images --recursive");
        assertEquals(second.stdout, "", "nothing was run");
        assert(seconds < 20, `the second run did not wait for the first (${seconds.toFixed(1)} s)`);
        const done = await firstOutput;
        assertEquals(done.code, 0, new TextDecoder().decode(done.stderr));
        // The lock went with the first run: a third run resumes (nothing left to send).
        const third = await upflow(args, env);
        assertEquals(third.code, 0, third.stderr);
        assertStringIncludes(
          third.stdout,
          "nothing to upload: all 12 inputs were uploaded by an earlier run",
        );
      })
    );
  },
});
