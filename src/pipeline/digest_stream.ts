/**
 * {@linkcode DigestStream}: records each input's content digest in its metadata (under
 * {@linkcode DIGEST_KEY}) as it goes out, so a later run can verify what the server holds.
 *
 * @module
 */
import { DIGEST_KEY, digestOf, objectDigest } from "../inputs/content_digest.ts";
import type { LoadedInput, LoadedItem } from "./loaded_input.ts";
import { encodedInputSize, varintSize } from "./encoded_size.ts";
import { create, toBinary } from "@bufbuild/protobuf";
import { DataSchema, type Input, InputSchema } from "../gen/clarifai/api/resources_pb.ts";

const utf8 = new TextEncoder();

/** A length-delimited field of one-byte tag: tag, length, body. */
function field(body: number): number {
  return 1 + varintSize(body) + body;
}

/** The body size of a length-delimited field of one-byte tag, from the field's whole size. */
function bodyOf(fieldSize: number): number {
  for (let prefix = 1; prefix <= 5; prefix++) {
    const body = fieldSize - 1 - prefix;
    if (varintSize(body) === prefix) return body;
  }
  throw new RangeError(`no field body fits ${fieldSize} bytes`);
}

/**
 * The encoded size of `input` once `digest` is added to its data's metadata, from its size
 * before (`size`), without encoding the whole input again: only its fields besides `data`
 * and the metadata there was (usually none), with the sizes of the one `Struct` entry added
 * (Input.data is field 2, Data.metadata field 5, both one-byte tags).
 */
function sizeWithDigest(input: Input, size: number, digest: string): number {
  const data = input.data!;
  const before = data.metadata === undefined
    ? 0
    : toBinary(DataSchema, create(DataSchema, { metadata: data.metadata })).length;
  const key = utf8.encode(DIGEST_KEY).length;
  const value = field(utf8.encode(digest).length); // Value { string_value = 3 }
  const entry = field(field(key) + field(value)); // Struct.fields map entry { key = 1, value = 2 }
  const after = field((before === 0 ? 0 : bodyOf(before)) + entry);
  const rest = toBinary(InputSchema, { ...input, data: undefined }).length;
  const data0 = bodyOf(size - rest);
  return rest + field(data0 - before + after);
}

/**
 * The digest of a loaded input's content, computed from what the load stage read: the media
 * bytes, a text file's text (as UTF-8, without a byte-order mark), the URL, or the raw text.
 * It equals `draftDigest(draft)` for the same draft.
 *
 * @param loaded The loaded input.
 * @returns `sha256:…`.
 *
 * @example Usage
 * ```ts
 * import { loadedDigest } from "./digest_stream.ts";
 * import { digestOf } from "../inputs/content_digest.ts";
 * import { toInput } from "../inputs/to_input.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const draft = { id: "a", kind: "text" as const, content: { type: "raw" as const, text: "hi" }, location: "x", concepts: [] };
 * assertEquals(loadedDigest({ draft, input: toInput(draft), encodedSize: 0, contentBytes: 2 }), digestOf("hi"));
 * ```
 */
export function loadedDigest(loaded: LoadedInput): string {
  const { draft, input } = loaded;
  const content = draft.content;
  if (content.type === "url") return digestOf(content.url);
  if (content.type === "raw") return digestOf(content.text);
  if (content.type === "object") return objectDigest(content);
  const data = input.data;
  const bytes = data?.image?.base64.length
    ? data.image.base64
    : data?.video?.base64.length
    ? data.video.base64
    : data?.audio?.base64.length
    ? data.audio.base64
    : undefined;
  if (bytes) return digestOf(bytes);
  return digestOf(utf8.encode(data?.text?.raw ?? ""));
}

/**
 * Adds the content digest to the metadata of each loaded input (and updates its encoded size);
 * rejections and skips pass through.
 *
 * @example Usage
 * ```ts
 * import { DigestStream } from "@upflow/upflow";
 * import { DIGEST_KEY, digestOf, objectDigest } from "../inputs/content_digest.ts";
 * import { toInput } from "../inputs/to_input.ts";
 * import { encodedInputSize } from "./encoded_size.ts";
 * import type { LoadedItem } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const draft = { id: "a", kind: "image" as const, content: { type: "url" as const, url: "https://x/a.jpg" }, location: "x", concepts: [] };
 * const input = toInput(draft);
 * const [item] = await Array.fromAsync(
 *   ReadableStream.from<LoadedItem>([
 *     { type: "loaded", loaded: { draft, input, encodedSize: encodedInputSize(input), contentBytes: 0 } },
 *   ]).pipeThrough(new DigestStream()),
 * );
 * assertEquals(item.type === "loaded" && item.loaded.input.data?.metadata?.[DIGEST_KEY], digestOf("https://x/a.jpg"));
 * assertEquals(item.type === "loaded" && item.loaded.encodedSize, item.type === "loaded" && encodedInputSize(item.loaded.input));
 * ```
 */
export class DigestStream extends TransformStream<LoadedItem, LoadedItem> {
  /** Creates the stage. */
  constructor() {
    super({
      transform(item, controller) {
        if (item.type === "loaded") {
          const loaded = item.loaded;
          const data = loaded.input.data;
          if (data) {
            const digest = loadedDigest(loaded);
            const held = data.metadata !== undefined && DIGEST_KEY in data.metadata;
            const size = held ? 0 : sizeWithDigest(loaded.input, loaded.encodedSize, digest);
            data.metadata = { ...(data.metadata ?? {}), [DIGEST_KEY]: digest };
            loaded.encodedSize = held ? encodedInputSize(loaded.input) : size;
          }
        }
        controller.enqueue(item);
      },
    });
  }
}
