/**
 * Input IDs by Clarifai's rules: checking a given ID, and deriving one from a file name the way
 * the official SDKs clean file stems.
 *
 * @module
 */

/** The longest input ID upflow accepts. */
export const MAX_ID_LENGTH = 255;

const VALID_ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/**
 * Returns why `id` is not a valid input ID, or `undefined` when it is valid: 1 to 255
 * characters, letters, digits, `_` and `-`, starting with a letter or digit.
 *
 * @param id The candidate ID.
 * @returns A reason a person can act on, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { invalidIdReason } from "./ids.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(invalidIdReason("cat-01"), undefined);
 * assertEquals(
 *   invalidIdReason("cat 01"),
 *   'invalid input ID "cat 01": use letters, digits, "_" and "-", starting with a letter or digit',
 * );
 * ```
 */
export function invalidIdReason(id: string): string | undefined {
  if (id.length === 0) return "empty input ID";
  if (id.length > MAX_ID_LENGTH) {
    return `input ID is ${id.length} characters long: at most ${MAX_ID_LENGTH} are allowed`;
  }
  if (!VALID_ID.test(id)) {
    return `invalid input ID ${
      JSON.stringify(id)
    }: use letters, digits, "_" and "-", starting with a letter or digit`;
  }
  return undefined;
}

/**
 * Cleans free text (a file stem, a relative path) into an input ID: runs of `.`, `,`, space and
 * `/` become `_`, repeated `_` and `-` collapse, the result is lower-cased, leading and trailing
 * `_`/`-` are stripped and any other character is dropped (the official SDKs' rule). Longer
 * results are cut to {@linkcode MAX_ID_LENGTH}. May return `""` when nothing usable is left.
 *
 * @param text The text to clean.
 * @returns The cleaned ID (possibly empty).
 *
 * @example Usage
 * ```ts
 * import { cleanId } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(cleanId("My Cat.01"), "my_cat_01");
 * assertEquals(cleanId("cats/Tabby--1"), "cats_tabby-1");
 * ```
 */
export function cleanId(text: string): string {
  const cleaned = text
    .replace(/[., /\\]+/g, "_")
    .replace(/_+/g, "_")
    .replace(/-+/g, "-")
    .toLowerCase()
    .replace(/^[_-]+|[_-]+$/g, "")
    .replace(/[^a-z0-9_-]+/g, "")
    .replace(/^[_-]+/, "");
  return cleaned.slice(0, MAX_ID_LENGTH);
}
