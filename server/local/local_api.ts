/**
 * Starts the local Clarifai-compatible API in-process: one port for every protocol (gRPC over
 * HTTP/2 cleartext, gRPC-web and Connect over HTTP/1.1 or HTTP/2, REST JSON), SQLite storage,
 * background processing and fault injection.
 *
 * @module
 */
import { withTransportFaults } from "./fault_layer.ts";
import { type FaultCounts, FaultInjector, type FaultOptions, parseFaults } from "./faults.ts";
import { InputProcessor } from "./input_processor.ts";
import { MessageBuffers } from "./message_buffers.ts";
import { listenOnePort } from "./one_port_server.ts";
import { createProtocolHandler } from "./protocol_handler.ts";
import { createRestApp } from "./rest_app.ts";
import { VersionProcessor } from "./version_processor.ts";
import { LocalStore } from "./store.ts";
import { LocalV2Service } from "./v2_service.ts";

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
  /**
   * Fetch URL inputs as Clarifai does while processing them (default off: these machines have no
   * network, and URL inputs succeed unfetched): one that cannot be fetched, or is not the kind
   * it claims, ends `INPUT_FAILED` with the reason.
   */
  fetchUrls?: boolean;
  /** The largest request in bytes (default 128 MiB). */
  maxRequestBytes?: number;
  /** Milliseconds between a dataset version's steps pending → in progress → ready (default 50). */
  versionStepMs?: number;
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
  /**
   * The store, for tests to inspect.
   *
   * @internal
   */
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
   * Resolves once no stored input is pending processing and no dataset version is unfinished.
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
 * import { startLocalApi } from "@upflow/upflow/local";
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
  const processor = new InputProcessor(store, faults, {
    delayMs: processingDelayMs,
    fetchUrls: options.fetchUrls ?? false,
  });
  const versions = new VersionProcessor(store, { stepMs: options.versionStepMs ?? 50 });
  let baseUrl = "";
  const service = new LocalV2Service({
    store,
    key,
    faults,
    onInputsStored: () => processor.kick(),
    onVersionCreated: () => versions.kick(),
    contentUrl: (hash) => `${baseUrl}/local/blobs/${hash}`,
  });
  const rest = createRestApp({ service, store, maxRequestBytes });
  const buffers = new MessageBuffers();
  const faulty = withTransportFaults(
    faults,
    createProtocolHandler(service, rest, maxRequestBytes, buffers),
  );
  const server = await listenOnePort(faulty.handle, port, hostname);
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  baseUrl = `http://${host}:${server.port}`;
  processor.kick(); // inputs left pending by an earlier run
  versions.kick(); // and versions

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      processor.close();
      versions.close();
      faulty.cancelDelayed();
      await server.close();
      buffers.close();
      store.close();
    })();
    return closing;
  };

  return {
    baseUrl,
    port: server.port,
    hostname,
    key,
    store,
    setFaults: (next) => faults.set(typeof next === "string" ? parseFaults(next) : next),
    faultCounts: () => faults.counts(),
    waitForProcessing: async () => {
      await processor.idle();
      await versions.idle();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
