/**
 * The answer to a `clarifai.api.V2` method the local API does not implement: an in-body
 * `NOT_IMPLEMENTED` status with transport OK, in whatever protocol the caller spoke (gRPC,
 * gRPC-web binary or text, Connect binary or JSON). Every Clarifai response message carries its
 * `status` as field 1, so a `BaseResponse` decodes as the caller's own response type.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { create, toBinary, toJson } from "@bufbuild/protobuf";
import { BaseResponseSchema } from "../../src/gen/clarifai/api/service_pb.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import { localStatus } from "./local_status.ts";

/** The path prefix of the V2 service's RPCs. */
export const V2_PATH_PREFIX = "/clarifai.api.V2/";

function frame(flags: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/**
 * Answers an RPC to an unknown `clarifai.api.V2` method with an in-body `NOT_IMPLEMENTED`.
 * Drains the request first.
 *
 * @param req The Node request (HTTP/1.1 or HTTP/2).
 * @param res The Node response.
 * @returns A promise that resolves once the answer is written.
 *
 * @example Answer over HTTP/1.1
 * ```ts
 * import { answerUnknownRpc } from "./unknown_rpc.ts";
 * import { createServer } from "node:http";
 * import { assertEquals } from "@std/assert";
 *
 * const server = createServer((req, res) => answerUnknownRpc(req, res));
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const { port } = server.address() as { port: number };
 * const res = await fetch(`http://127.0.0.1:${port}/clarifai.api.V2/ListModels`, {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: "{}",
 * });
 * assertEquals((await res.json()).status.code, "NOT_IMPLEMENTED");
 * await new Promise((resolve) => server.close(resolve));
 * ```
 */
export async function answerUnknownRpc(
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
): Promise<void> {
  for await (const _ of req) { /* drain */ }
  const path = (req.url ?? "").split("?")[0];
  const method = path.slice(V2_PATH_PREFIX.length);
  const response = create(BaseResponseSchema, {
    status: localStatus(
      StatusCode.NOT_IMPLEMENTED,
      `the local API does not implement clarifai.api.V2/${method}`,
    ),
  });
  const type = String(req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  const message = toBinary(BaseResponseSchema, response);
  const w = res as ServerResponse;
  if (type === "application/grpc" || type === "application/grpc+proto") {
    w.writeHead(200, { "content-type": "application/grpc+proto" });
    w.addTrailers({ "grpc-status": "0", "grpc-message": "" });
    w.end(frame(0, message));
    return;
  }
  if (type.startsWith("application/grpc-web")) {
    const trailer = new TextEncoder().encode("grpc-status: 0\r\ngrpc-message: \r\n");
    const body = concat(frame(0, message), frame(0x80, trailer));
    if (type.startsWith("application/grpc-web-text")) {
      w.writeHead(200, { "content-type": "application/grpc-web-text+proto" });
      w.end(btoa(String.fromCharCode(...body)));
    } else {
      w.writeHead(200, { "content-type": "application/grpc-web+proto" });
      w.end(body);
    }
    return;
  }
  if (type === "application/proto") {
    w.writeHead(200, { "content-type": "application/proto" });
    w.end(message);
    return;
  }
  w.writeHead(200, { "content-type": "application/json" });
  w.end(JSON.stringify(toJson(BaseResponseSchema, response)));
}
