/**
 * {@linkcode ByteLimitStream}: passes bytes through and errors as soon as more than a limit
 * went by, so a request body is refused while it streams rather than after it was buffered.
 *
 * @module
 */

/** Options of {@linkcode ByteLimitStream}. */
export interface ByteLimitStreamOptions {
  /** Bytes allowed through; one more errors the stream. */
  maxBytes: number;
  /** Builds the error the stream fails with (default a `RangeError`). */
  error?: (maxBytes: number) => Error;
  /** Called with the size of each chunk that went through (for byte counters). */
  onBytes?: (bytes: number) => void;
}

/**
 * A byte-counting `TransformStream` that errors (cancelling its source, so nothing more is read)
 * the moment the bytes through it exceed `maxBytes`. The chunk that crosses the limit is not
 * passed on.
 *
 * @example Refuse the chunk that crosses the limit
 * ```ts
 * import { ByteLimitStream } from "./byte_limit_stream.ts";
 * import { assertEquals, assertRejects } from "@std/assert";
 *
 * const seen: number[] = [];
 * const limited = ReadableStream.from([new Uint8Array(4), new Uint8Array(4), new Uint8Array(4)])
 *   .pipeThrough(new ByteLimitStream({ maxBytes: 10 }));
 * await assertRejects(async () => {
 *   for await (const chunk of limited) seen.push(chunk.length);
 * }, RangeError);
 * assertEquals(seen, [4, 4]);
 * ```
 */
export class ByteLimitStream extends TransformStream<Uint8Array, Uint8Array> {
  #seen = 0;

  /**
   * Creates the stream.
   *
   * @param options The limit, the error and a byte counter.
   * @throws {RangeError} When `maxBytes` is not a non-negative integer.
   */
  constructor(options: ByteLimitStreamOptions) {
    const { maxBytes, error, onBytes } = options;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw new RangeError(
        `Cannot create ByteLimitStream: maxBytes must be a non-negative integer: current value is ${maxBytes}`,
      );
    }
    super({
      transform: (chunk, controller) => {
        this.#seen += chunk.byteLength;
        if (this.#seen > maxBytes) {
          controller.error(
            error?.(maxBytes) ??
              new RangeError(`The body exceeds the limit of ${maxBytes} bytes`),
          );
          return;
        }
        onBytes?.(chunk.byteLength);
        controller.enqueue(chunk);
      },
    });
  }

  /** Bytes seen so far (including a chunk that crossed the limit). */
  get bytes(): number {
    return this.#seen;
  }
}
