// The upload service end to end: a live server on 127.0.0.1 (port 0), the embedded local API as
// target, requests made with fetch (the README's curl examples, one by one) or app.request().
import { assert, assertEquals, assertGreater, assertLessOrEqual, assertMatch } from "@std/assert";
import { join } from "node:path";
import { readJournal } from "../../src/journal/journal.ts";
import { createApp } from "../../server/app.ts";
import { UploadService } from "../../server/upload_service.ts";
import {
  AUTH,
  csvRows,
  csvText,
  deadlineTest,
  type Line,
  lines,
  ndjson,
  testServer,
  TOKEN,
  withDeadline,
} from "./_helpers.ts";

const CSV = { ...AUTH, "content-type": "text/csv" };

Deno.test(deadlineTest(120_000, {
  name: "a 20,000-row CSV body streams through as NDJSON, read only as fast as it is processed",
  permissions: { read: true, write: true, net: ["127.0.0.1"], env: true, sys: true },
  async fn() {
    const t = await testServer();
    try {
      const rows = 20_000;
      let pulled = 0;
      const body = csvRows(rows, { pad: 1000 }).pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, c) {
            pulled += chunk.length;
            c.enqueue(chunk);
          },
        }),
      );
      const res = await fetch(`${t.url}/v1/uploads?dry_run=true&batch_size=128`, {
        method: "POST",
        headers: CSV,
        body,
        duplex: "half",
      } as RequestInit);
      assertEquals(res.status, 200);
      assertEquals(res.headers.get("content-type"), "application/x-ndjson; charset=utf-8");
      const id = res.headers.get("upflow-job-id");
      assertMatch(id ?? "", /^[0-9a-f]{24}$/);
      const seen: Line[] = [];
      let firstLineAt = -1;
      let processed = 0;
      let readAhead = 0;
      for await (const line of lines(res.body!)) {
        if (seen.length === 0) firstLineAt = pulled;
        if (line.type === "batch") {
          processed += line.bytes;
          readAhead = Math.max(readAhead, pulled - processed);
        }
        seen.push(line);
      }
      assertEquals(seen[0], {
        type: "job",
        id,
        kind: "csv",
        source: "csv body",
        createdAt: seen[0].createdAt,
      });
      assertEquals(seen[1].type, "start");
      const done = seen.at(-1);
      assertEquals(done.type, "done");
      assertEquals([done.summary.uploaded, done.summary.rejected], [rows, 0]);
      assertGreater(pulled, 20_000_000);
      // The first line came while the body was still being sent: the response streams.
      assertLessOrEqual(firstLineAt, pulled / 2);
      // The service reads the body only as fast as the run consumes it (measured: ~7 MB,
      // socket buffers included), so the body never piles up in memory.
      assertLessOrEqual(readAhead, 16 * 1024 * 1024, `read ahead ${readAhead} bytes`);
    } finally {
      await t.close();
    }
  },
}));

Deno.test(deadlineTest(240_000, {
  name: "a 320 MB CSV body goes through a service process with a 64 MB heap and bounded RSS",
  permissions: { read: true, write: true, net: ["127.0.0.1"], env: true, sys: true, run: true },
  async fn() {
    const root = await Deno.makeTempDir();
    const data = await Deno.makeTempDir();
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--no-check",
        "--v8-flags=--max-old-space-size=64",
        new URL("./_serve_process.ts", import.meta.url).pathname,
        root,
        data,
        TOKEN,
      ],
      cwd: new URL("../../", import.meta.url).pathname,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    try {
      const url = (await out.read()).value!.trim();
      let sent = 0;
      const body = csvRows(20_000, { pad: 16_000 }).pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, c) {
            sent += chunk.length;
            c.enqueue(chunk);
          },
        }),
      );
      const res = await fetch(`${url}/v1/uploads?dry_run=true&batch_size=128`, {
        method: "POST",
        headers: CSV,
        body,
        duplex: "half",
      } as RequestInit);
      let last: Line;
      for await (const line of lines(res.body!)) last = line;
      assertEquals(last.summary.uploaded, 20_000);
      assertGreater(sent, 300_000_000);
      // A heap of 64 MB could not hold the body; the process's peak RSS (ArrayBuffers of chunks
      // waiting for the collector included; measured ~190 MB) stays well under the body's size.
      await child.stdin.close();
      let report = "";
      for (let r = await out.read(); !r.done; r = await out.read()) report += r.value;
      const { startRss, peakRss } = JSON.parse(report);
      const growth = peakRss - startRss;
      assertLessOrEqual(growth, sent * 0.8, `peak RSS grew ${growth} bytes for ${sent}`);
    } finally {
      await child.stdin.close().catch(() => {});
      await out.cancel();
      await child.status;
      await Deno.remove(root, { recursive: true });
      await Deno.remove(data, { recursive: true });
    }
  },
}));

