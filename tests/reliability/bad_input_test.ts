/**
 * The bad-input corpus (`tests/fixtures/bad/` and files made at run time): every case runs the
 * CLI against a local API and must end with the right exit code and a summary, report each
 * rejection with its location and reason, finish within its deadline, and account for every
 * record (rejected + uploaded + skipped + failed = records). Then malformed requests to the
 * upload service: each refused with its status and error code, the service still healthy.
 */
import { join } from "node:path";
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { BAD, BAD_CASES, type BadCase } from "./_bad_cases.ts";
import {
  cliEnv,
  type CliResult,
  type Json,
  ndjsonEvents,
  pool,
  runCli,
  startApi,
} from "./_harness.ts";
import { startServer } from "../../server/start_server.ts";

const CASE_DEADLINE_MS = 30_000;

interface Ran {
  result: CliResult;
  events: Json[];
  summary: Json | undefined;
  tmp: string;
}

function describe(ran: Ran): string {
  const lines = ran.events.filter((e) => ["rejected", "failed", "skipped"].includes(e.type))
    .map((e) => `${e.type} ${e.location}: ${e.reason}`);
  return `exit ${ran.result.code}\n${lines.join("\n")}\nstderr: ${ran.result.stderr.slice(0, 800)}`;
}

function check(c: BadCase, ran: Ran): void {
  const { result, summary, events } = ran;
  assert(!result.timedOut, `${c.name}: did not finish within ${CASE_DEADLINE_MS} ms`);
  assertEquals(result.code, c.exit, `${c.name}: exit code\n${describe(ran)}`);
  if (c.records === undefined) {
    // The run stops before reading records: one clear message, no stack trace.
    if (c.fatalSummary) assert(summary?.fatal, `${c.name}: no fatal summary\n${describe(ran)}`);
    const text = `${result.stderr}\n${summary?.fatal?.message ?? ""}`;
    assertStringIncludes(text, c.message ?? "");
    assert(
      !/^\s+at /m.test(result.stderr),
      `${c.name}: a stack trace was printed\n${describe(ran)}`,
    );
    return;
  }
  assert(summary, `${c.name}: no summary\n${describe(ran)}`);
  assertEquals(
    summary.rejected + summary.uploaded + summary.skipped + summary.failed,
    c.records,
    `${c.name}: rejected + uploaded + skipped + failed = records\n${describe(ran)}`,
  );
  const reported = events.filter((e) => e.type === "rejected" || e.type === "failed");
  assertEquals(reported.length, summary.rejected + summary.failed, "every refusal is an event");
  for (const want of c.expect) {
    const found = reported.find((e) =>
      String(e.location).includes(want.location) &&
      String(e.reason).toLowerCase().includes(want.reason.toLowerCase())
    );
    assert(
      found,
      `${c.name}: no rejection at "${want.location}" saying "${want.reason}"\n${describe(ran)}`,
    );
  }
  assertEquals(
    reported.length,
    c.expect.length,
    `${c.name}: unexpected refusals\n${describe(ran)}`,
  );
}

Deno.test({
  name: "bad input: the CLI refuses each case with its reason and location, and loses nothing",
  permissions: { read: true, write: true, run: true, env: true, net: true },
  async fn(t) {
    const api = await startApi({ key: "bad-input-key" });
    const temps: string[] = [];
    try {
      // The runs go three at a time; the steps check them in order.
      const runs = pool(
        BAD_CASES.map((c, i) => async (): Promise<Ran> => {
          const tmp = await Deno.makeTempDir({ prefix: "upflow-bad-" });
          temps.push(tmp);
          await c.setup?.(tmp);
          const args = c.args.map((a) => a.replace("{bad}", BAD).replace("{tmp}", tmp));
          const result = await runCli(
            [...args, "--json", "--journal", join(tmp, "journal.ndjson")],
            { env: cliEnv(api, `bad${i}`), cwd: tmp, timeoutMs: CASE_DEADLINE_MS },
          );
          const events = ndjsonEvents(result.stdout);
          return {
            result,
            events,
            summary: events.findLast((e) => e.type === "done")?.summary,
            tmp,
          };
        }),
        3,
      );
      for (const [i, c] of BAD_CASES.entries()) {
        const ran = await runs[i];
        if (c.bug) {
          // Bug (see _bad_cases.ts): the case's real expectation stays red until it is fixed.
          await t.step({
            name: `${c.name} (bug: ${c.bug})`,
            ignore: true,
            fn: () => check(c, ran),
          });
          await t.step(`${c.name}: today at least no hang, non-zero exit, reason on stderr`, () => {
            assert(!ran.result.timedOut, "finished in time");
            assert(ran.result.code !== 0, "non-zero exit");
            assertStringIncludes(ran.result.stderr, c.message ?? "");
          });
          continue;
        }
        await t.step(c.name, () => check(c, ran));
      }
      assert(BAD_CASES.length >= 40, `at least 40 CLI cases: ${BAD_CASES.length}`);
    } finally {
      await api.close();
      for (const tmp of temps) {
        await Deno.chmod(join(tmp, "f/locked.png"), 0o644).catch(() => {});
        await Deno.remove(tmp, { recursive: true }).catch(() => {});
      }
    }
  },
});

