import { assertEquals, assertThrows } from "@std/assert";
import { toBinary } from "@bufbuild/protobuf";
import official from "npm:clarifai-nodejs-grpc@11.11.0/proto/clarifai/api/resources_pb";
import { toInput } from "../../src/inputs/to_input.ts";
import type { InputDraft } from "../../src/inputs/input_draft.ts";
import { InputSchema } from "../../src/gen/clarifai/api/resources_pb.ts";

function draft(fields: Partial<InputDraft> & Pick<InputDraft, "kind" | "content">): InputDraft {
  return { id: "in-1", location: "data.csv:2", concepts: [], ...fields };
}

const BYTES = new Uint8Array([0xff, 0xd8, 0xff, 0x00, 0x01]);

Deno.test("toInput() puts content where Clarifai expects it", { permissions: {} }, async (t) => {
  const cases: {
    name: string;
    draft: InputDraft;
    bytes?: Uint8Array;
    expected: Record<string, unknown>;
  }[] = [
    {
      name: "image file bytes",
      draft: draft({ kind: "image", content: { type: "file", path: "a.jpg" } }),
      bytes: BYTES,
      expected: { image: { base64: BYTES } },
    },
    {
      name: "image URL",
      draft: draft({ kind: "image", content: { type: "url", url: "https://x.test/a.jpg" } }),
      expected: { image: { url: "https://x.test/a.jpg" } },
    },
    {
      name: "video bytes content",
      draft: draft({ kind: "video", content: { type: "bytes", bytes: BYTES } }),
      expected: { video: { base64: BYTES } },
    },
    {
      name: "audio file",
      draft: draft({ kind: "audio", content: { type: "file", path: "a.wav" } }),
      bytes: BYTES,
      expected: { audio: { base64: BYTES } },
    },
    {
      name: "audio URL",
      draft: draft({ kind: "audio", content: { type: "url", url: "https://x.test/a.wav" } }),
      expected: { audio: { url: "https://x.test/a.wav" } },
    },
    {
      name: "raw text",
      draft: draft({ kind: "text", content: { type: "raw", text: "héllo" } }),
      expected: { text: { raw: "héllo" } },
    },
    {
      name: "text URL",
      draft: draft({ kind: "text", content: { type: "url", url: "https://x.test/a.txt" } }),
      expected: { text: { url: "https://x.test/a.txt" } },
    },
    {
      name: "text file decoded as UTF-8, byte-order mark dropped",
      draft: draft({ kind: "text", content: { type: "file", path: "a.txt" } }),
      bytes: new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode("naïve ✓")]),
      expected: { text: { raw: "naïve ✓" } },
    },
    {
      name: "text bytes content",
      draft: draft({
        kind: "text",
        content: { type: "bytes", bytes: new TextEncoder().encode("hi") },
      }),
      expected: { text: { raw: "hi" } },
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const input = toInput(c.draft, c.bytes);
      assertEquals(input.id, "in-1");
      const data = input.data!;
      const got: Record<string, unknown> = {};
      for (const kind of ["image", "video", "audio", "text"] as const) {
        const media = data[kind];
        if (media === undefined) continue;
        const fields: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(media)) {
          if (key === "$typeName") continue;
          if (value instanceof Uint8Array ? value.length > 0 : value !== "" && value !== false) {
            fields[key] = value;
          }
        }
        got[kind] = fields;
      }
      assertEquals(got, c.expected);
    });
  }
});

Deno.test("toInput() refuses what it cannot convert", { permissions: {} }, async (t) => {
  const cases: { name: string; run: () => unknown; message: string }[] = [
    {
      name: "a file that was not read",
      run: () => toInput(draft({ kind: "image", content: { type: "file", path: "a.jpg" } })),
      message: 'Cannot convert input "in-1": the image file a.jpg has not been read',
    },
    {
      name: "invalid UTF-8 text",
      run: () =>
        toInput(
          draft({ kind: "text", content: { type: "file", path: "a.txt" } }),
          new Uint8Array([0x61, 0xc3, 0x28]),
        ),
      message: 'Cannot convert input "in-1": the text is not valid UTF-8 (save it as UTF-8)',
    },
    {
      name: "raw text as an image",
      run: () => toInput(draft({ kind: "image", content: { type: "raw", text: "x" } })),
      message: 'Cannot convert input "in-1": raw text content cannot be a image',
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      assertThrows(c.run, TypeError, c.message);
    });
  }
});

Deno.test("toInput() carries concepts, metadata, geo and dataset, and no regions", {
  permissions: {},
}, async (t) => {
  const full = draft({
    kind: "image",
    content: { type: "url", url: "https://x.test/a.jpg" },
    concepts: ["cat", "black cat"],
    metadata: { source: "shelter", n: 3, ok: true, none: null, tags: ["a", 1], nested: { x: 1.5 } },
    geo: { longitude: -73.98, latitude: 40.75 },
    datasetId: "pets",
    regions: [{ concepts: ["cat"], box: { left: 0, top: 0, right: 1, bottom: 1 } }],
    frames: [{ number: 1, regions: [] }],
  });
  const input = toInput(full);

  await t.step("generated message fields", () => {
    assertEquals(input.data!.concepts.map((c) => [c.id, c.value]), [["cat", 1], ["black cat", 1]]);
    assertEquals(input.data!.metadata, full.metadata);
    assertEquals(input.datasetIds, ["pets"]);
    assertEquals(input.data!.regions, []);
    assertEquals(input.data!.frames, []);
  });

  await t.step("decoded by the official Clarifai classes", () => {
    const decoded = official.Input.deserializeBinary(toBinary(InputSchema, input));
    const data = decoded.getData()!;
    assertEquals(decoded.getId(), "in-1");
    assertEquals(data.getImage()!.getUrl(), "https://x.test/a.jpg");
    assertEquals(
      data.getConceptsList().map((c) => [c.getId(), c.getValue()]),
      [["cat", 1], ["black cat", 1]],
    );
    assertEquals(data.getMetadata()!.toJavaScript(), full.metadata);
    const point = data.getGeo()!.getGeoPoint()!;
    assertEquals(Math.round(point.getLongitude() * 100) / 100, -73.98);
    assertEquals(Math.round(point.getLatitude() * 100) / 100, 40.75);
    assertEquals(decoded.getDatasetIdsList(), ["pets"]);
    assertEquals(data.getRegionsList().length, 0);
  });

  await t.step("bytes reach the wire unchanged", () => {
    const input = toInput(draft({ kind: "image", content: { type: "file", path: "a" } }), BYTES);
    const decoded = official.Input.deserializeBinary(toBinary(InputSchema, input));
    assertEquals(decoded.getData()!.getImage()!.getBase64_asU8(), BYTES);
  });

  await t.step("no concepts, metadata, geo or dataset: none set", () => {
    const bare = toInput(draft({ kind: "text", content: { type: "raw", text: "x" } }));
    assertEquals(bare.data!.concepts, []);
    assertEquals(bare.data!.metadata, undefined);
    assertEquals(bare.data!.geo, undefined);
    assertEquals(bare.datasetIds, []);
  });
});
