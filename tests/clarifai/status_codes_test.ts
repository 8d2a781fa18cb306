import { assert, assertEquals } from "@std/assert";
import { Code, ConnectError } from "@connectrpc/connect";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import {
  classifyError,
  classifyStatus,
  classifyStatusCode,
  type ErrorClass,
  fatalErrorMessage,
  fatalStatusMessage,
  httpStatusOfError,
  isDuplicateStatus,
  isThrottled,
  type StatusClass,
  statusCodeName,
} from "../../src/clarifai/status_codes.ts";
import { FatalUploadError } from "../../src/clarifai/errors.ts";

const NONE = { permissions: "none" } as const;

const TABLE: [StatusCode | number, StatusClass][] = [
  [StatusCode.SUCCESS, "success"],
  [StatusCode.INPUT_SUCCESS, "success"],
  [StatusCode.ANNOTATION_SUCCESS, "success"],
  [StatusCode.DATASET_INPUT_SUCCESS, "success"],
  [StatusCode.JOB_COMPLETED, "success"],
  [StatusCode.INPUT_PENDING, "pending"],
  [StatusCode.INPUT_IN_PROGRESS, "pending"],
  [StatusCode.ANNOTATION_PENDING, "pending"],
  [StatusCode.JOB_QUEUED, "pending"],
  [StatusCode.JOB_RUNNING, "pending"],
  [StatusCode.MIXED_STATUS, "mixed"],
  [StatusCode.TRY_AGAIN, "retryable"],
  [StatusCode.CONN_THROTTLED, "retryable"],
  [StatusCode.CONN_EXCEED_HOURLY_LIMIT, "retryable"],
  [StatusCode.RPC_REQUEST_QUEUE_FULL, "retryable"],
  [StatusCode.RPC_SERVER_UNAVAILABLE, "retryable"],
  [StatusCode.RPC_REQUEST_TIMEOUT, "retryable"],
  [StatusCode.RPC_MAX_MESSAGE_SIZE_EXCEEDED, "failure"],
  [StatusCode.INTERNAL_SERVER_ISSUE, "retryable"],
  [StatusCode.INTERNAL_RESOURCE_EXHAUSTED, "retryable"],
  [StatusCode.CONN_ACCOUNT_ISSUES, "fatal"],
  [StatusCode.CONN_CREDENTIALS_INVALID, "fatal"],
  [StatusCode.CONN_EXCEED_MONTHLY_LIMIT, "fatal"],
  [StatusCode.CONN_INSUFFICIENT_SCOPES, "fatal"],
  [StatusCode.CONN_KEY_INVALID, "fatal"],
  [StatusCode.CONN_KEY_NOT_FOUND, "fatal"],
  [StatusCode.CONN_EXCEEDS_LIMITS, "fatal"],
  [StatusCode.INPUT_FAILED, "input-error"],
  [StatusCode.INPUT_DUPLICATE, "input-error"],
  [StatusCode.INPUT_UNSUPPORTED_FORMAT, "input-error"],
  [StatusCode.INPUT_DOES_NOT_EXIST, "input-error"],
  [StatusCode.INPUT_INVALID_ARGUMENT, "input-error"],
  [StatusCode.INPUT_OVER_LIMIT, "input-error"],
  [StatusCode.INPUT_INVALID_URL, "input-error"],
  [StatusCode.ALL_INPUT_INVALID_BYTES, "input-error"],
  [StatusCode.INPUT_INVALID_REQUEST, "input-error"],
  [30200, "input-error"], // an INPUT_* code the subset does not name
  [StatusCode.ANNOTATION_FAILED, "input-error"],
  [StatusCode.ANNOTATION_INVALID_ARGUMENT, "input-error"],
  [StatusCode.FAILURE, "failure"],
  [StatusCode.NOT_IMPLEMENTED, "failure"],
  [StatusCode.CONN_BAD_REQUEST_FORMAT, "failure"],
  [StatusCode.CONN_DOES_NOT_EXIST, "failure"],
  [StatusCode.CONN_INVALID_REQUEST, "failure"],
  [StatusCode.DATABASE_DUPLICATE_KEY, "failure"],
  [StatusCode.JOB_FAILED, "failure"],
  [StatusCode.ZERO, "failure"],
  [54321, "failure"],
];

