/**
 * The Clarifai API client: {@linkcode createClarifaiClient} returns a Connect client for the
 * `clarifai.api.V2` service (gRPC over HTTP/2 by default, gRPC-web over `fetch` as an option)
 * with the PAT sent as `authorization: Key …`, a deadline on every call, retries of throttled
 * and unavailable calls, and message limits raised to 1 GiB like the official clients. {@linkcode clarifaiOptionsFromEnv} reads the
 * environment names the official SDKs use.
 *
 * @module
 */

import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  createGrpcTransport,
  createNodeHttpClient,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import { type ChunkedPostInputs, createChunkedPostInputs } from "./chunked_post_inputs.ts";
import { createHttp2Connections } from "./http2_connections.ts";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { UserAppIDSetSchema } from "../gen/clarifai/api/resources_pb.ts";
import { V2 } from "../gen/clarifai/api/service_pb.ts";
import { Secret } from "./secret.ts";
import type {
  ClarifaiUserAppId,
  ConnectInterceptor,
  ConnectTransport,
  V2Client,
} from "./api_types.ts";
import { retryInterceptor } from "./retry_interceptor.ts";
import type { RetryPolicy } from "./retry_policy.ts";
import type { RateLimiter } from "./rate_limiter.ts";

/** Clarifai's API host, for gRPC and REST alike. */
export const CLARIFAI_API_BASE = "https://api.clarifai.com";

/** Clarifai's gRPC-web proxy. */
export const CLARIFAI_GRPC_WEB_BASE = "https://api-grpc-web.clarifai.com";

/** The message size limit of the official clients, 1 GiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024 * 1024;

/** The default deadline of one call, milliseconds (5 minutes: a 128 MB batch on a slow link). */
export const DEFAULT_TIMEOUT_MS = 300_000;

/** The protocol spoken to Clarifai. */
export type ClarifaiTransportKind = "grpc" | "grpc-web";

/** What a custom transport factory receives: apply all of it to the transport it makes. */
export interface ClarifaiTransportSettings {
  /** The base URL, normalised (no trailing `/`). */
  baseUrl: string;
  /** Interceptors to install, the auth header first. */
  interceptors: ConnectInterceptor[];
  /** The deadline of each call, milliseconds (0: none). */
  defaultTimeoutMs: number;
  /** The largest message read, bytes. */
  readMaxBytes: number;
  /** The largest message written, bytes. */
  writeMaxBytes: number;
}

/** Options of {@linkcode createClarifaiClient}. */
export interface ClarifaiClientOptions {
  /**
   * Where the API is: a URL (`https://api.clarifai.com`, `http://127.0.0.1:8710`) or a host
   * (`api.clarifai.com`, `127.0.0.1:8710`: loopback hosts get `http://`, others `https://`).
   * Default when a PAT is given: {@linkcode CLARIFAI_API_BASE} (gRPC) or
   * {@linkcode CLARIFAI_GRPC_WEB_BASE} (gRPC-web); required otherwise.
   */
  base?: string | URL;
  /** The personal access token, sent as `authorization: Key <pat>`; never printed. */
  pat?: string | Secret;
  /** The user that owns the app (required with a PAT). */
  userId?: string;
  /** The app to upload into (required with a PAT). */
  appId?: string;
  /**
   * `grpc` (default: HTTP/2, cleartext for `http://` bases), `grpc-web` (binary, over `fetch`),
   * or a factory making any Connect transport from the settings (tests use
   * `createRouterTransport`).
   */
  transport?: ClarifaiTransportKind | ((settings: ClarifaiTransportSettings) => ConnectTransport);
  /** The deadline of each call, milliseconds; 0 for none (default {@linkcode DEFAULT_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** The largest message sent or received (default {@linkcode DEFAULT_MAX_MESSAGE_BYTES}). */
  maxMessageBytes?: number;
  /** The fetch used by gRPC-web (default: the global one). */
  fetch?: typeof globalThis.fetch;
  /** More interceptors, run after the auth header is set. */
  interceptors?: ConnectInterceptor[];
  /**
   * How every unary call is retried on throttling, `UNAVAILABLE` and the other retryable
   * outcomes ({@linkcode retryInterceptor}): a policy, or `false` for no retries. Default: 10
   * attempts with the default delays. Calls made with `callerRetries()` are sent once.
   */
  callRetry?: RetryPolicy | false;
  /** Paces the attempts of retried calls (default: none). */
  rateLimiter?: RateLimiter;
}

