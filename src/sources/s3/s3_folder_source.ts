/**
 * A bucket prefix as a folder: {@linkcode s3FolderSource} turns the objects under an
 * `s3://bucket/prefix` into input drafts with the folder walk's rules (labels from folder names,
 * recursion on request, kinds from extensions, IDs from names or paths), streamed page by page
 * from ListObjectsV2; {@linkcode countS3Folder} pre-counts the same listing.
 *
 * @module
 */
import type { DraftOrRejection, InputKind } from "../../inputs/input_draft.ts";
import {
  checkEntryOptions,
  entryDraft,
  type EntryOptions,
  extensionOf,
  KIND_WORDS,
  kindOfExtension,
  noKindReason,
  unwantedKindReason,
} from "../entry_rules.ts";
import type { S3Client } from "./s3_client.ts";
import { parseS3Url } from "./s3_url.ts";
import { SNIFF_BYTES, sniffKind } from "./sniff_kind.ts";

/** Options of {@linkcode s3FolderSource} (and, for the listing, of {@linkcode countS3Folder}). */
export interface S3FolderSourceOptions {
  /** List "subfolders" too (default `false`: only the objects directly under the prefix). */
  recursive?: boolean;
  /** The input kinds to produce (default all); objects of other kinds are skipped. */
  inputTypes?: readonly InputKind[];
  /**
   * Label each input with the name of its "folder" (the key's last segment before the object's
   * name); an object directly under the prefix gets the prefix's own last segment, or the
   * bucket's name for a whole bucket.
   */
  labels?: boolean;
  /**
   * How input IDs are derived (default `"stem"`), as for folders: `"stem"` cleans the object's
   * name without its extension, `"path"` its key relative to the prefix without the extension.
   */
  idFrom?: "stem" | "path";
  /** The dataset every draft joins. */
  datasetId?: string;
  /**
   * Read the first bytes of objects whose key has no extension to tell their kind (default
   * `true`; one small ranged GET per such object). Off: such objects are skipped.
   */
  sniff?: boolean;
  /** Keys per ListObjectsV2 page, 1 to 1000 (default 1000, S3's maximum). */
  pageSize?: number;
  /**
   * Glob patterns of objects to keep, matched on the key relative to the prefix as the folder
   * walk matches relative paths (see `PathFilter`); others are skipped with a reason.
   */
  include?: readonly string[];
  /** Glob patterns of objects (and, ending in `/` or `**`, "folders") to skip. */
  exclude?: readonly string[];
}

/** What {@linkcode countS3Folder} found. */
export interface S3FolderCount {
  /** Candidate objects (visible, with an extension of a wanted kind). */
  files: number;
  /** Their total size in bytes, from the listing. */
  bytes: number;
}

interface Checked extends EntryOptions {
  sniff: boolean;
  pageSize: number;
}

/** An object the listing found that may become a draft. */
interface Found {
  key: string;
  /** Key relative to the prefix. */
  relative: string;
  name: string;
  extensionLength: number;
  kind?: InputKind;
  size: number;
  etag: string;
  folderName: string;
}

function check(where: string, options: S3FolderSourceOptions): Checked {
  const sniff = options?.sniff ?? true;
  const checked = checkEntryOptions(where, options, { sniff });
  const pageSize = options.pageSize ?? 1000;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
    throw new RangeError(
      `Cannot create ${where}: pageSize must be an integer from 1 to 1000: current value is ${pageSize}`,
    );
  }
  return { ...checked, sniff, pageSize };
}

/** The prefix as a folder (`""` or ending in `/`) and the name of that folder. */
function folderOf(bucket: string, key: string): { prefix: string; rootName: string } {
  const prefix = key === "" || key.endsWith("/") ? key : `${key}/`;
  const segments = prefix.split("/").filter((s) => s !== "");
  return { prefix, rootName: segments.at(-1) ?? bucket };
}

type Item = { type: "found"; found: Found } | Exclude<DraftOrRejection, { type: "draft" }>;

