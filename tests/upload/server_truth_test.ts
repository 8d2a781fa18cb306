/**
 * The server is the source of truth: a completed upload run again with no journal sends nothing
 * twice, exits clean and reports every input as present; a different content under an existing
 * ID is a conflict at the file's location; `existing: "fail"` and `"new-id"` do what they say.
 */
import { withLocalApi } from "./_local_api.ts";
import type { ClarifaiClient } from "../../src/clarifai/client.ts";
import { RetryPolicy } from "../../src/clarifai/retry_policy.ts";
import type { InputDraft } from "../../src/inputs/input_draft.ts";
import { summaryOf } from "../../src/pipeline/progress_event.ts";
import type { ProgressEvent } from "../../src/pipeline/progress_event.ts";
import { runUpload } from "../../src/upload/run_upload.ts";
import type { RunUploadOptions } from "../../src/upload/run_upload.ts";
import { DIGEST_KEY, digestOf } from "../../src/inputs/content_digest.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import { assert, assertEquals, assertStringIncludes } from "@std/assert";

const retry = () => new RetryPolicy({ maxAttempts: 8, baseDelayMs: 5, maxDelayMs: 50 });

function texts(n: number, body = (i: number) => `text ${i}`): InputDraft[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `t${i}`,
    kind: "text" as const,
    content: { type: "raw" as const, text: body(i) },
    location: `gen.csv:${i + 2}`,
    concepts: [],
  }));
}

function withApi(fn: (client: ClarifaiClient, dir: string) => Promise<void>) {
  return withLocalApi(({ client, dir }) => fn(client, dir));
}

async function run(
  client: ClarifaiClient,
  drafts: InputDraft[],
  options: Partial<RunUploadOptions> = {},
) {
  const events: ProgressEvent[] = [];
  const summary = await summaryOf(
    runUpload(drafts, {
      client,
      userAppId: client.userAppId,
      rps: 0,
      retry: retry(),
      ...options,
    }),
    (e) => events.push(e),
  );
  return { summary, events };
}

async function held(client: ClarifaiClient) {
  const r = await client.listInputs({ userAppId: client.userAppId, page: 1, perPage: 1000 });
  assertEquals(r.status?.code, StatusCode.SUCCESS);
  return new Map(r.inputs.map((i) => [i.id, i]));
}

Deno.test(
  "a completed upload re-run with no journal sends nothing and counts every input present",
  {
    permissions: { read: true, write: true, net: ["127.0.0.1"], env: true },
  },
  async () => {
    await withApi(async (client, dir) => {
      const first = await run(client, texts(300), { journal: `${dir}/first.ndjson` });
      assertEquals([first.summary.uploaded, first.summary.failed], [300, 0]);
      const stored = await held(client);
      assertEquals(stored.get("t7")?.data?.metadata?.[DIGEST_KEY], digestOf("text 7"));

      // Another machine: no journal at all.
      const again = await run(client, texts(300), { journal: `${dir}/elsewhere.ndjson` });
      assertEquals(
        [again.summary.uploaded, again.summary.present, again.summary.presentUnverified],
        [0, 300, 0],
      );
      assertEquals([again.summary.failed, again.summary.rejected, again.summary.bytes], [0, 0, 0]);
      assertEquals(again.events.filter((e) => e.type === "batch").length, 0, "no request sent");
      assertEquals((await held(client)).size, 300);

      // Its journal now records them, so a third run finds them without asking.
      const third = await run(client, texts(300), { journal: `${dir}/elsewhere.ndjson` });
      assertEquals([third.summary.alreadyUploaded, third.summary.present], [300, 0]);
    });
  },
);

Deno.test("a different content under an existing ID is a conflict at the file's location", {
  permissions: { read: true, write: true, net: ["127.0.0.1"], env: true },
}, async (t) => {
  await withApi(async (client) => {
    await run(client, texts(10));
    // Uploaded without a digest (by another tool): present, not verified.
    await run(client, texts(2).map((d) => ({ ...d, id: `plain${d.id}` })), { digest: false });
    const changed = texts(10, (i) => (i === 3 ? "edited" : `text ${i}`));
    const plain = texts(2).map((d) => ({ ...d, id: `plain${d.id}` }));

    await t.step("skip: conflicts are reported, the rest counted present", async () => {
      const { summary, events } = await run(client, [...changed, ...plain]);
      assertEquals([summary.present, summary.presentUnverified, summary.uploaded], [11, 2, 0]);
      const conflicts = events.filter((e) => e.type === "rejected");
      assertEquals(conflicts.length, 1);
      assert(conflicts[0].type === "rejected");
      assertEquals(conflicts[0].location, "gen.csv:5");
      assertStringIncludes(conflicts[0].reason, "conflict");
    });
    await t.step("fail: every existing input fails as a duplicate", async () => {
      const { summary, events } = await run(client, texts(4), { existing: "fail" });
      assertEquals([summary.failed, summary.uploaded, summary.present], [4, 0, 0]);
      assert(events.every((e) => e.type !== "failed" || e.code === "INPUT_DUPLICATE"));
    });
    await t.step("new-id: the changed one goes under an ID derived from its content", async () => {
      const { summary } = await run(client, changed, { existing: "new-id" });
      assertEquals([summary.uploaded, summary.present, summary.rejected], [1, 9, 0]);
      const ids = [...(await held(client)).keys()].filter((id) => id.startsWith("t3-"));
      assertEquals(ids, [`t3-${digestOf("edited").slice(7, 15)}`]);
      const again = await run(client, changed, { existing: "new-id" });
      assertEquals([again.summary.uploaded, again.summary.present], [0, 10]);
    });
  });
});
