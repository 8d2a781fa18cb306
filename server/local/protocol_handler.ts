/**
 * The protocols of the local API over one Node handler: gRPC, gRPC-web and Connect through
 * `@connectrpc/connect-node` (every `clarifai.api.V2` method goes to
 * {@linkcode LocalV2Service.prototype.call}), REST JSON through the Hono app of `rest_app.ts`,
 * and an in-body `NOT_IMPLEMENTED` for V2 methods outside the subset. gRPC request bodies are
 * read by `grpc_messages.ts` before Connect sees them (whole messages, large `PostInputs`
 * messages parsed in reused buffers).
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
import { takeParsedAhead, wholeGrpcMessages } from "./grpc_messages.ts";
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
      // A large PostInputs message was parsed while the body was read (grpc_messages.ts).
      const ahead = takeParsedAhead(ctx.values.get(kNodeRequest));
      try {
        return await service.call(name, (ahead?.message ?? request) as never, {
          authorization: ctx.requestHeader.get("authorization"),
          drop: () => destroyConnection(ctx.values.get(kNodeRequest)),
        });
      } catch (error) {
        if (error instanceof ConnectionDroppedError) {
          throw new ConnectError(error.message, Code.Aborted);
        }
        throw error;
      } finally {
        ahead?.release();
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
