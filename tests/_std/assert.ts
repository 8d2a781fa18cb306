/**
 * A small stand-in for `@std/assert` (JSR is not reachable from our machines), with the same
 * names and shapes, built on `node:assert/strict`. Switching back is an import-map change.
 *
 * @module
 */
import nodeAssert from "node:assert/strict";

/** Asserts that `actual` is truthy. */
export function assert(actual: unknown, msg?: string): asserts actual {
  nodeAssert.ok(actual, msg);
}

/** Asserts deep equality of `actual` and `expected`. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, msg);
}

/** Asserts deep inequality of `actual` and `expected`. */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.notDeepStrictEqual(actual, expected, msg);
}

/** Asserts that `actual` and `expected` are the same value (`Object.is`). */
export function assertStrictEquals<T>(actual: unknown, expected: T, msg?: string): void {
  nodeAssert.strictEqual(actual, expected, msg);
}

/** Asserts that `actual` is within `tolerance` of `expected`. */
export function assertAlmostEquals(
  actual: number,
  expected: number,
  tolerance = 1e-7,
  msg?: string,
): void {
  if (!(Math.abs(actual - expected) <= tolerance)) {
    throw new nodeAssert.AssertionError({
      message: msg ?? `Expected ${actual} to be within ${tolerance} of ${expected}`,
      actual,
      expected,
    });
  }
}

/** Asserts that `actual` includes `expected`. */
export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  if (!actual.includes(expected)) {
    throw new nodeAssert.AssertionError({
      message: msg ?? `Expected ${JSON.stringify(actual)} to include ${JSON.stringify(expected)}`,
      actual,
      expected,
    });
  }
}

/** Asserts that `actual` matches `expected`. */
export function assertMatch(actual: string, expected: RegExp, msg?: string): void {
  nodeAssert.match(actual, expected, msg);
}

/** Asserts that `actual` is greater than `expected`. */
export function assertGreater(actual: number, expected: number, msg?: string): void {
  if (!(actual > expected)) {
    throw new nodeAssert.AssertionError({
      message: msg ?? `Expected ${actual} > ${expected}`,
      actual,
      expected,
    });
  }
}

/** Asserts that `actual` is less than or equal to `expected`. */
export function assertLessOrEqual(actual: number, expected: number, msg?: string): void {
  if (!(actual <= expected)) {
    throw new nodeAssert.AssertionError({
      message: msg ?? `Expected ${actual} <= ${expected}`,
      actual,
      expected,
    });
  }
}

type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

function checkError<E extends Error>(
  err: unknown,
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
): E {
  if (ErrorClass && !(err instanceof ErrorClass)) {
    throw new nodeAssert.AssertionError({
      message: `Expected error to be instance of "${ErrorClass.name}", but was "${
        (err as Error)?.constructor?.name
      }": ${(err as Error)?.message}`,
    });
  }
  if (msgIncludes !== undefined && !String((err as Error)?.message).includes(msgIncludes)) {
    throw new nodeAssert.AssertionError({
      message: `Expected error message to include ${JSON.stringify(msgIncludes)}, but got ${
        JSON.stringify((err as Error)?.message)
      }`,
    });
  }
  return err as E;
}

/** Asserts that `fn` throws, optionally an instance of `ErrorClass` whose message includes `msgIncludes`. */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
): E {
  try {
    fn();
  } catch (err) {
    return checkError(err, ErrorClass, msgIncludes);
  }
  throw new nodeAssert.AssertionError({ message: "Expected function to throw." });
}

/** Asserts that `fn` rejects, optionally with an instance of `ErrorClass` whose message includes `msgIncludes`. */
export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (err) {
    return checkError(err, ErrorClass, msgIncludes);
  }
  throw new nodeAssert.AssertionError({ message: "Expected function to reject." });
}

/** Throws an assertion error: marks code that must not be reached. */
export function fail(msg?: string): never {
  throw new nodeAssert.AssertionError({ message: msg ?? "Failed assertion." });
}