Deno.test(deadlineTest(60_000, {
  name: "a client that leaves does not stop the job; GET events replays and follows",
  permissions: { read: true, write: true, net: ["127.0.0.1"], env: true, sys: true },
  async fn() {
    const t = await testServer();
    try {
      // rps=40 with batches of 10: 300 rows take ~0.75 s against the local API.
      const res = await fetch(`${t.url}/v1/uploads?batch_size=10&rps=40`, {
        method: "POST",
        headers: CSV,
        body: csvText(300, "leave"),
      });
      const id = res.headers.get("upflow-job-id")!;
      const reader = lines(res.body!);
      assertEquals((await reader.next()).value, {
        type: "job",
        id,
        kind: "csv",
        source: "csv body",
        createdAt: (await (await fetch(`${t.url}/v1/uploads/${id}`, { headers: AUTH })).json())
          .createdAt,
      });
      assertEquals((await reader.next()).value.type, "start");
      await reader.return(undefined); // the client goes away mid-run
      const state = await (await fetch(`${t.url}/v1/uploads/${id}`, { headers: AUTH })).json();
      assertEquals(state.state, "running");

      const again = await fetch(`${t.url}/v1/uploads/${id}/events`, { headers: AUTH });
      assertEquals(again.headers.get("upflow-job-id"), id);
      const replay = await ndjson(again);
      assertEquals(replay[0].type, "job");
      assertEquals(replay.at(-1).type, "done");
      assertEquals(replay.at(-1).summary.uploaded, 300);
      const ids = replay.filter((l) => l.type === "batch").flatMap((l) => l.ids);
      assertEquals(ids.length, 300);

      const finalState = await (await fetch(`${t.url}/v1/uploads/${id}`, { headers: AUTH })).json();
      assertEquals([finalState.state, finalState.counts.uploaded], ["completed", 300]);
      const metrics = await (await fetch(`${t.url}/metrics`)).text();
      assertMatch(metrics, /upflow_event_stream_disconnects_total [1-9]/);
      assertMatch(metrics, /upflow_inputs_total\{outcome="uploaded"\} 300/);
    } finally {
      await t.close();
    }
  },
}));

