import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import type { Client } from "@connectrpc/connect";
import { V2 } from "../../src/gen/clarifai/api/service_pb.ts";
import type {
  PostAnnotationsRequest,
  PostInputsRequest,
} from "../../src/gen/clarifai/api/service_pb.ts";
import { MultiInputResponseSchema } from "../../src/gen/clarifai/api/service_pb.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import type { InputDraft } from "../../src/inputs/input_draft.ts";
import { toInput } from "../../src/inputs/to_input.ts";
import type { BatchItem } from "../../src/pipeline/batch_stream.ts";
import type { LoadedInput } from "../../src/pipeline/loaded_input.ts";
import type { ProgressEvent } from "../../src/pipeline/progress_event.ts";
import { UploadStream } from "../../src/pipeline/upload_stream.ts";
import { RetryPolicy } from "../../src/clarifai/retry_policy.ts";
import { FatalUploadError } from "../../src/clarifai/errors.ts";
import { Journal } from "../../src/journal/journal.ts";
import { assert, assertEquals, assertRejects } from "@std/assert";

const noWait = new RetryPolicy({ maxAttempts: 4, sleep: () => Promise.resolve() });

function draft(id: string, extra: Partial<InputDraft> = {}): InputDraft {
  return {
    id,
    kind: "text",
    content: { type: "raw", text: `text of ${id}` },
    location: `data.csv:${id}`,
    concepts: [],
    ...extra,
  };
}

function loaded(d: InputDraft): LoadedInput {
  return { draft: d, input: toInput(d), encodedSize: 20, contentBytes: 10 };
}

function batch(...ids: string[]): BatchItem {
  return { type: "batch", inputs: ids.map((id) => loaded(draft(id))), encodedBytes: 100 };
}

type PostInputs = (
  req: PostInputsRequest,
  call: number,
) => MessageInitShape<typeof MultiInputResponseSchema>;

/** A scripted V2 server: `postInputs` decides each answer; stored IDs are remembered. */
function fakeServer(postInputs: PostInputs) {
  const stored = new Set<string>();
  const annotations = new Map<string, number>();
  const requests: PostInputsRequest[] = [];
  const annotationRequests: PostAnnotationsRequest[] = [];
  let calls = 0;
  const transport = createRouterTransport(({ service }) => {
    service(V2, {
      postInputs(req) {
        requests.push(req);
        return create(MultiInputResponseSchema, postInputs(req, ++calls));
      },
      listInputs(req) {
        return {
          status: { code: StatusCode.SUCCESS },
          inputs: req.ids.filter((id) => stored.has(id)).map((id) => ({ id })),
        };
      },
      postAnnotations(req) {
        annotationRequests.push(req);
        const out = req.annotations.map((a) => {
          if (annotations.has(a.id)) {
            return { id: a.id, status: { code: StatusCode.ANNOTATION_INVALID_ARGUMENT } };
          }
          annotations.set(a.id, 1);
          return { id: a.id, status: { code: StatusCode.ANNOTATION_SUCCESS } };
        });
        const allOk = out.every((a) => a.status.code === StatusCode.ANNOTATION_SUCCESS);
        return {
          status: { code: allOk ? StatusCode.SUCCESS : StatusCode.FAILURE },
          annotations: out,
        };
      },
      listAnnotations(req) {
        return {
          status: { code: StatusCode.SUCCESS },
          annotations: req.ids.filter((id) => annotations.has(id)).map((id) => ({ id })),
        };
      },
    });
  });
  return {
    client: createClient(V2, transport) as Client<typeof V2>,
    stored,
    annotations,
    requests,
    annotationRequests,
  };
}

function accept(
  stored: Set<string>,
  req: PostInputsRequest,
): MessageInitShape<typeof MultiInputResponseSchema> {
  for (const i of req.inputs) stored.add(i.id);
  return {
    status: { code: StatusCode.SUCCESS },
    inputs: req.inputs.map((i) => ({ id: i.id, status: { code: StatusCode.INPUT_PENDING } })),
  } as MessageInitShape<typeof MultiInputResponseSchema>;
}

