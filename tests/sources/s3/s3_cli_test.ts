/**
 * `upflow folder s3://…` as a user runs it: a subprocess with the AWS variables, SIGKILLed in
 * the middle and run again.
 */
import { assert, assertEquals, assertGreater } from "@std/assert";
import { startS3rver } from "./_s3rver.ts";
import { startLocalApi } from "../../../server/local/local_api.ts";
import { createClarifaiClient } from "../../../src/clarifai/client.ts";

const MAIN = new URL("../../../src/cli/main.ts", import.meta.url).pathname;

function image(seed: number): Uint8Array {
  const bytes = new Uint8Array(2048);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  for (let i = 8; i < bytes.length; i++) bytes[i] = (seed * 13 + i) & 0xff;
  return bytes;
}

Deno.test("upflow folder s3://… resumes after SIGKILL and holds every input exactly once", async () => {
  const s3 = await startS3rver();
  const api = await startLocalApi({ port: 0, dataDir: ":memory:", key: "k" });
  const client = createClarifaiClient({ base: api.baseUrl, pat: "k", userId: "u", appId: "a" });
  const dir = await Deno.makeTempDir();
  try {
    await s3.createBucket("shots");
    const n = 40;
    for (let i = 0; i < n; i++) {
      await s3.put("shots", `set/${i % 2 ? "day" : "night"}/img ${i}.png`, image(i));
    }
    const journal = `${dir}/run.ndjson`;
    const env = {
      CLARIFAI_PAT: "k",
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      AWS_SESSION_TOKEN: "session-token-never-printed",
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL: s3.endpoint,
    };
    const args = (...more: string[]) => [
      "run",
      "-A",
      MAIN,
      "folder",
      "s3://shots/set",
      "--recursive",
      "--labels",
      "--base",
      api.baseUrl,
      "--user",
      "u",
      "--app",
      "a",
      "--journal",
      journal,
      "--json",
      ...more,
    ];
    // First run, slowed down (one input per request, 8 requests a second), killed mid-way.
    const slow = new Deno.Command(Deno.execPath(), {
      args: args("--batch-size", "1", "--rps", "8"),
      env,
      stdout: "null",
      stderr: "null",
    }).spawn();
    for (let waited = 0;; waited += 50) {
      const text = await Deno.readTextFile(journal).catch(() => "");
      if ((text.match(/"outcome":"uploaded"/g) ?? []).length >= 5) break;
      assert(waited < 60_000, "the first run made no progress");
      await new Promise((r) => setTimeout(r, 50));
    }
    slow.kill("SIGKILL");
    const killed = await slow.status;
    assertEquals(killed.signal, "SIGKILL");

    // The same command again finishes the job.
    const again = await new Deno.Command(Deno.execPath(), {
      args: args(),
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(again.stdout);
    const err = new TextDecoder().decode(again.stderr);
    assertEquals(again.code, 0, err);
    const events = out.trim().split("\n").map((line) => JSON.parse(line));
    const start = events.find((e) => e.type === "start");
    const done = events.find((e) => e.type === "done");
    assertGreater(start.resumed, 4);
    assertGreater(done.summary.uploaded, 0, "the killed run had not finished");
    // An input in flight when the first run was killed may be stored but not journaled: the
    // second run finds it on the server (present) instead of sending it again.
    assertEquals(
      done.summary.uploaded + done.summary.alreadyUploaded + done.summary.present,
      n,
      JSON.stringify(done.summary),
    );
    assertEquals(done.summary.failed, 0);
    for (const text of [out, err, await Deno.readTextFile(journal)]) {
      assertEquals(text.includes("session-token-never-printed"), false);
      assertEquals(text.includes("S3RVER"), false);
    }

    const listed = await client.listInputs({ userAppId: client.userAppId, perPage: 1000 });
    assertEquals(listed.inputs.length, n);
    const labels = new Map(listed.inputs.map((i) => [i.id, i.data?.concepts.map((c) => c.id)]));
    for (let i = 0; i < n; i++) {
      assertEquals(labels.get(`img_${i}`), [i % 2 ? "day" : "night"]);
    }
  } finally {
    client.close();
    await api.close();
    await s3.close();
    await Deno.remove(dir, { recursive: true });
  }
});
