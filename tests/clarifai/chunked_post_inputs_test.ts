import { createChunkedPostInputs } from "../../src/clarifai/chunked_post_inputs.ts";
import { create, toBinary } from "@bufbuild/protobuf";
import type { UniversalClientRequest } from "@connectrpc/connect/protocol";
import { InputSchema } from "../../src/gen/clarifai/api/resources_pb.ts";
import {
  MultiInputResponseSchema,
  PostInputsRequestSchema,
} from "../../src/gen/clarifai/api/service_pb.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import { assert, assertEquals } from "@std/assert";

/** A gRPC server stand-in that keeps each write of the request body. */
function recorder(writes: Uint8Array[][], room?: () => Promise<void> | undefined) {
  return createChunkedPostInputs({
    room,
    baseUrl: "http://127.0.0.1:1",
    httpClient: async (req: UniversalClientRequest) => {
      const got: Uint8Array[] = [];
      writes.push(got);
      for await (const chunk of req.body ?? []) got.push(chunk);
      const message = toBinary(
        MultiInputResponseSchema,
        create(MultiInputResponseSchema, { status: { code: StatusCode.SUCCESS } }),
      );
      const body = new Uint8Array(5 + message.length);
      new DataView(body.buffer).setUint32(1, message.length);
      body.set(message, 5);
      return {
        status: 200,
        header: new Headers({ "content-type": "application/grpc" }),
        body: (async function* () {
          yield body;
        })(),
        trailer: new Headers({ "grpc-status": "0" }),
      };
    },
    interceptors: [],
    defaultTimeoutMs: 0,
    readMaxBytes: 1 << 20,
  });
}

function joined(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

Deno.test("chunked PostInputs writes a request of small inputs in one piece, media bytes uncopied", async () => {
  const writes: Uint8Array[][] = [];
  const post = recorder(writes);
  const fields = { userAppId: { userId: "u", appId: "a" } };
  const urls = Array.from({ length: 128 }, (_, i) =>
    create(InputSchema, {
      id: `row-${i}`,
      data: { image: { url: `https://example.com/${i}.jpg` }, concepts: [{ id: "cat", value: 1 }] },
    }));
  const response = await post(fields, urls);
  assertEquals(response.status?.code, StatusCode.SUCCESS);
  assertEquals(writes[0].length, 1);
  const request = toBinary(
    PostInputsRequestSchema,
    create(PostInputsRequestSchema, { ...fields, inputs: urls }),
  );
  assertEquals(joined(writes[0]).subarray(5), request);

  const media = new Uint8Array(200_000).fill(9);
  const big = create(InputSchema, { id: "big", data: { image: { base64: media } } });
  await post(fields, [urls[0], big, urls[1]]);
  assert(
    writes[1].some((c) => c.buffer === media.buffer),
    "the media bytes are passed on, not copied",
  );
  assert(writes[1].length <= 3, `${writes[1].length} writes`);
  assertEquals(
    joined(writes[1]).subarray(5),
    toBinary(
      PostInputsRequestSchema,
      create(PostInputsRequestSchema, { ...fields, inputs: [urls[0], big, urls[1]] }),
    ),
  );
});

Deno.test("chunked PostInputs waits for room in the connection before each write", async () => {
  const writes: Uint8Array[][] = [];
  let calls = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => open = resolve);
  const post = recorder(writes, () => (calls++, calls === 2 ? gate : undefined));
  const media = new Uint8Array(3 * 1024 * 1024 + 10).fill(5);
  const big = create(InputSchema, { id: "big", data: { video: { base64: media } } });
  const sent = post({ userAppId: { userId: "u", appId: "a" } }, [big]);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assertEquals(writes[0].length, 1, "the second write waits for room");
  open();
  await sent;
  assertEquals(calls, writes[0].length, "one look at the room per write");
  assert(writes[0].length >= 4, `${writes[0].length} writes`);
});
