// The README's curl examples, each run as the same request with fetch against a live server on
// 127.0.0.1 with the embedded local API as target; and the PAT never leaking anywhere.
import { assert, assertEquals, assertMatch } from "@std/assert";
import { join } from "node:path";
import { startLocalApi } from "../../server/local/local_api.ts";
import { AUTH, csvText, deadlineTest, type Line, ndjson, testServer, TOKEN } from "./_helpers.ts";

const PERMISSIONS: Deno.PermissionOptionsObject = {
  read: true,
  write: true,
  net: ["127.0.0.1"],
  env: true,
  sys: true,
};

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyTree(join(from, entry.name), join(to, entry.name));
    else await Deno.copyFile(join(from, entry.name), join(to, entry.name));
  }
}

Deno.test(deadlineTest(120_000, {
  name: "README examples: each way to start an upload, re-attach, failures, retry, cancel",
  permissions: PERMISSIONS,
  async fn(t) {
    const s = await testServer();
    const shared = await s.server.service.target({});
    const userAppId = shared.client.userAppId;
    const conceptsOf = async (inputId: string) => {
      const got = await shared.client.getInput({ userAppId, inputId });
      return (got.input?.data?.concepts ?? []).map((c) => c.id).sort();
    };
    try {
      await copyTree("samples/images", join(s.root, "images"));
      await Deno.copyFile("samples/reviews.csv", join(s.root, "reviews.csv"));

      // curl -N -H "Authorization: Bearer $UPFLOW_TOKEN" -H "content-type: text/csv" \
      //   --data-binary @samples/reviews.csv "$URL/v1/uploads?dataset=reviews&create_dataset=true"
      await t.step("a CSV streamed as the body", async () => {
        const res = await fetch(`${s.url}/v1/uploads?dataset=reviews&create_dataset=true`, {
          method: "POST",
          headers: { ...AUTH, "content-type": "text/csv" },
          body: (await Deno.open("samples/reviews.csv")).readable,
        });
        const events = await ndjson(res);
        assertEquals(events[0].id, res.headers.get("upflow-job-id"));
        assertEquals(events.at(-1).summary.uploaded, 5);
        assertEquals(await conceptsOf("review-004"), ["cat", "funny"]);
      });

      // curl -N -H "Authorization: Bearer $UPFLOW_TOKEN" \
      //   -F "file=@cat_01.png" -F "file=@dog_01.png" \
      //   -F "labels[cat_01.png]=cat,cute" -F "labels[dog_01.png]=dog" "$URL/v1/uploads"
      await t.step("files as multipart/form-data with per-file labels", async () => {
        const form = new FormData();
        for (const name of ["cat/cat_01.png", "dog/dog_01.png"]) {
          const bytes = await Deno.readFile(`samples/images/${name}`);
          form.append("file", new File([bytes], name.split("/")[1], { type: "image/png" }));
        }
        form.append("labels[cat_01.png]", "cat,cute");
        form.append("labels[dog_01.png]", "dog");
        form.append("id_from", "stem");
        const res = await fetch(`${s.url}/v1/uploads`, {
          method: "POST",
          headers: AUTH,
          body: form,
        });
        const events = await ndjson(res);
        assertEquals(events[0].source, "multipart upload");
        assertEquals(events.at(-1).summary.uploaded, 2);
        assertEquals(await conceptsOf("cat_01"), ["cat", "cute"]);
        assertEquals(await conceptsOf("dog_01"), ["dog"]);
      });

      // curl -N -H "Authorization: Bearer $UPFLOW_TOKEN" -H "content-type: application/json" \
      //   -d '{"folder": "images", "recursive": true, "labels": true}' "$URL/v1/uploads"
      let folderJob = "";
      await t.step("a folder under --root, named in JSON", async () => {
        const res = await fetch(`${s.url}/v1/uploads`, {
          method: "POST",
          headers: { ...AUTH, "content-type": "application/json" },
          body: JSON.stringify({
            folder: "images",
            recursive: true,
            labels: true,
            id_from: "path",
          }),
        });
        folderJob = res.headers.get("upflow-job-id")!;
        const events = await ndjson(res);
        assertEquals(events[1].total.inputs, 12);
        assertEquals(events.at(-1).summary.uploaded, 12);
        assertEquals(await conceptsOf("bird_bird_02"), ["bird"]);
      });

      // curl -N -H "Authorization: Bearer $UPFLOW_TOKEN" "$URL/v1/uploads/$JOB/events"
      await t.step("re-attach: GET events replays the whole log", async () => {
        const res = await fetch(`${s.url}/v1/uploads/${folderJob}/events`, { headers: AUTH });
        const events = await ndjson(res);
        assertEquals(events[0].id, folderJob);
        assertEquals(events.at(-1).summary.uploaded, 12);
      });

      // The same CSV again as a JSON path: every row is on the server already.
      await t.step("a CSV under --root again: every row found present", async () => {
        const res = await fetch(`${s.url}/v1/uploads`, {
          method: "POST",
          headers: { ...AUTH, "content-type": "application/json" },
          body: JSON.stringify({ csv: "reviews.csv", rps: 0 }),
        });
        const summary = (await ndjson(res)).at(-1).summary;
        assertEquals([summary.uploaded, summary.present, summary.failed], [0, 5, 0]);
        // The job's JSON counts them too.
        const job = await fetch(`${s.url}/v1/uploads/${res.headers.get("upflow-job-id")}`, {
          headers: AUTH,
        });
        const record = await job.json();
        assertEquals([record.state, record.counts.uploaded, record.counts.present], [
          "completed",
          0,
          5,
        ]);
      });

      // The service waits for processing with the same stage as the CLI.
      await t.step("a CSV with wait=true: the summary has the processing results", async () => {
        const res = await fetch(`${s.url}/v1/uploads?wait=true&rps=0`, {
          method: "POST",
          headers: { ...AUTH, "content-type": "text/csv" },
          body: "inputid,input,concepts\nwaited-1,first note,note\nwaited-2,second note,note\n",
        });
        const events = await ndjson(res);
        const summary = events.at(-1).summary;
        assertEquals(summary.uploaded, 2);
        assertEquals(summary.processing, { succeeded: 2, failed: 0, pending: 0 });
        assert(events.some((e: Line) => e.type === "processing"));
      });

      // Existing inputs failing: every row is a duplicate.
      let duplicateJob = "";
      await t.step("a CSV under --root, named in JSON (all duplicates now)", async () => {
        const res = await fetch(`${s.url}/v1/uploads`, {
          method: "POST",
          headers: { ...AUTH, "content-type": "application/json" },
          body: JSON.stringify({ csv: "reviews.csv", rps: 0, existing: "fail" }),
        });
        duplicateJob = res.headers.get("upflow-job-id")!;
        const summary = (await ndjson(res)).at(-1).summary;
        assertEquals([summary.uploaded, summary.failed], [0, 5]);
      });

      // curl -H "Authorization: Bearer $UPFLOW_TOKEN" "$URL/v1/uploads/$JOB/failures"
      await t.step("failures: the journal's failure lines", async () => {
        const res = await fetch(`${s.url}/v1/uploads/${duplicateJob}/failures`, { headers: AUTH });
        assertEquals(res.headers.get("content-type"), "application/x-ndjson; charset=utf-8");
        const failures = await ndjson(res);
        assertEquals(failures.map((f) => f.code), Array(5).fill("INPUT_DUPLICATE"));
        assertEquals(failures[0].draft.id, "review-001");
      });

      // curl -N -X POST -H "Authorization: Bearer $UPFLOW_TOKEN" \
      //   "$URL/v1/uploads/$JOB/retry?new_ids_for_duplicates=true"
      await t.step("retry: a new job re-sends the failures", async () => {
        const plain = await ndjson(
          await fetch(`${s.url}/v1/uploads/${duplicateJob}/retry`, {
            method: "POST",
            headers: AUTH,
          }),
        );
        assertEquals(plain.at(-1).summary.rejected, 5); // duplicates need the flag
        const res = await fetch(
          `${s.url}/v1/uploads/${duplicateJob}/retry?new_ids_for_duplicates=true`,
          { method: "POST", headers: AUTH },
        );
        const events = await ndjson(res);
        assertEquals(events[0].retryOf, duplicateJob);
        const ids = events.filter((e) => e.type === "batch").flatMap((e) => e.ids);
        assertEquals(ids.length, 5);
        assertMatch(ids[0], /^review-001-[0-9a-f]{8}$/);
        assertEquals(await conceptsOf(ids[0]), ["cat", "positive"]);
      });

      // curl -X DELETE -H "Authorization: Bearer $UPFLOW_TOKEN" "$URL/v1/uploads/$JOB"
      await t.step("cancel: a finished job answers 409", async () => {
        const res = await fetch(`${s.url}/v1/uploads/${folderJob}`, {
          method: "DELETE",
          headers: AUTH,
        });
        assertEquals(res.status, 409);
        assertEquals((await res.json()).error.code, "job_finished");
      });

      await t.step("unknown options and media types are refused", async () => {
        const typo = await fetch(`${s.url}/v1/uploads?dataset_id=x`, {
          method: "POST",
          headers: { ...AUTH, "content-type": "text/csv" },
          body: csvText(1),
        });
        assertEquals(typo.status, 400);
        assertMatch((await typo.json()).error.message, /Unknown option "dataset_id"/);
        const xml = await fetch(`${s.url}/v1/uploads`, {
          method: "POST",
          headers: { ...AUTH, "content-type": "application/xml" },
          body: "<x/>",
        });
        assertEquals([xml.status, (await xml.json()).error.code], [415, "unsupported_media_type"]);
      });
    } finally {
      await shared.release();
      await s.close();
    }
  },
}));