Deno.test({
  name: "DELETE cancels a running job cleanly: cancelled summary, journal whole",
  permissions: { read: true, write: true, net: ["127.0.0.1"], env: true, sys: true },
  fn: () =>
    withDeadline(60_000, "DELETE cancels a running job", async (deadline) => {
      const t = await testServer();
      // The client's side of the POST: aborted at the end whatever happens, so a failing
      // assertion cannot leave a half-sent body holding the connection open.
      const abort = new AbortController();
      const gone = AbortSignal.any([abort.signal, deadline]);
      try {
        const encoder = new TextEncoder();
        let sent = false;
        // 100 rows, then the body stays open until the client goes: the job waits for more.
        const body = new ReadableStream<Uint8Array>({
          async pull(c) {
            if (!sent) {
              sent = true;
              c.enqueue(encoder.encode(csvText(100, "cancel")));
              return;
            }
            await new Promise((resolve) => gone.addEventListener("abort", resolve, { once: true }));
            c.close();
          },
        });
        const res = await fetch(`${t.url}/v1/uploads?batch_size=10&rps=0`, {
          method: "POST",
          headers: CSV,
          body,
          duplex: "half",
          signal: gone,
        } as RequestInit);
        const id = res.headers.get("upflow-job-id")!;
        const seen: Line[] = [];
        // Read up to the third batch and keep the response open (leaving the loop would close
        // the connection, and a client gone before its body is complete ends the job itself).
        const reader = lines(res.body!);
        for (let next = await reader.next(); !next.done; next = await reader.next()) {
          seen.push(next.value);
          if (next.value.type === "batch" && next.value.batch === 3) break;
        }
        const deleted = await fetch(`${t.url}/v1/uploads/${id}`, {
          method: "DELETE",
          headers: AUTH,
          signal: deadline,
        });
        assertEquals(deleted.status, 200);
        const record = await deleted.json();
        assertEquals(record.state, "cancelled");
        assertEquals(record.summary.cancelled, true);
        assertGreater(record.counts.uploaded, 29);
        assertLessOrEqual(record.counts.uploaded, 100);
        const replay = await ndjson(
          await fetch(`${t.url}/v1/uploads/${id}/events`, { headers: AUTH, signal: deadline }),
        );
        assertEquals(replay.at(-1).summary.cancelled, true);
        const journal = await readJournal(join(t.data, "jobs", id, "journal.ndjson"));
        // The journal agrees with the summary: every answered input is recorded, nothing torn.
        assertEquals(
          [journal.badLines, journal.repaired, journal.uploaded.size],
          [0, false, record.counts.uploaded],
        );
        // Cancelling again: the job has ended.
        const twice = await fetch(`${t.url}/v1/uploads/${id}`, {
          method: "DELETE",
          headers: AUTH,
          signal: deadline,
        });
        assertEquals(twice.status, 409);
        assertEquals((await twice.json()).error.code, "job_finished");
      } finally {
        abort.abort();
        await t.close();
      }
    }),
});

Deno.test({
  name: "the service shuts down while a client still sends the body of a job that has ended",
  permissions: { read: true, write: true, net: ["127.0.0.1"], env: true, sys: true },
  fn: () =>
    withDeadline(60_000, "shutdown with a half-sent body", async (deadline) => {
      const t = await testServer();
      const stop = AbortSignal.any([deadline]);
      let closed = false;
      try {
        const encoder = new TextEncoder();
        let sent = false;
        // The client sends 20 rows and then never finishes its body (until the deadline).
        const body = new ReadableStream<Uint8Array>({
          async pull(c) {
            if (!sent) {
              sent = true;
              c.enqueue(encoder.encode(csvText(20, "half")));
              return;
            }
            await new Promise((resolve) => stop.addEventListener("abort", resolve, { once: true }));
            c.close();
          },
        });
        const res = await fetch(`${t.url}/v1/uploads?batch_size=10&rps=0`, {
          method: "POST",
          headers: CSV,
          body,
          duplex: "half",
          signal: stop,
        } as RequestInit);
        const reader = lines(res.body!);
        for (let next = await reader.next(); !next.done; next = await reader.next()) {
          if (next.value.type === "batch" && next.value.batch === 2) break;
        }
        // The service stops (cancelling the job) while the body is still open: the shutdown
        // ends the connection instead of waiting for a body that is never finished.
        await t.close();
        closed = true;
        await reader.return(undefined).catch(() => {});
      } finally {
        if (!closed) await t.close();
      }
    }),
});

