/**
 * The one error class upload callers must catch: {@linkcode FatalUploadError}, raised when an
 * outcome means every later request would fail too (bad credentials, exhausted monthly quota).
 *
 * @module
 */

import { type Code, ConnectError } from "@connectrpc/connect";
import type { StatusCode } from "../gen/clarifai/api/status/status_code_pb.ts";
import {
  fatalErrorMessage,
  fatalStatusMessage,
  statusCodeName,
  type StatusLike,
} from "./status_codes.ts";

/** Options of {@linkcode FatalUploadError}. */
export interface FatalUploadErrorOptions {
  /** The in-body Clarifai status code, when the outcome came in a response. */
  statusCode?: StatusCode | number;
  /** The Connect code, when the outcome was a transport error. */
  connectCode?: Code;
  /** The server's details text, if any. */
  details?: string;
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * A fatal outcome: the run must stop, and its message says what a person should check. Carries
 * the Clarifai status code (in-body outcomes) or the Connect code (transport errors).
 *
 * @example Stop on a fatal response status
 * ```ts
 * import { FatalUploadError, StatusCode } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const error = FatalUploadError.fromStatus({ code: StatusCode.CONN_EXCEED_MONTHLY_LIMIT });
 * assertEquals(error.name, "FatalUploadError");
 * assertEquals(error.statusCode, StatusCode.CONN_EXCEED_MONTHLY_LIMIT);
 * assertEquals(error.message.startsWith("The account has used its monthly quota"), true);
 * ```
 */
export class FatalUploadError extends Error {
  /** The in-body Clarifai status code, when the outcome came in a response. */
  readonly statusCode: StatusCode | number | undefined;
  /** The Connect code, when the outcome was a transport error. */
  readonly connectCode: Code | undefined;
  /** The server's details text ("" when none). */
  readonly details: string;

  /**
   * Creates a fatal error with a message a person can act on.
   *
   * @param message What happened and what to check.
   * @param options The codes, details and cause.
   */
  constructor(message: string, options: FatalUploadErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "FatalUploadError";
    this.statusCode = options.statusCode;
    this.connectCode = options.connectCode;
    this.details = options.details ?? "";
  }

  /**
   * Makes the error for a fatal in-body status.
   *
   * @param status The fatal status (code, details, description).
   * @returns The error, its message the sentence for the code plus the server's details.
   *
   * @example Usage
   * ```ts
   * import { FatalUploadError } from "@upflow/upflow";
   * import { assertEquals } from "@std/assert";
   *
   * const error = FatalUploadError.fromStatus({ code: 11008, details: "API key not found" });
   * assertEquals(
   *   error.message,
   *   'Clarifai rejected the credentials (CONN_KEY_INVALID): check CLARIFAI_PAT (server said: "API key not found")',
   * );
   * ```
   */
  static fromStatus(status: StatusLike & { description?: string }): FatalUploadError {
    const said = status.details || status.description || "";
    const sentence = fatalStatusMessage(status.code) ??
      `Clarifai stopped the upload (${statusCodeName(status.code)})`;
    return new FatalUploadError(
      said ? `${sentence} (server said: ${JSON.stringify(said)})` : sentence,
      { statusCode: status.code, details: said },
    );
  }

  /**
   * Makes the error for a fatal transport error.
   *
   * @param error The error a call threw.
   * @returns The error, its message the sentence for the code plus the server's message.
   *
   * @example Usage
   * ```ts
   * import { FatalUploadError } from "@upflow/upflow";
   * import { Code, ConnectError } from "@connectrpc/connect";
   * import { assertEquals } from "@std/assert";
   *
   * const error = FatalUploadError.fromError(new ConnectError("bad key", Code.Unauthenticated));
   * assertEquals(error.connectCode, Code.Unauthenticated);
   * assertEquals(
   *   error.message,
   *   'Clarifai rejected the credentials (unauthenticated): check CLARIFAI_PAT (server said: "bad key")',
   * );
   * ```
   */
  static fromError(error: unknown): FatalUploadError {
    const connect = ConnectError.from(error);
    const sentence = fatalErrorMessage(connect.code) ??
      `Clarifai stopped the upload (${connect.message})`;
    const said = connect.rawMessage;
    return new FatalUploadError(
      said ? `${sentence} (server said: ${JSON.stringify(said)})` : sentence,
      { connectCode: connect.code, details: said, cause: error },
    );
  }
}
