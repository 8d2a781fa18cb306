/**
 * `s3://bucket/key` addresses: {@linkcode parseS3Url} and {@linkcode isS3Url}.
 *
 * @module
 */

/** A bucket and a key (or a key prefix). */
export interface S3Location {
  /** The bucket's name. */
  bucket: string;
  /** The key or prefix after the bucket, `""` for the whole bucket. */
  key: string;
}

/**
 * Whether `text` is an `s3://` address.
 *
 * @param text A path or URL as a user wrote it.
 * @returns `true` when it starts with `s3://`.
 *
 * @example Usage
 * ```ts
 * import { isS3Url } from "./s3_url.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(isS3Url("s3://pets/cats/"), true);
 * assertEquals(isS3Url("./pets"), false);
 * ```
 */
export function isS3Url(text: string): boolean {
  return typeof text === "string" && text.toLowerCase().startsWith("s3://");
}

/**
 * Splits an `s3://bucket/key` address. The key is kept as written (S3 keys are case-sensitive
 * and may hold any character).
 *
 * @param text The address.
 * @returns The bucket and key.
 * @throws {TypeError} When it is not `s3://` followed by a valid bucket name.
 *
 * @example Usage
 * ```ts
 * import { parseS3Url } from "./s3_url.ts";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * assertEquals(parseS3Url("s3://pets/cats/Tabby 01.jpg"), { bucket: "pets", key: "cats/Tabby 01.jpg" });
 * assertEquals(parseS3Url("s3://pets"), { bucket: "pets", key: "" });
 * assertThrows(() => parseS3Url("s3:///cats"), TypeError);
 * ```
 */
export function parseS3Url(text: string): S3Location {
  if (!isS3Url(text)) {
    throw new TypeError(`Not an s3:// address: ${JSON.stringify(text)}`);
  }
  const rest = text.slice(5);
  const slash = rest.indexOf("/");
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const key = slash === -1 ? "" : rest.slice(slash + 1);
  // S3's bucket naming rules (3-63 characters of lower case, digits, dots and hyphens); stores
  // that allow more (older buckets with upper case or underscores) are let through too.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,62}$/.test(bucket)) {
    throw new TypeError(
      `Not a valid s3:// address: ${
        JSON.stringify(text)
      }: the bucket name must be 3 to 63 letters, digits, dots or hyphens`,
    );
  }
  return { bucket, key };
}
