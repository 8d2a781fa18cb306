import { DigestStream } from "../../src/pipeline/digest_stream.ts";
import { encodedInputSize } from "../../src/pipeline/encoded_size.ts";
import type { LoadedItem } from "../../src/pipeline/loaded_input.ts";
import { DIGEST_KEY } from "../../src/inputs/content_digest.ts";
import type { InputDraft } from "../../src/inputs/input_draft.ts";
import { toInput } from "../../src/inputs/to_input.ts";
import { toBinary } from "@bufbuild/protobuf";
import { InputSchema } from "../../src/gen/clarifai/api/resources_pb.ts";
import { assertEquals } from "@std/assert";

const base = { location: "x.csv:2", concepts: [] };

function drafts(): { draft: InputDraft; bytes?: Uint8Array }[] {
  const out: { draft: InputDraft; bytes?: Uint8Array }[] = [];
  // URLs and texts of every length around the varint boundaries of the data and metadata
  // fields (127/128 and 16383/16384 bytes).
  for (const n of [1, 20, 30, 40, 50, 60, 100, 110, 120, 16_200, 16_300, 16_400]) {
    for (const extra of [0, 1, 2, 3]) {
      const id = `i${n}-${extra}`;
      const tail = "a".repeat(n + extra);
      out.push({
        draft: { ...base, id, kind: "image", content: { type: "url", url: `https://x/${tail}` } },
      });
      out.push({ draft: { ...base, id, kind: "text", content: { type: "raw", text: tail } } });
      out.push({
        draft: {
          ...base,
          id,
          kind: "image",
          content: { type: "url", url: `https://x/${id}.jpg` },
          concepts: ["cat"],
          geo: { latitude: 1.5, longitude: -2 },
          metadata: { note: tail, n, nested: { list: [1, "two", null, true] } },
        },
      });
    }
  }
  out.push({
    draft: {
      ...base,
      id: "empty-meta",
      kind: "text",
      content: { type: "raw", text: "hi" },
      metadata: {},
    },
  });
  out.push({
    draft: {
      ...base,
      id: "own-key",
      kind: "text",
      content: { type: "raw", text: "hi" },
      metadata: { [DIGEST_KEY]: "sha256:given" },
    },
  });
  for (const size of [10, 200, 20_000]) {
    out.push({
      draft: { ...base, id: `b${size}`, kind: "image", content: { type: "file", path: "x.png" } },
      bytes: new Uint8Array(size).fill(7),
    });
  }
  return out;
}

Deno.test("DigestStream's encoded size equals the input's encoded size with the digest", async () => {
  const items: LoadedItem[] = drafts().map(({ draft, bytes }) => {
    const input = toInput(draft, bytes);
    return {
      type: "loaded",
      loaded: { draft, input, encodedSize: encodedInputSize(input), contentBytes: 0 },
    };
  });
  const out = await Array.fromAsync(ReadableStream.from(items).pipeThrough(new DigestStream()));
  assertEquals(out.length, items.length);
  for (const item of out) {
    if (item.type !== "loaded") throw new Error(item.type);
    const { input, encodedSize, draft } = item.loaded;
    assertEquals(input.data?.metadata?.[DIGEST_KEY]?.toString().slice(0, 7), "sha256:");
    assertEquals(
      [draft.id, encodedSize],
      [draft.id, toBinary(InputSchema, input).length],
    );
  }
});
