/**
 * Retries for Clarifai calls: {@linkcode RetryPolicy} (exponential backoff with full jitter,
 * Retry-After honoured as a lower bound, a bounded number of attempts) and
 * {@linkcode withRetry}, which runs a call under a policy, retries the outcomes that
 * {@linkcode classifyStatus} and {@linkcode classifyError} call retryable, turns fatal outcomes
 * into {@linkcode FatalUploadError}, and can pace every attempt through a
 * {@linkcode RateLimiter}.
 *
 * @module
 */

import { ConnectError } from "@connectrpc/connect";
import { FatalUploadError } from "./errors.ts";
import { abortableSleep, type RateLimiter } from "./rate_limiter.ts";
import { classifyError, classifyStatus, isThrottled, type StatusLike } from "./status_codes.ts";

/** Options of {@linkcode RetryPolicy}. */
export interface RetryPolicyOptions {
  /** Attempts in all, the first one included (default 5; 1 means no retry). */
  maxAttempts?: number;
  /** The backoff of the first retry is drawn from [0, baseDelayMs) (default 250). */
  baseDelayMs?: number;
  /** The backoff never exceeds this many milliseconds before jitter (default 20,000). */
  maxDelayMs?: number;
  /**
   * A Retry-After hint longer than this many milliseconds ends the retries instead of waiting
   * (default 120,000): an hourly limit is better reported than slept through.
   */
  maxRetryAfterMs?: number;
  /** Uniform random numbers in [0, 1) (default `Math.random`). */
  random?: () => number;
  /** Waits, or rejects with the signal's reason when it aborts (default: a real timer). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isFinite(value) || value < min) {
    throw new RangeError(
      `Cannot create RetryPolicy: ${name} must be a number of at least ${min}: current value is ${value}`,
    );
  }
}

/**
 * When to retry and how long to wait: the `n`th retry (counting from 0) waits a uniformly random
 * time in `[0, min(maxDelayMs, baseDelayMs * 2^n))` ("full jitter"), or the server's Retry-After
 * hint when that is longer.
 *
 * @example Backoff bounds
 * ```ts
 * import { RetryPolicy } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const policy = new RetryPolicy({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.5 });
 * assertEquals(policy.delayMs(0), 50); // half of 100
 * assertEquals(policy.delayMs(3), 400); // half of 800
 * assertEquals(policy.delayMs(10), 500); // half of the 1000 cap
 * assertEquals(policy.delayMs(0, 2000), 2000); // Retry-After is a lower bound
 * ```
 */
export class RetryPolicy {
  /** Attempts in all, the first one included. */
  readonly maxAttempts: number;
  /** The ceiling of the first retry's backoff, milliseconds. */
  readonly baseDelayMs: number;
  /** The backoff cap, milliseconds. */
  readonly maxDelayMs: number;
  /** The longest Retry-After hint that is waited for, milliseconds. */
  readonly maxRetryAfterMs: number;
  #random: () => number;
  #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  /**
   * Creates a policy.
   *
   * @param options Attempts, delays, and injectable randomness and sleep.
   */
  constructor(options: RetryPolicyOptions = {}) {
    const maxAttempts = options.maxAttempts ?? 5;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new RangeError(
        `Cannot create RetryPolicy: maxAttempts must be a positive integer: current value is ${maxAttempts}`,
      );
    }
    const baseDelayMs = options.baseDelayMs ?? 250;
    checkCount("baseDelayMs", baseDelayMs, 0);
    const maxDelayMs = options.maxDelayMs ?? 20_000;
    checkCount("maxDelayMs", maxDelayMs, 0);
    const maxRetryAfterMs = options.maxRetryAfterMs ?? 120_000;
    checkCount("maxRetryAfterMs", maxRetryAfterMs, 0);
    this.maxAttempts = maxAttempts;
    this.baseDelayMs = baseDelayMs;
    this.maxDelayMs = maxDelayMs;
    this.maxRetryAfterMs = maxRetryAfterMs;
    this.#random = options.random ?? Math.random;
    this.#sleep = options.sleep ?? abortableSleep;
  }

