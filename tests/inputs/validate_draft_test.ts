import { assert, assertEquals } from "@std/assert";
import { validateDraft } from "../../src/inputs/validate_draft.ts";
import type { InputDraft } from "../../src/inputs/input_draft.ts";

const image: InputDraft = {
  id: "cat-01",
  kind: "image",
  content: { type: "url", url: "https://example.com/cat.jpg" },
  location: "cat-01",
  concepts: [],
};
const box = { left: 0.1, top: 0.1, right: 0.9, bottom: 0.9 };

function reasonOf(draft: unknown, clampBoxes = false): string | undefined {
  const result = validateDraft(draft as InputDraft, { clampBoxes });
  return "reason" in result ? result.reason : undefined;
}

Deno.test("validateDraft refuses drafts with a reason", async (t) => {
  const cases: [string, unknown, string][] = [
    ["not an object", "cat.jpg", 'a draft must be an object: got "cat.jpg"'],
    [
      "unknown field",
      { ...image, region: [] },
      'unknown draft field "region": use id, kind, content, location, concepts, metadata, geo, regions, frames, datasetId',
    ],
    ["id not a string", { ...image, id: 7 }, "input ID must be a string: got 7"],
    [
      "bad id",
      { ...image, id: "cat 01" },
      'invalid input ID "cat 01": use letters, digits, "_" and "-", starting with a letter or digit',
    ],
    [
      "bad kind",
      { ...image, kind: "photo" },
      'kind must be one of image, video, audio, text: got "photo"',
    ],
    [
      "no content",
      { ...image, content: undefined },
      'content must be an object {type: "file" | "url" | "raw" | "bytes" | "object", …}: got undefined',
    ],
    [
      "bad content type",
      { ...image, content: { type: "s3", url: "s3://x" } },
      'content type must be file, url, raw, bytes or object: got "s3"',
    ],
    [
      "raw for an image",
      { ...image, content: { type: "raw", text: "hi" } },
      "raw content is for text inputs: give the image as a file, url or bytes",
    ],
    [
      "empty raw text",
      { ...image, kind: "text", content: { type: "raw", text: "  " } },
      "raw text is empty",
    ],
    [
      "bad url",
      { ...image, content: { type: "url", url: "ftp://x/a.jpg" } },
      'URL "ftp://x/a.jpg" must use http or https',
    ],
    [
      "relative url",
      { ...image, content: { type: "url", url: "a.jpg" } },
      '"a.jpg" is not an absolute URL',
    ],
    [
      "empty bytes",
      { ...image, content: { type: "bytes", bytes: new Uint8Array() } },
      "bytes content is empty",
    ],
    [
      "bytes not bytes",
      { ...image, content: { type: "bytes", bytes: [1, 2] } },
      "bytes content needs a Uint8Array: got [1,2]",
    ],
    [
      "file without path",
      { ...image, content: { type: "file", path: "" } },
      'file content needs a path: got ""',
    ],
    [
      "oversize file",
      { ...image, content: { type: "file", path: "a.jpg", size: 21 * 1024 * 1024 } },
      "image is 21.0 MB: Clarifai accepts images under 20 MB",
    ],
    ["location not a string", { ...image, location: 3 }, "location must be a string: got 3"],
    [
      "concepts not an array",
      { ...image, concepts: "cat" },
      'concepts must be an array of concept IDs: got "cat"',
    ],
    ["empty concept", { ...image, concepts: ["cat", ""] }, "empty concept"],
    [
      "control character",
      { ...image, concepts: ["ca\nt"] },
      'concept "ca\\nt" contains control characters',
    ],
    ["metadata array", { ...image, metadata: [1] }, "metadata must be a JSON object: got [1]"],
    [
      "metadata NaN",
      { ...image, metadata: { a: { b: [1, NaN] } } },
      "metadata.a.b[1] is NaN: JSON numbers are finite",
    ],
    [
      "metadata undefined",
      { ...image, metadata: { a: undefined } },
      "metadata.a is not a JSON value: got undefined",
    ],
    [
      "metadata Date",
      { ...image, metadata: { when: new Date(0) } },
      "metadata.when is not a JSON value: got Date",
    ],
    [
      "metadata function",
      { ...image, metadata: { f: () => 1 } },
      "metadata.f is not a JSON value: got function",
    ],
    [
      "geo out of range",
      { ...image, geo: { longitude: 0, latitude: 91 } },
      "latitude 91 is outside [-90, 90]",
    ],
    [
      "geo swapped names",
      { ...image, geo: { lon: 0, lat: 1 } },
      'geo has an unknown field "lon": use longitude, latitude',
    ],
    [
      "bad dataset",
      { ...image, datasetId: "my set" },
      'invalid dataset ID "my set": use letters, digits, "_" and "-", starting with a letter or digit',
    ],
    [
      "regions on a video",
      { ...image, kind: "video", regions: [] },
      "regions are for images: give a video's regions in frames",
    ],
    ["regions on text", {
      ...image,
      kind: "text",
      content: { type: "raw", text: "x" },
      regions: [],
    }, "regions are for images: a text input cannot have regions"],
    [
      "frames on an image",
      { ...image, frames: [] },
      "frames are for videos: give an image's regions in regions",
    ],
    ["box out of range", {
      ...image,
      regions: [{ concepts: ["cat"], box: { ...box, right: 1.01 } }],
    }, "region 1: box right 1.01 is outside [0, 1]"],
    [
      "degenerate box",
      { ...image, regions: [{ concepts: ["cat"], box: { ...box, top: 0.9 } }] },
      "region 1: box has zero height: top 0.9 and bottom 0.9 must differ, top < bottom",
    ],
    [
      "region without concepts",
      { ...image, regions: [{ concepts: [], box }] },
      "region 1: region has no concepts: give each region at least one",
    ],
    ["short polygon", {
      ...image,
      regions: [{ concepts: ["a"], polygon: [{ row: 0, col: 0 }, { row: 1, col: 1 }] }],
    }, "region 1: polygon has 2 points: at least 3 are needed"],
    [
      "frames out of order",
      { ...image, kind: "video", frames: [{ number: 2, regions: [] }, { number: 1, regions: [] }] },
      "frames out of order: frame 2 has number 1 after number 2 (frame 1)",
    ],
  ];
  for (const [name, draft, reason] of cases) {
    await t.step(name, () => assertEquals(reasonOf(draft), reason));
  }
});

