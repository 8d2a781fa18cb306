/**
 * {@linkcode s3CocoSource}: a COCO JSON file in a bucket, with its images in the bucket too.
 *
 * @module
 */
import type { DraftOrRejection } from "../../inputs/input_draft.ts";
import { cocoSource, type CocoSourceOptions } from "../coco_source.ts";
import type { S3Client } from "./s3_client.ts";
import { parseS3Url } from "./s3_url.ts";

/** Options of {@linkcode s3CocoSource}. */
export interface S3CocoSourceOptions
  extends Omit<CocoSourceOptions, "imagesDir" | "open" | "resolveImage"> {
  /** Where `file_name`s start: `s3://bucket/prefix` (default: the JSON's own folder). */
  images?: string;
}

/**
 * Streams a COCO JSON object (`s3://bucket/…/instances.json`) as `cocoSource` streams a file:
 * the same drafts, regions and rejections; each image is the object `images` + `file_name`,
 * read later by the load stage. Images with no valid `width`/`height` in the JSON cannot be
 * measured from a bucket: those with regions are refused with the reason.
 *
 * @param client The S3 client.
 * @param url The JSON's `s3://bucket/key`.
 * @param options COCO options, and the images' `s3://` prefix.
 * @returns A stream of drafts and rejections.
 * @throws {TypeError} When `url` or `images` is not an `s3://` address.
 *
 * @example One image with a box (a stand-in S3 here)
 * ```ts
 * import { s3CocoSource } from "./s3_coco_source.ts";
 * import { S3Client } from "./s3_client.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const json = JSON.stringify({
 *   images: [{ id: 1, file_name: "a.png", width: 100, height: 100 }],
 *   annotations: [{ id: 7, image_id: 1, category_id: 1, bbox: [10, 10, 50, 50] }],
 *   categories: [{ id: 1, name: "cat" }],
 * });
 * const client = new S3Client({ endpoint: "http://127.0.0.1:9", fetch: () => Promise.resolve(new Response(json)) });
 * const [item] = await Array.fromAsync(
 *   s3CocoSource(client, "s3://data/coco/instances.json", { images: "s3://data/coco/train" }),
 * );
 * assertEquals(item.type === "draft" && item.draft.content, { type: "object", url: "s3://data/coco/train/a.png" });
 * assertEquals(item.type === "draft" && item.draft.regions?.[0].box, { left: 0.1, top: 0.1, right: 0.6, bottom: 0.6 });
 * ```
 */
export function s3CocoSource(
  client: S3Client,
  url: string,
  options: S3CocoSourceOptions = {},
): ReadableStream<DraftOrRejection> {
  const { bucket, key } = parseS3Url(url);
  if (key === "" || key.endsWith("/")) {
    throw new TypeError(`Cannot create s3CocoSource: ${url} is not an object's address`);
  }
  const images = options.images === undefined
    ? { bucket, key: key.slice(0, key.lastIndexOf("/") + 1) }
    : parseS3Url(options.images);
  const prefix = images.key === "" || images.key.endsWith("/") ? images.key : `${images.key}/`;
  const { images: _images, ...coco } = options;
  return cocoSource(url, {
    ...coco,
    open: () => client.getObjectStream(bucket, key),
    resolveImage: (relative) =>
      Promise.resolve({ type: "object", url: `s3://${images.bucket}/${prefix}${relative}` }),
  });
}
