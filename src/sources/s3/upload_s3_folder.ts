/**
 * {@linkcode uploadS3Folder}: the one-call upload of an `s3://bucket/prefix`, like
 * `uploadFolder` for a folder on disk.
 *
 * @module
 */
import type { ProgressEvent } from "../../pipeline/progress_event.ts";
import { countS3Folder, s3FolderSource, type S3FolderSourceOptions } from "./s3_folder_source.ts";
import { type BucketUploadOptions, uploadFromBucket } from "./upload_from_bucket.ts";

/** Options of {@linkcode uploadS3Folder}. */
export interface UploadS3FolderOptions extends BucketUploadOptions, S3FolderSourceOptions {}

/**
 * Uploads the objects under an `s3://bucket/prefix` as {@linkcode s3FolderSource} reads them:
 * their bytes streamed through upflow (`via: "bytes"`, the default), or presigned URLs that
 * Clarifai fetches (`via: "url"`). Resume, retries and the journal work as for folders; the
 * journal records `s3://` locations, never a credential or a presigned URL.
 *
 * @param url `s3://bucket/prefix`.
 * @param options Listing, sending, target, dataset and run options.
 * @returns The progress events.
 *
 * @example Dry-run a listing (a stand-in S3 answering one page)
 * ```ts
 * import { uploadS3Folder } from "./upload_s3_folder.ts";
 * import { summaryOf } from "../../pipeline/progress_event.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const page = `<ListBucketResult><IsTruncated>false</IsTruncated>
 *   <Contents><Key>notes/a.txt</Key><Size>5</Size><ETag>"1"</ETag></Contents>
 * </ListBucketResult>`;
 * const fetch = (input: string | URL | Request) =>
 *   Promise.resolve(new Response(String(input).includes("list-type") ? page : "hello"));
 * const summary = await summaryOf(uploadS3Folder("s3://data/notes", {
 *   s3: { endpoint: "http://127.0.0.1:9", fetch },
 *   dryRun: true,
 * }));
 * assertEquals(summary.uploaded, 1);
 * ```
 */
export function uploadS3Folder(
  url: string,
  options: UploadS3FolderOptions = {},
): ReadableStream<ProgressEvent> {
  const listing: S3FolderSourceOptions = {
    recursive: options.recursive,
    inputTypes: options.inputTypes,
    labels: options.labels,
    idFrom: options.idFrom,
    datasetId: options.datasetId,
    sniff: options.sniff,
    pageSize: options.pageSize,
    include: options.include,
    exclude: options.exclude,
  };
  return uploadFromBucket(
    options,
    `folder ${url}`,
    (client) => s3FolderSource(client, url, listing),
    async (client) => {
      const count = await countS3Folder(client, url, listing);
      return { inputs: count.files, bytes: count.bytes };
    },
  );
}