  /**
   * The ceiling of the `retry`th backoff (counting from 0): `min(maxDelayMs, baseDelayMs * 2^retry)`.
   *
   * @param retry Which retry, from 0.
   * @returns The ceiling in milliseconds.
   *
   * @example Usage
   * ```ts
   * import { RetryPolicy } from "@upflow/upflow";
   * import { assertEquals } from "@std/assert";
   *
   * const policy = new RetryPolicy({ baseDelayMs: 250, maxDelayMs: 20_000 });
   * assertEquals(policy.ceilingMs(0), 250);
   * assertEquals(policy.ceilingMs(2), 1000);
   * assertEquals(policy.ceilingMs(20), 20_000);
   * ```
   */
  ceilingMs(retry: number): number {
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.max(0, retry));
  }

  /**
   * How long to wait before the `retry`th retry (counting from 0): a random time below
   * {@linkcode RetryPolicy.ceilingMs}, or `retryAfterMs` when that is longer.
   *
   * @param retry Which retry, from 0.
   * @param retryAfterMs The server's Retry-After hint in milliseconds, if any.
   * @returns The delay in milliseconds.
   *
   * @example Usage
   * ```ts
   * import { RetryPolicy } from "@upflow/upflow";
   * import { assertEquals } from "@std/assert";
   *
   * const policy = new RetryPolicy({ baseDelayMs: 1000, random: () => 0.25 });
   * assertEquals(policy.delayMs(1), 500);
   * assertEquals(policy.delayMs(1, 3000), 3000);
   * ```
   */
  delayMs(retry: number, retryAfterMs?: number): number {
    const jittered = this.#random() * this.ceilingMs(retry);
    return retryAfterMs !== undefined && retryAfterMs > jittered ? retryAfterMs : jittered;
  }

  /**
   * Waits `ms` milliseconds with the policy's sleep.
   *
   * @param ms How long to wait.
   * @param signal Aborts the wait (the promise rejects with its reason).
   * @returns A promise that resolves after the delay.
   *
   * @example Usage
   * ```ts
   * import { RetryPolicy } from "@upflow/upflow";
   * import { assertEquals } from "@std/assert";
   *
   * const waits: number[] = [];
   * const policy = new RetryPolicy({ sleep: (ms) => (waits.push(ms), Promise.resolve()) });
   * await policy.sleep(42);
   * assertEquals(waits, [42]);
   * ```
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.#sleep(ms, signal);
  }
}

/**
 * Parses an HTTP `Retry-After` value (delay in seconds, or an HTTP date) into milliseconds from
 * `now`. Returns `undefined` for a missing or unparsable value; a date in the past gives 0.
 *
 * @param value The header value.
 * @param now The current time in milliseconds (default `Date.now()`).
 * @returns The delay in milliseconds, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { parseRetryAfter } from "./retry_policy.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(parseRetryAfter("3"), 3000);
 * const now = Date.parse("2025-01-01T00:00:00Z");
 * assertEquals(parseRetryAfter("Wed, 01 Jan 2025 00:00:10 GMT", now), 10_000);
 * assertEquals(parseRetryAfter("soon"), undefined);
 * ```
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * Reads the Retry-After hint carried by an error (Connect keeps the HTTP response headers of a
 * failed call in `metadata`).
 *
 * @param error Anything thrown by a call.
 * @param now The current time in milliseconds (default `Date.now()`).
 * @returns The hint in milliseconds, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { retryAfterOf } from "./retry_policy.ts";
 * import { Code, ConnectError } from "@connectrpc/connect";
 * import { assertEquals } from "@std/assert";
 *
 * const error = new ConnectError("HTTP 429", Code.Unavailable, { "retry-after": "2" });
 * assertEquals(retryAfterOf(error), 2000);
 * assertEquals(retryAfterOf(new Error("x")), undefined);
 * ```
 */
export function retryAfterOf(error: unknown, now: number = Date.now()): number | undefined {
  if (!(error instanceof ConnectError)) return undefined;
  return parseRetryAfter(error.metadata.get("retry-after"), now);
}

/** What {@linkcode withRetry} tells `onRetry` before it waits and tries again. */
export interface RetryInfo {
  /** The attempt that failed, from 1. */
  attempt: number;
  /** How long it will wait before the next attempt, milliseconds. */
  delayMs: number;
  /** The error the attempt threw, when it threw. */
  error?: unknown;
  /** The retryable in-body status, when the attempt answered. */
  status?: StatusLike;
}

