/**
 * {@linkcode uploadS3Csv}: the one-call upload of a CSV in a bucket, like `uploadCsv` for a CSV
 * on disk.
 *
 * @module
 */
import type { ProgressEvent } from "../../pipeline/progress_event.ts";
import { uploadInputs, type UploadOptions } from "../../upload/upload.ts";
import { S3Client, type S3ClientOptions, s3OptionsFromEnv } from "./s3_client.ts";
import { s3CsvSource, type S3CsvSourceOptions } from "./s3_csv_source.ts";
import { s3ObjectOpener, type S3ObjectOpenerOptions } from "./s3_object_opener.ts";

/** Options of {@linkcode uploadS3Csv}. */
export interface UploadS3CsvOptions
  extends UploadOptions, Omit<S3CsvSourceOptions, "datasetId">, S3ObjectOpenerOptions {
  /** The S3 client, or its options (default: from the AWS environment variables). */
  s3?: S3Client | S3ClientOptions;
}

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
  const client = options.s3 instanceof S3Client
    ? options.s3
    : new S3Client(options.s3 ?? s3OptionsFromEnv());
  return uploadInputs(
    () =>
      s3CsvSource(client, url, {
        inputType: options.inputType,
        csvType: options.csvType,
        labels: options.labels,
        datasetId: options.datasetId,
        name: options.name,
      }),
    {
      ...options,
      openObject: s3ObjectOpener(client, {
        via: options.via,
        urlExpiresSeconds: options.urlExpiresSeconds,
      }),
    },
    `csv ${url}`,
  );
}
