/**
 * The protocols of the local API over one Node handler: gRPC, gRPC-web and Connect through
 * `@connectrpc/connect-node` (every `clarifai.api.V2` method goes to
 * {@linkcode LocalV2Service.prototype.call}), REST JSON through the Hono app of `rest_app.ts`,
 * and an in-body `NOT_IMPLEMENTED` for V2 methods outside the subset.
 *
 * @module
 */
import {
  Code,
  ConnectError,
  type ConnectRouter,
  createContextKey,
  createContextValues,
  type HandlerContext,
  type ServiceImpl,
} from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { getRequestListener } from "@hono/node-server";
import type { Hono } from "hono";
import { V2 } from "../../src/gen/clarifai/api/service_pb.ts";
import type { NodeHandler, NodeRequest, NodeResponse } from "./fault_layer.ts";
import type { MessageBuffers } from "./message_buffers.ts";
import { destroyConnection } from "./one_port_server.ts";
import type { NodeEnv } from "./rest_app.ts";
import { answerUnknownRpc, V2_PATH_PREFIX } from "./unknown_rpc.ts";
import { ConnectionDroppedError, type LocalV2Service, type V2MethodName } from "./v2_service.ts";

const kNodeRequest = createContextKey<NodeRequest | undefined>(undefined, {
  description: "the Node request",
});

/** The Connect implementation of `clarifai.api.V2`: every method through the service. */
function serviceImpl(service: LocalV2Service): ServiceImpl<typeof V2> {
  const impl: Record<string, unknown> = {};
  for (const method of V2.methods) {
    const name = method.localName as V2MethodName;
    impl[name] = async (request: never, ctx: HandlerContext) => {
      try {
        return await service.call(name, request, {
          authorization: ctx.requestHeader.get("authorization"),
          drop: () => destroyConnection(ctx.values.get(kNodeRequest)),
        });
      } catch (error) {
        if (error instanceof ConnectionDroppedError) {
          throw new ConnectError(error.message, Code.Aborted);
        }
        throw error;
      }
    };
  }
  return impl as ServiceImpl<typeof V2>;
}

/**
 * Creates the handler answering every protocol.
 *
 * @param service The service.
 * @param rest The REST app (also serving any other HTTP path).
 * @param maxRequestBytes The largest RPC request read.
 * @param buffers Where gRPC messages are gathered, reused from request to request (default:
 * fresh memory for each message).
 * @returns The Node handler.
 *
 * @example Answer a Connect call
 * ```ts
 * import { createProtocolHandler } from "./protocol_handler.ts";
 * import { createRestApp } from "./rest_app.ts";
 * import { LocalV2Service } from "./v2_service.ts";
 * import { LocalStore } from "./store.ts";
 * import { FaultInjector } from "./faults.ts";
 * import { createServer } from "node:http";
 * import { assertEquals } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const service = new LocalV2Service({ store, key: "k", faults: new FaultInjector() });
 * const handle = createProtocolHandler(service, createRestApp({ service, store }), 1 << 20);
 * const server = createServer(handle);
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const { port } = server.address() as { port: number };
 * const res = await fetch(`http://127.0.0.1:${port}/clarifai.api.V2/GetInputCount`, {
 *   method: "POST",
 *   headers: { "content-type": "application/json", authorization: "Key k" },
 *   body: JSON.stringify({ userAppId: { userId: "me", appId: "demo" } }),
 * });
 * assertEquals((await res.json()).status.code, "SUCCESS");
 * await new Promise((resolve) => server.close(resolve));
 * store.close();
 * ```
 */
export function createProtocolHandler(
  service: LocalV2Service,
  rest: Hono<NodeEnv>,
  maxRequestBytes: number,
  buffers?: MessageBuffers,
): NodeHandler {
  // overrideGlobalObjects: false keeps the process's own Response class, which Deno.serve needs
  // when the local API runs in the same process as a Hono app served by Deno.
  const restListener = getRequestListener(rest.fetch, { overrideGlobalObjects: false });
  // deno-lint-ignore no-explicit-any
  const fallback = (req: any, res: any) => {
    const path = ((req as NodeRequest).url ?? "").split("?")[0];
    if (path.startsWith(V2_PATH_PREFIX)) {
      answerUnknownRpc(req, res).catch(() => (res as NodeResponse).destroy());
      return;
    }
    restListener(req, res);
  };
  const adapter = connectNodeAdapter({
    routes(router: ConnectRouter) {
      router.service(V2, serviceImpl(service));
    },
    fallback,
    readMaxBytes: maxRequestBytes,
    contextValues: (req) => createContextValues().set(kNodeRequest, req),
  });
  // deno-lint-ignore no-explicit-any
  return (req, res) => adapter(wholeGrpcMessages(req, maxRequestBytes, buffers) as any, res as any);
}

/**
 * Hands a gRPC request's body to Connect one whole message at a time. Connect's envelope
 * decoder sums the lengths of every chunk it holds on each new chunk, so a 50 MB message that
 * arrives in 3,800 HTTP/2 DATA chunks costs quadratic time (about 50 ms). Each message is copied
 * once into a buffer of `buffers` instead, which Connect copies (synchronously, into memory of
 * its own) before it asks for the next chunk; the buffer then goes back for the next message.
 * A length over `maxRequestBytes` passes through as it came, for Connect to refuse.
 */
function wholeGrpcMessages(
  req: NodeRequest,
  maxRequestBytes: number,
  buffers: MessageBuffers | undefined,
): NodeRequest {
  const type = req.headers?.["content-type"];
  if (typeof type !== "string" || !type.startsWith("application/grpc")) return req;
  const request = req as NodeRequest & {
    iterator?: (options?: unknown) => AsyncIterable<Uint8Array>;
  };
  const original = request.iterator;
  if (typeof original !== "function") return req;
  request.iterator = (options?: unknown) =>
    coalesceMessages(original.call(request, options), maxRequestBytes, buffers);
  return req;
}

/**
 * Re-chunks a stream of gRPC envelopes (a flag byte, a 4-byte length, the message) so that
 * each envelope comes as one chunk.
 *
 * With `buffers`, an envelope's chunk is gathered in a buffer of the pool, and the buffer goes
 * back to the pool when the consumer asks for the next chunk: a chunk is then valid only until
 * the next one is asked for (Connect's decoder copies it at once). Without, each envelope gets
 * memory of its own.
 *
 * @param source The body's chunks.
 * @param maxBytes Envelopes longer than this pass through in the chunks they came in.
 * @param buffers Where envelopes are gathered (default: fresh memory for each).
 * @returns The envelopes, one a chunk.
 *
 * @example Two envelopes split across three chunks
 * ```ts
 * import { coalesceMessages } from "./protocol_handler.ts";
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
): AsyncGenerator<Uint8Array> {
  let head: Uint8Array = new Uint8Array(0);
  let out: Uint8Array | undefined;
  let at = 0;
  let passThrough = false;
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
        yield whole;
        buffers?.give(whole);
      }
    }
  }
  // A body cut short: what arrived goes on, for the decoder to report.
  if (out !== undefined) yield out.subarray(0, at);
  if (head.length > 0) yield head;
}
