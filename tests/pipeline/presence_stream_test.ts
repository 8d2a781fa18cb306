import { PresenceStream } from "../../src/pipeline/presence_stream.ts";
import { DIGEST_KEY, digestOf } from "../../src/inputs/content_digest.ts";
import type { DraftOrRejection } from "../../src/inputs/input_draft.ts";
import { V2 } from "../../src/gen/clarifai/api/service_pb.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { assertEquals, assertThrows } from "@std/assert";

const url = (id: string) => `https://example.com/${id}.jpg`;

/** A server holding the even-numbered IDs; it records the size of each ListInputs call. */
function server(calls: number[]) {
  return createClient(
    V2,
    createRouterTransport(({ service }) => {
      service(V2, {
        getInputCount: () => ({ status: { code: StatusCode.SUCCESS }, counts: { processed: 1 } }),
        listInputs: (req) => {
          calls.push(req.ids.length);
          return {
            status: { code: StatusCode.SUCCESS },
            inputs: req.ids.filter((id) => Number(id.slice(1)) % 2 === 0).map((id) => ({
              id,
              data: { metadata: { [DIGEST_KEY]: digestOf(url(id)) } },
            })),
          };
        },
      });
    }),
  );
}

const drafts = (n: number): DraftOrRejection[] =>
  Array.from({ length: n }, (_, i) => ({
    type: "draft",
    draft: {
      id: `i${i}`,
      kind: "image",
      content: { type: "url", url: url(`i${i}`) },
      location: `urls.csv:${i + 2}`,
      concepts: [],
    },
  }));

Deno.test("PresenceStream looks IDs up 1,000 per ListInputs call and passes on the absent ones", async () => {
  const calls: number[] = [];
  const present: string[] = [];
  const out = await Array.fromAsync(
    ReadableStream.from(drafts(2500)).pipeThrough(
      new PresenceStream({ client: server(calls), onPresent: (d) => void present.push(d.id) }),
    ),
  );
  assertEquals(calls, [1000, 1000, 500]);
  const ids = (n: number, odd: boolean) =>
    Array.from({ length: n }, (_, i) => i).filter((i) => (i % 2 === 1) === odd).map((i) => `i${i}`);
  assertEquals(
    out.map((item) => item.type === "draft" ? item.draft.id : item.type),
    ids(2500, true),
  );
  assertEquals(present, ids(2500, false));
});

Deno.test("PresenceStream makes a page's present callbacks at once and awaits them all first", async () => {
  let inFlight = 0;
  let most = 0;
  const finished: string[] = [];
  const stream = new PresenceStream({
    client: server([]),
    pageSize: 10,
    onPresent: async (d) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      finished.push(d.id);
    },
  });
  const out: string[] = [];
  for await (const item of ReadableStream.from(drafts(10)).pipeThrough(stream)) {
    // Each absent draft is passed on only after every present one of its page was recorded.
    assertEquals(finished.length, 5);
    if (item.type === "draft") out.push(item.draft.id);
  }
  assertEquals([most, out.length], [5, 5]);
});

Deno.test("PresenceStream refuses pages of more than 1,000 IDs", () => {
  assertThrows(() => new PresenceStream({ client: server([]), pageSize: 1001 }), RangeError);
});

Deno.test("PresenceStream does not judge processing: a held input whose processing failed is present", async () => {
  // Whether it carries annotations or not: presence passes the server's copy to the callbacks,
  // and a processing wait (if any) judges it.
  const client = createClient(
    V2,
    createRouterTransport(({ service }) => {
      service(V2, {
        getInputCount: () => ({ status: { code: StatusCode.SUCCESS }, counts: { errors: 2 } }),
        listInputs: (req) => ({
          status: { code: StatusCode.SUCCESS },
          inputs: req.ids.map((id) => ({
            id,
            data: { metadata: { [DIGEST_KEY]: digestOf(url(id)) } },
            status: { code: StatusCode.INPUT_FAILED, description: "bad image" },
          })),
        }),
      });
    }),
  );
  const [plain, boxed] = drafts(2).map((item) => item.type === "draft" ? item.draft : undefined);
  const items: DraftOrRejection[] = [
    { type: "draft", draft: plain! },
    {
      type: "draft",
      draft: {
        ...boxed!,
        regions: [{ concepts: ["cat"], box: { left: 0.1, top: 0.1, right: 0.5, bottom: 0.5 } }],
      },
    },
  ];
  const seen: [string, string, number | undefined][] = [];
  const out = await Array.fromAsync(
    ReadableStream.from(items).pipeThrough(
      new PresenceStream({
        client,
        onPresent: (d, verified, held) =>
          void seen.push([d.id, verified ? "present" : "unverified", held.status?.code]),
        onPresentAnnotated: (d, held) => void seen.push([d.id, "annotated", held.status?.code]),
      }),
    ),
  );
  assertEquals(seen, [
    ["i0", "present", StatusCode.INPUT_FAILED],
    ["i1", "annotated", StatusCode.INPUT_FAILED],
  ]);
  // Nothing is rejected; the annotated one goes on so that its annotations are posted.
  assertEquals(out.map((item) => item.type === "draft" ? item.draft.id : item.type), ["i1"]);
});
