/**
 * Exact protobuf encoded sizes of inputs and of `PostInputsRequest`s, computed without copying
 * content bytes, so the batch stage can bound requests by bytes.
 *
 * @module
 */
import { create, toBinary } from "@bufbuild/protobuf";
import {
  type Audio,
  AudioSchema,
  type Data,
  DataSchema,
  type Image,
  ImageSchema,
  type Input,
  type InputIDConflictResolution,
  InputSchema,
  type Video,
  VideoSchema,
} from "../gen/clarifai/api/resources_pb.ts";
import { PostInputsRequestSchema } from "../gen/clarifai/api/service_pb.ts";

const EMPTY = new Uint8Array(0);

/**
 * Returns how many bytes the protobuf varint encoding of a non-negative integer takes.
 *
 * @param value A non-negative integer (up to 2^53 - 1).
 * @returns The varint length in bytes, 1 to 8.
 *
 * @example Usage
 * ```ts
 * import { varintSize } from "./encoded_size.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(varintSize(127), 1);
 * assertEquals(varintSize(128), 2);
 * assertEquals(varintSize(16384), 3);
 * ```
 */
export function varintSize(value: number): number {
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/**
 * Returns the bytes one embedded message or bytes field of `size` bytes takes in its parent: a
 * one-byte tag (field numbers 1 to 15), the length as a varint, and the content.
 *
 * @param size The encoded size of the embedded message.
 * @returns The field's size in the parent.
 *
 * @example Usage
 * ```ts
 * import { lengthDelimitedFieldSize } from "./encoded_size.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(lengthDelimitedFieldSize(100), 102);
 * assertEquals(lengthDelimitedFieldSize(200), 203);
 * ```
 */
export function lengthDelimitedFieldSize(size: number): number {
  return 1 + varintSize(size) + size;
}

/**
 * Returns the exact encoded size of a `PostInputsRequest` holding inputs of the given encoded
 * sizes (each a `repeated Input inputs = 2` field: tag, length, input), plus `overheadBytes` for
 * the other fields (`user_app_id`, `inputs_add_job_id`, ...), which the caller measures once.
 *
 * @param inputSizes The encoded size of each input, `toBinary(InputSchema, input).length`.
 * @param overheadBytes The encoded size of the request without its inputs; default 0.
 * @returns The request's encoded size in bytes.
 *
 * @example Equal to the real encoding
 * ```ts
 * import { postInputsRequestSize } from "./encoded_size.ts";
 * import { create, toBinary } from "@bufbuild/protobuf";
 * import { InputSchema } from "../gen/clarifai/api/resources_pb.ts";
 * import { PostInputsRequestSchema } from "../gen/clarifai/api/service_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const inputs = [
 *   create(InputSchema, { id: "a", data: { image: { base64: new Uint8Array(300) } } }),
 *   create(InputSchema, { id: "b", data: { text: { raw: "hello" } } }),
 * ];
 * const sizes = inputs.map((input) => toBinary(InputSchema, input).length);
 * assertEquals(
 *   postInputsRequestSize(sizes),
 *   toBinary(PostInputsRequestSchema, create(PostInputsRequestSchema, { inputs })).length,
 * );
 * ```
 */
export function postInputsRequestSize(inputSizes: readonly number[], overheadBytes = 0): number {
  let total = overheadBytes;
  for (const size of inputSizes) total += lengthDelimitedFieldSize(size);
  return total;
}

/**
 * Returns the exact encoded size of an input, `toBinary(InputSchema, input).length`, without
 * encoding (and so copying) its image, video or audio bytes: the input is encoded with the bytes
 * left out and their contribution is added arithmetically.
 *
 * @param input The input.
 * @returns Its encoded size in bytes.
 *
 * @example Usage
 * ```ts
 * import { encodedInputSize } from "./encoded_size.ts";
 * import { create, toBinary } from "@bufbuild/protobuf";
 * import { InputSchema } from "../gen/clarifai/api/resources_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const input = create(InputSchema, {
 *   id: "cat",
 *   data: { image: { base64: new Uint8Array(100_000) }, concepts: [{ id: "cat", value: 1 }] },
 * });
 * assertEquals(encodedInputSize(input), toBinary(InputSchema, input).length);
 * ```
 */
export function encodedInputSize(input: Input): number {
  const data = input.data;
  if (data === undefined) return toBinary(InputSchema, input).length;
  const field = data.image?.base64.length
    ? "image"
    : data.video?.base64.length
    ? "video"
    : data.audio?.base64.length
    ? "audio"
    : undefined;
  if (field === undefined) return toBinary(InputSchema, input).length;

  const media = data[field] as Image | Video | Audio;
  const byteCount = media.base64.length;
  const mediaShell = { ...media, base64: EMPTY };
  const dataShell: Data = { ...data, [field]: mediaShell };
  const inputShell: Input = { ...input, data: dataShell };

  const media0 = field === "image"
    ? toBinary(ImageSchema, mediaShell as Image).length
    : field === "video"
    ? toBinary(VideoSchema, mediaShell as Video).length
    : toBinary(AudioSchema, mediaShell as Audio).length;
  const media1 = media0 + lengthDelimitedFieldSize(byteCount);
  const data0 = toBinary(DataSchema, dataShell).length;
  const data1 = data0 - varintSize(media0) - media0 + varintSize(media1) + media1;
  const input0 = toBinary(InputSchema, inputShell).length;
  return input0 - varintSize(data0) - data0 + varintSize(data1) + data1;
}

/**
 * Returns the encoded size of a `PostInputsRequest` without inputs: what its other fields
 * (`user_app_id`, `inputs_add_job_id`, `input_id_conflict_resolution`) add to every request. Pass
 * it to {@linkcode postInputsRequestSize} or as the batch stage's `requestOverheadBytes`.
 *
 * @param fields The request's fields other than `inputs`.
 * @returns The encoded size in bytes.
 *
 * @example Usage
 * ```ts
 * import { requestOverheadBytes } from "./encoded_size.ts";
 * import { assertEquals } from "@std/assert";
 *
 * // user_app_id { user_id: "me", app_id: "app" }: 2 + (2 + 2) + (2 + 3) = 11 bytes.
 * assertEquals(requestOverheadBytes({ userAppId: { userId: "me", appId: "app" } }), 11);
 * ```
 */
export function requestOverheadBytes(
  fields: {
    userAppId?: { userId: string; appId: string };
    inputsAddJobId?: string;
    inputIdConflictResolution?: InputIDConflictResolution;
  },
): number {
  return toBinary(PostInputsRequestSchema, create(PostInputsRequestSchema, fields)).length;
}
