import { createGrpcTransport } from "@connectrpc/connect-node";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { pipe, transformSplitEnvelope } from "@connectrpc/connect/protocol";
import {
  coalesceMessages,
  takeParsedAhead,
  wholeGrpcMessages,
} from "../../../server/local/grpc_messages.ts";
import type { NodeRequest } from "../../../server/local/fault_layer.ts";
import { create, toBinary } from "@bufbuild/protobuf";
import { PostInputsRequestSchema } from "../../../src/gen/clarifai/api/service_pb.ts";
import { MessageBuffers } from "../../../server/local/message_buffers.ts";
import { startLocalApi } from "../../../server/local/local_api.ts";
import { StatusCode } from "../../../src/gen/clarifai/api/status/status_code_pb.ts";
import { assert, assertEquals } from "@std/assert";
import { AUTH, jpeg, KEY, UA, v2Client } from "./_helpers.ts";

function envelope(bytes: number[]): number[] {
  const n = bytes.length;
  return [0, n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255, ...bytes];
}

Deno.test("coalesceMessages yields each envelope whole, however the body is cut", async () => {
  const messages = [[1, 2, 3], [], Array.from({ length: 300 }, (_, i) => i & 255), [7]];
  const body = new Uint8Array(messages.flatMap(envelope));
  for (let seed = 1; seed <= 50; seed++) {
    // Cut the body at pseudo-random places (1 to 12 bytes a chunk).
    const chunks: Uint8Array[] = [];
    let at = 0, x = seed;
    while (at < body.length) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const size = 1 + (x % 12);
      chunks.push(body.subarray(at, Math.min(body.length, at + size)));
      at += size;
    }
    const out = await Array.fromAsync(coalesceMessages(ReadableStream.from(chunks), 1 << 20));
    assertEquals(out.map((c) => [...c]), messages.map(envelope));
  }
});

Deno.test("coalesceMessages passes an envelope over the limit through as it came", async () => {
  const body = new Uint8Array(envelope(Array.from({ length: 40 }, () => 5)));
  const chunks = [body.subarray(0, 3), body.subarray(3, 20), body.subarray(20)];
  const out = await Array.fromAsync(coalesceMessages(ReadableStream.from(chunks), 10));
  assertEquals(out.reduce((n, c) => n + c.length, 0), body.length);
  assertEquals([...out[0]], [...body.subarray(0, 5)]);
});

Deno.test("coalesceMessages hands on a body cut short", async () => {
  const body = new Uint8Array(envelope([1, 2, 3, 4]));
  const out = await Array.fromAsync(
    coalesceMessages(ReadableStream.from([body.subarray(0, 7)]), 99),
  );
  assertEquals(out.map((c) => [...c]), [[...body.subarray(0, 7)]]);
});

Deno.test("coalesceMessages with buffers: each chunk is whole while it is read, memory reused", async () => {
  const messages = [
    Array.from({ length: 70_000 }, (_, i) => i & 255),
    Array.from({ length: 90_000 }, (_, i) => (i * 7) & 255),
    [1, 2, 3],
    Array.from({ length: 80_000 }, (_, i) => (i * 3) & 255),
  ];
  const body = new Uint8Array(messages.flatMap(envelope));
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < body.length; at += 13_000) chunks.push(body.subarray(at, at + 13_000));
  const buffers = new MessageBuffers();
  try {
    const seen: number[][] = [];
    const memory = new Set<ArrayBufferLike>();
    // Read each chunk before asking for the next, as Connect's decoder does.
    for await (const chunk of coalesceMessages(ReadableStream.from(chunks), 1 << 20, buffers)) {
      seen.push([...chunk]);
      if (chunk.length > 1000) memory.add(chunk.buffer);
    }
    assertEquals(seen, messages.map(envelope));
    assertEquals(memory.size, 1, "every large message is gathered in the same memory");
  } finally {
    buffers.close();
  }
});

Deno.test("Connect's envelope decoder copies a whole envelope before it asks for the next chunk", async () => {
  // What gathering messages in reused buffers relies on: once the decoder asks for the next
  // chunk, the one before may be overwritten.
  const messages = [[1, 2, 3, 4], [5, 6], [7, 8, 9]];
  async function* reused(): AsyncGenerator<Uint8Array> {
    const buffer = new Uint8Array(16);
    for (const message of messages) {
      const chunk = buffer.subarray(0, 5 + message.length);
      chunk.set(envelope(message));
      yield chunk;
      buffer.fill(0xee); // the next message may go here
    }
  }
  const decoded: number[][] = [];
  for await (const env of pipe(reused(), transformSplitEnvelope(1 << 20))) {
    decoded.push([...env.data]);
  }
  assertEquals(decoded, messages);
});

