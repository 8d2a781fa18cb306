/**
 * What each Clarifai outcome means for an upload, decided in one place: the in-body
 * `status.code` of a response or of one input in it ({@linkcode classifyStatusCode},
 * {@linkcode classifyStatus}), a duplicate input ({@linkcode isDuplicateStatus}), an error thrown
 * by the transport ({@linkcode classifyError}), and the sentence a person reads when a run must
 * stop ({@linkcode fatalStatusMessage}).
 *
 * @module
 */

import { Code, ConnectError } from "@connectrpc/connect";
import { StatusCode } from "../gen/clarifai/api/status/status_code_pb.ts";

/**
 * What an outcome means for the caller:
 *
 * - `success`: done (`SUCCESS`, `INPUT_SUCCESS`, `ANNOTATION_SUCCESS`, `DATASET_INPUT_SUCCESS`,
 *   `JOB_COMPLETED`);
 * - `pending`: accepted, still being processed (`INPUT_PENDING`, `INPUT_IN_PROGRESS`,
 *   `ANNOTATION_PENDING`, `JOB_QUEUED`, `JOB_RUNNING`);
 * - `mixed`: some items succeeded, some did not: read each item's own status (`MIXED_STATUS`);
 * - `retryable`: a passing condition; the same request may succeed later;
 * - `fatal`: every later request would fail the same way (credentials, quota): stop the run;
 * - `input-error`: this input or annotation was refused; the others are unaffected;
 * - `failure`: the request failed and sending it again would not help.
 */
export type StatusClass =
  | "success"
  | "pending"
  | "mixed"
  | "retryable"
  | "fatal"
  | "input-error"
  | "failure";

/** The details text the Python SDK matches to recognise a duplicate input ID. */
export const DUPLICATE_ID_DETAILS = "Input has a duplicate ID.";

const SUCCESS_CODES: ReadonlySet<number> = new Set([
  StatusCode.SUCCESS,
  StatusCode.INPUT_SUCCESS,
  StatusCode.ANNOTATION_SUCCESS,
  StatusCode.DATASET_INPUT_SUCCESS,
  StatusCode.JOB_COMPLETED,
]);

const PENDING_CODES: ReadonlySet<number> = new Set([
  StatusCode.INPUT_PENDING,
  StatusCode.INPUT_IN_PROGRESS,
  StatusCode.ANNOTATION_PENDING,
  StatusCode.JOB_QUEUED,
  StatusCode.JOB_RUNNING,
]);

const RETRYABLE_CODES: ReadonlySet<number> = new Set([
  StatusCode.TRY_AGAIN,
  StatusCode.CONN_THROTTLED,
  StatusCode.CONN_EXCEED_HOURLY_LIMIT,
  StatusCode.RPC_REQUEST_QUEUE_FULL,
  StatusCode.RPC_SERVER_UNAVAILABLE,
  StatusCode.RPC_REQUEST_TIMEOUT,
  StatusCode.INTERNAL_SERVER_ISSUE,
  StatusCode.INTERNAL_RESOURCE_EXHAUSTED,
]);

const INPUT_ERROR_CODES: ReadonlySet<number> = new Set([
  StatusCode.INPUT_FAILED,
  StatusCode.INPUT_DUPLICATE,
  StatusCode.INPUT_UNSUPPORTED_FORMAT,
  StatusCode.INPUT_DOES_NOT_EXIST,
  StatusCode.INPUT_INVALID_ARGUMENT,
  StatusCode.INPUT_OVER_LIMIT,
  StatusCode.INPUT_INVALID_URL,
  StatusCode.ALL_INPUT_INVALID_BYTES,
  StatusCode.INPUT_INVALID_REQUEST,
  StatusCode.ANNOTATION_FAILED,
  StatusCode.ANNOTATION_INVALID_ARGUMENT,
]);

const FATAL_MESSAGES: ReadonlyMap<number, string> = new Map([
  [
    StatusCode.CONN_ACCOUNT_ISSUES,
    "Clarifai reports a problem with the account (CONN_ACCOUNT_ISSUES): check the account's " +
    "billing and standing in the Clarifai portal",
  ],
  [
    StatusCode.CONN_CREDENTIALS_INVALID,
    "Clarifai rejected the credentials (CONN_CREDENTIALS_INVALID): check CLARIFAI_PAT",
  ],
  [
    StatusCode.CONN_EXCEED_MONTHLY_LIMIT,
    "The account has used its monthly quota (CONN_EXCEED_MONTHLY_LIMIT): upgrade the plan or " +
    "wait for the next billing month",
  ],
  [
    StatusCode.CONN_EXCEEDS_LIMITS,
    "The request exceeds the account's limits (CONN_EXCEEDS_LIMITS): check the plan's limits " +
    "in the Clarifai portal",
  ],
  [
    StatusCode.CONN_INSUFFICIENT_SCOPES,
    "The key lacks a permission this upload needs (CONN_INSUFFICIENT_SCOPES): give the PAT the " +
    "Inputs, Annotations and Datasets scopes",
  ],
  [
    StatusCode.CONN_KEY_INVALID,
    "Clarifai rejected the credentials (CONN_KEY_INVALID): check CLARIFAI_PAT",
  ],
  [
    StatusCode.CONN_KEY_NOT_FOUND,
    "Clarifai does not know this key (CONN_KEY_NOT_FOUND): check CLARIFAI_PAT",
  ],
]);

