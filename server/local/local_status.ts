/**
 * Building `clarifai.api.status.Status` messages the way the local API answers them: a code, the
 * code's usual description, optional details and a request ID.
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { type Status, StatusSchema } from "../../src/gen/clarifai/api/status/status_pb.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";

const DESCRIPTIONS: Partial<Record<StatusCode, string>> = {
  [StatusCode.SUCCESS]: "Ok",
  [StatusCode.MIXED_STATUS]: "Mixed Success",
  [StatusCode.FAILURE]: "Failure",
  [StatusCode.NOT_IMPLEMENTED]: "Not implemented",
  [StatusCode.CONN_CREDENTIALS_INVALID]: "Invalid credentials",
  [StatusCode.CONN_KEY_INVALID]: "API key is invalid",
  [StatusCode.CONN_THROTTLED]: "Making too many requests",
  [StatusCode.CONN_INVALID_REQUEST]: "Invalid request",
  [StatusCode.CONN_BAD_REQUEST_FORMAT]: "Bad request format",
  [StatusCode.CONN_DOES_NOT_EXIST]: "Resource does not exist",
  [StatusCode.INPUT_SUCCESS]: "Download complete",
  [StatusCode.INPUT_PENDING]: "Download pending",
  [StatusCode.INPUT_FAILED]: "Download failed",
  [StatusCode.INPUT_IN_PROGRESS]: "Download in progress",
  [StatusCode.INPUT_DUPLICATE]: "Input has a duplicate ID.",
  [StatusCode.INPUT_DOES_NOT_EXIST]: "Input does not exist",
  [StatusCode.INPUT_INVALID_ARGUMENT]: "Invalid input argument",
  [StatusCode.INPUT_OVER_LIMIT]: "Input is over the size limit",
  [StatusCode.INPUT_INVALID_URL]: "Invalid URL",
  [StatusCode.ANNOTATION_SUCCESS]: "Annotation success",
  [StatusCode.ANNOTATION_INVALID_ARGUMENT]: "Invalid annotation argument",
  [StatusCode.DATASET_INPUT_SUCCESS]: "Dataset input success",
  [StatusCode.DATASET_VERSION_PENDING]: "Dataset version pending",
  [StatusCode.DATASET_VERSION_IN_PROGRESS]: "Dataset version in progress",
  [StatusCode.DATASET_VERSION_READY]: "Dataset version ready",
  [StatusCode.DATASET_VERSION_FAILURE]: "Dataset version failed",
  [StatusCode.INPUT_MODIFY_SUCCESS]: "Input modification success",
  [StatusCode.ANNOTATION_MODIFY_SUCCESS]: "Annotation modification success",
  [StatusCode.DATABASE_DUPLICATE_KEY]: "Duplicate key",
  [StatusCode.RPC_MAX_MESSAGE_SIZE_EXCEEDED]: "Request message size exceeded",
  [StatusCode.JOB_QUEUED]: "Job is queued",
  [StatusCode.JOB_RUNNING]: "Job is running",
  [StatusCode.JOB_COMPLETED]: "Job is completed",
  [StatusCode.JOB_FAILED]: "Job failed",
  [StatusCode.INTERNAL_SERVER_ISSUE]: "Internal server issue",
};

/**
 * Creates a status with the code's usual description.
 *
 * @param code The status code.
 * @param details Optional details (what exactly went wrong).
 * @param description Optional description replacing the usual one.
 * @returns The status message.
 *
 * @example Usage
 * ```ts
 * import { localStatus } from "./local_status.ts";
 * import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const status = localStatus(StatusCode.INPUT_DUPLICATE, "Input has a duplicate ID.");
 * assertEquals(status.description, "Input has a duplicate ID.");
 * ```
 */
export function localStatus(code: StatusCode, details = "", description?: string): Status {
  return create(StatusSchema, {
    code,
    description: description ?? DESCRIPTIONS[code] ?? StatusCode[code] ?? String(code),
    details,
  });
}

/**
 * Maps an in-body status code to the HTTP status the REST paths answer with it.
 *
 * @param code The status code.
 * @returns The HTTP status.
 *
 * @example Usage
 * ```ts
 * import { httpStatusOf } from "./local_status.ts";
 * import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(httpStatusOf(StatusCode.CONN_KEY_INVALID), 401);
 * assertEquals(httpStatusOf(StatusCode.MIXED_STATUS), 200);
 * ```
 */
export function httpStatusOf(code: StatusCode): number {
  switch (code) {
    case StatusCode.SUCCESS:
    case StatusCode.MIXED_STATUS:
      return 200;
    case StatusCode.CONN_CREDENTIALS_INVALID:
    case StatusCode.CONN_KEY_INVALID:
      return 401;
    case StatusCode.CONN_THROTTLED:
      return 429;
    case StatusCode.CONN_DOES_NOT_EXIST:
    case StatusCode.NOT_IMPLEMENTED:
      return 404;
    case StatusCode.RPC_MAX_MESSAGE_SIZE_EXCEEDED:
      return 413;
    case StatusCode.INTERNAL_SERVER_ISSUE:
      return 500;
    default:
      return 400;
  }
}
