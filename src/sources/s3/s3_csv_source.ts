/**
 * {@linkcode s3CsvSource}: a CSV in Clarifai's format read from a bucket, streamed; its
 * `file_path` rows name objects beside it.
 *
 * @module
 */
import { posix } from "node:path";
import type { DraftOrRejection } from "../../inputs/input_draft.ts";
import { csvSource, type CsvSourceOptions } from "../csv_source.ts";
import type { S3Client } from "./s3_client.ts";
import { isS3Url, parseS3Url } from "./s3_url.ts";

/** Options of {@linkcode s3CsvSource}: those of `csvSource`, less the ones about disks. */
export type S3CsvSourceOptions = Omit<CsvSourceOptions, "root" | "baseDir" | "resolvePath">;

/**
 * Resolves a `file_path` field of a CSV at `s3://bucket/dir/file.csv`: a path relative to the
 * CSV's "folder" (`cats/01.jpg` is `s3://bucket/dir/cats/01.jpg`), which may not climb out of it,
 * or a whole `s3://` address.
 *
 * @param csvUrl The CSV's address.
 * @param field The field.
 * @returns The object's address and the path relative to the CSV's folder, or why not.
 *
 * @example Usage
 * ```ts
 * import { objectBesideCsv } from "./s3_csv_source.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(objectBesideCsv("s3://data/sets/a.csv", "cats/01.jpg"), {
 *   url: "s3://data/sets/cats/01.jpg",
 *   relative: "cats/01.jpg",
 * });
 * assertEquals(
 *   objectBesideCsv("s3://data/sets/a.csv", "../secret.jpg"),
 *   'file path "../secret.jpg" is outside the CSV\'s folder s3://data/sets/',
 * );
 * ```
 */
export function objectBesideCsv(
  csvUrl: string,
  field: string,
): { url: string; relative: string } | string {
  if (isS3Url(field)) {
    try {
      const { key } = parseS3Url(field);
      if (key === "" || key.endsWith("/")) return `${field} is not an object's address`;
      return { url: field, relative: key };
    } catch (error) {
      return (error as Error).message;
    }
  }
  const { bucket, key } = parseS3Url(csvUrl);
  const dir = posix.dirname(`/${key}`);
  const full = posix.normalize(posix.join(dir, field));
  const folder = dir === "/" ? "/" : `${dir}/`;
  if (field.startsWith("/") || !full.startsWith(folder) || full.endsWith("/")) {
    return `file path ${JSON.stringify(field)} is outside the CSV's folder s3://${bucket}${folder}`;
  }
  return { url: `s3://${bucket}${full}`, relative: full.slice(folder.length) };
}

/**
 * Streams a CSV object as drafts, exactly as `csvSource` reads a CSV file (same columns,
 * checks and locations, `s3://bucket/file.csv:17`), the object's bytes read as the stream is
 * pulled. `file_path` rows become object content (see {@linkcode objectBesideCsv}), read later
 * by the load stage; `url` and `raw` rows are as in any CSV.
 *
 * @param client The S3 client.
 * @param url The CSV's `s3://bucket/key`.
 * @param options The CSV options (input type, csv type, labels, dataset).
 * @returns A stream of drafts and rejections.
 * @throws {TypeError} When `url` is not an object's `s3://` address.
 *
 * @example A CSV of file paths in a bucket (a stand-in S3 here)
 * ```ts
 * import { s3CsvSource } from "./s3_csv_source.ts";
 * import { S3Client } from "./s3_client.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const csv = "input,concepts\ncats/01.jpg,cat\n";
 * const client = new S3Client({ endpoint: "http://127.0.0.1:9", fetch: () => Promise.resolve(new Response(csv)) });
 * const [item] = await Array.fromAsync(
 *   s3CsvSource(client, "s3://data/sets/pets.csv", { inputType: "image", csvType: "file_path" }),
 * );
 * assertEquals(item, {
 *   type: "draft",
 *   draft: {
 *     id: "cats_01",
 *     kind: "image",
 *     content: { type: "object", url: "s3://data/sets/cats/01.jpg" },
 *     location: "s3://data/sets/pets.csv:2",
 *     concepts: ["cat"],
 *   },
 * });
 * ```
 */
export function s3CsvSource(
  client: S3Client,
  url: string,
  options: S3CsvSourceOptions = {},
): ReadableStream<DraftOrRejection> {
  const { bucket, key } = parseS3Url(url);
  if (key === "" || key.endsWith("/")) {
    throw new TypeError(`Cannot create s3CsvSource: ${url} is not an object's address`);
  }
  const abort = new AbortController();
  let body: ReadableStreamDefaultReader<Uint8Array> | undefined;
  // The object is opened on the first read, as a CSV file is.
  const bytes = new ReadableStream<Uint8Array>({
    async pull(controller) {
      body ??= (await client.getObjectStream(bucket, key, { signal: abort.signal })).getReader();
      const { value, done } = await body.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel(reason) {
      abort.abort(reason);
      await body?.cancel(reason);
    },
  }, { highWaterMark: 0 });
  return csvSource(bytes, {
    ...options,
    name: options.name ?? url,
    resolvePath: (field) => {
      const found = objectBesideCsv(url, field);
      return Promise.resolve(
        typeof found === "string"
          ? found
          : { content: { type: "object", url: found.url }, relative: found.relative },
      );
    },
  });
}
