/**
 * The typed, validated description of one input to upload: {@linkcode InputDraft}. Every source
 * (folder walk, CSV, annotation formats, failure log, user code) produces drafts; every later
 * stage (load, batch, upload) consumes them. A record that cannot become a draft becomes a
 * {@linkcode Rejection} instead, with its location and a reason a person can act on.
 *
 * @module
 */

/** The kind of content an input carries, as Clarifai's `Data` fields name them. */
export type InputKind = "image" | "video" | "audio" | "text";

/** All input kinds, in a fixed order. */
export const INPUT_KINDS: readonly InputKind[] = ["image", "video", "audio", "text"];

/**
 * Where an input's content is.
 *
 * - `file`: a file on disk, read lazily by the load stage (`size` from `stat`, when known);
 * - `url`: a public http(s) URL that Clarifai fetches itself;
 * - `raw`: inline text (text inputs only);
 * - `bytes`: content already in memory (from user code or a multipart upload);
 * - `object`: an object in an S3-compatible store, read (or presigned) lazily by the load stage
 *   (see {@linkcode ObjectContent}).
 */
export type ContentSource =
  | { type: "file"; path: string; size?: number }
  | { type: "url"; url: string }
  | { type: "raw"; text: string }
  | { type: "bytes"; bytes: Uint8Array }
  | ObjectContent;

/**
 * An object in an S3-compatible store, as a listing found it. The load stage reads its bytes
 * (or makes a presigned URL of it) through the object opener the run is given; it never holds
 * credentials, so a journal may keep it.
 */
export interface ObjectContent {
  /** Discriminant. */
  type: "object";
  /** Where the object is: `s3://bucket/key`. */
  url: string;
  /** Its size in bytes, from the listing. */
  size?: number;
  /** Its ETag from the listing: a read of a changed object fails instead of sending other bytes. */
  etag?: string;
}

/** A JSON value, as metadata holds it (a `google.protobuf.Struct` on the wire). */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** A JSON object: the shape Clarifai requires of input metadata. */
export type JsonObject = { [key: string]: JsonValue };

/** A geographic point in degrees: longitude in [-180, 180], latitude in [-90, 90]. */
export interface GeoPointDraft {
  /** Longitude in degrees, [-180, 180]. */
  longitude: number;
  /** Latitude in degrees, [-90, 90]. */
  latitude: number;
}

/**
 * A bounding box with normalized coordinates in [0, 1]: `left < right`, `top < bottom`.
 * (The SDKs' list order `[xmin, ymin, xmax, ymax]` is `[left, top, right, bottom]`.)
 */
export interface BoxDraft {
  /** xmin, normalized. */
  left: number;
  /** ymin, normalized. */
  top: number;
  /** xmax, normalized. */
  right: number;
  /** ymax, normalized. */
  bottom: number;
}

/** A polygon vertex, normalized: `row` is y, `col` is x. */
export interface PointDraft {
  /** y, normalized to [0, 1]. */
  row: number;
  /** x, normalized to [0, 1]. */
  col: number;
}

/** One annotated region of an image or of a video frame: a box or a polygon, with concepts. */
export interface RegionDraft {
  /** The annotation ID; when absent, the upload stage derives a deterministic one. */
  id?: string;
  /** Concept IDs of this region (at least one). */
  concepts: string[];
  /** The bounding box, if the region is a box. */
  box?: BoxDraft;
  /** The polygon's points (at least 3), if the region is a polygon. */
  polygon?: PointDraft[];
  /** Track ID linking regions across video frames. */
  trackId?: string;
}

/** The annotations of one video frame. */
export interface FrameDraft {
  /** Frame number (0-based), if known. */
  number?: number;
  /** Time of the frame in milliseconds from the start of the video, if known. */
  timeMs?: number;
  /** Regions in this frame. */
  regions: RegionDraft[];
}

/** One validated input to upload. */
export interface InputDraft {
  /** The input ID, valid by Clarifai's ID rules and unique within a run. */
  id: string;
  /** The kind of content. */
  kind: InputKind;
  /** Where the content is. */
  content: ContentSource;
  /** Where the record came from, for messages: `data.csv:17`, `cats/01.jpg`. */
  location: string;
  /** Input-level concept IDs (labels), trimmed and deduplicated; may be empty. */
  concepts: string[];
  /** Input metadata, a JSON object. */
  metadata?: JsonObject;
  /** Geo point. */
  geo?: GeoPointDraft;
  /** Region annotations (images). */
  regions?: RegionDraft[];
  /** Frame annotations (videos). */
  frames?: FrameDraft[];
  /** The dataset the input joins, if any. */
  datasetId?: string;
}

/** A record that could not become a draft, or a draft refused by a later stage. */
export interface Rejection {
  /** Where the record came from: `data.csv:17`, `cats/01.jpg`. */
  location: string;
  /** What is wrong, in words a person can act on. */
  reason: string;
  /** The input ID, when one was known. */
  id?: string;
}

/** A file a source passed over on purpose (hidden, or an extension of no input kind). */
export interface Skip {
  /** Where the file is: `cats/notes.md`. */
  location: string;
  /** Why it was passed over. */
  reason: string;
}

/**
 * What sources and validation stages emit: drafts, rejections in their place, and files passed
 * over on purpose (counted as skipped in the summary).
 */
export type DraftOrRejection =
  | { type: "draft"; draft: InputDraft }
  | { type: "rejected"; rejection: Rejection }
  | { type: "skipped"; skip: Skip };

/**
 * Returns whether an item of a draft stream is a draft.
 *
 * @param item An item of a draft stream.
 * @returns `true` when the item carries a draft.
 *
 * @example Usage
 * ```ts
 * import { isDraft } from "@upflow/upflow";
 * import { assert } from "@std/assert";
 *
 * assert(isDraft({
 *   type: "draft",
 *   draft: {
 *     id: "a",
 *     kind: "text",
 *     content: { type: "raw", text: "hi" },
 *     location: "x.csv:2",
 *     concepts: [],
 *   },
 * }));
 * ```
 */
export function isDraft(
  item: DraftOrRejection,
): item is { type: "draft"; draft: InputDraft } {
  return item.type === "draft";
}