Deno.test(deadlineTest(60_000, {
  name: "every /v1 route needs the bearer token; health and metrics do not",
  permissions: { read: true, write: true, net: ["127.0.0.1"], env: true, sys: true },
  async fn(t) {
    const s = await testServer();
    try {
      const cases: [string, string, Record<string, string>, number][] = [
        ["POST", "/v1/uploads", {}, 401],
        ["POST", "/v1/uploads", { authorization: "Bearer wrong" }, 401],
        ["POST", "/v1/uploads", { authorization: `Basic ${btoa("u:" + TOKEN)}` }, 401],
        ["POST", "/v1/uploads", { authorization: "Bearer not/a!token" }, 401],
        ["POST", "/v1/uploads", { authorization: "Bearer" }, 401],
        ["GET", `/v1/uploads/${"0".repeat(24)}`, {}, 401],
        ["GET", `/v1/uploads/${"0".repeat(24)}/events`, {}, 401],
        ["GET", `/v1/uploads/${"0".repeat(24)}/failures`, {}, 401],
        ["POST", `/v1/uploads/${"0".repeat(24)}/retry`, {}, 401],
        ["DELETE", `/v1/uploads/${"0".repeat(24)}`, {}, 401],
        ["GET", `/v1/uploads/${"0".repeat(24)}`, AUTH, 404],
        ["GET", "/healthz", {}, 200],
        ["GET", "/metrics", {}, 200],
      ];
      for (const [method, path, headers, status] of cases) {
        await t.step(
          `${method} ${path} ${Object.values(headers)[0] ?? "(none)"} → ${status}`,
          async () => {
            const res = await fetch(`${s.url}${path}`, { method, headers });
            assertEquals(res.status, status);
            if (status === 401) {
              const body = await res.json();
              assertEquals(body.error.code, "unauthorized");
              assertEquals(res.headers.get("www-authenticate"), 'Bearer realm="upflow"');
              // A bearer header with a wrong token is told so; anything else, what to send.
              const wrong = /^Bearer\s+\S/.test(headers.authorization ?? "");
              assertEquals(
                body.error.message,
                wrong
                  ? "The bearer token is not valid"
                  : "Send Authorization: Bearer <token> (the service's UPFLOW_TOKEN)",
              );
            } else await res.body?.cancel();
          },
        );
      }
    } finally {
      await s.close();
    }
  },
}));