/** Lists the prefix and judges each entry by the walk's rules, without building drafts. */
async function* list(
  client: S3Client,
  url: string,
  options: Checked,
  signal?: AbortSignal,
): AsyncGenerator<Item> {
  const { bucket, key } = parseS3Url(url);
  const { prefix, rootName } = folderOf(bucket, key);
  const at = (k: string) => `s3://${bucket}/${k}`;
  const skip = (k: string, reason: string): Item => ({
    type: "skipped",
    skip: { location: at(k), reason },
  });
  for await (
    const entry of client.listObjects(bucket, prefix, {
      delimiter: options.recursive ? undefined : "/",
      pageSize: options.pageSize,
      signal,
    })
  ) {
    if (entry.type === "prefix") {
      const folder = entry.prefix.slice(prefix.length).replace(/\/$/, "");
      if (folder.startsWith(".")) {
        yield skip(entry.prefix, 'hidden (the name starts with ".")');
        continue;
      }
      const pruned = options.filter.prunes(folder);
      if (pruned !== undefined) {
        yield skip(entry.prefix, `a folder ${pruned}`);
        continue;
      }
      yield skip(entry.prefix, "a folder: subfolders are listed only with recursive on");
      continue;
    }
    const relative = entry.key.slice(prefix.length);
    if (relative === "") continue; // the folder's own marker object
    if (relative.endsWith("/")) {
      yield skip(entry.key, "a folder marker (a key ending in /)");
      continue;
    }
    const segments = relative.split("/");
    if (segments.some((s) => s === "." || s === "..")) {
      yield {
        type: "rejected",
        rejection: {
          location: at(entry.key),
          reason: 'the key has a "." or ".." segment, which no URL can address',
        },
      };
      continue;
    }
    if (segments.some((s) => s.startsWith("."))) {
      yield skip(entry.key, 'hidden (a name in its key starts with ".")');
      continue;
    }
    const verdict = options.filter.check(relative);
    if (!verdict.keep) {
      yield skip(entry.key, verdict.reason);
      continue;
    }
    const name = segments[segments.length - 1];
    const extension = extensionOf(name);
    const kind = extension === "" ? undefined : kindOfExtension(extension);
    if (kind === undefined && (extension !== "" || !options.sniff)) {
      yield skip(entry.key, noKindReason(extension));
      continue;
    }
    const unwanted = kind === undefined ? undefined : unwantedKindReason(kind, options.kinds);
    if (unwanted !== undefined) {
      yield skip(entry.key, unwanted);
      continue;
    }
    yield {
      type: "found",
      found: {
        key: entry.key,
        relative,
        name,
        extensionLength: extension.length,
        kind,
        size: entry.size,
        etag: entry.etag,
        folderName: segments.length > 1 ? segments[segments.length - 2] : rootName,
      },
    };
  }
}

async function toDraft(
  client: S3Client,
  bucket: string,
  found: Found,
  options: Checked,
  signal?: AbortSignal,
): Promise<DraftOrRejection> {
  const location = `s3://${bucket}/${found.key}`;
  let kind = found.kind;
  if (kind === undefined) {
    // No extension: the first bytes tell.
    let head: Uint8Array;
    try {
      head = found.size === 0 ? new Uint8Array(0) : await client.getObject(bucket, found.key, {
        range: [0, Math.min(found.size, SNIFF_BYTES) - 1],
        ifMatch: found.etag || undefined,
        signal,
      });
    } catch (error) {
      return { type: "rejected", rejection: { location, reason: (error as Error).message } };
    }
    kind = sniffKind(head);
    if (kind === undefined) {
      return {
        type: "skipped",
        skip: {
          location,
          reason: `no extension, and its first bytes are not ${
            KIND_WORDS.replace("extension", "file")
          }`,
        },
      };
    }
    const unwanted = unwantedKindReason(kind, options.kinds);
    if (unwanted !== undefined) return { type: "skipped", skip: { location, reason: unwanted } };
  }
  const cut = found.extensionLength === 0 ? 0 : found.extensionLength + 1;
  return entryDraft({
    location,
    stem: found.name.slice(0, found.name.length - cut),
    path: found.relative.slice(0, found.relative.length - cut),
    words: ["object name", "key"],
    folderName: found.folderName,
    kind,
    content: {
      type: "object",
      url: location,
      size: found.size,
      ...(found.etag ? { etag: found.etag } : {}),
    },
  }, options);
}