/**
 * A Connect client for `clarifai.api.V2` (`postInputs`, `getInputsAddJob`, …), plus what each
 * request needs and a way to let go of the connection.
 */
export type ClarifaiClient = V2Client & {
  /** The `user_app_id` to put in each request (`undefined` when no user and app are set). */
  readonly userAppId: ClarifaiUserAppId | undefined;
  /** The normalised base URL. */
  readonly base: string;
  /** The protocol in use (`custom` for a transport factory). */
  readonly transportKind: ClarifaiTransportKind | "custom";
  /**
   * PostInputs with the media bytes sent without copies (gRPC transport only): the same call as
   * `postInputs`, for the upload stage's large requests. It is sent once: the upload stage
   * retries it itself.
   */
  readonly postInputsChunked?: ChunkedPostInputs;
  /** Closes the HTTP/2 connection, if any (calls in flight fail); the client can reconnect. */
  close(): void;
  /** Same as {@linkcode ClarifaiClient.close}, for `using`. */
  [Symbol.dispose](): void;
};

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d+)?$/i;

/**
 * Normalises a base given as a URL or a bare host into a URL without a trailing `/`. A bare
 * loopback host gets `http://`, any other bare host `https://`.
 *
 * @param base A URL or host.
 * @returns The normalised URL.
 *
 * @example Usage
 * ```ts
 * import { clarifaiBaseUrl } from "./client.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(clarifaiBaseUrl("api.clarifai.com"), "https://api.clarifai.com");
 * assertEquals(clarifaiBaseUrl("api.clarifai.com:443"), "https://api.clarifai.com");
 * assertEquals(clarifaiBaseUrl("127.0.0.1:8710"), "http://127.0.0.1:8710");
 * assertEquals(clarifaiBaseUrl("http://127.0.0.1:8710/"), "http://127.0.0.1:8710");
 * ```
 */
export function clarifaiBaseUrl(base: string | URL): string {
  const text = String(base).trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text)
    ? text
    : `${LOOPBACK.test(text) ? "http" : "https"}://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new TypeError(
      `Cannot create Clarifai client: base must be a URL or a host: current value is ${
        JSON.stringify(text)
      }`,
    );
  }
  if (url.username || url.password) {
    throw new TypeError("Cannot create Clarifai client: base must not contain credentials");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(
      `Cannot create Clarifai client: base must be an http or https URL: current value is ${
        JSON.stringify(text)
      }`,
    );
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/**
 * Wraps fetch so that a request that never reached the server (refused, reset, DNS failure:
 * fetch rejects with a TypeError) fails with Connect's `Unavailable`, as the HTTP/2 transport
 * reports it, instead of `Unknown`; an aborted request keeps its own error.
 */
function unavailableOnNetworkError(fetchFn: typeof globalThis.fetch): typeof globalThis.fetch {
  return async (input, init) => {
    try {
      return await fetchFn(input, init);
    } catch (error) {
      if (error instanceof TypeError && !init?.signal?.aborted) {
        throw new ConnectError(error.message, Code.Unavailable, undefined, undefined, error);
      }
      throw error;
    }
  };
}

function authInterceptor(pat: Secret): ConnectInterceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Key ${pat.reveal()}`);
    return next(req);
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/**
 * Creates a client for `clarifai.api.V2`. Requests carry `client.userAppId`; the PAT lives only
 * in the auth interceptor (printing the options or the client never shows it).
 *
 * @param options Base, credentials, transport, deadline and limits.
 * @returns The client; call `close()` when done (it holds an HTTP/2 connection).
 *
 * @example Call an in-memory V2 service
 * ```ts
 * import { createClarifaiClient } from "@upflow/upflow";
 * import { V2 } from "../gen/clarifai/api/service_pb.ts";
 * import { StatusCode } from "@upflow/upflow";
 * import { createRouterTransport } from "@connectrpc/connect";
 * import { assertEquals } from "@std/assert";
 *
 * const client = createClarifaiClient({
 *   base: "http://127.0.0.1:8710",
 *   pat: "my-pat",
 *   userId: "me",
 *   appId: "photos",
 *   transport: (settings) =>
 *     createRouterTransport(({ service }) => {
 *       service(V2, {
 *         postInputs: (req, ctx) => ({
 *           status: { code: StatusCode.SUCCESS, details: ctx.requestHeader.get("authorization")! },
 *           inputs: req.inputs,
 *         }),
 *       });
 *     }, { transport: settings }),
 * });
 * const response = await client.postInputs({ userAppId: client.userAppId, inputs: [{ id: "a" }] });
 * assertEquals(response.status?.details, "Key my-pat");
 * assertEquals(response.inputs[0].id, "a");
 * client.close();
 * ```
 */