Deno.test("classifyStatusCode() classifies every code", NONE, async (t) => {
  for (const [code, expected] of TABLE) {
    await t.step(`${statusCodeName(code)} (${code}) is ${expected}`, () => {
      assertEquals(classifyStatusCode(code), expected);
      assertEquals(classifyStatus({ code }), expected);
    });
  }
});

Deno.test("fatalStatusMessage() has a sentence for exactly the fatal codes", NONE, async (t) => {
  for (const [code, expected] of TABLE) {
    await t.step(statusCodeName(code), () => {
      const message = fatalStatusMessage(code);
      if (expected === "fatal") {
        assert(message !== undefined);
        assert(message.includes(`(${statusCodeName(code)})`), message);
        assert(message.includes(": "), "says what to check");
      } else {
        assertEquals(message, undefined);
      }
    });
  }
});

Deno.test("duplicates are recognised by code and by details text", NONE, async (t) => {
  const cases: [string, { code: number; details?: string } | undefined, boolean][] = [
    ["INPUT_DUPLICATE", { code: StatusCode.INPUT_DUPLICATE }, true],
    [
      "INPUT_FAILED with the SDK's text",
      { code: StatusCode.INPUT_FAILED, details: "Input has a duplicate ID." },
      true,
    ],
    [
      "FAILURE with the text inside more words",
      { code: StatusCode.FAILURE, details: "Error: Input has a duplicate ID. (id cat)" },
      true,
    ],
    ["INPUT_FAILED otherwise", { code: StatusCode.INPUT_FAILED, details: "bad bytes" }, false],
    ["SUCCESS", { code: StatusCode.SUCCESS }, false],
    ["no status", undefined, false],
  ];
  for (const [name, status, expected] of cases) {
    await t.step(name, () => {
      assertEquals(isDuplicateStatus(status), expected);
      if (expected) assertEquals(classifyStatus(status), "input-error");
    });
  }
});

Deno.test("classifyStatus() of a missing status is a failure", NONE, () => {
  assertEquals(classifyStatus(undefined), "failure");
});

Deno.test("classifyError() classifies transport errors", NONE, async (t) => {
  const cases: [string, unknown, ErrorClass][] = [
    ["Unavailable", new ConnectError("down", Code.Unavailable), "retryable"],
    ["DeadlineExceeded", new ConnectError("slow", Code.DeadlineExceeded), "retryable"],
    ["ResourceExhausted", new ConnectError("busy", Code.ResourceExhausted), "retryable"],
    ["Aborted (connection reset)", new ConnectError("reset", Code.Aborted), "retryable"],
    ["HTTP 429 (Unavailable)", new ConnectError("HTTP 429", Code.Unavailable), "retryable"],
    ["HTTP 500 (Unknown)", new ConnectError("HTTP 500", Code.Unknown), "retryable"],
    ["HTTP 500 (Internal)", new ConnectError("HTTP 500", Code.Internal), "retryable"],
    ["HTTP 400 (Internal)", new ConnectError("HTTP 400", Code.Internal), "failure"],
    ["Internal without HTTP status", new ConnectError("bad frame", Code.Internal), "failure"],
    ["Unknown", new ConnectError("what", Code.Unknown), "failure"],
    ["broken pipe (Internal)", new ConnectError("write EPIPE", Code.Internal), "retryable"],
    ["fetch failed (Unknown)", new ConnectError("fetch failed", Code.Unknown), "retryable"],
    ["socket hang up (Unknown)", new ConnectError("socket hang up", Code.Unknown), "retryable"],
    ["Unauthenticated", new ConnectError("who", Code.Unauthenticated), "fatal"],
    ["PermissionDenied", new ConnectError("no", Code.PermissionDenied), "fatal"],
    ["Canceled", new ConnectError("stop", Code.Canceled), "canceled"],
    ["AbortError", new DOMException("stop", "AbortError"), "canceled"],
    ["Unimplemented", new ConnectError("nope", Code.Unimplemented), "failure"],
    ["InvalidArgument", new ConnectError("bad", Code.InvalidArgument), "failure"],
    ["plain Error", new Error("bug"), "failure"],
    ["a string", "oops", "failure"],
  ];
  for (const [name, error, expected] of cases) {
    await t.step(name, () => assertEquals(classifyError(error), expected));
  }
});

