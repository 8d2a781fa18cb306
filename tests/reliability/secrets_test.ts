/**
 * Secrets: a recognisable PAT given to the CLI (environment) and to the service (environment
 * and the `x-clarifai-pat` header), through successful runs, rejected rows, injected faults, a
 * retry, and a wrong PAT, must appear in no standard output or error, log line, journal, job
 * file, response body, error message or metric.
 */
import { join } from "node:path";
import { assert, assertEquals } from "@std/assert";
import { startServer } from "../../server/start_server.ts";
import { cliEnv, runCli, startApi } from "./_harness.ts";

const SECRET = "pat-SECRET-9f8e7d";
/** The tell-tale part, so that a PAT cut short or with something appended is still found. */
const TELL = "SECRET-9f8e7d";

/** Every file under `dir` whose bytes contain the tell-tale, as relative paths. */
async function filesWithSecret(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (at: string) => {
    for await (const entry of Deno.readDir(at)) {
      const path = join(at, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (entry.isFile) {
        const text = new TextDecoder("latin1").decode(await Deno.readFile(path));
        if (text.includes(TELL)) found.push(path.slice(dir.length + 1));
      }
    }
  };
  await walk(dir);
  return found;
}

Deno.test({
  name: "secrets: the PAT appears in no CLI output, journal or error message",
  permissions: { read: true, write: true, run: true, env: true, net: true },
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "upflow-secret-cli-" });
    const api = await startApi({
      key: SECRET,
      faults: "throttle=0.2,unavailable=0.2,drop-after-commit=0.2,seed=5",
    });
    try {
      let csv = "inputid,input,concepts,metadata\n";
      for (let i = 0; i < 120; i++) csv += `s${i},"text ${i}",cat,"{'n': ${i}}"\n`;
      csv += `bad one,"x",cat,\n`;
      await Deno.writeTextFile(join(dir, "in.csv"), csv);
      const env = cliEnv(api, "secrets");
      const journal = join(dir, "journal.ndjson");
      const outputs: [string, string][] = [];
      const run = async (name: string, args: string[], extraEnv: Record<string, string> = {}) => {
        const r = await runCli(args, { env: { ...env, ...extraEnv }, cwd: dir, timeoutMs: 60_000 });
        outputs.push([`${name} stdout`, r.stdout], [`${name} stderr`, r.stderr]);
        return r;
      };
      const first = await run("csv (text)", [
        "csv",
        "in.csv",
        "--journal",
        journal,
        "--retries",
        "2",
        "--batch-size",
        "8",
        "--rps",
        "0",
      ]);
      assertEquals(first.code, 1, first.stderr);
      await run("retry --json", ["retry", journal, "--json", "--rps", "0"]);
      await run("csv --json, default journal", ["csv", "in.csv", "--json", "--rps", "0"]);
      const wrong = await run("wrong PAT", ["csv", "in.csv", "--json", "--journal", "w.ndjson"], {
        CLARIFAI_PAT: `${SECRET}-wrong`,
      });
      assertEquals(wrong.code, 3, "a wrong PAT is fatal");
      await run("status", ["status"]);
      await run("help", ["csv", "--help"]);
      await run("bad flag", ["csv", "in.csv", "--pat", SECRET.replace("pat-", "")]);

      for (const [name, text] of outputs) {
        await t.step(`no PAT in ${name}`, () => {
          assert(text.length > 0 || name.endsWith("stderr") || name.endsWith("stdout"));
          assert(!text.includes(TELL), `${name} shows the PAT:\n${text.slice(0, 2000)}`);
        });
      }
      await t.step("no PAT in any file the CLI wrote (journals included)", async () => {
        assertEquals(await filesWithSecret(dir), []);
      });
    } finally {
      await api.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "secrets: the PAT appears in no service response, log line, job file or metric",
  permissions: { read: true, write: true, env: true, net: true },
  async fn(t) {
    const api = await startApi({ key: SECRET, faults: "throttle=0.2,unavailable=0.1,seed=3" });
    const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "upflow-secret-root-" }));
    const data = await Deno.makeTempDir({ prefix: "upflow-secret-data-" });
    const logs: string[] = [];
    const env = new Map(Object.entries(cliEnv(api, "svc")));
    const server = await startServer({
      port: 0,
      hostname: "127.0.0.1",
      root,
      dataDir: data,
      token: "svc-token",
      log: (line) => logs.push(line),
      target: { env: { get: (name: string) => env.get(name) } },
    });
    const bodies: [string, string][] = [];
    const call = async (name: string, path: string, init: RequestInit = {}) => {
      const res = await fetch(`${server.url}${path}`, {
        ...init,
        headers: { authorization: "Bearer svc-token", ...init.headers },
      });
      const text = await res.text();
      bodies.push([`${name} (${res.status})`, `${JSON.stringify([...res.headers])}\n${text}`]);
      return { res, text };
    };
    try {
      let csv = "inputid,input,concepts\n";
      for (let i = 0; i < 60; i++) csv += `v${i},"text ${i}",cat\n`;
      csv += "bad id,x,cat\n";
      const upload = await call("upload with the server's PAT", "/v1/uploads?retries=2", {
        method: "POST",
        headers: { "content-type": "text/csv" },
        body: csv,
      });
      const jobId = upload.res.headers.get("upflow-job-id") ?? "";
      assert(jobId, upload.text);
      await call("job", `/v1/uploads/${jobId}`);
      await call("events", `/v1/uploads/${jobId}/events`);
      await call("failures", `/v1/uploads/${jobId}/failures`);
      await call("retry", `/v1/uploads/${jobId}/retry`, { method: "POST" });
      const own = await call(
        "upload with the request's PAT",
        "/v1/uploads?user_id=rel&app_id=own",
        {
          method: "POST",
          headers: { "content-type": "text/csv", "x-clarifai-pat": SECRET },
          body: "inputid,input,concepts\nown1,hello,cat\n",
        },
      );
      assert(own.res.ok, own.text);
      const wrong = await call(
        "upload with a wrong request PAT",
        "/v1/uploads?user_id=rel&app_id=own",
        {
          method: "POST",
          headers: { "content-type": "text/csv", "x-clarifai-pat": `${SECRET}-wrong` },
          body: "inputid,input,concepts\nown2,hello,cat\n",
        },
      );
      assert(wrong.text.includes("fatal") || !wrong.res.ok, wrong.text);
      await call("healthz", "/healthz");
      await call("metrics", "/metrics");
      await call("unknown route", "/v1/nothing");

      for (const [name, text] of bodies) {
        await t.step(`no PAT in the ${name} response`, () => {
          assert(!text.includes(TELL), `${name} shows the PAT:\n${text.slice(0, 2000)}`);
        });
      }
      await t.step("no PAT in the service's log lines", () => {
        assert(logs.length > 0, "the service logged");
        const bad = logs.filter((l) => l.includes(TELL));
        assertEquals(bad, []);
      });
      await t.step("no PAT in any job file (job.json, events, journals)", async () => {
        assertEquals(await filesWithSecret(data), []);
      });
    } finally {
      await server.shutdown();
      await api.close();
      await Deno.remove(root, { recursive: true }).catch(() => {});
      await Deno.remove(data, { recursive: true }).catch(() => {});
    }
  },
});