interface ServiceCase {
  name: string;
  request: (url: string) => Promise<Response>;
  status: number;
  code?: string;
}

const TOKEN = "bad-input-token-42";
const AUTH = { authorization: `Bearer ${TOKEN}` };

/** A body that sends `head` and then errors, as a client that disconnects mid-upload. */
function brokenBody(head: string): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream({
    pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(new TextEncoder().encode(head));
        return;
      }
      controller.error(new Error("client went away"));
    },
  });
}

const SERVICE_CASES: ServiceCase[] = [
  {
    name: "no token",
    request: (url) => fetch(`${url}/v1/uploads`, { method: "POST", body: "input\nx\n" }),
    status: 401,
  },
  {
    name: "a wrong token",
    request: (url) =>
      fetch(`${url}/v1/uploads`, {
        method: "POST",
        headers: { authorization: "Bearer nope", "content-type": "text/csv" },
        body: "input\nx\n",
      }),
    status: 401,
  },
  {
    name: "a token in the wrong scheme",
    request: (url) =>
      fetch(`${url}/v1/uploads`, {
        method: "POST",
        headers: { authorization: `Key ${TOKEN}`, "content-type": "text/csv" },
        body: "input\nx\n",
      }),
    status: 401,
  },
  {
    name: "a folder path with ..",
    request: (url) =>
      fetch(`${url}/v1/uploads`, {
        method: "POST",
        headers: { ...AUTH, "content-type": "application/json" },
        body: JSON.stringify({ folder: "../../etc" }),
      }),
    status: 400,
  },
  {
    name: "an absolute CSV path",
    request: (url) =>
      fetch(`${url}/v1/uploads`, {
        method: "POST",
        headers: { ...AUTH, "content-type": "application/json" },
        body: JSON.stringify({ csv: "/etc/passwd" }),
      }),
    status: 400,
  },
  {
    name: "a symlink out of the root",
    request: (url) =>
      fetch(`${url}/v1/uploads`, {
        method: "POST",
        headers: { ...AUTH, "content-type": "application/json" },
        body: JSON.stringify({ folder: "escape" }),
      }),
    status: 400,
  },
  {
    name: "an encoded traversal in the job path",
    request: (url) => fetch(`${url}/v1/uploads/..%2F..%2Fetc%2Fpasswd`, { headers: AUTH }),
    status: 404,
  },
  {
    name: "a declared body over the limit",
    request: (url) =>
      fetch(`${url}/v1/uploads`, {
        method: "POST",
        headers: { ...AUTH, "content-type": "text/csv" },
        body: "input\n" + "x".repeat(2 * 1024 * 1024) + "\n",
      }),
    status: 413,
  },
  {
    name: "a multipart body over the limit, streamed without a length",
    request: (url) => {
      const boundary = "b0undary";
      const head = `--${boundary}\r\ncontent-disposition: form-data; name="file"; ` +
        `filename="a.png"\r\ncontent-type: image/png\r\n\r\n`;
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent === 0) controller.enqueue(new TextEncoder().encode(head));
          controller.enqueue(new Uint8Array(256 * 1024));
          sent++;
          if (sent > 12) controller.close();
        },
      });
      return fetch(`${url}/v1/uploads`, {
        method: "POST",
        headers: { ...AUTH, "content-type": `multipart/form-data; boundary=${boundary}` },
        body,
      });
    },
    status: 413,
  },
  {
    name: "a multipart body cut off mid-file",
    request: (url) =>
      fetch(`${url}/v1/uploads`, {
        method: "POST",
        headers: { ...AUTH, "content-type": "multipart/form-data; boundary=zz" },
        body: '--zz\r\ncontent-disposition: form-data; name="file"; filename="a.png"\r\n\r\nhalf',
      }),
    status: 400,
  },
  {
    name: "a wrong content type",
    request: (url) =>
      fetch(`${url}/v1/uploads`, {
        method: "POST",
        headers: { ...AUTH, "content-type": "application/xml" },
        body: "<csv/>",
      }),
    status: 415,
  },
  {
    name: "malformed JSON",
    request: (url) =>
      fetch(`${url}/v1/uploads`, {
        method: "POST",
        headers: { ...AUTH, "content-type": "application/json" },
        body: '{"folder": ',
      }),
    status: 400,
  },
  {
    name: "an unknown option",
    request: (url) =>
      fetch(`${url}/v1/uploads?colour=red`, {
        method: "POST",
        headers: { ...AUTH, "content-type": "text/csv" },
        body: "input\nx\n",
      }),
    status: 400,
  },
  {
    name: "a multipart file name that is only ..",
    request: (url) => {
      const form = new FormData();
      form.append("file", new Blob(["hello"]), "..");
      return fetch(`${url}/v1/uploads`, { method: "POST", headers: AUTH, body: form });
    },
    status: 400,
  },
];

