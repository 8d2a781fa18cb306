/**
 * {@linkcode uploadFromBucket}: what the one-call bucket uploads (`uploadS3Folder`,
 * `uploadS3Csv`, `uploadS3Coco`) share: the S3 client from the options or the AWS variables,
 * and the objects the drafts name read through it, as bytes or presigned URLs.
 *
 * @module
 */
import type { DraftSource } from "../../upload/run_upload.ts";
import type { ProgressEvent } from "../../pipeline/progress_event.ts";
import { uploadInputs, type UploadOptions } from "../../upload/upload.ts";
import { S3Client, type S3ClientOptions, s3OptionsFromEnv } from "./s3_client.ts";
import { s3ObjectOpener, type S3ObjectOpenerOptions } from "./s3_object_opener.ts";

/** The options every bucket upload takes: the run's, how objects travel, and the client. */
export interface BucketUploadOptions extends UploadOptions, S3ObjectOpenerOptions {
  /** The S3 client, or its options (default: from the AWS environment variables). */
  s3?: S3Client | S3ClientOptions;
}

/**
 * Uploads the drafts `source` reads from a bucket with the client the options give (or the
 * AWS variables), opening the objects they name with that client (`via`: bytes or URLs).
 *
 * @param options The run's, the sending and the client's options.
 * @param describe The run's source, for the first event (`folder s3://pets/cats`).
 * @param source The drafts, read with the client.
 * @param totals Counts the inputs and bytes up front, with the client (optional).
 * @returns The progress events.
 *
 * @example Dry-run drafts of text objects
 * ```ts
 * import { uploadFromBucket } from "./upload_from_bucket.ts";
 * import { summaryOf } from "../../pipeline/progress_event.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const summary = await summaryOf(uploadFromBucket(
 *   { s3: { endpoint: "http://127.0.0.1:9" }, dryRun: true },
 *   "two texts",
 *   () => [
 *     { id: "a", kind: "text", content: { type: "raw", text: "a" }, location: "a", concepts: [] },
 *     { id: "b", kind: "text", content: { type: "raw", text: "b" }, location: "b", concepts: [] },
 *   ],
 * ));
 * assertEquals(summary.uploaded, 2);
 * ```
 */
export function uploadFromBucket(
  options: BucketUploadOptions,
  describe: string,
  source: (client: S3Client) => DraftSource,
  totals?: (client: S3Client) => Promise<{ inputs: number; bytes: number }>,
): ReadableStream<ProgressEvent> {
  const client = options.s3 instanceof S3Client
    ? options.s3
    : new S3Client(options.s3 ?? s3OptionsFromEnv());
  const openObject = s3ObjectOpener(client, {
    via: options.via,
    urlExpiresSeconds: options.urlExpiresSeconds,
  });
  return uploadInputs(
    () => source(client),
    { ...options, openObject },
    describe,
    totals && (() => totals(client)),
  );
}