Deno.test("validateDraft returns a clean copy and leaves the input alone", async (t) => {
  await t.step("concepts trimmed and deduplicated, location defaults to the ID", () => {
    const draft = { ...image, concepts: [" cat", "cat", "golden retriever "] } as Partial<
      InputDraft
    >;
    delete draft.location;
    const result = validateDraft(draft as InputDraft);
    assert("draft" in result);
    assertEquals(result.draft.concepts, ["cat", "golden retriever"]);
    assertEquals(result.draft.location, "cat-01");
    assertEquals(result.clampedBoxes, 0);
    assertEquals(draft.concepts, [" cat", "cat", "golden retriever "]);
  });
  await t.step("missing concepts mean none", () => {
    const draft = { ...image } as Partial<InputDraft>;
    delete draft.concepts;
    const result = validateDraft(draft as InputDraft);
    assert("draft" in result);
    assertEquals(result.draft.concepts, []);
  });
  await t.step("a full image draft passes unchanged", () => {
    const draft: InputDraft = {
      ...image,
      metadata: { source: "web", tags: ["a", { b: null }], n: 1.5, ok: true },
      geo: { longitude: -73.98, latitude: 40.75 },
      datasetId: "pets",
      regions: [
        { concepts: ["cat"], box, id: "box-1" },
        {
          concepts: ["猫 ünïcode"],
          polygon: [{ row: 0, col: 0 }, { row: 0, col: 1 }, { row: 1, col: 1 }],
        },
      ],
    };
    const result = validateDraft(draft);
    assertEquals(result, { draft, clampedBoxes: 0 });
    assert("draft" in result && result.draft.metadata !== draft.metadata, "metadata is copied");
  });
  await t.step("a video with frames, track IDs and times", () => {
    const draft: InputDraft = {
      id: "clip",
      kind: "video",
      content: { type: "file", path: "clip.mp4", size: 1000 },
      location: "clip.mp4",
      concepts: [],
      frames: [
        { number: 0, timeMs: 0, regions: [{ concepts: ["car"], box, trackId: "t1" }] },
        { number: 15, timeMs: 500, regions: [{ concepts: ["car"], box, trackId: "t1" }] },
      ],
    };
    assertEquals(validateDraft(draft), { draft, clampedBoxes: 0 });
  });
  await t.step("bytes and raw text", () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const result = validateDraft({ ...image, content: { type: "bytes", bytes } });
    assert("draft" in result && result.draft.content.type === "bytes");
    assertEquals(result.draft.content.bytes, bytes);
    assert(
      "draft" in validateDraft({ ...image, kind: "text", content: { type: "raw", text: "hello" } }),
    );
  });
  await t.step("clampBoxes clamps and counts, in images and frames", () => {
    const out = { left: -0.5, top: 0, right: 0.5, bottom: 1.2 };
    const input = { ...image, regions: [{ concepts: ["a"], box: out }, { concepts: ["b"], box }] };
    assertEquals(reasonOf(input), "region 1: box left -0.5 is outside [0, 1]");
    const result = validateDraft(input, { clampBoxes: true });
    assert("draft" in result);
    assertEquals(result.clampedBoxes, 1);
    assertEquals(result.draft.regions![0].box, { left: 0, top: 0, right: 0.5, bottom: 1 });
    assertEquals(input.regions[0].box, out, "the input is not modified");
    const video = validateDraft({
      ...image,
      kind: "video",
      frames: [{
        number: 0,
        regions: [{ concepts: ["a"], box: out }, { concepts: ["a"], box: out }],
      }],
    }, { clampBoxes: true });
    assert("draft" in video);
    assertEquals(video.clampedBoxes, 2);
  });
});
