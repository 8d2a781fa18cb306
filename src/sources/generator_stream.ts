/**
 * {@linkcode generatorStream}: the one adapter from an async generator to a `ReadableStream`,
 * for sources written as generators (the annotation formats).
 *
 * @module
 */

/**
 * A stream that reads `items` as it is read itself, and ends it (`return()`, so its `finally`
 * blocks close what it holds) when cancelled. `ReadableStream.from` does the same, save one
 * thing: a generator waiting inside a long step (a JSON file being parsed) sees `return()` only
 * at its next `yield`, so `onCancel` runs first, to tell that step to stop.
 *
 * @param items The generator.
 * @param onCancel Called when the stream is cancelled, before the generator is ended.
 * @returns The stream.
 *
 * @example Cancelling ends the generator
 * ```ts
 * import { generatorStream } from "./generator_stream.ts";
 * import { assertEquals } from "@std/assert";
 *
 * let closed = false;
 * async function* numbers() {
 *   try {
 *     for (let i = 0;; i++) yield i;
 *   } finally {
 *     closed = true;
 *   }
 * }
 * const reader = generatorStream(numbers()).getReader();
 * assertEquals((await reader.read()).value, 0);
 * await reader.cancel();
 * assertEquals(closed, true);
 * ```
 */
export function generatorStream<T>(
  items: AsyncGenerator<T>,
  onCancel?: () => void,
): ReadableStream<T> {
  return new ReadableStream<T>({
    async pull(controller) {
      const next = await items.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      onCancel?.();
      await items.return(undefined);
    },
  });
}
