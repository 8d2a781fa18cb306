/**
 * Where the injected faults act on requests: before a call (the `rps` token bucket and the
 * `throttle` knob answer an in-body `CONN_THROTTLED`), after a committed write (the
 * `drop-after-commit` knob resets the connection without an answer), and at the transport, in
 * front of every protocol (the `unavailable` knob answers HTTP 503 with `Retry-After`, which gRPC
 * clients read as UNAVAILABLE; `latency-ms` delays the request). The knobs and their random
 * streams live in {@linkcode FaultInjector}.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { Status } from "../../src/gen/clarifai/api/status/status_pb.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import type { FaultInjector } from "./faults.ts";
import { localStatus } from "./local_status.ts";
import { V2_PATH_PREFIX } from "./unknown_rpc.ts";

/** A Node request of either HTTP version. */
export type NodeRequest = IncomingMessage | Http2ServerRequest;
/** A Node response of either HTTP version. */
export type NodeResponse = ServerResponse | Http2ServerResponse;
/** A Node request handler of either HTTP version. */
export type NodeHandler = (req: NodeRequest, res: NodeResponse) => void;

/** The methods whose commit the `drop-after-commit` knob may follow with a reset. */
const COMMITTING_METHODS = new Set(["postInputs", "postAnnotations"]);

/**
 * The in-body status a call answers before it runs, when the rate limit or the throttle knob
 * says so; `undefined` lets the call run.
 *
 * @param faults The fault injector.
 * @returns The `CONN_THROTTLED` status, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { throttledStatus } from "./fault_layer.ts";
 * import { FaultInjector } from "./faults.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(throttledStatus(new FaultInjector()), undefined);
 * assertEquals(throttledStatus(new FaultInjector({ throttle: 1 }))?.code, 11005);
 * ```
 */
export function throttledStatus(faults: FaultInjector): Status | undefined {
  if (faults.takeRateLimited()) {
    return localStatus(
      StatusCode.CONN_THROTTLED,
      `exceeded limit of ${faults.rps} requests per second`,
    );
  }
  if (faults.takeThrottle()) {
    return localStatus(
      StatusCode.CONN_THROTTLED,
      "exceeded the request rate limit (throttle fault)",
    );
  }
  return undefined;
}

/**
 * Whether the answer to a committed write is to be dropped (the connection reset instead).
 *
 * @param faults The fault injector.
 * @param method The method's lower-camel-case name.
 * @param code The in-body status code of the answer.
 * @returns `true` to drop it.
 *
 * @example Usage
 * ```ts
 * import { dropsAfterCommit } from "./fault_layer.ts";
 * import { FaultInjector } from "./faults.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const faults = new FaultInjector({ dropAfterCommit: 1 });
 * assertEquals(dropsAfterCommit(faults, "getInput", 10000), false);
 * assertEquals(dropsAfterCommit(faults, "postInputs", 10020), false); // nothing was committed
 * assertEquals(dropsAfterCommit(faults, "postInputs", 10000), true);
 * ```
 */
export function dropsAfterCommit(faults: FaultInjector, method: string, code: number): boolean {
  return COMMITTING_METHODS.has(method) && code !== StatusCode.FAILURE &&
    faults.takeDropAfterCommit();
}

/** A Node handler with transport faults in front, and a way to cancel delayed requests. */
export interface FaultyHandler {
  /** The handler. */
  handle: NodeHandler;
  /** Cancels the requests still waiting out their latency. */
  cancelDelayed(): void;
}

function answerUnavailable(faults: FaultInjector, req: NodeRequest, res: NodeResponse): void {
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
}

/**
 * Puts the transport faults (`unavailable`, `latency-ms`) in front of a handler, for the API's
 * paths (`/clarifai.api.V2/…`, `/v2/…`) only.
 *
 * @param faults The fault injector.
 * @param next The handler that answers.
 * @returns The faulty handler.
 *
 * @example Every API request answers 503
 * ```ts
 * import { withTransportFaults } from "./fault_layer.ts";
 * import { FaultInjector } from "./faults.ts";
 * import { createServer } from "node:http";
 * import { assertEquals } from "@std/assert";
 *
 * const { handle } = withTransportFaults(new FaultInjector({ unavailable: 1 }), (_req, res) => res.end("ok"));
 * const server = createServer(handle);
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const { port } = server.address() as { port: number };
 * const res = await fetch(`http://127.0.0.1:${port}/v2/users/me/apps/demo/inputs`);
 * assertEquals(res.status, 503);
 * await res.body?.cancel();
 * const other = await fetch(`http://127.0.0.1:${port}/healthz`);
 * assertEquals(await other.text(), "ok");
 * server.closeAllConnections();
 * await new Promise((resolve) => server.close(resolve));
 * ```
 */
export function withTransportFaults(faults: FaultInjector, next: NodeHandler): FaultyHandler {
  const delayed = new Set<ReturnType<typeof setTimeout>>();
  const handle: NodeHandler = (req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (!path.startsWith(V2_PATH_PREFIX) && !path.startsWith("/v2/")) {
      next(req, res);
      return;
    }
    const go = () =>
      faults.takeUnavailable() ? answerUnavailable(faults, req, res) : next(req, res);
    const latency = faults.takeLatency();
    if (latency <= 0) {
      go();
      return;
    }
    const timer = setTimeout(() => {
      delayed.delete(timer);
      go();
    }, latency);
    delayed.add(timer);
  };
  return {
    handle,
    cancelDelayed() {
      for (const timer of delayed) clearTimeout(timer);
      delayed.clear();
    },
  };
}
