/**
 * {@linkcode uploadS3Coco}: the one-call upload of a COCO file and its images in a bucket.
 *
 * @module
 */
import type { ProgressEvent } from "../../pipeline/progress_event.ts";
import { s3CocoSource, type S3CocoSourceOptions } from "./s3_coco_source.ts";
import { type BucketUploadOptions, uploadFromBucket } from "./upload_from_bucket.ts";

/** Options of {@linkcode uploadS3Coco}. */
export interface UploadS3CocoOptions
  extends BucketUploadOptions, Omit<S3CocoSourceOptions, "datasetId"> {}

/**
 * Uploads a COCO JSON object and its images (`images`, default the JSON's folder) as
 * {@linkcode s3CocoSource} reads them, the images sent as bytes or presigned URLs (`via`).
 *
 * @param url The JSON's `s3://bucket/key`.
 * @param options COCO, sending, target, dataset and run options.
 * @returns The progress events.
 *
 * @example Dry-run (a stand-in S3 here)
 * ```ts
 * import { uploadS3Coco } from "./upload_s3_coco.ts";
 * import { summaryOf } from "../../pipeline/progress_event.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const json = JSON.stringify({
 *   images: [{ id: 1, file_name: "a.png", width: 4, height: 4 }],
 *   annotations: [],
 *   categories: [],
 * });
 * const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
 * const fetch = (input: string | URL | Request) =>
 *   Promise.resolve(new Response(String(input).endsWith(".json") ? json : png));
 * const summary = await summaryOf(uploadS3Coco("s3://data/coco/instances.json", {
 *   s3: { endpoint: "http://127.0.0.1:9", fetch },
 *   dryRun: true,
 * }));
 * assertEquals(summary.uploaded, 1);
 * ```
 */
export function uploadS3Coco(
  url: string,
  options: UploadS3CocoOptions = {},
): ReadableStream<ProgressEvent> {
  const { images, shapes, idFrom, clampBoxes, onClamped, datasetId } = options;
  return uploadFromBucket(
    options,
    `coco ${url}`,
    (client) =>
      s3CocoSource(client, url, { images, shapes, idFrom, clampBoxes, onClamped, datasetId }),
  );
}
