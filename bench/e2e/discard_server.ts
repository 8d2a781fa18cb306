/**
 * The transport limit's server: reads every request body to the end, discards it, and answers
 * each with a pre-encoded gRPC `MultiInputResponse` of status `SUCCESS` (`grpc-status: 0`; for
 * gRPC-web requests, with the trailers in the body).
 * Nothing is decoded, hashed or stored, so a client's rate against it is what the transport alone
 * allows. It is `Deno.serve` (HTTP/1.1, and HTTP/2 cleartext with prior knowledge, which gRPC
 * clients use): `node:http2`'s server under Deno 2.9 crashed (`free(): invalid pointer`) after
 * 50 MB requests, so it is not used here.
 *
 * ```sh
 * deno run -A bench/e2e/discard_server.ts --port 8790   # prints "listening on PORT"
 * ```
 *
 * @module
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { MultiInputResponseSchema } from "../../src/gen/clarifai/api/service_pb.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";

/**
 * Frames one gRPC message: a zero compression flag, the length (big-endian), the bytes.
 *
 * @param message The encoded message.
 * @returns The framed message.
 */
export function grpcFrame(message: Uint8Array): Uint8Array<ArrayBuffer> {
  const frame = new Uint8Array(5 + message.length);
  new DataView(frame.buffer).setUint32(1, message.length);
  frame.set(message, 5);
  return frame;
}

if (import.meta.main) {
  const { parseArgs } = await import("node:util");
  const { values } = parseArgs({
    args: Deno.args,
    options: { port: { type: "string", default: "0" } },
  });
  const reply = grpcFrame(
    toBinary(
      MultiInputResponseSchema,
      create(MultiInputResponseSchema, { status: { code: StatusCode.SUCCESS } }),
    ),
  );
  const trailer = grpcFrame(new TextEncoder().encode("grpc-status: 0\r\n"));
  trailer[0] = 0x80;
  const webReply = new Uint8Array(reply.length + trailer.length);
  webReply.set(reply);
  webReply.set(trailer, reply.length);
  let requests = 0;
  let bytes = 0;
  const server = Deno.serve({
    port: Number(values.port),
    hostname: "127.0.0.1",
    onListen: ({ port }) => console.log(`listening on ${port}`),
  }, async (request) => {
    if (request.body) { for await (const chunk of request.body) bytes += chunk.length; }
    requests++;
    if (request.headers.get("content-type")?.startsWith("application/grpc-web")) {
      // gRPC-web: the trailers travel in the body, as a frame flagged 0x80.
      return new Response(webReply, { headers: { "content-type": "application/grpc-web+proto" } });
    }
    return new Response(reply, {
      headers: { "content-type": "application/grpc", "grpc-status": "0" },
    });
  });
  const stop = async () => {
    console.log(JSON.stringify({ requests, bytes }));
    await server.shutdown();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
}
