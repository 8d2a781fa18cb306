/**
 * How the local API reads gRPC (and gRPC-web) request bodies before Connect does. Two costs of
 * Connect's own reading are avoided:
 *
 * - its envelope decoder sums the lengths of every chunk it holds on each new chunk: quadratic
 *   in the chunks of a message (a 50 MB message arrives in about 3,800 HTTP/2 DATA chunks), so
 *   each message is handed to it whole, gathered in a buffer of {@linkcode MessageBuffers};
 * - it copies each message into memory of its own, and fresh memory is costly here (page
 *   faults: about 180 ms for 50 MB). So a `PostInputs` message of binary protobuf is parsed
 *   here, its content bytes left where they are in the reused buffer, and Connect gets an empty
 *   message in its place; the service takes the parsed request with
 *   {@linkcode takeParsedAhead}, and the buffer goes back for reuse once the call is over.
 *
 * @module
 */
import { type DescMessage, fromBinary } from "@bufbuild/protobuf";
import { V2 } from "../../src/gen/clarifai/api/service_pb.ts";
import type { NodeRequest } from "./fault_layer.ts";
import type { MessageBuffers } from "./message_buffers.ts";

/** A request message parsed before Connect read the body, in a buffer to give back after use. */
export interface ParsedAhead {
  /** The parsed request (its bytes fields are views of the buffer). */
  message: unknown;
  /** Gives the buffer back: call it once nothing reads the message any more. */
  release(): void;
}

/**
 * The methods whose request is parsed ahead: their handlers read the content bytes only while
 * they run, and answer without them (PostInputs stores the bytes and answers with a URL).
 */
const PARSED_AHEAD: ReadonlyMap<string, DescMessage> = new Map([
  [`/${V2.typeName}/${V2.method.postInputs.name}`, V2.method.postInputs.input],
]);

/** Content types whose messages are binary protobuf. */
const BINARY_TYPES = new Set([
  "application/grpc",
  "application/grpc+proto",
  "application/grpc-web",
  "application/grpc-web+proto",
]);

const parsedAhead = new WeakMap<object, ParsedAhead>();

/**
 * Takes the request message parsed ahead for a request, if it was.
 *
 * @param req The Node request.
 * @returns The parsed message and how to release its buffer, or `undefined`.
 *
 * @example Nothing was parsed ahead for a request no body reader saw
 * ```ts
 * import { takeParsedAhead } from "./grpc_messages.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(takeParsedAhead({}), undefined);
 * ```
 */
export function takeParsedAhead(req: object | undefined): ParsedAhead | undefined {
  if (req === undefined) return undefined;
  const found = parsedAhead.get(req);
  parsedAhead.delete(req);
  return found;
}

/**
 * Makes a gRPC request's body reach Connect one whole message at a time, gathered in `buffers`
 * (see the module docs); a `PostInputs` message of binary protobuf from 64 KiB is parsed ahead.
 * Other requests are left as they are.
 *
 * @param req The Node request (its `iterator` is replaced).
 * @param maxRequestBytes Messages longer than this pass through as they came, for Connect to refuse.
 * @param buffers Where messages are gathered (default: fresh memory for each, nothing parsed ahead).
 * @returns The same request.
 *
 * @example A REST request is left as it is
 * ```ts
 * import { wholeGrpcMessages } from "./grpc_messages.ts";
 * import type { NodeRequest } from "./fault_layer.ts";
 * import { assert } from "@std/assert";
 *
 * const req = { headers: { "content-type": "application/json" } } as unknown as NodeRequest;
 * assert(wholeGrpcMessages(req, 1024) === req);
 * ```
 */
export function wholeGrpcMessages(
  req: NodeRequest,
  maxRequestBytes: number,
  buffers?: MessageBuffers,
): NodeRequest {
  const type = req.headers?.["content-type"];
  if (typeof type !== "string" || !type.startsWith("application/grpc")) return req;
  const request = req as NodeRequest & {
    iterator?: (options?: unknown) => AsyncIterable<Uint8Array>;
  };
  const original = request.iterator;
  if (typeof original !== "function") return req;
  const schema = buffers && BINARY_TYPES.has(type.split(";")[0].trim())
    ? PARSED_AHEAD.get((req.url ?? "").split("?")[0])
    : undefined;
  const take = schema &&
    ((message: Uint8Array, release: () => void) => {
      let parsed;
      try {
        parsed = fromBinary(schema, message);
      } catch {
        return false; // Connect parses it again, and says what is wrong
      }
      parsedAhead.set(req, { message: parsed, release });
      return true;
    });
  request.iterator = (options?: unknown) =>
    coalesceMessages(original.call(request, options), maxRequestBytes, buffers, take);
  return req;
}