export function createClarifaiClient(options: ClarifaiClientOptions = {}): ClarifaiClient {
  const patValue = options.pat;
  const pat = patValue === undefined || patValue === ""
    ? undefined
    : patValue instanceof Secret
    ? patValue
    : new Secret(patValue);
  if (pat !== undefined && pat.reveal().trim() === "") {
    throw new TypeError("Cannot create Clarifai client: pat must not be blank");
  }
  const kind = options.transport ?? "grpc";
  if (typeof kind === "string" && kind !== "grpc" && kind !== "grpc-web") {
    throw new TypeError(
      `Cannot create Clarifai client: transport must be "grpc" or "grpc-web": current value is ${
        JSON.stringify(kind)
      }`,
    );
  }
  let base: string;
  if (options.base !== undefined && String(options.base).trim() !== "") {
    base = clarifaiBaseUrl(options.base);
  } else if (pat !== undefined) {
    base = kind === "grpc-web" ? CLARIFAI_GRPC_WEB_BASE : CLARIFAI_API_BASE;
  } else {
    throw new TypeError(
      "Cannot create Clarifai client: base is required when no PAT is given (the URL of a " +
        "Clarifai-compatible API, such as upflow's local one)",
    );
  }
  const userId = nonEmpty(options.userId);
  const appId = nonEmpty(options.appId);
  if ((userId === undefined) !== (appId === undefined)) {
    throw new TypeError(
      `Cannot create Clarifai client: userId and appId must be given together: ${
        userId === undefined ? "userId" : "appId"
      } is missing`,
    );
  }
  if (pat !== undefined && userId === undefined) {
    throw new TypeError(
      "Cannot create Clarifai client: userId and appId are required with a PAT " +
        "(set CLARIFAI_USER_ID and CLARIFAI_APP_ID)",
    );
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new RangeError(
      `Cannot create Clarifai client: timeoutMs must be a non-negative number: current value is ${timeoutMs}`,
    );
  }
  const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!Number.isInteger(maxBytes) || maxBytes < 1 || maxBytes > 0xffffffff) {
    throw new RangeError(
      `Cannot create Clarifai client: maxMessageBytes must be an integer from 1 to 4294967295: current value is ${maxBytes}`,
    );
  }
  const interceptors = [
    ...(pat === undefined ? [] : [authInterceptor(pat)]),
    ...(options.interceptors ?? []),
  ];
  const retrying = options.callRetry === false ? interceptors : [
    ...interceptors,
    retryInterceptor({
      ...(options.callRetry ? { policy: options.callRetry } : {}),
      ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
    }),
  ];
  const settings: ClarifaiTransportSettings = {
    baseUrl: base,
    interceptors: retrying,
    defaultTimeoutMs: timeoutMs,
    readMaxBytes: maxBytes,
    writeMaxBytes: maxBytes,
  };

  let transport: ConnectTransport;
  let close = () => {};
  let postInputsChunked: ChunkedPostInputs | undefined;
  if (typeof kind === "function") {
    transport = kind(settings);
  } else if (kind === "grpc-web") {
    transport = createGrpcWebTransport({
      baseUrl: base,
      useBinaryFormat: true,
      interceptors: retrying,
      defaultTimeoutMs: timeoutMs,
      fetch: unavailableOnNetworkError(options.fetch ?? ((input, init) => fetch(input, init))),
    });
  } else {
    // Connections opened here free each written frame at once, and tell a large request's
    // writer when to wait for the socket (see http2_connections.ts).
    const connections = createHttp2Connections();
    const sessionManager = new Http2SessionManager(base, undefined, {
      createConnection: connections.createConnection,
    });
    transport = createGrpcTransport({ ...settings, sessionManager });
    postInputsChunked = createChunkedPostInputs({
      baseUrl: base,
      httpClient: createNodeHttpClient({ httpVersion: "2", sessionProvider: () => sessionManager }),
      interceptors,
      defaultTimeoutMs: timeoutMs,
      readMaxBytes: maxBytes,
      room: connections.room,
    });
    close = () => sessionManager.abort();
  }

  const client = createClient(V2, transport);
  const userAppId = userId === undefined
    ? undefined
    : create(UserAppIDSetSchema, { userId, appId: appId! });
  return Object.assign(client, {
    userAppId,
    base,
    transportKind: typeof kind === "function" ? "custom" as const : kind,
    ...(postInputsChunked ? { postInputsChunked } : {}),
    close,
    [Symbol.dispose]: close,
  });
}

