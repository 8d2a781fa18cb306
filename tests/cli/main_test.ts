/**
 * The CLI as a user runs it: a subprocess per command, against the embedded local API or a
 * local API on 127.0.0.1, checking exit codes, output and the journal.
 */
import { startLocalApi } from "../../server/local/local_api.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";

const PERMISSIONS = { read: true, write: true, run: true, net: true, env: true } as const;

async function upflow(args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "src/cli/main.ts", ...args],
    env: { NO_COLOR: "1", CLARIFAI_PAT: "", CLARIFAI_GRPC_BASE: "", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

async function withTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "upflow folder uploads the samples to the embedded local API, then resumes",
  permissions: PERMISSIONS,
  async fn() {
    await withTempDir(async (dir) => {
      const args = [
        "folder",
        "samples/images",
        "--recursive",
        "--labels",
        "--dataset",
        "demo",
        "--create-dataset",
        "--local-data",
        `${dir}/local`,
        "--journal",
        `${dir}/journal.ndjson`,
      ];
      const first = await upflow(args);
      assertEquals(first.code, 0, first.stderr);
      assertStringIncludes(first.stderr, "embedded local API");
      assertMatch(first.stdout, /^ {2}uploaded\s+12 {2}/m);
      const again = await upflow(args);
      assertEquals(again.code, 0, again.stderr);
      assertMatch(again.stdout, /^ {2}already uploaded\s+12 {2}/m);
      assertStringIncludes(
        again.stdout,
        "nothing to upload: all 12 inputs were uploaded by an earlier run",
      );
      assertMatch(again.stdout, /^ {2}uploaded\s+0 {2}/m);
      const status = await upflow(["status", "--dataset", "demo", "--local-data", `${dir}/local`]);
      assertEquals(status.code, 0, status.stderr);
      assertMatch(status.stdout, /dataset\s+demo: 12 inputs/);
    });
  },
});

Deno.test({
  name: "upflow csv reports bad rows with their line, uploads the rest, and exits 1",
  permissions: PERMISSIONS,
  async fn() {
    await withTempDir(async (dir) => {
      const csv = `${dir}/data.csv`;
      await Deno.writeTextFile(
        csv,
        "inputid,input,concepts,geopoints\n" +
          "a,first text,x,\n" +
          'b,second text,y,"200,10"\n' +
          "c,third text,z,\n",
      );
      const run = await upflow(["csv", csv, "--local-data", `${dir}/local`, "--json"]);
      assertEquals(run.code, 1, run.stderr);
      const events = run.stdout.trim().split("\n").map((line) => JSON.parse(line));
      const rejected = events.filter((e) => e.type === "rejected");
      assertEquals(rejected.length, 1);
      assertStringIncludes(rejected[0].location, "data.csv:3");
      assertStringIncludes(rejected[0].reason, "longitude 200");
      const done = events.at(-1);
      assertEquals(done.type, "done");
      assertEquals([done.summary.uploaded, done.summary.rejected], [2, 1]);
    });
  },
});

Deno.test({
  name: "upflow exits 2 on bad usage, with the command's help pointer",
  permissions: PERMISSIONS,
  async fn() {
    const unknown = await upflow(["folder", "samples/images", "--no-such-flag"]);
    assertEquals(unknown.code, 2);
    assertStringIncludes(unknown.stderr, "--help");
    const range = await upflow(["folder", "samples/images", "--batch-size", "500"]);
    assertEquals(range.code, 2);
    assertStringIncludes(range.stderr, "--batch-size must be an integer from 1 to 128");
    const help = await upflow(["csv", "--help"]);
    assertEquals(help.code, 0);
    assertStringIncludes(help.stdout, "--csv-type");
  },
});

Deno.test({
  name: "upflow exits 3 on a wrong PAT and never prints it",
  permissions: PERMISSIONS,
  async fn() {
    await withTempDir(async (dir) => {
      const api = await startLocalApi({ port: 0, dataDir: ":memory:", key: "right-key" });
      try {
        const secret = "pat-WRONG-5e4d3c";
        const run = await upflow(
          ["folder", "samples/images", "--recursive", "--journal", `${dir}/j.ndjson`],
          {
            CLARIFAI_PAT: secret,
            CLARIFAI_GRPC_BASE: api.baseUrl,
            CLARIFAI_USER_ID: "u",
            CLARIFAI_APP_ID: "a",
          },
        );
        assertEquals(run.code, 3, run.stdout + run.stderr);
        // A short summary, then one last line: what (the PAT refused), where, how to fix.
        const last = run.stdout.trimEnd().split("\n").at(-1)!;
        assertMatch(
          last,
          /^error: Clarifai rejected the credentials \(CONN_KEY_INVALID\): check CLARIFAI_PAT/,
        );
        assert(!run.stdout.includes("rejected  0"), run.stdout);
        assert(!(run.stdout + run.stderr).includes(secret), "the PAT is not printed");
        assert(!(await Deno.readTextFile(`${dir}/j.ndjson`)).includes(secret));
      } finally {
        await api.close();
      }
    });
  },
});

Deno.test({
  name: "upflow retry re-sends duplicates under new IDs when asked",
  permissions: PERMISSIONS,
  async fn() {
    await withTempDir(async (dir) => {
      const csv = `${dir}/notes.csv`;
      await Deno.writeTextFile(csv, "inputid,input\nn1,one\nn2,two\n");
      const local = ["--local-data", `${dir}/local`];
      assertEquals((await upflow(["csv", csv, "--no-labels", ...local])).code, 0);
      // The same IDs under another journal, existing inputs failing: the server says they
      // exist already.
      const journal = `${dir}/second.ndjson`;
      const dup = await upflow([
        "csv",
        csv,
        "--no-labels",
        "--journal",
        journal,
        "--existing",
        "fail",
        ...local,
      ]);
      assertEquals(dup.code, 1, dup.stdout);
      assertStringIncludes(dup.stderr, 'an input with ID "n1" already exists');
      const plain = await upflow(["retry", journal, ...local]);
      assertEquals(plain.code, 1);
      assertStringIncludes(plain.stderr, "new-IDs-for-duplicates");
      const fresh = await upflow(["retry", journal, "--new-ids-for-duplicates", ...local]);
      assertEquals(fresh.code, 0, fresh.stderr);
      assertMatch(fresh.stdout, /^ {2}uploaded\s+2 {2}/m);
      const status = await upflow(["status", "--json", ...local]);
      assertEquals(JSON.parse(status.stdout).processed + JSON.parse(status.stdout).toProcess, 4);
    });
  },
});
