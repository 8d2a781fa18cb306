/**
 * PostInputs over gRPC with the request sent as chunks ({@linkcode encodeInputChunks}): the
 * image, video and audio bytes go from the file's buffer to the HTTP/2 stream without being
 * copied into a serialized message first. Everything else is Connect's: the same interceptors
 * (auth header, deadline), the same HTTP/2 sessions, the same response validation and errors,
 * so a caller cannot tell this call from `client.postInputs` but by the memory it saves.
 *
 * @module
 */
import { create, fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import type { Interceptor } from "@connectrpc/connect";
import {
  createMethodUrl,
  readAllBytes,
  runUnaryCall,
  type UniversalClientFn,
} from "@connectrpc/connect/protocol";
import {
  requestHeader,
  validateResponse,
  validateTrailer,
} from "@connectrpc/connect/protocol-grpc";
import type { Input } from "../gen/clarifai/api/resources_pb.ts";
import type { MultiInputResponse } from "../gen/clarifai/api/service_pb.ts";
import {
  MultiInputResponseSchema,
  PostInputsRequestSchema,
  V2,
} from "../gen/clarifai/api/service_pb.ts";
import { encodeInputChunks, encodePostInputsChunks } from "./input_chunks.ts";

/** What {@linkcode createChunkedPostInputs} needs: the pieces of the client's gRPC transport. */
export interface ChunkedPostInputsOptions {
  /** The API's base URL. */
  baseUrl: string;
  /** The HTTP/2 client (connect-node's `createNodeHttpClient`), sharing the transport's sessions. */
  httpClient: UniversalClientFn;
  /** The transport's interceptors (the auth header first). */
  interceptors: Interceptor[];
  /** The deadline of each call, milliseconds (0: none). */
  defaultTimeoutMs: number;
  /** The largest response read, bytes. */
  readMaxBytes: number;
  /**
   * Waits, before each chunk of the request is handed to the HTTP/2 stream, until the
   * connection can take more (`undefined`: no wait): `room` of `createHttp2Connections`.
   */
  room?: () => Promise<void> | undefined;
}

/** The request's own fields; its inputs travel separately, as inputs or as encoded chunks. */
export type PostInputsFields = {
  [K in "userAppId" | "inputsAddJobId" | "inputIdConflictResolution"]?: MessageInitShape<
    typeof PostInputsRequestSchema
  >[K];
};

/**
 * Sends a PostInputs request whose inputs are given as messages (encoded here, media bytes
 * referenced) or as chunks already encoded.
 *
 * @internal
 */
export type ChunkedPostInputs = (
  fields: PostInputsFields,
  inputs: readonly (Input | Uint8Array[])[],
  options?: { signal?: AbortSignal; timeoutMs?: number },
) => Promise<MultiInputResponse>;

/**
 * Makes the chunked PostInputs call of a gRPC client.
 *
 * @param options The transport's pieces.
 * @returns The call.
 *
 * @example Post an input to the local API
 * ```ts
 * import { createChunkedPostInputs } from "./chunked_post_inputs.ts";
 * import { createNodeHttpClient, Http2SessionManager } from "@connectrpc/connect-node";
 * import { startLocalApi } from "../../server/local/local_api.ts";
 * import { create } from "@bufbuild/protobuf";
 * import { InputSchema } from "../gen/clarifai/api/resources_pb.ts";
 * import { StatusCode } from "../gen/clarifai/api/status/status_code_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const api = await startLocalApi({ port: 0, dataDir: ":memory:", key: "k" });
 * const sessions = new Http2SessionManager(api.baseUrl);
 * const post = createChunkedPostInputs({
 *   baseUrl: api.baseUrl,
 *   httpClient: createNodeHttpClient({ httpVersion: "2", sessionProvider: () => sessions }),
 *   interceptors: [(next) => (req) => (req.header.set("authorization", "Key k"), next(req))],
 *   defaultTimeoutMs: 10_000,
 *   readMaxBytes: 1 << 30,
 * });
 * const response = await post(
 *   { userAppId: { userId: "u", appId: "a" } },
 *   [create(InputSchema, { id: "t1", data: { text: { raw: "hello" } } })],
 * );
 * assertEquals(response.status?.code, StatusCode.SUCCESS);
 * sessions.abort();
 * await api.close();
 * ```
 */
export function createChunkedPostInputs(options: ChunkedPostInputsOptions): ChunkedPostInputs {
  const method = V2.method.postInputs;
  const url = createMethodUrl(options.baseUrl, method);
  return async (fields, inputs, callOptions = {}) => {
    const request = create(PostInputsRequestSchema, fields);
    const { chunks, size } = encodePostInputsChunks(
      request,
      inputs.map((input) => Array.isArray(input) ? input : encodeInputChunks(input as Input)),
    );
    const timeout = callOptions.timeoutMs ?? options.defaultTimeoutMs;
    const timeoutMs = timeout <= 0 ? undefined : timeout;
    const envelope = new Uint8Array(5);
    new DataView(envelope.buffer).setUint32(1, size);
    const response = await runUnaryCall<
      typeof PostInputsRequestSchema,
      typeof MultiInputResponseSchema
    >({
      interceptors: options.interceptors,
      signal: callOptions.signal,
      timeoutMs,
      req: {
        stream: false,
        service: V2,
        method,
        requestMethod: "POST",
        url,
        header: requestHeader(true, timeoutMs, undefined),
        contextValues: createContextValues(),
        // Interceptors see the request's own fields; the inputs go as chunks below.
        message: request,
      },
      next: async (req) => {
        const res = await options.httpClient({
          url: req.url,
          method: "POST",
          header: req.header,
          signal: req.signal,
          body: coalesced([envelope, ...chunks], options.room),
        });
        const { headerError } = validateResponse(res.status, res.header);
        const body = await readAllBytes(res.body, options.readMaxBytes);
        validateTrailer(res.trailer, res.header);
        if (body.byteLength === 0) {
          if (headerError) throw headerError;
          throw new ConnectError("protocol error: missing output message for unary method");
        }
        if (headerError) {
          throw new ConnectError(
            "protocol error: received output message for unary method with error status",
            Code.Unknown,
          );
        }
        const message = fromBinary(MultiInputResponseSchema, unwrapEnvelope(body));
        return {
          stream: false,
          service: V2,
          method,
          header: res.header,
          message,
          trailer: res.trailer,
        };
      },
    });
    return response.message;
  };
}

/** The one message of a unary gRPC response body: a 5-byte prefix, then the message. */
function unwrapEnvelope(body: Uint8Array): Uint8Array {
  if (body.byteLength < 5) {
    throw new ConnectError("protocol error: incomplete envelope", Code.Internal);
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (view.getUint8(0) & 0b1) {
    throw new ConnectError("protocol error: compressed response not requested", Code.Internal);
  }
  const length = view.getUint32(1);
  if (5 + length !== body.byteLength) {
    throw new ConnectError(
      "protocol error: received extra output message for unary method",
      Code.Unimplemented,
    );
  }
  return body.subarray(5);
}

/**
 * The request's chunks for the stream: small ones joined, up to 64 KiB (each write to the
 * HTTP/2 stream costs about the same whatever its size: one per field of each input made the
 * writes most of the CPU of a CSV of URLs), a larger one (media bytes) on its own, not copied.
 */
async function* coalesced(
  chunks: Uint8Array[],
  room: () => Promise<void> | undefined = () => undefined,
): AsyncGenerator<Uint8Array> {
  const LIMIT = 64 * 1024;
  let held: Uint8Array[] = [];
  let size = 0;
  const flush = () => {
    const out = held.length === 1 ? held[0] : new Uint8Array(size);
    if (held.length > 1) {
      let at = 0;
      for (const c of held) {
        out.set(c, at);
        at += c.byteLength;
      }
    }
    held = [];
    size = 0;
    return out;
  };
  for (const chunk of chunks) {
    if (size > 0 && size + chunk.byteLength > LIMIT) {
      await room();
      yield flush();
    }
    if (chunk.byteLength >= LIMIT) {
      await room();
      yield chunk;
    } else {
      held.push(chunk);
      size += chunk.byteLength;
    }
  }
  if (size > 0) {
    await room();
    yield flush();
  }
}