Deno.test({
  name: "bad input: the service refuses malformed requests and stays healthy",
  permissions: { read: true, write: true, env: true, net: true },
  async fn(t) {
    const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "upflow-root-" }));
    const data = await Deno.makeTempDir({ prefix: "upflow-data-" });
    const outside = await Deno.makeTempDir({ prefix: "upflow-outside-" });
    await Deno.writeTextFile(join(outside, "secret.txt"), "not yours");
    await Deno.symlink(outside, join(root, "escape"));
    const server = await startServer({
      port: 0,
      hostname: "127.0.0.1",
      root,
      dataDir: data,
      token: TOKEN,
      maxBodyBytes: 1024 * 1024,
      log: () => {},
      target: { env: null, localDataDir: join(data, "local") },
    });
    try {
      for (const c of SERVICE_CASES) {
        await t.step(`service: ${c.name} → ${c.status}`, async () => {
          const res = await Promise.race([
            c.request(server.url),
            new Promise<never>((_, reject) =>
              setTimeout(() => reject(new Error("no answer in 15 s")), 15_000)
            ),
          ]);
          const text = await res.text();
          assertEquals(res.status, c.status, text);
          const body = JSON.parse(text);
          assert(body.error?.code && body.error?.message, `an error object: ${text}`);
          assert(!text.includes(TOKEN), "the token is not echoed");
        });
      }
      await t.step("service: a CSV body whose client disconnects mid-stream", async () => {
        const res = await fetch(`${server.url}/v1/uploads`, {
          method: "POST",
          headers: { ...AUTH, "content-type": "text/csv" },
          body: brokenBody("inputid,input\na,hello\nb,wor"),
        }).catch((err) => err as Error);
        if (res instanceof Response) await res.body?.cancel();
        // The service is still healthy, and the job (if one started) ends.
        const health = await fetch(`${server.url}/healthz`);
        assertEquals(health.status, 200);
        await health.body?.cancel();
      });
      await t.step(
        "service: a CSV body with an unclosed quote rejects that row and ends with a summary",
        async () => {
          const res = await fetch(`${server.url}/v1/uploads`, {
            method: "POST",
            headers: { ...AUTH, "content-type": "text/csv" },
            body: 'inputid,input,concepts\na,hello,x\nb,"never closed\n',
          });
          const lines = (await res.text()).split("\n").filter(Boolean).map((l) => JSON.parse(l));
          const last = lines.at(-1);
          assertEquals(last?.type, "done", JSON.stringify(lines));
          const rejected = lines.filter((line) => line.type === "rejected");
          assertEquals(rejected.length, 1, JSON.stringify(lines));
          assertStringIncludes(JSON.stringify(rejected[0]), "unterminated quoted field");
          assertEquals(
            [last.summary?.uploaded, last.summary?.rejected],
            [1, 1],
            JSON.stringify(last),
          );
        },
      );
      const health = await fetch(`${server.url}/healthz`);
      assertEquals(health.status, 200);
      await health.body?.cancel();
      assert(SERVICE_CASES.length >= 10);
    } finally {
      await server.shutdown();
      for (const dir of [root, data, outside]) {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    }
  },
});