Deno.test("httpStatusOfError() reads Connect's HTTP status errors only", NONE, () => {
  assertEquals(httpStatusOfError(new ConnectError("HTTP 503", Code.Unavailable)), 503);
  assertEquals(httpStatusOfError(new ConnectError("HTTP 5031", Code.Unavailable)), undefined);
  assertEquals(httpStatusOfError(new Error("HTTP 503")), undefined);
});

Deno.test("isThrottled() recognises slow-down outcomes", NONE, async (t) => {
  const cases: [string, unknown, boolean][] = [
    ["CONN_THROTTLED", { code: StatusCode.CONN_THROTTLED }, true],
    ["CONN_EXCEED_HOURLY_LIMIT", { code: StatusCode.CONN_EXCEED_HOURLY_LIMIT }, true],
    ["TRY_AGAIN", { code: StatusCode.TRY_AGAIN }, false],
    ["ResourceExhausted", new ConnectError("x", Code.ResourceExhausted), true],
    ["HTTP 429", new ConnectError("HTTP 429", Code.Unavailable), true],
    ["HTTP 503", new ConnectError("HTTP 503", Code.Unavailable), false],
    ["undefined", undefined, false],
  ];
  for (const [name, outcome, expected] of cases) {
    await t.step(name, () => assertEquals(isThrottled(outcome), expected));
  }
});

Deno.test("fatal transport errors have sentences", NONE, () => {
  assert(fatalErrorMessage(Code.Unauthenticated)?.includes("CLARIFAI_PAT"));
  assert(fatalErrorMessage(Code.PermissionDenied)?.includes("CLARIFAI_PAT"));
  assertEquals(fatalErrorMessage(Code.Internal), undefined);
});

Deno.test("statusCodeName() prefers current names over deprecated aliases", NONE, () => {
  assertEquals(statusCodeName(StatusCode.INPUT_PENDING), "INPUT_PENDING");
  assertEquals(statusCodeName(StatusCode.INPUT_FAILED), "INPUT_FAILED");
});

Deno.test("FatalUploadError carries codes, details and cause", NONE, () => {
  const fromStatus = FatalUploadError.fromStatus({
    code: StatusCode.CONN_INSUFFICIENT_SCOPES,
    details: "missing scope Inputs:Add",
  });
  assert(fromStatus instanceof Error);
  assertEquals(fromStatus.statusCode, StatusCode.CONN_INSUFFICIENT_SCOPES);
  assertEquals(fromStatus.connectCode, undefined);
  assertEquals(fromStatus.details, "missing scope Inputs:Add");
  assert(fromStatus.message.includes("CONN_INSUFFICIENT_SCOPES"));
  assert(fromStatus.message.includes('"missing scope Inputs:Add"'));

  const bare = FatalUploadError.fromStatus({ code: StatusCode.CONN_KEY_NOT_FOUND });
  assertEquals(
    bare.message,
    "Clarifai does not know this key (CONN_KEY_NOT_FOUND): check CLARIFAI_PAT",
  );

  const cause = new ConnectError("denied", Code.PermissionDenied);
  const fromError = FatalUploadError.fromError(cause);
  assertEquals(fromError.connectCode, Code.PermissionDenied);
  assertEquals(fromError.statusCode, undefined);
  assertEquals(fromError.cause, cause);
  assert(fromError.message.startsWith("Clarifai denied access (permission denied)"));
});
