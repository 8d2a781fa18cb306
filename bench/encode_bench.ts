/**
 * Request encoding, the CPU work between reading a file and writing it to the socket:
 * `toBinary` of a `PostInputsRequest` of 32 × 30 KB images (what each small-image request
 * costs) and of one 50 MB video, `toInput` of 32 drafts, and `encodedInputSize` (the batch
 * stage's exact size without copying) against `toBinary(...).length`.
 *
 * Run: `deno bench -A bench/encode_bench.ts`
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { InputSchema } from "../src/gen/clarifai/api/resources_pb.ts";
import { PostInputsRequestSchema } from "../src/gen/clarifai/api/service_pb.ts";
import { toInput } from "../src/inputs/to_input.ts";
import { encodedInputSize } from "../src/pipeline/encoded_size.ts";
import type { InputDraft } from "../src/inputs/input_draft.ts";

function randomBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  return bytes;
}

const DRAFTS: InputDraft[] = [];
const CONTENTS: Uint8Array[] = [];
for (let i = 0; i < 32; i++) {
  DRAFTS.push({
    id: `img-${i}`,
    kind: "image",
    content: { type: "file", path: `cat/img-${i}.png` },
    location: `cat/img-${i}.png`,
    concepts: ["cat"],
    metadata: { source: "bench", n: i },
    datasetId: "demo",
  });
  CONTENTS.push(randomBytes(30_000));
}
const INPUTS = DRAFTS.map((d, i) => toInput(d, CONTENTS[i]));
const USER_APP = { userId: "u", appId: "a" };
const SMALL_REQUEST = create(PostInputsRequestSchema, {
  userAppId: USER_APP,
  inputs: INPUTS,
  inputsAddJobId: "run-1-1",
});
const VIDEO = toInput({
  id: "video-0",
  kind: "video",
  content: { type: "file", path: "videos/video-0.mp4" },
  location: "videos/video-0.mp4",
  concepts: ["videos"],
  datasetId: "demo",
}, randomBytes(50_000_000));
const VIDEO_REQUEST = create(PostInputsRequestSchema, { userAppId: USER_APP, inputs: [VIDEO] });

Deno.bench({
  name: "toBinary(PostInputsRequest of 32 × 30 KB images)",
  group: "request",
  baseline: true,
  fn() {
    toBinary(PostInputsRequestSchema, SMALL_REQUEST);
  },
});

Deno.bench({
  name: "toInput × 32 (drafts with bytes, concepts, metadata)",
  group: "request",
  fn() {
    for (let i = 0; i < 32; i++) toInput(DRAFTS[i], CONTENTS[i]);
  },
});

Deno.bench({
  name: "toBinary(PostInputsRequest of one 50 MB video)",
  group: "video",
  baseline: true,
  n: 20,
  fn() {
    toBinary(PostInputsRequestSchema, VIDEO_REQUEST);
  },
});

Deno.bench({
  name: "copy 50 MB (Uint8Array.slice): the memcpy floor",
  group: "video",
  n: 20,
  fn() {
    VIDEO.data!.video!.base64.slice();
  },
});

Deno.bench({
  name: "encodedInputSize × 32 (no copy of the bytes)",
  group: "size",
  baseline: true,
  fn() {
    for (const input of INPUTS) encodedInputSize(input);
  },
});

Deno.bench({
  name: "toBinary(InputSchema, input).length × 32 (copies the bytes)",
  group: "size",
  fn() {
    for (const input of INPUTS) toBinary(InputSchema, input).length;
  },
});
