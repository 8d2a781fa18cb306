/**
 * Starts the local Clarifai-compatible API in-process: one port for every protocol (gRPC over
 * HTTP/2 cleartext, gRPC-web and Connect over HTTP/1.1 or HTTP/2, REST JSON), SQLite storage,
 * background processing and fault injection.
 *
 * @module
 */
import * as net from "node:net";
import * as http from "node:http";
import * as http2 from "node:http2";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Code, ConnectError, createContextKey, createContextValues } from "@connectrpc/connect";
import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { getRequestListener } from "@hono/node-server";
import { V2 } from "../../src/gen/clarifai/api/service_pb.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import { type FaultCounts, FaultInjector, type FaultOptions, parseFaults } from "./faults.ts";
import { InputProcessor } from "./input_processor.ts";
import { localStatus } from "./local_status.ts";
import { createRestApp } from "./rest_app.ts";
import { LocalStore } from "./store.ts";
import { answerUnknownRpc, V2_PATH_PREFIX } from "./unknown_rpc.ts";
import { ConnectionDroppedError, LocalV2Service, type V2MethodName } from "./v2_service.ts";

/** The data folder used when none is given. */
export const DEFAULT_DATA_DIR = ".upflow/local";
/** The API key accepted when none is given. */
export const DEFAULT_KEY = "dev-key";
/** The largest request accepted (Clarifai: requests under 128 MB). */
export const DEFAULT_MAX_REQUEST_BYTES = 128 * 1024 * 1024;

/** Options of {@linkcode startLocalApi}. */
export interface LocalApiOptions {
  /** The port; 0 (the default) picks a free one. */
  port?: number;
  /** The address to listen on (default `127.0.0.1`). */
  hostname?: string;
  /** The data folder (default `.upflow/local`), or `":memory:"`. */
  dataDir?: string;
  /** The accepted API key / PAT (default `dev-key`). */
  key?: string;
  /** Faults to inject: knobs, or a specification such as `"throttle=0.1,seed=7"`. */
  faults?: FaultOptions | string;
  /** Milliseconds between storing inputs and processing them (default 0). */
  processingDelayMs?: number;
  /** The largest request in bytes (default 128 MiB). */
  maxRequestBytes?: number;
}

/** A running local API. */
export interface LocalApi {
  /** `http://127.0.0.1:PORT`: the base for every protocol. */
  readonly baseUrl: string;
  /** The port it listens on. */
  readonly port: number;
  /** The address it listens on. */
  readonly hostname: string;
  /** The accepted API key. */
  readonly key: string;
  /** The store, for tests to inspect. */
  readonly store: LocalStore;
  /**
   * Replaces the fault knobs at runtime.
   *
   * @param faults Knobs or a specification; `{}` turns faults off.
   */
  setFaults(faults: FaultOptions | string): void;
  /**
   * Counts of the faults injected so far.
   *
   * @returns The counters.
   */
  faultCounts(): FaultCounts;
  /**
   * Resolves once no stored input is pending processing.
   *
   * @returns A promise.
   */
  waitForProcessing(): Promise<void>;
  /**
   * Stops listening, drops open connections, stops processing and closes the store.
   *
   * @returns A promise that resolves when everything is closed.
   */
  close(): Promise<void>;
  /** Same as {@linkcode LocalApi.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** The HTTP/2 flow-control window the local API gives each stream and connection. */
const H2_WINDOW_BYTES = 32 * 1024 * 1024;

type NodeRequest = IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = ServerResponse | http2.Http2ServerResponse;

const kNodeRequest = createContextKey<NodeRequest | undefined>(undefined, {
  description: "the Node request",
});

function destroyConnection(req: NodeRequest | undefined): void {
  if (req === undefined) return;
  // The TCP connection itself, reset (RST), as a crashed proxy or server would leave it.
  resetSocket(
    ("stream" in req && req.stream ? req.stream.session?.socket : req.socket) as
      | net.Socket
      | undefined,
  );
}

function resetSocket(socket: net.Socket | undefined): void {
  const s = socket as (net.Socket & { resetAndDestroy?: () => void }) | undefined;
  if (s?.resetAndDestroy) s.resetAndDestroy();
  else s?.destroy();
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

function validate(options: LocalApiOptions): void {
  const { port = 0, processingDelayMs = 0, maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES } = options;
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw new RangeError(
      `Cannot start local API: port must be an integer from 0 to 65535: current value is ${port}`,
    );
  }
  if (options.key !== undefined && (typeof options.key !== "string" || options.key.trim() === "")) {
    throw new TypeError(
      `Cannot start local API: key must be a non-empty string: current value is ${
        JSON.stringify(options.key)
      }`,
    );
  }
  if (!(Number.isFinite(processingDelayMs) && processingDelayMs >= 0)) {
    throw new RangeError(
      `Cannot start local API: processingDelayMs must be a number of at least 0: current value is ${processingDelayMs}`,
    );
  }
  if (!(Number.isInteger(maxRequestBytes) && maxRequestBytes > 0)) {
    throw new RangeError(
      `Cannot start local API: maxRequestBytes must be a positive integer: current value is ${maxRequestBytes}`,
    );
  }
}

/**
 * Starts the local Clarifai-compatible API and resolves once it listens.
 *
 * @param options Port, data folder, key, faults and limits.
 * @returns The running API.
 *
 * @example Start on a free port and ask for the input count over Connect
 * ```ts
 * import { startLocalApi } from "./local_api.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const api = await startLocalApi({ dataDir: ":memory:" });
 * const res = await fetch(`${api.baseUrl}/clarifai.api.V2/GetInputCount`, {
 *   method: "POST",
 *   headers: { "content-type": "application/json", authorization: `Key ${api.key}` },
 *   body: JSON.stringify({ userAppId: { userId: "me", appId: "demo" } }),
 * });
 * assertEquals((await res.json()).status.code, "SUCCESS");
 * await api.close();
 * ```
 */
export async function startLocalApi(options: LocalApiOptions = {}): Promise<LocalApi> {
  validate(options);
  const {
    port = 0,
    hostname = "127.0.0.1",
    dataDir = DEFAULT_DATA_DIR,
    key = DEFAULT_KEY,
    processingDelayMs = 0,
    maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES,
  } = options;
  const faults = new FaultInjector(
    typeof options.faults === "string" ? parseFaults(options.faults) : options.faults ?? {},
  );
  const store = new LocalStore(dataDir);
  const processor = new InputProcessor(store, faults, { delayMs: processingDelayMs });
  let baseUrl = "";
  const service = new LocalV2Service({
    store,
    key,
    faults,
    onInputsStored: () => processor.kick(),
    contentUrl: (hash) => `${baseUrl}/local/blobs/${hash}`,
  });

  const impl: Record<string, unknown> = {};
  for (const method of V2.methods) {
    const name = method.localName as V2MethodName;
    impl[name] = async (request: never, ctx: import("@connectrpc/connect").HandlerContext) => {
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

  // overrideGlobalObjects: false keeps the process's own Response class, which Deno.serve needs
  // when the local API runs in the same process as a Hono app served by Deno.
  const restListener = getRequestListener(
    createRestApp({ service, store, maxRequestBytes }).fetch,
    {
      overrideGlobalObjects: false,
    },
  );
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
      router.service(V2, impl as ServiceImpl<typeof V2>);
    },
    fallback,
    readMaxBytes: maxRequestBytes,
    contextValues: (req) => createContextValues().set(kNodeRequest, req),
  });

