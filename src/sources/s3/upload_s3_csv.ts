/**
 * {@linkcode uploadS3Csv}: the one-call upload of a CSV in a bucket, like `uploadCsv` for a CSV
 * on disk.
 *
 * @module
 */
import type { ProgressEvent } from "../../pipeline/progress_event.ts";
import { s3CsvSource, type S3CsvSourceOptions } from "./s3_csv_source.ts";
import { type BucketUploadOptions, uploadFromBucket } from "./upload_from_bucket.ts";

/** Options of {@linkcode uploadS3Csv}. */
export interface UploadS3CsvOptions
  extends BucketUploadOptions, Omit<S3CsvSourceOptions, "datasetId"> {}

/**
 * Uploads a CSV object (`s3://bucket/file.csv`) as {@linkcode s3CsvSource} reads it; its
 * `file_path` rows are objects beside it, sent as bytes or as presigned URLs (`via`).
 *
 * @param url The CSV's `s3://bucket/key`.
 * @param options CSV, sending, target, dataset and run options.
 * @returns The progress events.
 *
 * @example Dry-run a CSV of text (a stand-in S3 here)
 * ```ts
 * import { uploadS3Csv } from "./upload_s3_csv.ts";
 * import { summaryOf } from "../../pipeline/progress_event.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const csv = "input,concepts\nhello,greeting\nbye,farewell\n";
 * const summary = await summaryOf(uploadS3Csv("s3://data/words.csv", {
 *   s3: { endpoint: "http://127.0.0.1:9", fetch: () => Promise.resolve(new Response(csv)) },
 *   dryRun: true,
 * }));
 * assertEquals(summary.uploaded, 2);
 * ```
 */
export function uploadS3Csv(
  url: string,
  options: UploadS3CsvOptions = {},
): ReadableStream<ProgressEvent> {
  const { inputType, csvType, labels, datasetId, name } = options;
  return uploadFromBucket(
    options,
    `csv ${url}`,
    (client) => s3CsvSource(client, url, { inputType, csvType, labels, datasetId, name }),
  );
}
