/**
 * The CLI's usage error.
 *
 * @module
 */

/**
 * A usage error: the CLI prints the message and a pointer to the command's help, and exits 2.
 *
 * @example Usage
 * ```ts
 * import { UsageError } from "./usage_error.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(new UsageError("folder takes one PATH").name, "UsageError");
 * ```
 */
export class UsageError extends Error {
  /**
   * Creates a usage error.
   *
   * @param message What is wrong with the command line.
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
