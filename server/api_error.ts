/**
 * The service's one error type: {@linkcode ApiError}, an `HTTPException` with a machine code,
 * answered by the app's `onError` as `{ "error": { "code", "message" } }`.
 *
 * @module
 */
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * An error the service answers with a status and a JSON body
 * `{ "error": { "code": "payload_too_large", "message": "…" } }`. Throw it anywhere in a
 * handler (or error a request body stream with it); the app's `onError` turns it into the
 * response.
 *
 * @example Usage
 * ```ts
 * import { ApiError } from "./api_error.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const err = new ApiError(404, "job_not_found", "No upload job abc");
 * assertEquals(err.status, 404);
 * assertEquals(err.toJSON(), { error: { code: "job_not_found", message: "No upload job abc" } });
 * ```
 */
export class ApiError extends HTTPException {
  /** A short machine-readable code, snake_case (`unauthorized`, `path_outside_root`). */
  readonly code: string;

  /**
   * Creates an API error.
   *
   * @param status The HTTP status.
   * @param code A short machine-readable code, snake_case.
   * @param message What went wrong, for people; never holds a credential.
   */
  constructor(status: ContentfulStatusCode, code: string, message: string) {
    super(status, { message });
    this.name = "ApiError";
    this.code = code;
  }

  /**
   * The JSON body of the error.
   *
   * @returns `{ error: { code, message } }`.
   */
  toJSON(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}
