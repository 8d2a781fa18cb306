/**
 * Content digests: upflow records a digest of each input's content in the input's metadata,
 * under the namespaced key {@linkcode DIGEST_KEY}, so that a later run with no journal (another
 * machine, a rescheduled pod) can tell an input it uploaded from a different file under the same
 * ID. The digest is `sha256:` and the hex SHA-256 of the content: the file's (or given) bytes,
 * the URL's text for URL inputs (the bytes behind a URL are the server's to fetch), the UTF-8
 * of raw text, or, for an object in an S3-compatible store, its `s3://` URL and ETag (the store's
 * own checksum of the object, known from the listing without reading it).
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { InputDraft, ObjectContent } from "./input_draft.ts";

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** The metadata key upflow records an input's content digest under. */
export const DIGEST_KEY = "upflow.sha256";

/**
 * The digest of some content.
 *
 * @param content Bytes, or text (a URL, raw text).
 * @returns `sha256:` and 64 hex digits.
 *
 * @example Usage
 * ```ts
 * import { digestOf } from "./content_digest.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(
 *   digestOf("abc"),
 *   "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
 * );
 * ```
 */
export function digestOf(content: Uint8Array | string): string {
  return "sha256:" + createHash("sha256").update(content).digest("hex");
}

/**
 * The digest of a draft's content; a file is read (use it for inputs found on the server, not
 * for every input: uploads compute it from the bytes they read anyway).
 *
 * @param draft The draft.
 * @returns The digest.
 *
 * @example Usage
 * ```ts
 * import { digestOf, draftDigest } from "./content_digest.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const url = "https://example.com/cat.jpg";
 * assertEquals(
 *   await draftDigest({ id: "a", kind: "image", content: { type: "url", url }, location: "x", concepts: [] }),
 *   digestOf(url),
 * );
 * ```
 */
export async function draftDigest(draft: InputDraft): Promise<string> {
  const content = draft.content;
  switch (content.type) {
    case "url":
      return digestOf(content.url);
    case "raw":
      return digestOf(content.text);
    case "bytes":
      return digestOf(content.bytes);
    case "object":
      return objectDigest(content);
    case "file": {
      const bytes = await Deno.readFile(content.path);
      // Text travels as text: its digest is of the UTF-8 without a byte-order mark.
      if (draft.kind === "text") return digestOf(utf8.encode(utf8Decoder.decode(bytes)));
      return digestOf(bytes);
    }
  }
}

/**
 * The digest recorded in an input's metadata, if any.
 *
 * @param metadata The input's metadata (a `google.protobuf.Struct` as JSON).
 * @returns The digest, or `undefined` when the input has none.
 *
 * @example Usage
 * ```ts
 * import { DIGEST_KEY, recordedDigest } from "./content_digest.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(recordedDigest({ [DIGEST_KEY]: "sha256:00" }), "sha256:00");
 * assertEquals(recordedDigest({ source: "x" }), undefined);
 * ```
 */
export function recordedDigest(metadata: unknown): string | undefined {
  if (typeof metadata !== "object" || metadata === null) return undefined;
  const value = (metadata as Record<string, unknown>)[DIGEST_KEY];
  return typeof value === "string" ? value : undefined;
}

/**
 * The digest of an object in a store: of its `s3://` URL and its ETag.
 *
 * @param content The object.
 * @returns The digest.
 *
 * @example Usage
 * ```ts
 * import { digestOf, objectDigest } from "./content_digest.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(objectDigest({ type: "object", url: "s3://b/k.jpg", etag: '"9a"' }), digestOf('s3://b/k.jpg#"9a"'));
 * ```
 */
export function objectDigest(content: ObjectContent): string {
  return digestOf(`${content.url}#${content.etag ?? ""}`);
}