Deno.test({
  name: "a token a bearer header cannot carry is refused when the service opens",
  permissions: { read: true, write: true },
  async fn(t) {
    for (const token of ["has space", "semi;colon", 'quote"', "=leading"]) {
      await t.step(JSON.stringify(token), async () => {
        const dataDir = await Deno.makeTempDir();
        try {
          const error = await UploadService.open({ root: ".", dataDir, token, log: () => {} })
            .then(() => undefined, (e: Error) => e);
          assert(error instanceof TypeError, `${token} was accepted`);
          assertMatch(error.message, /token may hold only letters, digits and -\._~\+\//);
        } finally {
          await Deno.remove(dataDir, { recursive: true });
        }
      });
    }
  },
});

Deno.test(deadlineTest(60_000, {
  name: "paths are confined to the root: traversal, absolute, encoded and symlink escapes refused",
  permissions: { read: true, write: true, net: ["127.0.0.1"], env: true, sys: true },
  async fn(t) {
    const s = await testServer();
    const outside = await Deno.makeTempDir({ prefix: "upflow-outside-" });
    try {
      await Deno.writeTextFile(join(outside, "secret.txt"), "do not upload");
      await Deno.writeTextFile(join(outside, "secret.csv"), "inputid,input\ns,secret\n");
      await Deno.mkdir(join(s.root, "docs"));
      await Deno.writeTextFile(join(s.root, "docs", "ok.txt"), "fine");
      await Deno.symlink(join(outside, "secret.txt"), join(s.root, "docs", "leak.txt"));
      await Deno.symlink(outside, join(s.root, "away"));
      await Deno.symlink(join(outside, "secret.csv"), join(s.root, "away.csv"));
      const refused: [string, Record<string, unknown>, number, string][] = [
        ["../ traversal", { folder: "../" }, 400, "path_outside_root"],
        ["nested traversal", { csv: "docs/../../secret.csv" }, 400, "path_outside_root"],
        ["absolute path", { csv: join(outside, "secret.csv") }, 400, "path_outside_root"],
        ["backslash traversal", { folder: "..\\x" }, 400, "path_outside_root"],
        ["percent-encoded ..", { folder: "%2e%2e/x" }, 400, "path_outside_root"],
        ["double-encoded ..", { folder: "%252e%252e%252f" }, 400, "path_outside_root"],
        ["symlinked folder", { folder: "away" }, 400, "path_outside_root"],
        ["symlinked csv", { csv: "away.csv" }, 400, "path_outside_root"],
        ["missing path", { folder: "nope" }, 404, "path_not_found"],
        ["server options", { folder: "docs", journal: "/tmp/x" }, 400, "bad_request"],
      ];
      for (const [name, body, status, code] of refused) {
        await t.step(`${name} → ${status} ${code}`, async () => {
          const res = await fetch(`${s.url}/v1/uploads?dry_run=true`, {
            method: "POST",
            headers: { ...AUTH, "content-type": "application/json" },
            body: JSON.stringify(body),
          });
          assertEquals(res.status, status);
          const error = (await res.json()).error;
          assertEquals(error.code, code);
          assert(!error.message.includes(outside), "the message does not name the target");
        });
      }
      await t.step("an encoded job ID in the URL is never a path", async () => {
        const res = await fetch(`${s.url}/v1/uploads/..%2f..%2fetc`, { headers: AUTH });
        assertEquals(res.status, 404);
        await res.body?.cancel();
      });
      await t.step("a symlink inside an allowed folder is rejected, the rest uploads", async () => {
        const res = await fetch(`${s.url}/v1/uploads?dry_run=true`, {
          method: "POST",
          headers: { ...AUTH, "content-type": "application/json" },
          body: JSON.stringify({ folder: "docs" }),
        });
        const events = await ndjson(res);
        const rejected = events.filter((e) => e.type === "rejected");
        assertEquals(rejected.map((e) => e.location), ["leak.txt"]);
        assertMatch(rejected[0].reason, /outside the server's root/);
        assertEquals(events.at(-1).summary.uploaded, 1);
      });
    } finally {
      await s.close();
      await Deno.remove(outside, { recursive: true });
    }
  },
}));

Deno.test(deadlineTest(60_000, {
  name: "an oversized body is refused with 413 while it streams",
  permissions: { read: true, write: true, env: true, sys: true, net: ["127.0.0.1"] },
  async fn(t) {
    const root = await Deno.makeTempDir();
    const data = await Deno.makeTempDir();
    const service = await UploadService.open({
      root,
      dataDir: data,
      token: TOKEN,
      maxBodyBytes: 256 * 1024,
      maxFiles: 3,
      log: () => {},
      target: { env: null, localDataDir: join(data, "local") },
    });
    const app = createApp(service);
    const encoder = new TextEncoder();
    /** A multipart body of `files` files of `size` bytes each, counting what is pulled. */
    const multipart = (files: number, size: number) => {
      const state = { pulled: 0, file: 0, sentInFile: -1, done: false };
      const chunk = new Uint8Array(16 * 1024).fill(97);
      const stream = new ReadableStream<Uint8Array>({
        pull(c) {
          let out: Uint8Array;
          if (state.file >= files) {
            out = encoder.encode("\r\n--XyZ--\r\n");
            state.done = true;
          } else if (state.sentInFile === -1) {
            out = encoder.encode(
              `${
                state.file ? "\r\n" : ""
              }--XyZ\r\ncontent-disposition: form-data; name="file"; filename="f${state.file}.txt"\r\n\r\n`,
            );
            state.sentInFile = 0;
          } else if (state.sentInFile < size) {
            out = chunk.subarray(0, Math.min(chunk.length, size - state.sentInFile));
            state.sentInFile += out.length;
          } else {
            state.file++;
            state.sentInFile = -1;
            out = new Uint8Array(0);
          }
          state.pulled += out.length;
          c.enqueue(out);
          if (state.done) c.close();
        },
      }, { highWaterMark: 0 });
      return { stream, state };
    };
    try {
      await t.step("a 64 MB file: refused after ~256 KB read", async () => {
        const { stream, state } = multipart(1, 64 * 1024 * 1024);
        const res = await app.request("/v1/uploads", {
          method: "POST",
          headers: { ...AUTH, "content-type": "multipart/form-data; boundary=XyZ" },
          body: stream,
          duplex: "half",
        } as RequestInit);
        assertEquals(res.status, 413);
        const error = (await res.json()).error;
        assertEquals(error.code, "payload_too_large");
        assertMatch(error.message, /262144 bytes/);
        assertLessOrEqual(state.pulled, 256 * 1024 + 64 * 1024);
      });
      await t.step("too many files: 413 at the fourth file", async () => {
        const { stream, state } = multipart(50, 10);
        const res = await app.request("/v1/uploads", {
          method: "POST",
          headers: { ...AUTH, "content-type": "multipart/form-data; boundary=XyZ" },
          body: stream,
          duplex: "half",
        } as RequestInit);
        assertEquals(res.status, 413);
        assertEquals((await res.json()).error.code, "too_many_files");
        assert(!state.done);
      });
      await t.step("a declared Content-Length over the limit: 413 before reading", async () => {
        let pulled = 0;
        const body = new ReadableStream<Uint8Array>({
          pull(c) {
            pulled++;
            c.enqueue(new Uint8Array(10));
          },
        }, { highWaterMark: 0 });
        const res = await app.request("/v1/uploads", {
          method: "POST",
          headers: { ...CSV, "content-length": String(1024 * 1024) },
          body,
          duplex: "half",
        } as RequestInit);
        assertEquals(res.status, 413);
        await res.body?.cancel();
        assertEquals(pulled, 0);
      });
      await t.step(
        "a chunked CSV body crossing the limit ends the job with a fatal summary",
        async () => {
          const res = await app.request("/v1/uploads?dry_run=true", {
            method: "POST",
            headers: CSV,
            body: csvRows(100_000, { pad: 100 }),
            duplex: "half",
          } as RequestInit);
          const events = await ndjson(res);
          const summary = events.at(-1).summary;
          assertEquals(summary.fatal.code, "PAYLOAD_TOO_LARGE");
          const job = await (await app.request(`/v1/uploads/${events[0].id}`, { headers: AUTH }))
            .json();
          assertEquals(job.state, "failed");
        },
      );
      await t.step("refused multipart jobs leave no folder behind", async () => {
        const left = await Array.fromAsync(Deno.readDir(join(data, "jobs")));
        assertEquals(left.length, 1); // only the CSV job above
      });
    } finally {
      await service.close();
      await Deno.remove(root, { recursive: true });
      await Deno.remove(data, { recursive: true });
    }
  },
}));

Deno.test(deadlineTest(120_000, {
  name: "20 concurrent jobs finish with correct counts",
  permissions: { read: true, write: true, net: ["127.0.0.1"], env: true, sys: true },
  async fn() {
    const t = await testServer();
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, async (_, j) => {
          const res = await fetch(`${t.url}/v1/uploads?rps=0&batch_size=16`, {
            method: "POST",
            headers: CSV,
            body: csvText(40 + j, `j${j}-`),
          });
          const events = await ndjson(res);
          return { id: res.headers.get("upflow-job-id")!, summary: events.at(-1).summary };
        }),
      );
      for (const [j, { id, summary }] of results.entries()) {
        assertEquals([summary.uploaded, summary.failed, summary.rejected], [40 + j, 0, 0]);
        const state = await (await fetch(`${t.url}/v1/uploads/${id}`, { headers: AUTH })).json();
        assertEquals([state.state, state.counts.uploaded], ["completed", 40 + j]);
      }
      assertEquals(new Set(results.map((r) => r.id)).size, 20);
      const health = await (await fetch(`${t.url}/healthz`)).json();
      assertEquals(health.jobs.completed, 20);
      const metrics = await (await fetch(`${t.url}/metrics`)).text();
      // 40 + 41 + … + 59
      assertMatch(metrics, /upflow_inputs_total\{outcome="uploaded"\} 990\n/);
      assertMatch(metrics, /upflow_jobs\{state="completed"\} 20\n/);
      assertMatch(
        metrics,
        /upflow_http_request_duration_seconds_count\{method="POST",route="\/v1\/uploads"\} 20\n/,
      );
    } finally {
      await t.close();
    }
  },
}));
