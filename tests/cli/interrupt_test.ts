import { assert, assertEquals, assertMatch } from "@std/assert";
import {
  lastLineOf,
  slowFolderArgs,
  spawnUpflow,
  upflow,
  withSlowApi,
  withTempDir,
} from "./_upflow.ts";

const PERMISSIONS = { read: true, write: true, run: true, env: true, net: true } as const;

Deno.test({
  name: "Ctrl-C: one 'stopping' line, the summary, and the exact command that resumes",
  permissions: PERMISSIONS,
  async fn() {
    await withTempDir((dir) =>
      withSlowApi(dir, async (env) => {
        const journal = `${dir}/my journal.ndjson`;
        const args = slowFolderArgs(journal);
        const child = spawnUpflow(args, env);
        const output = child.output();
        // Wait for the first input to be journaled as uploaded.
        for (let i = 0; i < 400; i++) {
          await new Promise((r) => setTimeout(r, 25));
          const text = await Deno.readTextFile(journal).catch(() => "");
          if (text.includes('"outcome":"uploaded"')) break;
        }
        // A terminal's Ctrl-C under `deno task` reaches the process twice.
        child.kill("SIGINT");
        child.kill("SIGINT");
        const done = await output;
        const stdout = new TextDecoder().decode(done.stdout);
        const stderr = new TextDecoder().decode(done.stderr);
        assertEquals(done.code, 130, stdout + stderr);
        assertEquals(stderr.split("\n").filter((l) => l.startsWith("stopping")).length, 1, stderr);
        assertMatch(stdout, /^ {2}uploaded\s+\d+ {2}/m);
        const last = lastLineOf(stdout);
        assertMatch(
          last,
          /^interrupted: \d+ inputs? uploaded before the stop; the journal keeps the rest for the next run\. To resume, run: upflow folder samples\/images --recursive --batch-size 1 --concurrency 1 --rps 0 --journal '.*\/my journal\.ndjson'$/,
        );
        const first = Number(/uploaded\s+(\d+)/.exec(stdout)![1]);
        assert(first >= 1 && first < 12, stdout);
        // Running that command again finishes the upload, nothing twice.
        const again = await upflow(args, env);
        assertEquals(again.code, 0, again.stderr);
        assertMatch(again.stdout, new RegExp(`^ {2}already uploaded\\s+${first} {2}`, "m"));
        assertMatch(again.stdout, new RegExp(`^ {2}uploaded\\s+${12 - first} {2}`, "m"));
      })
    );
  },
});