Deno.test(deadlineTest(60_000, {
  name:
    "a PAT sent in x-clarifai-pat never appears in a response, log, journal, job file or metric",
  permissions: PERMISSIONS,
  async fn() {
    const apiData = await Deno.makeTempDir();
    const api = await startLocalApi({ port: 0, dataDir: apiData, key: "the-right-key" });
    const s = await testServer({ target: { env: null, base: api.baseUrl } });
    const pat = "wrong-secret-pat-5f3a9c";
    try {
      const res = await fetch(`${s.url}/v1/uploads?user_id=local&app_id=local`, {
        method: "POST",
        headers: { ...AUTH, "content-type": "text/csv", "x-clarifai-pat": pat },
        body: csvText(3),
      });
      const text = await res.text();
      const events = text.trim().split("\n").map((l) => JSON.parse(l));
      assert(events.at(-1).summary.fatal, "a wrong key is fatal");
      const id = events[0].id;
      const retry = await fetch(`${s.url}/v1/uploads/${id}/retry`, {
        method: "POST",
        headers: AUTH,
      });
      assertEquals([retry.status, (await retry.json()).error.code], [400, "pat_required"]);
      const seen = [text, JSON.stringify([...res.headers])];
      seen.push(await (await fetch(`${s.url}/v1/uploads/${id}`, { headers: AUTH })).text());
      seen.push(await (await fetch(`${s.url}/v1/uploads/${id}/events`, { headers: AUTH })).text());
      seen.push(
        await (await fetch(`${s.url}/v1/uploads/${id}/failures`, { headers: AUTH })).text(),
      );
      seen.push(await (await fetch(`${s.url}/metrics`)).text());
      seen.push(...s.logs);
      for await (const entry of Deno.readDir(join(s.data, "jobs", id))) {
        if (entry.isFile) seen.push(await Deno.readTextFile(join(s.data, "jobs", id, entry.name)));
      }
      for (const piece of seen) {
        assert(!piece.includes(pat), `the PAT leaked: ${piece.slice(0, 200)}`);
      }
      assert(!seen.join("").includes(TOKEN), "the bearer token leaked");
    } finally {
      await s.close();
      await api.close();
      await Deno.remove(apiData, { recursive: true });
    }
  },
}));

Deno.test({
  name: "the service refuses a non-loopback hostname without a token",
  permissions: PERMISSIONS,
  async fn() {
    const { startServer } = await import("../../server/start_server.ts");
    let error: Error | undefined;
    try {
      await startServer({ port: 0, hostname: "0.0.0.0", root: ".", log: () => {} });
    } catch (err) {
      error = err as Error;
    }
    assertMatch(error?.message ?? "", /Refusing to listen on 0\.0\.0\.0 without a token/);
  },
});