/** Options of {@linkcode withRetry}. */
export interface WithRetryOptions<T> {
  /** Aborts waiting between attempts (and the limiter's wait); the call itself needs its own. */
  signal?: AbortSignal;
  /** Called before each wait for a retry. */
  onRetry?: (info: RetryInfo) => void;
  /** Paces every attempt and learns from throttled answers. */
  rateLimiter?: RateLimiter;
  /** Where a response keeps its status (default: its `status` field). */
  statusOf?: (response: T) => StatusLike | undefined;
  /**
   * Return fatal answers and throw fatal errors as they are, instead of turning them into
   * {@linkcode FatalUploadError} (for callers that read the status themselves).
   */
  keepFatal?: boolean;
}

function defaultStatusOf(response: unknown): StatusLike | undefined {
  if (typeof response !== "object" || response === null) return undefined;
  const status = (response as { status?: unknown }).status;
  if (typeof status !== "object" || status === null) return undefined;
  return typeof (status as StatusLike).code === "number" ? status as StatusLike : undefined;
}

/**
 * Runs `call` and retries it on retryable outcomes: a thrown error that
 * {@linkcode classifyError} calls `retryable`, or a response whose `status.code` is retryable
 * (`TRY_AGAIN`, `CONN_THROTTLED`, …). Fatal outcomes (bad credentials, monthly quota) throw
 * {@linkcode FatalUploadError} at once. When the attempts run out, the last retryable response
 * is returned (its status says why) or the last error is thrown; every other response is
 * returned as it is, every other error thrown as it is.
 *
 * @typeParam T The response type.
 * @param call Makes one attempt; receives the attempt number, from 1.
 * @param policy The retry policy (default: `new RetryPolicy()`).
 * @param options Abort signal, retry callback, rate limiter, status accessor.
 * @returns The response of the last attempt.
 *
 * @example Retry a throttled call
 * ```ts
 * import { RetryPolicy, StatusCode, withRetry } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const policy = new RetryPolicy({ sleep: () => Promise.resolve() });
 * const answers = [StatusCode.CONN_THROTTLED, StatusCode.SUCCESS];
 * const response = await withRetry(
 *   (attempt) => Promise.resolve({ status: { code: answers[attempt - 1] } }),
 *   policy,
 * );
 * assertEquals(response.status.code, StatusCode.SUCCESS);
 * ```
 */
export async function withRetry<T>(
  call: (attempt: number) => Promise<T>,
  policy: RetryPolicy = new RetryPolicy(),
  options: WithRetryOptions<T> = {},
): Promise<T> {
  const { signal, onRetry, rateLimiter } = options;
  const statusOf = options.statusOf ?? defaultStatusOf;
  for (let attempt = 1;; attempt++) {
    signal?.throwIfAborted();
    if (rateLimiter) await rateLimiter.acquire(signal);
    let response: T;
    try {
      response = await call(attempt);
    } catch (error) {
      const kind = classifyError(error);
      const retryAfterMs = retryAfterOf(error);
      if (isThrottled(error)) rateLimiter?.onThrottled(retryAfterMs);
      if (kind === "fatal") throw options.keepFatal ? error : FatalUploadError.fromError(error);
      if (
        kind !== "retryable" || attempt >= policy.maxAttempts ||
        (retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs)
      ) {
        throw error;
      }
      const delayMs = policy.delayMs(attempt - 1, retryAfterMs);
      onRetry?.({ attempt, delayMs, error });
      await policy.sleep(delayMs, signal);
      continue;
    }
    const status = statusOf(response);
    const kind = classifyStatus(status);
    if (status !== undefined && isThrottled(status)) rateLimiter?.onThrottled();
    else rateLimiter?.onSuccess();
    if (kind === "fatal" && status !== undefined) {
      if (options.keepFatal) return response;
      throw FatalUploadError.fromStatus(status);
    }
    if (kind !== "retryable" || status === undefined || attempt >= policy.maxAttempts) {
      return response;
    }
    const delayMs = policy.delayMs(attempt - 1);
    onRetry?.({ attempt, delayMs, status });
    await policy.sleep(delayMs, signal);
  }
}
