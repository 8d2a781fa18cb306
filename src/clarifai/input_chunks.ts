/**
 * Zero-copy encoding of inputs for PostInputs: an `Input` becomes a list of byte chunks whose
 * concatenation is exactly `toBinary(InputSchema, input)`, with the image, video or audio bytes
 * referenced, not copied. A request of 64 MB then costs no 64 MB copies on its way out.
 *
 * @module
 */
import { create, toBinary } from "@bufbuild/protobuf";
import type { Data, Input } from "../gen/clarifai/api/resources_pb.ts";
import {
  AudioSchema,
  DataSchema,
  ImageSchema,
  InputSchema,
  VideoSchema,
} from "../gen/clarifai/api/resources_pb.ts";
import type { PostInputsRequest } from "../gen/clarifai/api/service_pb.ts";
import { PostInputsRequestSchema } from "../gen/clarifai/api/service_pb.ts";

/**
 * Below this many bytes, media bytes are encoded normally. Above it they are referenced: a
 * message encoded whole grows its buffer by doubling from 128 bytes and copies it once more at
 * the end, which for a 30 KB image cost more CPU than all of the file reading.
 */
const ZERO_COPY_MIN_BYTES = 1024;

const LEN = 2; // wire type of length-delimited fields

function varint(value: number): Uint8Array {
  const out: number[] = [];
  while (value > 0x7f) {
    out.push((value & 0x7f) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return new Uint8Array(out);
}

function tag(field: number): Uint8Array {
  return varint((field << 3) | LEN);
}

function sizeOf(chunks: readonly Uint8Array[]): number {
  let n = 0;
  for (const c of chunks) n += c.byteLength;
  return n;
}

/**
 * The bytes as views of at most 1 MiB: the HTTP/2 client copies whatever one write hands it,
 * so a 50 MB buffer in one write cost 211 MiB of memory, the same bytes in 1 MiB writes 60 MiB
 * (and went faster).
 */
function views(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.byteLength; at += VIEW_BYTES) {
    out.push(bytes.subarray(at, Math.min(bytes.byteLength, at + VIEW_BYTES)));
  }
  return out;
}

const VIEW_BYTES = 1024 * 1024;

/** `[tag, length, ...payload]` for a length-delimited field. */
function field(number: number, payload: Uint8Array[]): Uint8Array[] {
  return [tag(number), varint(sizeOf(payload)), ...payload];
}

/** Where the media of an input is, by `Data` field number (image 1, video 2, audio 14). */
function mediaOf(input: Input): { field: 1 | 2 | 14; bytes: Uint8Array } | undefined {
  const data = input.data;
  if (!data) return undefined;
  const candidates = [
    [1, data.image?.base64],
    [2, data.video?.base64],
    [14, data.audio?.base64],
  ] as const;
  for (const [number, bytes] of candidates) {
    if (bytes && bytes.byteLength >= ZERO_COPY_MIN_BYTES) return { field: number, bytes };
  }
  return undefined;
}

/**
 * Encodes an input as chunks whose concatenation equals `toBinary(InputSchema, input)` byte
 * for byte; large image, video or audio bytes are referenced, not copied. It relies on the
 * generated code writing fields in field-number order, which a test checks.
 *
 * @param input The input.
 * @returns The chunks.
 *
 * @example Usage
 * ```ts
 * import { encodeInputChunks } from "./input_chunks.ts";
 * import { create, toBinary } from "@bufbuild/protobuf";
 * import { InputSchema } from "../gen/clarifai/api/resources_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const bytes = new Uint8Array(100_000).fill(7);
 * const input = create(InputSchema, { id: "a", data: { image: { base64: bytes } } });
 * const chunks = encodeInputChunks(input);
 * assertEquals(chunks.some((c) => c.buffer === bytes.buffer), true); // referenced, not copied
 * const joined = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
 * let at = 0;
 * for (const c of chunks) joined.set(c, (at += c.length) - c.length);
 * assertEquals(joined, toBinary(InputSchema, input));
 * ```
 */
export function encodeInputChunks(input: Input): Uint8Array[] {
  const media = mediaOf(input);
  if (!media) return [toBinary(InputSchema, input)];
  const data = input.data!;
  // The media message without its bytes, then its bytes field (base64 = 2) put back in field
  // order: url (1) before it, allow_duplicate_url (4) after it.
  const schema = media.field === 1 ? ImageSchema : media.field === 2 ? VideoSchema : AudioSchema;
  const source = media.field === 1 ? data.image! : media.field === 2 ? data.video! : data.audio!;
  const head = toBinary(schema, create(schema, { url: source.url }));
  const tail = toBinary(schema, create(schema, { allowDuplicateUrl: source.allowDuplicateUrl }));
  const mediaMessage = [head, tag(2), varint(media.bytes.byteLength), ...views(media.bytes), tail];
  // Data without the media: image and video come before every other Data field, audio after.
  const rest: Data = { ...data, image: undefined, video: undefined, audio: undefined };
  const restBytes = toBinary(DataSchema, rest);
  const mediaField = field(media.field, mediaMessage);
  const dataMessage = media.field === 14 ? [restBytes, ...mediaField] : [...mediaField, restBytes];
  // Input: id (1), then data (2), then every later field.
  const idOnly = toBinary(InputSchema, create(InputSchema, { id: input.id }));
  const after = toBinary(InputSchema, { ...input, id: "", data: undefined });
  return [idOnly, ...field(2, dataMessage), after].filter((c) => c.byteLength > 0);
}

/**
 * Encodes a PostInputsRequest as chunks: the request's own fields, then each input (`inputs` =
 * 2) from its chunks. The concatenation equals `toBinary(PostInputsRequestSchema, request)` with
 * the inputs in place.
 *
 * @param request The request without its inputs (user_app_id, job ID, conflict resolution).
 * @param inputs Each input's chunks, from {@linkcode encodeInputChunks}.
 * @returns The request's chunks and their total size.
 *
 * @example Usage
 * ```ts
 * import { encodeInputChunks, encodePostInputsChunks } from "./input_chunks.ts";
 * import { create, toBinary } from "@bufbuild/protobuf";
 * import { InputSchema } from "../gen/clarifai/api/resources_pb.ts";
 * import { PostInputsRequestSchema } from "../gen/clarifai/api/service_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const input = create(InputSchema, { id: "t", data: { text: { raw: "hello" } } });
 * const { chunks, size } = encodePostInputsChunks(
 *   create(PostInputsRequestSchema, { inputsAddJobId: "job-1" }),
 *   [encodeInputChunks(input)],
 * );
 * const whole = toBinary(
 *   PostInputsRequestSchema,
 *   create(PostInputsRequestSchema, { inputsAddJobId: "job-1", inputs: [input] }),
 * );
 * assertEquals(size, whole.length);
 * assertEquals(chunks.length > 1, true);
 * ```
 */
export function encodePostInputsChunks(
  request: PostInputsRequest,
  inputs: readonly Uint8Array[][],
): { chunks: Uint8Array[]; size: number } {
  // user_app_id (1) comes before inputs (2); inputs_add_job_id (3) and the conflict
  // resolution (4) after.
  const head = toBinary(
    PostInputsRequestSchema,
    create(PostInputsRequestSchema, { userAppId: request.userAppId }),
  );
  const tail = toBinary(
    PostInputsRequestSchema,
    create(PostInputsRequestSchema, {
      inputsAddJobId: request.inputsAddJobId,
      inputIdConflictResolution: request.inputIdConflictResolution,
    }),
  );
  const chunks: Uint8Array[] = [head];
  for (const input of inputs) chunks.push(...field(2, input));
  chunks.push(tail);
  const nonEmpty = chunks.filter((c) => c.byteLength > 0);
  return { chunks: nonEmpty, size: sizeOf(nonEmpty) };
}