// Codes of the INPUT_* family (30000-39999) that this project's enum subset does not name.
const INPUT_FAMILY_MIN = 30000;
const INPUT_FAMILY_MAX = 39999;

/**
 * Classifies an in-body status code (of a whole response or of one item in it).
 *
 * Retryable: `TRY_AGAIN`, `CONN_THROTTLED`, `CONN_EXCEED_HOURLY_LIMIT`, `RPC_REQUEST_QUEUE_FULL`,
 * `RPC_SERVER_UNAVAILABLE`, `RPC_REQUEST_TIMEOUT`, `INTERNAL_SERVER_ISSUE`,
 * `INTERNAL_RESOURCE_EXHAUSTED` (`RPC_MAX_MESSAGE_SIZE_EXCEEDED` is a `failure`: the same request
 * would be too large again). Fatal: the credential and quota codes listed by
 * {@linkcode fatalStatusMessage}. Input errors: the `INPUT_*` and `ANNOTATION_*` failures,
 * including codes of the `INPUT_*` range (30000-39999) that are not named here. Anything else
 * (`FAILURE`, `CONN_DOES_NOT_EXIST`, `CONN_BAD_REQUEST_FORMAT`, unknown codes) is a `failure`.
 *
 * @param code The status code, as decoded (it may be a number outside the enum).
 * @returns The class of the outcome.
 *
 * @example Usage
 * ```ts
 * import { classifyStatusCode } from "./status_codes.ts";
 * import { StatusCode } from "../gen/clarifai/api/status/status_code_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(classifyStatusCode(StatusCode.CONN_THROTTLED), "retryable");
 * assertEquals(classifyStatusCode(StatusCode.CONN_KEY_INVALID), "fatal");
 * assertEquals(classifyStatusCode(StatusCode.INPUT_INVALID_URL), "input-error");
 * assertEquals(classifyStatusCode(StatusCode.INPUT_PENDING), "pending");
 * ```
 */
export function classifyStatusCode(code: StatusCode | number): StatusClass {
  if (SUCCESS_CODES.has(code)) return "success";
  if (PENDING_CODES.has(code)) return "pending";
  if (code === StatusCode.MIXED_STATUS) return "mixed";
  if (RETRYABLE_CODES.has(code)) return "retryable";
  if (FATAL_MESSAGES.has(code)) return "fatal";
  if (INPUT_ERROR_CODES.has(code)) return "input-error";
  if (code >= INPUT_FAMILY_MIN && code <= INPUT_FAMILY_MAX) return "input-error";
  return "failure";
}

/** The parts of a `clarifai.api.status.Status` that classification reads. */
export interface StatusLike {
  /** The status code. */
  code: StatusCode | number;
  /** The details text, if any. */
  details?: string;
}

/**
 * Classifies a status: like {@linkcode classifyStatusCode}, except that a status whose details
 * say the input is a duplicate is an `input-error` whatever its code, and a missing status (a
 * response without one) is a `failure`.
 *
 * @param status The status of a response or of one item, or `undefined`.
 * @returns The class of the outcome.
 *
 * @example Usage
 * ```ts
 * import { classifyStatus } from "./status_codes.ts";
 * import { StatusCode } from "../gen/clarifai/api/status/status_code_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(classifyStatus({ code: StatusCode.SUCCESS }), "success");
 * assertEquals(
 *   classifyStatus({ code: StatusCode.FAILURE, details: "Input has a duplicate ID." }),
 *   "input-error",
 * );
 * assertEquals(classifyStatus(undefined), "failure");
 * ```
 */
export function classifyStatus(status: StatusLike | undefined): StatusClass {
  if (status === undefined) return "failure";
  if (isDuplicateStatus(status)) return "input-error";
  return classifyStatusCode(status.code);
}