/**
 * Streams the objects under an `s3://bucket/prefix` as input drafts, by the folder walk's rules:
 *
 * - the prefix is a folder (`s3://pets/cats` means the keys under `cats/`); without `recursive`
 *   only the objects directly in it are read and each "subfolder" comes out as `skipped`;
 * - kinds from extensions as for files; a key with no extension is sniffed (its first 16 bytes,
 *   one ranged GET) unless `sniff` is off; other extensions, hidden names (a segment starting
 *   with `.`) and folder markers are `skipped` with a reason;
 * - IDs from object names (or keys relative to the prefix) by the same rule as file names;
 *   labels from the "folder" holding each object;
 * - locations (and rejections) are `s3://bucket/key`; the draft's content is the object, with
 *   the size and ETag the listing gave, read later by the load stage.
 *
 * The listing is streamed one page (up to 1,000 keys) at a time, as the reader pulls; nothing
 * else is held. The stream errors when the listing itself fails (no such bucket, access
 * denied, retries run out).
 *
 * @param client The S3 client.
 * @param url `s3://bucket/prefix`.
 * @param options Recursion, kinds, labels, ID rule, dataset, sniffing, page size.
 * @returns A stream of drafts, rejections and skips.
 * @throws {TypeError} When `url` is not an s3:// address or an option has the wrong type.
 * @throws {RangeError} When an option is out of range.
 *
 * @example Drafts from a bucket (here a stand-in S3 answering one listing page)
 * ```ts
 * import { s3FolderSource } from "./s3_folder_source.ts";
 * import { S3Client } from "./s3_client.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const page = `<ListBucketResult><IsTruncated>false</IsTruncated>
 *   <Contents><Key>pets/cats/Tabby 01.jpg</Key><Size>2048</Size><ETag>"abc"</ETag></Contents>
 *   <Contents><Key>pets/cats/notes.md</Key><Size>10</Size><ETag>"def"</ETag></Contents>
 * </ListBucketResult>`;
 * const client = new S3Client({ endpoint: "http://127.0.0.1:9", fetch: () => Promise.resolve(new Response(page)) });
 * const items = await Array.fromAsync(s3FolderSource(client, "s3://data/pets/cats", { labels: true }));
 * assertEquals(items[0], {
 *   type: "draft",
 *   draft: {
 *     id: "tabby_01",
 *     kind: "image",
 *     content: { type: "object", url: "s3://data/pets/cats/Tabby 01.jpg", size: 2048, etag: '"abc"' },
 *     location: "s3://data/pets/cats/Tabby 01.jpg",
 *     concepts: ["cats"],
 *   },
 * });
 * assertEquals(items[1].type, "skipped");
 * ```
 */
export function s3FolderSource(
  client: S3Client,
  url: string,
  options: S3FolderSourceOptions = {},
): ReadableStream<DraftOrRejection> {
  const checked = check("s3FolderSource", options);
  const { bucket } = parseS3Url(url);
  const abort = new AbortController();
  let items: AsyncGenerator<Item> | undefined;
  return new ReadableStream<DraftOrRejection>({
    async pull(controller) {
      items ??= list(client, url, checked, abort.signal);
      const next = await items.next();
      if (abort.signal.aborted) return;
      if (next.done) {
        controller.close();
        return;
      }
      const item = next.value.type === "found"
        ? await toDraft(client, bucket, next.value.found, checked, abort.signal)
        : next.value;
      if (!abort.signal.aborted) controller.enqueue(item);
    },
    async cancel() {
      abort.abort();
      await items?.return(undefined);
    },
  }, { highWaterMark: 0 });
}

/**
 * Pre-counts the candidate objects under an `s3://bucket/prefix` and their total size, listing
 * it exactly as {@linkcode s3FolderSource} does (objects with no extension, which it would
 * sniff, are counted too).
 *
 * @param client The S3 client.
 * @param url `s3://bucket/prefix`.
 * @param options The same options as {@linkcode s3FolderSource}.
 * @returns The number of candidate objects and their total bytes.
 *
 * @example Count a listing page
 * ```ts
 * import { countS3Folder } from "./s3_folder_source.ts";
 * import { S3Client } from "./s3_client.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const page = `<ListBucketResult><IsTruncated>false</IsTruncated>
 *   <Contents><Key>a.jpg</Key><Size>100</Size><ETag>"1"</ETag></Contents>
 *   <Contents><Key>b.txt</Key><Size>5</Size><ETag>"2"</ETag></Contents>
 *   <Contents><Key>c.csv</Key><Size>7</Size><ETag>"3"</ETag></Contents>
 * </ListBucketResult>`;
 * const client = new S3Client({ endpoint: "http://127.0.0.1:9", fetch: () => Promise.resolve(new Response(page)) });
 * assertEquals(await countS3Folder(client, "s3://data"), { files: 2, bytes: 105 });
 * ```
 */
export async function countS3Folder(
  client: S3Client,
  url: string,
  options: S3FolderSourceOptions = {},
): Promise<S3FolderCount> {
  const checked = check("countS3Folder", options);
  let files = 0;
  let bytes = 0;
  for await (const item of list(client, url, checked)) {
    if (item.type !== "found") continue;
    files++;
    bytes += item.found.size;
  }
  return { files, bytes };
}