/**
 * Takes a whole message (without its envelope) for parsing ahead; `false` declines it.
 * `release` gives its buffer back for reuse.
 */
export type TakeMessage = (message: Uint8Array, release: () => void) => boolean;

/** Messages from this size are offered to `take` (smaller ones cost little to copy). */
const TAKE_MIN_BYTES = 64 * 1024;

/**
 * Re-chunks a stream of gRPC envelopes (a flag byte, a 4-byte length, the message) so that
 * each envelope comes as one chunk.
 *
 * With `buffers`, an envelope's chunk is gathered in a buffer of the pool, and the buffer goes
 * back to the pool when the consumer asks for the next chunk: a chunk is then valid only until
 * the next one is asked for (Connect's decoder copies it at once). Without, each envelope gets
 * memory of its own. With `take` too, the first envelope (uncompressed, from 64 KiB) is offered
 * to it; one it takes comes out as an empty message, and its buffer is the taker's to release.
 *
 * @param source The body's chunks.
 * @param maxBytes Envelopes longer than this pass through in the chunks they came in.
 * @param buffers Where envelopes are gathered (default: fresh memory for each).
 * @param take Takes the first message for parsing ahead.
 * @returns The envelopes, one a chunk.
 *
 * @example Two envelopes split across three chunks
 * ```ts
 * import { coalesceMessages } from "./grpc_messages.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const body = new Uint8Array([0, 0, 0, 0, 3, 1, 2, 3, 0, 0, 0, 0, 1, 9]);
 * const chunks = [body.subarray(0, 2), body.subarray(2, 9), body.subarray(9)];
 * const out = await Array.fromAsync(coalesceMessages(ReadableStream.from(chunks), 1024));
 * assertEquals(out.map((c) => [...c]), [[0, 0, 0, 0, 3, 1, 2, 3], [0, 0, 0, 0, 1, 9]]);
 * ```
 */
export async function* coalesceMessages(
  source: AsyncIterable<Uint8Array>,
  maxBytes: number,
  buffers?: MessageBuffers,
  take?: TakeMessage,
): AsyncGenerator<Uint8Array> {
  let head: Uint8Array = new Uint8Array(0);
  let out: Uint8Array | undefined;
  let at = 0;
  let passThrough = false;
  let first = true;
  for await (const chunk of source) {
    if (passThrough) {
      yield chunk;
      continue;
    }
    let rest: Uint8Array = chunk;
    while (rest.length > 0) {
      if (out === undefined) {
        const need = 5 - head.length;
        if (head.length === 0 && rest.length >= 5) {
          head = rest.subarray(0, 5);
        } else {
          const joined = new Uint8Array(head.length + Math.min(need, rest.length));
          joined.set(head);
          joined.set(rest.subarray(0, need), head.length);
          head = joined;
        }
        rest = rest.subarray(need);
        if (head.length < 5) break;
        const length = new DataView(head.buffer, head.byteOffset, 5).getUint32(1);
        if (length > maxBytes) {
          passThrough = true;
          yield head;
          if (rest.length > 0) yield rest;
          head = new Uint8Array(0);
          break;
        }
        out = buffers ? buffers.take(5 + length) : new Uint8Array(5 + length);
        out.set(head);
        at = 5;
        head = new Uint8Array(0);
      }
      const n = Math.min(out.length - at, rest.length);
      out.set(rest.subarray(0, n), at);
      at += n;
      rest = rest.subarray(n);
      if (at === out.length) {
        const whole = out;
        out = undefined;
        const offered = first && take !== undefined && whole[0] === 0 &&
          whole.length - 5 >= TAKE_MIN_BYTES;
        first = false;
        let given = false;
        const release = () => {
          if (!given) buffers?.give(whole);
          given = true;
        };
        if (offered && take(whole.subarray(5), release)) {
          yield new Uint8Array(5); // an empty message in its place
          continue;
        }
        yield whole;
        buffers?.give(whole);
      }
    }
  }
  // A body cut short: what arrived goes on, for the decoder to report.
  if (out !== undefined) yield out.subarray(0, at);
  if (head.length > 0) yield head;
}