  const pendingDelays = new Set<ReturnType<typeof setTimeout>>();
  const handle = (req: NodeRequest, res: NodeResponse) => {
    const path = (req.url ?? "").split("?")[0];
    const faulty = path.startsWith(V2_PATH_PREFIX) || path.startsWith("/v2/");
    const go = () => {
      if (faulty && faults.takeUnavailable()) {
        const body = JSON.stringify({
          status: {
            code: StatusCode.RPC_SERVER_UNAVAILABLE,
            description: localStatus(StatusCode.RPC_SERVER_UNAVAILABLE).description,
            details: "service unavailable (unavailable fault)",
          },
        });
        req.resume();
        (res as ServerResponse).writeHead(503, {
          "content-type": "application/json",
          "retry-after": String(faults.retryAfterSeconds),
        });
        res.end(body);
        return;
      }
      // deno-lint-ignore no-explicit-any
      adapter(req as any, res as any);
    };
    const latency = faulty ? faults.takeLatency() : 0;
    if (latency > 0) {
      const timer = setTimeout(() => {
        pendingDelays.delete(timer);
        go();
      }, latency);
      pendingDelays.add(timer);
    } else {
      go();
    }
  };

  // HTTP/2 connections are handed to the node:http2 server in-process. HTTP/1.1 connections
  // are relayed to a node:http server listening on an internal loopback port: under Deno, a
  // node:http server given a connection whose first bytes were already read answers the first
  // request and then resets the connection, which breaks keep-alive clients.
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
  const H2_PREFACE = "PRI * HTTP/2.0";
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
        relay(socket, head);
      }
    };
    socket.on("data", onData);
  });
  const relay = (front: net.Socket, head: Uint8Array) => {
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
  };
  await listen(server, port, hostname);
  const address = server.address() as net.AddressInfo;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  baseUrl = `http://${host}:${address.port}`;
  processor.kick(); // inputs left pending by an earlier run

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      processor.close();
      for (const timer of pendingDelays) clearTimeout(timer);
      pendingDelays.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      h2.close();
      h1.closeAllConnections();
      await new Promise<void>((resolve) => h1.close(() => resolve()));
      store.close();
    })();
    return closing;
  };

  return {
    baseUrl,
    port: address.port,
    hostname,
    key,
    store,
    setFaults: (next) => faults.set(typeof next === "string" ? parseFaults(next) : next),
    faultCounts: () => faults.counts(),
    waitForProcessing: () => processor.idle(),
    close,
    [Symbol.asyncDispose]: close,
  };
}
