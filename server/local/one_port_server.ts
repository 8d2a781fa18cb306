/**
 * One port for every protocol: a `node:net` server reads the first bytes of each connection; the
 * HTTP/2 preface (`PRI * HTTP/2.0`) goes to a `node:http2` server (gRPC needs HTTP/2 trailers),
 * anything else to a `node:http` server. Under Deno, a `node:http` server handed a connection
 * whose first bytes were already read answers the first request and then resets the connection,
 * which breaks keep-alive clients; so HTTP/1.1 connections are relayed to a `node:http` server
 * listening on an internal loopback port.
 *
 * @module
 */
import * as net from "node:net";
import * as http from "node:http";
import * as http2 from "node:http2";
import type { NodeHandler, NodeRequest } from "./fault_layer.ts";

/** The HTTP/2 flow-control window given to each stream and connection. */
const H2_WINDOW_BYTES = 32 * 1024 * 1024;
const H2_PREFACE = "PRI * HTTP/2.0";

/** A listening one-port server. */
export interface OnePortServer {
  /** The port it listens on. */
  readonly port: number;
  /**
   * Stops listening and destroys every open connection.
   *
   * @returns A promise that resolves when both inner servers are closed.
   */
  close(): Promise<void>;
}

/**
 * Resets a TCP connection (RST), as a crashed proxy or server would leave it.
 *
 * @param socket The socket.
 *
 * @example Usage
 * ```ts
 * import { resetSocket } from "./one_port_server.ts";
 *
 * resetSocket(undefined); // nothing to reset
 * ```
 */
export function resetSocket(socket: net.Socket | undefined): void {
  const s = socket as (net.Socket & { resetAndDestroy?: () => void }) | undefined;
  if (s?.resetAndDestroy) s.resetAndDestroy();
  else s?.destroy();
}

/**
 * Resets the TCP connection a Node request arrived on (HTTP/1.1 or HTTP/2).
 *
 * @param req The request.
 *
 * @example Usage
 * ```ts
 * import { destroyConnection } from "./one_port_server.ts";
 *
 * destroyConnection(undefined); // nothing to reset
 * ```
 */
export function destroyConnection(req: NodeRequest | undefined): void {
  if (req === undefined) return;
  resetSocket(
    ("stream" in req && req.stream ? req.stream.session?.socket : req.socket) as
      | net.Socket
      | undefined,
  );
}

function listen(server: net.Server | http.Server, port: number, hostname: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** Pipes a front connection to the inner HTTP/1.1 server, first bytes included. */
function relay(
  front: net.Socket,
  head: Uint8Array,
  h1Port: number,
  track: (s: net.Socket) => void,
) {
  const back = net.connect(h1Port, "127.0.0.1");
  track(back);
  back.setNoDelay(true);
  front.setNoDelay(true);
  back.write(head);
  front.pipe(back);
  back.pipe(front);
  front.resume();
  // A reset on the inside (drop-after-commit) is a reset on the outside.
  back.on("error", () => resetSocket(front));
  front.on("error", () => back.destroy());
  front.on("close", () => back.destroy());
  back.on("close", () => front.destroy());
}

/**
 * Listens on one port and serves `handle` over HTTP/2 cleartext and HTTP/1.1.
 *
 * @param handle The request handler (both HTTP versions).
 * @param port The port (0 picks a free one).
 * @param hostname The address.
 * @returns The listening server.
 *
 * @example Serve both HTTP versions on one port
 * ```ts
 * import { listenOnePort } from "./one_port_server.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const server = await listenOnePort((_req, res) => res.end("hello"), 0, "127.0.0.1");
 * const res = await fetch(`http://127.0.0.1:${server.port}/`);
 * assertEquals(await res.text(), "hello");
 * await server.close();
 * ```
 */
export async function listenOnePort(
  handle: NodeHandler,
  port: number,
  hostname: string,
): Promise<OnePortServer> {
  const h1 = http.createServer(handle);
  // Large windows: uploads are requests of tens of megabytes, and HTTP/2's default 64 KiB
  // window would make the client wait for a window update every 64 KiB.
  const h2 = http2.createServer({ settings: { initialWindowSize: H2_WINDOW_BYTES } }, handle);
  h2.on("session", (session) => {
    session.once("localSettings", () => session.setLocalWindowSize(H2_WINDOW_BYTES));
  });
  await listen(h1, 0, "127.0.0.1");
  const h1Port = (h1.address() as net.AddressInfo).port;
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  };
  const server = net.createServer((socket) => {
    track(socket);
    socket.on("error", () => socket.destroy());
    let head = new Uint8Array(0);
    const onData = (chunk: Uint8Array) => {
      const joined = new Uint8Array(head.length + chunk.length);
      joined.set(head, 0);
      joined.set(chunk, head.length);
      head = joined;
      const n = Math.min(head.length, H2_PREFACE.length);
      const text = new TextDecoder().decode(head.subarray(0, n));
      if (n < H2_PREFACE.length && H2_PREFACE.startsWith(text)) return; // need more bytes
      socket.off("data", onData);
      socket.pause();
      if (text === H2_PREFACE) {
        socket.unshift(head);
        h2.emit("connection", socket);
        socket.resume();
      } else {
        relay(socket, head, h1Port, track);
      }
    };
    socket.on("data", onData);
  });
  await listen(server, port, hostname);
  return {
    port: (server.address() as net.AddressInfo).port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      h2.close();
      h1.closeAllConnections();
      await new Promise<void>((resolve) => h1.close(() => resolve()));
    },
  };
}
