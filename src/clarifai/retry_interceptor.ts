/**
 * Retries for every call of a client: {@linkcode retryInterceptor} is a Connect interceptor that
 * runs each unary call under {@linkcode withRetry}, the same policy the upload's PostInputs
 * requests use (throttling, `UNAVAILABLE` and the other retryable outcomes waited out with
 * backoff and full jitter, Retry-After honoured). Calls whose caller runs its own retry loop
 * (the upload stage, the processing wait) say so with {@linkcode callerRetries}, so no call is
 * retried twice over.
 *
 * @module
 */

import {
  type CallOptions,
  createContextKey,
  createContextValues,
  type Interceptor,
} from "@connectrpc/connect";
import type { RateLimiter } from "./rate_limiter.ts";
import { type RetryInfo, RetryPolicy, withRetry } from "./retry_policy.ts";
import type { StatusLike } from "./status_codes.ts";

/**
 * Attempts of a control call (dataset, counts, listings, versions) by default: 10, as patient
 * as the processing wait, since such a call failing ends the run, while an upload request that
 * gives up leaves its inputs in the retry log.
 */
export const CONTROL_CALL_ATTEMPTS = 10;

/** Set in a call's `contextValues` when its caller retries it: the interceptor lets it through. */
export const CALLER_RETRIES = createContextKey(false, {
  description: "the caller retries this call itself",
});

/**
 * Call options for a call its caller retries itself (under {@linkcode withRetry}): the
 * client's {@linkcode retryInterceptor} sends it once.
 *
 * @param signal Aborts the call.
 * @returns Options to pass as the call's second argument.
 *
 * @example Usage
 * ```ts
 * import { CALLER_RETRIES, callerRetries } from "./retry_interceptor.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(callerRetries().contextValues?.get(CALLER_RETRIES), true);
 * ```
 */
export function callerRetries(signal?: AbortSignal): CallOptions {
  return { signal, contextValues: createContextValues().set(CALLER_RETRIES, true) };
}

/** Options of {@linkcode retryInterceptor}. */
export interface RetryInterceptorOptions {
  /** The policy (default: {@linkcode CONTROL_CALL_ATTEMPTS} attempts, default delays). */
  policy?: RetryPolicy;
  /** Paces every attempt and learns from throttled answers. */
  rateLimiter?: RateLimiter;
  /** Called before each wait for a retry, with the method's name (`GetDataset`). */
  onRetry?: (info: RetryInfo & { method: string }) => void;
}

function statusOf(message: unknown): StatusLike | undefined {
  const status = (message as { status?: { code?: unknown } } | undefined)?.status;
  return typeof status?.code === "number" ? status as StatusLike : undefined;
}

/**
 * Makes an interceptor that retries every unary call on retryable outcomes, as
 * {@linkcode withRetry} does for the upload: a thrown retryable error (`UNAVAILABLE`, HTTP
 * 429/503, …) or an answer whose status is retryable (`CONN_THROTTLED`, `TRY_AGAIN`, …). Other
 * answers and errors, fatal ones included, come back as they are, for the caller to read; when
 * the attempts run out, the last answer is returned or the last error thrown. The call's signal
 * (its deadline included) also bounds the waits. Streaming calls and calls marked with
 * {@linkcode callerRetries} pass through once.
 *
 * {@linkcode createClarifaiClient} installs one by default.
 *
 * @param options Policy, rate limiter, retry callback.
 * @returns The interceptor.
 *
 * @example A throttled GetDataset is waited out
 * ```ts
 * import { retryInterceptor } from "./retry_interceptor.ts";
 * import { RetryPolicy } from "./retry_policy.ts";
 * import { V2 } from "../gen/clarifai/api/service_pb.ts";
 * import { StatusCode } from "../gen/clarifai/api/status/status_code_pb.ts";
 * import { createClient, createRouterTransport } from "@connectrpc/connect";
 * import { assertEquals } from "@std/assert";
 *
 * let calls = 0;
 * const transport = createRouterTransport(({ service }) => {
 *   service(V2, {
 *     getDataset: (req) =>
 *       ++calls < 3
 *         ? { status: { code: StatusCode.CONN_THROTTLED } }
 *         : { status: { code: StatusCode.SUCCESS }, dataset: { id: req.datasetId } },
 *   });
 * }, {
 *   transport: {
 *     interceptors: [retryInterceptor({ policy: new RetryPolicy({ baseDelayMs: 1 }) })],
 *   },
 * });
 * const response = await createClient(V2, transport).getDataset({ datasetId: "ds" });
 * assertEquals(response.dataset?.id, "ds");
 * assertEquals(calls, 3);
 * ```
 */
export function retryInterceptor(options: RetryInterceptorOptions = {}): Interceptor {
  const policy = options.policy ?? new RetryPolicy({ maxAttempts: CONTROL_CALL_ATTEMPTS });
  const { rateLimiter, onRetry } = options;
  return (next) => (req) => {
    if (req.stream || req.contextValues.get(CALLER_RETRIES)) return next(req);
    return withRetry(() => next(req), policy, {
      signal: req.signal,
      rateLimiter,
      keepFatal: true,
      statusOf: (res) => res.stream ? undefined : statusOf(res.message),
      ...(onRetry ? { onRetry: (info) => onRetry({ ...info, method: req.method.name }) } : {}),
    });
  };
}