async function run(
  client: Client<typeof V2>,
  items: BatchItem[],
  extra: Partial<ConstructorParameters<typeof UploadStream>[0]> = {},
): Promise<ProgressEvent[]> {
  return await Array.fromAsync(
    ReadableStream.from(items).pipeThrough(
      new UploadStream({ client, retry: noWait, concurrency: 2, ...extra }),
    ),
  );
}

Deno.test("UploadStream sends each batch and reports accepted IDs", async () => {
  const server: ReturnType<typeof fakeServer> = fakeServer((req) => accept(server.stored, req));
  const events = await run(server.client, [batch("a", "b"), batch("c")]);
  const ids = events.flatMap((e) => e.type === "batch" ? e.ids : []).sort();
  assertEquals(ids, ["a", "b", "c"]);
  assertEquals(server.requests.length, 2);
  assertEquals(server.requests[0].inputIdConflictResolution, 1, "SKIP");
});

Deno.test("UploadStream re-sends only the retryable inputs of a MIXED_STATUS answer", async () => {
  const server: ReturnType<typeof fakeServer> = fakeServer((req, call) => {
    if (call > 1) return accept(server.stored, req);
    server.stored.add("a");
    return {
      status: { code: StatusCode.MIXED_STATUS },
      inputs: [
        { id: "a", status: { code: StatusCode.INPUT_PENDING } },
        { id: "b", status: { code: StatusCode.INTERNAL_SERVER_ISSUE } },
        { id: "c", status: { code: StatusCode.INPUT_INVALID_ARGUMENT, details: "bad text" } },
      ],
    } as MessageInitShape<typeof MultiInputResponseSchema>;
  });
  const events = await run(server.client, [batch("a", "b", "c")]);
  assertEquals(server.requests.map((r) => r.inputs.map((i) => i.id)), [["a", "b", "c"], ["b"]]);
  const failed = events.filter((e) => e.type === "failed");
  assertEquals(failed.length, 1);
  assert(
    failed[0].type === "failed" && failed[0].id === "c" && failed[0].reason.includes("bad text"),
  );
  const ids = events.flatMap((e) => e.type === "batch" ? e.ids : []).sort();
  assertEquals(ids, ["a", "b"]);
});

Deno.test("UploadStream confirms a resend that comes back as duplicate after a lost answer", async () => {
  const server: ReturnType<typeof fakeServer> = fakeServer((req, call) => {
    if (call === 1) {
      // Stored, then the connection dropped before the answer.
      for (const i of req.inputs) server.stored.add(i.id);
      throw new ConnectError("connection reset", Code.Unavailable);
    }
    return {
      status: { code: StatusCode.FAILURE },
      inputs: req.inputs.map((i) => ({
        id: i.id,
        status: { code: StatusCode.INPUT_DUPLICATE, details: "Input has a duplicate ID." },
      })),
    } as MessageInitShape<typeof MultiInputResponseSchema>;
  });
  const events = await run(server.client, [batch("a", "b")]);
  assertEquals(events.filter((e) => e.type === "failed"), []);
  const ids = events.flatMap((e) => e.type === "batch" ? e.ids : []).sort();
  assertEquals(ids, ["a", "b"]);
});

Deno.test("UploadStream reports a real duplicate (answered on the first attempt) as failed", async () => {
  const server: ReturnType<typeof fakeServer> = fakeServer((req) => ({
    status: { code: StatusCode.FAILURE },
    inputs: req.inputs.map((i) => ({
      id: i.id,
      status: { code: StatusCode.INPUT_DUPLICATE, details: "Input has a duplicate ID." },
    })),
  } as MessageInitShape<typeof MultiInputResponseSchema>));
  server.stored.add("a");
  const events = await run(server.client, [batch("a")]);
  const failed = events.filter((e) => e.type === "failed");
  assertEquals(failed.length, 1);
  assert(failed[0].type === "failed" && failed[0].code === "INPUT_DUPLICATE");
});

