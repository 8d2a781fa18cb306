/**
 * A credential that does not print: {@linkcode Secret}.
 *
 * @module
 */

const REDACTED = "[redacted]";

/**
 * Holds a credential (a Clarifai PAT) in a private field, so that `String()`,
 * `JSON.stringify`, `Deno.inspect`, `console.log` and Node's `util.inspect` of it, or of any
 * object holding it, show `[redacted]`. Only {@linkcode Secret.reveal} gives the value back.
 *
 * @example Usage
 * ```ts
 * import { Secret } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const options = { pat: new Secret("abc123"), userId: "me" };
 * assertEquals(JSON.stringify(options), '{"pat":"[redacted]","userId":"me"}');
 * assertEquals(`${options.pat}`, "[redacted]");
 * assertEquals(Deno.inspect(options).includes("abc123"), false);
 * assertEquals(options.pat.reveal(), "abc123");
 * ```
 */
export class Secret {
  #value: string;

  /**
   * Wraps a credential.
   *
   * @param value The credential.
   */
  constructor(value: string) {
    if (typeof value !== "string") {
      throw new TypeError(
        `Cannot create Secret: value must be a string: current type is ${typeof value}`,
      );
    }
    this.#value = value;
  }

  /**
   * Returns the credential itself: call this only where it goes on the wire.
   *
   * @returns The credential.
   *
   * @example Usage
   * ```ts
   * import { Secret } from "@upflow/upflow";
   * import { assertEquals } from "@std/assert";
   *
   * assertEquals(new Secret("k").reveal(), "k");
   * ```
   */
  reveal(): string {
    return this.#value;
  }

  /**
   * Returns `[redacted]`.
   *
   * @returns `[redacted]`.
   *
   * @example Usage
   * ```ts
   * import { Secret } from "@upflow/upflow";
   * import { assertEquals } from "@std/assert";
   *
   * assertEquals(new Secret("k").toString(), "[redacted]");
   * ```
   */
  toString(): string {
    return REDACTED;
  }

  /**
   * Returns `[redacted]`, what `JSON.stringify` writes.
   *
   * @returns `[redacted]`.
   *
   * @example Usage
   * ```ts
   * import { Secret } from "@upflow/upflow";
   * import { assertEquals } from "@std/assert";
   *
   * assertEquals(JSON.stringify(new Secret("k")), '"[redacted]"');
   * ```
   */
  toJSON(): string {
    return REDACTED;
  }

  /** What `Deno.inspect` and `console.log` show. */
  [Symbol.for("Deno.customInspect")](): string {
    return REDACTED;
  }

  /** What Node's `util.inspect` shows. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return REDACTED;
  }
}