/**
 * Tells whether a status reports a duplicate input ID: the code `INPUT_DUPLICATE`, or details
 * containing {@linkcode DUPLICATE_ID_DETAILS} (what the real service is known to send).
 *
 * @param status The status of one input, or `undefined`.
 * @returns `true` for a duplicate.
 *
 * @example Usage
 * ```ts
 * import { isDuplicateStatus } from "./status_codes.ts";
 * import { StatusCode } from "../gen/clarifai/api/status/status_code_pb.ts";
 * import { assert } from "@std/assert";
 *
 * assert(isDuplicateStatus({ code: StatusCode.INPUT_DUPLICATE }));
 * assert(isDuplicateStatus({ code: StatusCode.INPUT_FAILED, details: "Input has a duplicate ID." }));
 * assert(!isDuplicateStatus({ code: StatusCode.INPUT_FAILED, details: "bad image" }));
 * ```
 */
export function isDuplicateStatus(status: StatusLike | undefined): boolean {
  if (status === undefined) return false;
  return status.code === StatusCode.INPUT_DUPLICATE ||
    (status.details ?? "").includes(DUPLICATE_ID_DETAILS);
}

/**
 * Returns the sentence a person reads when a run stops on a fatal status code, or `undefined`
 * when the code is not fatal. Fatal codes: `CONN_ACCOUNT_ISSUES`, `CONN_CREDENTIALS_INVALID`,
 * `CONN_EXCEED_MONTHLY_LIMIT`, `CONN_EXCEEDS_LIMITS`, `CONN_INSUFFICIENT_SCOPES`,
 * `CONN_KEY_INVALID`, `CONN_KEY_NOT_FOUND`.
 *
 * @param code The status code.
 * @returns The sentence, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { fatalStatusMessage } from "./status_codes.ts";
 * import { StatusCode } from "../gen/clarifai/api/status/status_code_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(
 *   fatalStatusMessage(StatusCode.CONN_KEY_INVALID),
 *   "Clarifai rejected the credentials (CONN_KEY_INVALID): check CLARIFAI_PAT",
 * );
 * assertEquals(fatalStatusMessage(StatusCode.TRY_AGAIN), undefined);
 * ```
 */
export function fatalStatusMessage(code: StatusCode | number): string | undefined {
  return FATAL_MESSAGES.get(code);
}

/**
 * Returns the name of a status code (`"CONN_THROTTLED"`), or its number as text when the enum
 * does not name it. Aliases resolve to the current name (`30000` is `"INPUT_SUCCESS"`).
 *
 * @param code The status code.
 * @returns The name.
 *
 * @example Usage
 * ```ts
 * import { statusCodeName } from "./status_codes.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(statusCodeName(11005), "CONN_THROTTLED");
 * assertEquals(statusCodeName(12345), "12345");
 * ```
 */
export function statusCodeName(code: StatusCode | number): string {
  return STATUS_CODE_NAMES.get(code) ?? String(code);
}

const STATUS_CODE_NAMES: ReadonlyMap<number, string> = (() => {
  const names = new Map<number, string>();
  for (const [name, value] of Object.entries(StatusCode)) {
    // The first name listed for a value is the current one; deprecated aliases come later.
    if (typeof value === "number" && !names.has(value)) names.set(value, name);
  }
  return names;
})();

/**
 * What an error thrown by a call means for the caller:
 *
 * - `retryable`: a passing transport condition: Connect codes `Unavailable` (also HTTP 429, 502,
 *   503, 504 and refused connections), `DeadlineExceeded`, `ResourceExhausted`, `Aborted` (a
 *   connection reset or dropped: the request may or may not have been applied, so a resend can
 *   come back as a duplicate), and `Internal`/`Unknown` caused by an HTTP 5xx answer;
 * - `fatal`: `Unauthenticated` or `PermissionDenied`;
 * - `canceled`: the caller aborted the call (`Canceled`, or an `AbortError`);
 * - `failure`: anything else (a bug, an unsupported method, a malformed answer).
 */
export type ErrorClass = "retryable" | "fatal" | "canceled" | "failure";

const RETRYABLE_CONNECT_CODES: ReadonlySet<Code> = new Set([
  Code.Unavailable,
  Code.DeadlineExceeded,
  Code.ResourceExhausted,
  Code.Aborted,
]);

/**
 * Returns the HTTP status of an error that Connect raised for a non-2xx HTTP answer
 * (`"HTTP 503"`), or `undefined`.
 *
 * @param error Anything thrown.
 * @returns The HTTP status, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { httpStatusOfError } from "./status_codes.ts";
 * import { Code, ConnectError } from "@connectrpc/connect";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(httpStatusOfError(new ConnectError("HTTP 500", Code.Unknown)), 500);
 * assertEquals(httpStatusOfError(new ConnectError("boom", Code.Internal)), undefined);
 * ```
 */
