/**
 * {@linkcode s3ObjectOpener}: how the load stage opens `s3://` drafts: `via: "bytes"` reads the
 * object (guarded by the ETag the listing saw), `via: "url"` hands Clarifai a presigned GET URL.
 *
 * @module
 */
import type { ObjectOpener } from "../../pipeline/load_stream.ts";
import type { S3Client } from "./s3_client.ts";
import { parseS3Url } from "./s3_url.ts";

/** How object content travels to Clarifai. */
export type S3Via = "bytes" | "url";

/** Options of {@linkcode s3ObjectOpener}. */
export interface S3ObjectOpenerOptions {
  /**
   * `"bytes"` (default): upflow reads each object and sends its bytes in the request.
   * `"url"`: upflow sends a presigned GET URL and Clarifai fetches the object itself.
   */
  via?: S3Via;
  /**
   * How long a presigned URL stays valid, in seconds, 1 to 604,800 (7 days, S3's limit; default
   * 86,400: a day). Clarifai fetches URLs while it processes the inputs, which may be later
   * than the upload under load: keep it longer than the run plus the processing.
   */
  urlExpiresSeconds?: number;
}

/**
 * Makes the load stage's opener of `s3://bucket/key` drafts.
 *
 * @param client The S3 client (its credentials sign reads and URLs).
 * @param options `via` and the URLs' lifetime.
 * @returns The opener, for `LoadStream`'s or `runUpload`'s `openObject`.
 * @throws {RangeError} When `via` or `urlExpiresSeconds` is invalid.
 *
 * @example Presigned URLs instead of bytes
 * ```ts
 * import { s3ObjectOpener } from "./s3_object_opener.ts";
 * import { S3Client } from "./s3_client.ts";
 * import { assert } from "@std/assert";
 *
 * const client = new S3Client({ endpoint: "http://127.0.0.1:9000", accessKeyId: "AKID", secretAccessKey: "shh" });
 * const open = s3ObjectOpener(client, { via: "url", urlExpiresSeconds: 600 });
 * const opened = await open(
 *   { type: "object", url: "s3://pets/cats/01.jpg" },
 *   { signal: new AbortController().signal },
 * );
 * assert("url" in opened && opened.url.startsWith("http://127.0.0.1:9000/pets/cats/01.jpg?"));
 * assert("url" in opened && opened.url.includes("X-Amz-Expires=600"));
 * ```
 */
export function s3ObjectOpener(
  client: S3Client,
  options: S3ObjectOpenerOptions = {},
): ObjectOpener {
  const via = options.via ?? "bytes";
  if (via !== "bytes" && via !== "url") {
    throw new RangeError(
      `Cannot create s3ObjectOpener: via must be "bytes" or "url": current value is ${
        JSON.stringify(via)
      }`,
    );
  }
  const expires = options.urlExpiresSeconds ?? 86_400;
  if (!Number.isInteger(expires) || expires < 1 || expires > 604_800) {
    throw new RangeError(
      `Cannot create s3ObjectOpener: urlExpiresSeconds must be an integer from 1 to 604800 (7 days): current value is ${expires}`,
    );
  }
  return async (content, { signal }) => {
    const { bucket, key } = parseS3Url(content.url);
    if (via === "url") return { url: await client.presignGet(bucket, key, expires) };
    return { bytes: await client.getObject(bucket, key, { ifMatch: content.etag, signal }) };
  };
}