Deno.test("UploadStream errors with FatalUploadError on bad credentials", async () => {
  const server = fakeServer(() => ({
    status: { code: StatusCode.CONN_KEY_INVALID, description: "API key not found" },
  } as MessageInitShape<typeof MultiInputResponseSchema>));
  await assertRejects(() => run(server.client, [batch("a")]), FatalUploadError);
  assertEquals(server.requests.length, 1, "a fatal outcome is not retried");
});

Deno.test("UploadStream gives up after the attempts and reports every input", async () => {
  const server = fakeServer(() => ({
    status: { code: StatusCode.CONN_THROTTLED, description: "Throttled" },
  } as MessageInitShape<typeof MultiInputResponseSchema>));
  const events = await run(server.client, [batch("a", "b")]);
  assertEquals(server.requests.length, 4);
  assertEquals(events.filter((e) => e.type === "failed").map((e) => e.type === "failed" && e.id), [
    "a",
    "b",
  ]);
});

Deno.test("UploadStream posts annotations after their inputs, once, with stable IDs", async () => {
  const server: ReturnType<typeof fakeServer> = fakeServer((req) => accept(server.stored, req));
  const d = draft("img", {
    kind: "image",
    content: { type: "bytes", bytes: new Uint8Array([0xff, 0xd8, 0xff]) },
    regions: [
      { concepts: ["cat"], box: { left: 0.1, top: 0.1, right: 0.5, bottom: 0.6 } },
      {
        concepts: ["dog"],
        polygon: [{ row: 0.1, col: 0.1 }, { row: 0.2, col: 0.5 }, { row: 0.6, col: 0.3 }],
      },
    ],
  });
  const item: BatchItem = { type: "batch", inputs: [loaded(d)], encodedBytes: 50 };
  const first = await run(server.client, [item]);
  assertEquals(server.annotations.size, 2);
  const firstBatch = first.find((e) => e.type === "batch");
  assert(firstBatch?.type === "batch" && firstBatch.annotations === 2);
  // A second run of the same batch (a retry) finds its annotations present and adds none.
  const second = await run(server.client, [item]);
  assertEquals(server.annotations.size, 2);
  assertEquals(second.filter((e) => e.type === "failed"), []);
});

Deno.test({
  name: "UploadStream journals outcomes and a resumed run confirms unanswered IDs",
  permissions: { read: true, write: true },
  async fn() {
    const dir = await Deno.makeTempDir();
    const path = `${dir}/journal.ndjson`;
    try {
      // An earlier run wrote its sending line and died before the answer.
      await Deno.writeTextFile(path, '{"t":"sending","ids":["a"]}\n');
      const server: ReturnType<typeof fakeServer> = fakeServer((req) => ({
        status: { code: StatusCode.MIXED_STATUS },
        inputs: req.inputs.map((i) =>
          server.stored.has(i.id)
            ? { id: i.id, status: { code: StatusCode.INPUT_DUPLICATE } }
            : (server.stored.add(i.id), { id: i.id, status: { code: StatusCode.INPUT_PENDING } })
        ),
      } as MessageInitShape<typeof MultiInputResponseSchema>));
      server.stored.add("a");
      const journal = await Journal.open(path);
      const events = await run(server.client, [batch("a", "b")], { journal });
      await journal.close();
      assertEquals(events.filter((e) => e.type === "failed"), []);
      const lines = (await Deno.readTextFile(path)).trim().split("\n").map((l) => JSON.parse(l));
      const outcomes = lines.filter((l) => l.t === "input").map((l) => [l.id, l.outcome]).sort();
      assertEquals(outcomes, [["a", "uploaded"], ["b", "uploaded"]]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("UploadStream validates its options", () => {
  const server = fakeServer(() => ({}));
  let error: unknown;
  try {
    new UploadStream({ client: server.client, concurrency: 0 });
  } catch (err) {
    error = err;
  }
  assert(error instanceof RangeError);
  assertEquals(
    error.message,
    "Cannot create UploadStream: concurrency must be an integer from 1 to 64: current value is 0",
  );
});