/** What {@linkcode clarifaiOptionsFromEnv} reads: `Deno.env`, or any object with `get`. */
export interface EnvReader {
  /**
   * Returns the value of a variable, or `undefined`.
   *
   * @param name The variable's name.
   */
  get(name: string): string | undefined;
}

/**
 * Reads client options from the environment names the official SDKs use: `CLARIFAI_PAT` (kept
 * as a {@linkcode Secret}), `CLARIFAI_USER_ID`, `CLARIFAI_APP_ID`, and the base from
 * `CLARIFAI_GRPC_BASE` (a host such as `api.clarifai.com`, or a URL), else `CLARIFAI_API_BASE`.
 * Unset and empty variables are left out of the result.
 *
 * @param env Where to read (default `Deno.env`, which needs `--allow-env`).
 * @returns Options for {@linkcode createClarifaiClient}.
 *
 * @example Usage
 * ```ts
 * import { clarifaiOptionsFromEnv } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const env = new Map([
 *   ["CLARIFAI_PAT", "secret-pat"],
 *   ["CLARIFAI_USER_ID", "me"],
 *   ["CLARIFAI_APP_ID", "photos"],
 *   ["CLARIFAI_GRPC_BASE", "127.0.0.1:8710"],
 * ]);
 * const options = clarifaiOptionsFromEnv(env);
 * assertEquals(options.base, "http://127.0.0.1:8710");
 * assertEquals(options.pat?.toString(), "[redacted]");
 * assertEquals(JSON.stringify(options).includes("secret-pat"), false);
 * ```
 */
export function clarifaiOptionsFromEnv(
  env: EnvReader = Deno.env,
): ClarifaiClientOptions & { pat?: Secret } {
  const options: ClarifaiClientOptions & { pat?: Secret } = {};
  const pat = nonEmpty(env.get("CLARIFAI_PAT"));
  if (pat !== undefined) options.pat = new Secret(pat);
  const userId = nonEmpty(env.get("CLARIFAI_USER_ID"));
  if (userId !== undefined) options.userId = userId;
  const appId = nonEmpty(env.get("CLARIFAI_APP_ID"));
  if (appId !== undefined) options.appId = appId;
  const base = nonEmpty(env.get("CLARIFAI_GRPC_BASE")) ?? nonEmpty(env.get("CLARIFAI_API_BASE"));
  if (base !== undefined) options.base = clarifaiBaseUrl(base);
  return options;
}