export function httpStatusOfError(error: unknown): number | undefined {
  if (!(error instanceof ConnectError)) return undefined;
  const match = /^HTTP (\d{3})$/.exec(error.rawMessage);
  return match ? Number(match[1]) : undefined;
}

/**
 * Classifies an error thrown by a call (see {@linkcode ErrorClass}).
 *
 * @param error Anything thrown by a client call.
 * @returns The class of the error.
 *
 * @example Usage
 * ```ts
 * import { classifyError } from "./status_codes.ts";
 * import { Code, ConnectError } from "@connectrpc/connect";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(classifyError(new ConnectError("down", Code.Unavailable)), "retryable");
 * assertEquals(classifyError(new ConnectError("HTTP 502", Code.Internal)), "retryable");
 * assertEquals(classifyError(new ConnectError("no", Code.Unauthenticated)), "fatal");
 * assertEquals(classifyError(new TypeError("bug")), "failure");
 * ```
 */
export function classifyError(error: unknown): ErrorClass {
  if (error instanceof DOMException && error.name === "AbortError") return "canceled";
  if (!(error instanceof ConnectError)) return "failure";
  if (error.code === Code.Canceled) return "canceled";
  if (error.code === Code.Unauthenticated || error.code === Code.PermissionDenied) return "fatal";
  if (RETRYABLE_CONNECT_CODES.has(error.code)) return "retryable";
  const http = httpStatusOfError(error);
  if (
    http !== undefined && http >= 500 && http <= 599 &&
    (error.code === Code.Internal || error.code === Code.Unknown)
  ) {
    return "retryable";
  }
  // A connection that broke mid-call surfaces as Internal ("write EPIPE") through
  // connect-node's gRPC transport and as Unknown ("fetch failed") through fetch: the request
  // may or may not have been applied, and sending it again is the way to find out.
  if (
    (error.code === Code.Internal || error.code === Code.Unknown) &&
    BROKEN_CONNECTION.test(error.rawMessage)
  ) {
    return "retryable";
  }
  return "failure";
}

const BROKEN_CONNECTION =
  /EPIPE|ECONNRESET|ECONNREFUSED|ECONNABORTED|socket hang up|fetch failed|connection (was )?(closed|reset)|premature close|stream closed|GOAWAY|NGHTTP2|network error|other side closed/i;

/**
 * Returns the sentence a person reads when a run stops on a fatal transport error
 * (Connect code `Unauthenticated` or `PermissionDenied`), or `undefined` for other codes.
 *
 * @param code The Connect code of the error.
 * @returns The sentence, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { fatalErrorMessage } from "./status_codes.ts";
 * import { Code } from "@connectrpc/connect";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(
 *   fatalErrorMessage(Code.Unauthenticated),
 *   "Clarifai rejected the credentials (unauthenticated): check CLARIFAI_PAT",
 * );
 * assertEquals(fatalErrorMessage(Code.Unavailable), undefined);
 * ```
 */
export function fatalErrorMessage(code: Code): string | undefined {
  switch (code) {
    case Code.Unauthenticated:
      return "Clarifai rejected the credentials (unauthenticated): check CLARIFAI_PAT";
    case Code.PermissionDenied:
      return "Clarifai denied access (permission denied): check that CLARIFAI_PAT may use " +
        "CLARIFAI_USER_ID's app CLARIFAI_APP_ID";
    default:
      return undefined;
  }
}

/**
 * Tells whether an outcome says the client is sending too fast: the in-body codes
 * `CONN_THROTTLED` and `CONN_EXCEED_HOURLY_LIMIT`, an error with Connect code
 * `ResourceExhausted`, or an HTTP 429 answer. A rate limiter slows down on these.
 *
 * @param outcome A thrown error, or the status of a response.
 * @returns `true` when the client should slow down.
 *
 * @example Usage
 * ```ts
 * import { isThrottled } from "./status_codes.ts";
 * import { StatusCode } from "../gen/clarifai/api/status/status_code_pb.ts";
 * import { Code, ConnectError } from "@connectrpc/connect";
 * import { assert } from "@std/assert";
 *
 * assert(isThrottled({ code: StatusCode.CONN_THROTTLED }));
 * assert(isThrottled(new ConnectError("slow down", Code.ResourceExhausted)));
 * assert(!isThrottled({ code: StatusCode.SUCCESS }));
 * ```
 */
export function isThrottled(outcome: unknown): boolean {
  if (outcome instanceof ConnectError) {
    return outcome.code === Code.ResourceExhausted || httpStatusOfError(outcome) === 429;
  }
  if (typeof outcome === "object" && outcome !== null && "code" in outcome) {
    const code = (outcome as StatusLike).code;
    return code === StatusCode.CONN_THROTTLED || code === StatusCode.CONN_EXCEED_HOURLY_LIMIT;
  }
  return false;
}
