import { create, toBinary } from "@bufbuild/protobuf";
import { InputIDConflictResolution, InputSchema } from "../../src/gen/clarifai/api/resources_pb.ts";
import type { Input } from "../../src/gen/clarifai/api/resources_pb.ts";
import { PostInputsRequestSchema } from "../../src/gen/clarifai/api/service_pb.ts";
import { encodeInputChunks, encodePostInputsChunks } from "../../src/clarifai/input_chunks.ts";
import { assert, assertEquals } from "@std/assert";

function join(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function prng(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

function randomInput(random: () => number, n: number): Input {
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)];
  const size = pick([0, 10, 70_000, 200_000, 2_000_000]);
  const bytes = new Uint8Array(size).map((_, i) => (i * 31 + n) & 0xff);
  const media = pick(["image", "video", "audio", "text", "url"]);
  const data: Record<string, unknown> = {};
  if (media === "image" || media === "video" || media === "audio") {
    data[media] = {
      base64: bytes,
      ...(random() < 0.3 ? { allowDuplicateUrl: true } : {}),
      ...(random() < 0.2 ? { url: "https://example.com/x" } : {}),
    };
  } else if (media === "text") data.text = { raw: `text ${n} ${"é".repeat(n % 50)}` };
  else data.image = { url: `https://example.com/${n}.jpg` };
  if (random() < 0.6) data.concepts = [{ id: "cat", value: 1 }, { id: `c${n}`, value: 1 }];
  if (random() < 0.5) data.metadata = { n, nested: { list: [1, "a", true, null] } };
  if (random() < 0.4) data.geo = { geoPoint: { longitude: n / 10, latitude: -n / 20 } };
  return create(InputSchema, {
    id: random() < 0.1 ? "" : `in-${n}`,
    data,
    datasetIds: random() < 0.5 ? ["ds1"] : [],
  });
}

Deno.test("encodeInputChunks equals toBinary byte for byte on 300 random inputs", () => {
  const random = prng(42);
  let referenced = 0;
  for (let n = 0; n < 300; n++) {
    const input = randomInput(random, n);
    const chunks = encodeInputChunks(input);
    assertEquals(join(chunks), toBinary(InputSchema, input), `input ${n}`);
    const media = input.data?.image?.base64 ?? input.data?.video?.base64 ??
      input.data?.audio?.base64;
    if (media && media.byteLength >= 65536) {
      const views = chunks.filter((c) => c.buffer === media.buffer);
      assertEquals(
        views.reduce((sum, c) => sum + c.byteLength, 0),
        media.byteLength,
        `input ${n}: media bytes referenced, not copied`,
      );
      referenced++;
    }
  }
  assert(referenced > 50, `zero-copy path exercised (${referenced})`);
});

Deno.test("encodePostInputsChunks equals the whole request's encoding", () => {
  const random = prng(7);
  for (let round = 0; round < 40; round++) {
    const inputs = Array.from(
      { length: 1 + Math.floor(random() * 6) },
      (_, i) => randomInput(random, round * 10 + i),
    );
    const fields = {
      userAppId: round % 3 ? { userId: "u", appId: "a" } : undefined,
      inputsAddJobId: round % 2 ? `job-${round}` : "",
      inputIdConflictResolution: round % 4 ? InputIDConflictResolution.SKIP : 0,
    };
    const { chunks, size } = encodePostInputsChunks(
      create(PostInputsRequestSchema, fields),
      inputs.map(encodeInputChunks),
    );
    const whole = toBinary(
      PostInputsRequestSchema,
      create(PostInputsRequestSchema, { ...fields, inputs }),
    );
    assertEquals(size, whole.byteLength);
    assertEquals(join(chunks), whole, `round ${round}`);
  }
});