Deno.test("a large PostInputs message is parsed ahead, in a buffer kept until it is released", async () => {
  const content = jpeg(200_000, 3);
  const message = toBinary(
    PostInputsRequestSchema,
    create(PostInputsRequestSchema, {
      inputs: [{ id: "a", data: { image: { base64: content } } }],
    }),
  );
  const body = new Uint8Array(envelope([...message]));
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < body.length; at += 16_384) chunks.push(body.subarray(at, at + 16_384));
  const buffers = new MessageBuffers();
  try {
    const req = {
      headers: { "content-type": "application/grpc" },
      url: "/clarifai.api.V2/PostInputs",
      iterator: () => ReadableStream.from(chunks),
    } as unknown as NodeRequest & { iterator(): AsyncIterable<Uint8Array> };
    wholeGrpcMessages(req, 1 << 20, buffers);
    const out = await Array.fromAsync(req.iterator());
    assertEquals(out.map((c) => [...c]), [[0, 0, 0, 0, 0]], "Connect gets an empty message");
    const ahead = takeParsedAhead(req)!;
    assertEquals(takeParsedAhead(req), undefined, "taken once");
    const parsed = ahead.message as { inputs: { data: { image: { base64: Uint8Array } } }[] };
    const bytes = parsed.inputs[0].data.image.base64;
    assertEquals(bytes, content);
    const other = buffers.take(body.length);
    assert(other.buffer !== bytes.buffer, "not reused before the release");
    ahead.release();
    ahead.release();
    assert(buffers.take(body.length).buffer === bytes.buffer, "reused after it");
  } finally {
    buffers.close();
  }
});

Deno.test({
  name: "gRPC over HTTP/2: large messages sent at once and one after the other are stored intact",
  permissions: { net: ["127.0.0.1"], read: true, write: true, env: true, sys: true },
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "upflow-local-" });
    try {
      await using api = await startLocalApi({ dataDir, key: KEY });
      const client = v2Client(api.baseUrl, createGrpcTransport({ baseUrl: api.baseUrl }));
      // From 1 MiB, content is written ahead of the transaction; the last is the first again.
      const sizes = [300_000, 1_200_000, 700_000, 2_500_000];
      for (const round of [1, 2]) {
        const contents = sizes.map((size, i) => jpeg(size, 16 * round + i));
        contents.push(contents[1]);
        const answers = await Promise.all(contents.map((bytes, i) =>
          client.postInputs({
            userAppId: UA,
            inputs: [{ id: `r${round}-${i}`, data: { image: { base64: bytes } } }],
          }, AUTH)
        ));
        for (const [i, answer] of answers.entries()) {
          assertEquals(answer.inputs[0].status?.code, StatusCode.INPUT_PENDING);
          const stored = await fetch(answer.inputs[0].data!.image!.url);
          assertEquals(new Uint8Array(await stored.arrayBuffer()), contents[i], `r${round}-${i}`);
        }
      }
      const files = [...Deno.readDirSync(`${dataDir}/blobs`)].map((e) => e.name);
      assertEquals(files.length, 8, "one file per content, no temporary file left");
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "gRPC-web over HTTP/1.1: a large PostInputs message is parsed ahead and stored intact",
  permissions: { net: ["127.0.0.1"], read: true, env: true, sys: true },
  async fn() {
    await using api = await startLocalApi({ dataDir: ":memory:", key: KEY });
    const client = v2Client(api.baseUrl, createGrpcWebTransport({ baseUrl: api.baseUrl }));
    const contents = [jpeg(400_000, 1), jpeg(500_000, 2)];
    for (const [i, bytes] of contents.entries()) {
      const answer = await client.postInputs({
        userAppId: UA,
        inputs: [{ id: `web-${i}`, data: { image: { base64: bytes } } }],
      }, AUTH);
      assertEquals(answer.inputs[0].status?.code, StatusCode.INPUT_PENDING);
      const stored = await fetch(answer.inputs[0].data!.image!.url);
      assertEquals(new Uint8Array(await stored.arrayBuffer()), bytes);
    }
  },
});
