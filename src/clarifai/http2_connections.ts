/**
 * The connections under the gRPC client's HTTP/2 sessions, opened here (`createConnection`, an
 * option of `node:http2`'s `connect`) so that a request of tens of megabytes costs about its own
 * size in memory, not three times that. Under Deno's `node:http2` (2.9) the bytes of a request
 * body are copied twice on their way out: into the stream's pending data (native), then, one
 * HTTP/2 frame at a time, into a new `ArrayBuffer` that the session hands to the socket. That
 * gives two problems, and this module answers both:
 *
 * - **The frames are garbage once written, but only V8's next full collection frees them.**
 *   Measured on 12 videos of 50 MB: about 85 MiB of written frames waited for a collection.
 *   Each socket opened here detaches a frame's `ArrayBuffer` as soon as the socket has written
 *   it, which frees it at once.
 * - **A stream's write completes once its bytes are framed, not once the socket took them**, so
 *   nothing slows the writer down: with the local API's 32 MiB flow-control window, up to 38 MB of
 *   frames were queued in the socket. {@linkcode Http2Connections.room} tells a writer to wait
 *   until the sockets have drained below {@linkcode MAX_QUEUED_BYTES}.
 *
 * @module
 */
import * as net from "node:net";
import * as tls from "node:tls";
import type { Duplex } from "node:stream";

/** The most bytes a writer lets queue in a connection's socket before it waits. */
export const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

/** Frames smaller than this are left to the collector (the headers, pings, settings). */
const FREE_MIN_BYTES = 4096;

/** How long a writer waits for `drain` before it looks at the queue again, milliseconds. */
const RECHECK_MS = 20;

/** The connections of one HTTP/2 session manager. */
export interface Http2Connections {
  /**
   * Opens a connection for `node:http2`'s `connect` (its `createConnection` option): TCP for
   * `http:`, TLS with ALPN `h2` for `https:`, as `connect` itself would.
   *
   * @param authority The URL `connect` was given.
   * @returns The socket.
   */
  createConnection(authority: URL): Duplex;
  /**
   * Resolves once every open connection has at most {@linkcode MAX_QUEUED_BYTES} queued, or
   * returns `undefined` when they already have (no promise, no wait).
   *
   * @returns A promise to await, or `undefined`.
   */
  room(): Promise<void> | undefined;
}

/**
 * Makes the connection factory of one HTTP/2 session manager, and the wait of its writers.
 *
 * @returns The connections.
 *
 * @example A session on a connection opened here
 * ```ts
 * import { createHttp2Connections } from "./http2_connections.ts";
 * import * as http2 from "node:http2";
 * import { assertEquals } from "@std/assert";
 *
 * const server = http2.createServer((_req, res) => res.end("ok"));
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const { port } = server.address() as { port: number };
 * const connections = createHttp2Connections();
 * const session = http2.connect(`http://127.0.0.1:${port}`, {
 *   createConnection: connections.createConnection,
 * });
 * const stream = session.request({ ":path": "/" });
 * let text = "";
 * for await (const chunk of stream) text += new TextDecoder().decode(chunk);
 * assertEquals(text, "ok");
 * assertEquals(connections.room(), undefined); // nothing queued: no wait
 * session.close();
 * await new Promise((resolve) => server.close(resolve));
 * ```
 */
export function createHttp2Connections(): Http2Connections {
  const sockets = new Set<net.Socket>();
  return {
    createConnection(authority: URL): Duplex {
      const host = authority.hostname.replace(/^\[(.*)\]$/, "$1");
      const socket = authority.protocol === "http:"
        ? net.connect({ host, port: Number(authority.port || 80) })
        : tls.connect({
          host,
          port: Number(authority.port || 443),
          servername: net.isIP(host) ? undefined : host,
          ALPNProtocols: ["h2"],
        });
      freeWrittenFrames(socket);
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
      return socket;
    },
    room(): Promise<void> | undefined {
      for (const socket of sockets) {
        if (socket.writableLength > MAX_QUEUED_BYTES && !socket.destroyed) return drained(socket);
      }
      return undefined;
    },
  };
}

/** Waits until `socket` has at most {@linkcode MAX_QUEUED_BYTES} queued (or is gone). */
async function drained(socket: net.Socket): Promise<void> {
  while (socket.writableLength > MAX_QUEUED_BYTES && !socket.destroyed) {
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        socket.off("drain", done);
        socket.off("close", done);
        resolve();
      };
      const timer = setTimeout(done, RECHECK_MS);
      socket.once("drain", done);
      socket.once("close", done);
    });
  }
}

/**
 * Makes `socket` detach the `ArrayBuffer` of each frame it is given once it has written it.
 * Only a chunk that is its buffer's whole content is detached: the HTTP/2 session gives the
 * socket a fresh buffer per frame and keeps no reference to it, so nothing reads it after the
 * write; a view into a shared buffer is left alone.
 *
 * @param socket The socket an HTTP/2 session writes to.
 *
 * @example Usage
 * ```ts
 * import { freeWrittenFrames } from "./http2_connections.ts";
 * import * as net from "node:net";
 * import { assertEquals } from "@std/assert";
 *
 * const server = net.createServer((s) => s.resume());
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const socket = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
 * freeWrittenFrames(socket);
 * const frame = new Uint8Array(16_393);
 * await new Promise((resolve) => socket.write(frame, resolve));
 * assertEquals(frame.buffer.detached, true);
 * socket.destroy();
 * await new Promise((resolve) => server.close(resolve));
 * ```
 */
export function freeWrittenFrames(socket: net.Socket): void {
  const write = socket.write;
  socket.write = function (
    this: net.Socket,
    chunk: unknown,
    encoding?: BufferEncoding | ((error?: Error | null) => void),
    callback?: (error?: Error | null) => void,
  ): boolean {
    if (typeof encoding === "function") {
      callback = encoding;
      encoding = undefined;
    }
    if (!ownsItsBuffer(chunk)) {
      return write.call(this, chunk as Uint8Array, encoding as BufferEncoding, callback);
    }
    return write.call(this, chunk, encoding as BufferEncoding, (error?: Error | null) => {
      try {
        chunk.buffer.transfer(0);
      } catch { /* not transferable: left to the collector */ }
      callback?.(error);
    });
  } as typeof socket.write;
}

function ownsItsBuffer(chunk: unknown): chunk is Uint8Array<ArrayBuffer> {
  return chunk instanceof Uint8Array && chunk.byteLength >= FREE_MIN_BYTES &&
    chunk.buffer instanceof ArrayBuffer && !chunk.buffer.resizable &&
    chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength;
}
