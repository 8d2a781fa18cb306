/**
 * Turns an {@linkcode InputDraft} (with its content bytes, once loaded) into the protobuf
 * `clarifai.api.Input` sent in `PostInputs`.
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type DataSchema, type Input, InputSchema } from "../gen/clarifai/api/resources_pb.ts";
import type { InputDraft } from "./input_draft.ts";

type DataInit = MessageInitShape<typeof DataSchema>;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Converts a draft into the `Input` message of a `PostInputs` request: the ID; the content
 * (image, video and audio bytes as `base64`, URLs as `url`, text as `raw` or `url`; a text
 * file's bytes are decoded as UTF-8 into `raw`); the input-level concepts, each with value 1;
 * the metadata as a `google.protobuf.Struct`; the geo point; and `dataset_ids` when the draft
 * names a dataset. Regions and frames are left out: they are posted later as annotations (see
 * `toAnnotations`).
 *
 * @param draft The draft.
 * @param bytes The content bytes for `file` content (read by the load stage). For `bytes`
 * content the draft's own bytes are used unless `bytes` is given.
 * @returns The input message.
 * @throws {TypeError} When a `file` draft comes without bytes, when `raw` content is given for a
 * kind other than text, or when text bytes are not valid UTF-8.
 *
 * @example Usage
 * ```ts
 * import { toInput } from "./to_input.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const input = toInput({
 *   id: "cat-01",
 *   kind: "image",
 *   content: { type: "url", url: "https://example.com/cat.jpg" },
 *   location: "data.csv:2",
 *   concepts: ["cat"],
 *   metadata: { source: "shelter" },
 *   datasetId: "pets",
 * });
 * assertEquals(input.id, "cat-01");
 * assertEquals(input.data?.image?.url, "https://example.com/cat.jpg");
 * assertEquals(input.data?.concepts[0].value, 1);
 * assertEquals(input.data?.metadata, { source: "shelter" });
 * assertEquals(input.datasetIds, ["pets"]);
 * ```
 */
export function toInput(draft: InputDraft, bytes?: Uint8Array): Input {
  const data: DataInit = {};
  const content = draft.content;
  const fail = (why: string): never => {
    throw new TypeError(`Cannot convert input ${JSON.stringify(draft.id)}: ${why}`);
  };

  let contentBytes: Uint8Array | undefined;
  if (content.type === "file") {
    contentBytes = bytes ?? fail(`the ${draft.kind} file ${content.path} has not been read`);
  } else if (content.type === "object") {
    contentBytes = bytes ?? fail(`the ${draft.kind} object ${content.url} has not been read`);
  } else if (content.type === "bytes") {
    contentBytes = bytes ?? content.bytes;
  }

  if (draft.kind === "text") {
    if (content.type === "raw") data.text = { raw: content.text };
    else if (content.type === "url") data.text = { url: content.url };
    else {data.text = {
        raw: decodeUtf8(contentBytes!) ?? fail("the text is not valid UTF-8 (save it as UTF-8)"),
      };}
  } else {
    if (content.type === "raw") fail(`raw text content cannot be a ${draft.kind}`);
    const media = content.type === "url" ? { url: content.url } : { base64: contentBytes! };
    data[draft.kind] = media;
  }

  if (draft.concepts.length > 0) {
    data.concepts = draft.concepts.map((id) => ({ id, value: 1 }));
  }
  if (draft.metadata !== undefined) data.metadata = draft.metadata;
  if (draft.geo !== undefined) {
    data.geo = {
      geoPoint: { longitude: draft.geo.longitude, latitude: draft.geo.latitude },
    };
  }
  return create(InputSchema, {
    id: draft.id,
    data,
    datasetIds: draft.datasetId !== undefined ? [draft.datasetId] : [],
  });
}

/** Decodes UTF-8 (dropping a leading byte-order mark), or `undefined` when invalid. */
function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}
