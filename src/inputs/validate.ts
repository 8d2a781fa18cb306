/**
 * Field validation shared by every source: concepts, geo points, URLs, kinds, datasets and
 * per-kind size limits. Each check returns a reason a person can act on, or `undefined`.
 *
 * @module
 */
import type { GeoPointDraft, InputKind } from "./input_draft.ts";
import { INPUT_KINDS } from "./input_draft.ts";
import { invalidIdReason } from "./ids.ts";

const MB = 1024 * 1024;

/**
 * Clarifai's documented per-input size limits for content sent as bytes, by kind: images, text
 * and audio under 20 MB, videos under 128 MB (one video per request).
 */
export const MAX_BYTES_BY_KIND: Readonly<Record<InputKind, number>> = {
  image: 20 * MB,
  text: 20 * MB,
  audio: 20 * MB,
  video: 128 * MB,
};

/**
 * Splits a concepts field (`"cat, dog ,cat"`) into trimmed, deduplicated concept IDs; an empty
 * field is no concepts.
 *
 * @param field The comma-separated concepts.
 * @returns The concept IDs in first-seen order.
 *
 * @example Usage
 * ```ts
 * import { splitConcepts } from "./validate.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(splitConcepts(" cat, dog ,cat,, "), ["cat", "dog"]);
 * assertEquals(splitConcepts(""), []);
 * ```
 */
export function splitConcepts(field: string): string[] {
  const seen = new Set<string>();
  for (const part of field.split(",")) {
    const concept = part.trim();
    if (concept !== "") seen.add(concept);
  }
  return [...seen];
}

/**
 * Returns why a concept ID is not acceptable, or `undefined`. Concept IDs may hold any
 * printable characters except control characters, up to 255 characters.
 *
 * @param concept The concept ID.
 * @returns A reason, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { invalidConceptReason } from "./validate.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(invalidConceptReason("golden retriever"), undefined);
 * assertEquals(invalidConceptReason(""), "empty concept");
 * ```
 */
export function invalidConceptReason(concept: string): string | undefined {
  if (concept.trim() === "") return "empty concept";
  if (concept.length > 255) {
    return `concept ${JSON.stringify(concept.slice(0, 20))}… is longer than 255 characters`;
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(concept)) {
    return `concept ${JSON.stringify(concept)} contains control characters`;
  }
  return undefined;
}

/**
 * Parses a geopoint field `"lon,lat"` (the SDKs' order) into a {@linkcode GeoPointDraft}.
 *
 * @param field The field text.
 * @returns The point, or a reason string when the field is not a valid point.
 *
 * @example Usage
 * ```ts
 * import { parseGeoPoint } from "./validate.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(parseGeoPoint("-73.98, 40.75"), { longitude: -73.98, latitude: 40.75 });
 * assertEquals(
 *   parseGeoPoint("40.75"),
 *   'geopoints must be "longitude,latitude": got "40.75"',
 * );
 * ```
 */
export function parseGeoPoint(field: string): GeoPointDraft | string {
  const parts = field.split(",").map((p) => p.trim());
  if (parts.length !== 2 || parts.some((p) => p === "")) {
    return `geopoints must be "longitude,latitude": got ${JSON.stringify(field)}`;
  }
  const [longitude, latitude] = parts.map(Number);
  const point = { longitude, latitude };
  return invalidGeoReason(point) ?? point;
}

/**
 * Returns why a geo point is out of range, or `undefined`.
 *
 * @param point The point.
 * @returns A reason, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { invalidGeoReason } from "./validate.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(invalidGeoReason({ longitude: 10, latitude: 20 }), undefined);
 * assertEquals(
 *   invalidGeoReason({ longitude: 200, latitude: 20 }),
 *   "longitude 200 is outside [-180, 180]",
 * );
 * ```
 */
export function invalidGeoReason(point: GeoPointDraft): string | undefined {
  const { longitude, latitude } = point;
  if (!Number.isFinite(longitude)) return `longitude ${JSON.stringify(longitude)} is not a number`;
  if (!Number.isFinite(latitude)) return `latitude ${JSON.stringify(latitude)} is not a number`;
  if (longitude < -180 || longitude > 180) return `longitude ${longitude} is outside [-180, 180]`;
  if (latitude < -90 || latitude > 90) return `latitude ${latitude} is outside [-90, 90]`;
  return undefined;
}

/**
 * Returns why `url` is not an acceptable content URL (absolute http or https), or `undefined`.
 *
 * @param url The URL text.
 * @returns A reason, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { invalidUrlReason } from "./validate.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(invalidUrlReason("https://example.com/a.jpg"), undefined);
 * assertEquals(
 *   invalidUrlReason("ftp://example.com/a.jpg"),
 *   'URL "ftp://example.com/a.jpg" must use http or https',
 * );
 * ```
 */
export function invalidUrlReason(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${JSON.stringify(url)} is not an absolute URL`;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return `URL ${JSON.stringify(url)} must use http or https`;
  }
  return undefined;
}

/**
 * Parses an input kind (`image`, `video`, `audio`, `text`), case-insensitively.
 *
 * @param value The text to parse.
 * @returns The kind.
 * @throws {RangeError} When `value` is not a kind.
 *
 * @example Usage
 * ```ts
 * import { parseInputKind } from "./validate.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(parseInputKind("Image"), "image");
 * ```
 */
export function parseInputKind(value: string): InputKind {
  const kind = value.toLowerCase() as InputKind;
  if (!INPUT_KINDS.includes(kind)) {
    throw new RangeError(
      `Unknown input type ${JSON.stringify(value)}: use one of ${INPUT_KINDS.join(", ")}`,
    );
  }
  return kind;
}

/**
 * Returns why a dataset ID is invalid (same rules as input IDs), or `undefined`.
 *
 * @param id The dataset ID.
 * @returns A reason, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { invalidDatasetIdReason } from "./validate.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(invalidDatasetIdReason("demo"), undefined);
 * ```
 */
export function invalidDatasetIdReason(id: string): string | undefined {
  const reason = invalidIdReason(id);
  return reason?.replace("input ID", "dataset ID");
}

/**
 * Returns why content of `size` bytes is too large for an input of `kind`, or `undefined`.
 *
 * @param kind The input kind.
 * @param size The content size in bytes.
 * @returns A reason, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { oversizeReason } from "./validate.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(oversizeReason("image", 1000), undefined);
 * assertEquals(
 *   oversizeReason("image", 30 * 1024 * 1024),
 *   "image is 30.0 MB: Clarifai accepts images under 20 MB",
 * );
 * ```
 */
export function oversizeReason(kind: InputKind, size: number): string | undefined {
  const limit = MAX_BYTES_BY_KIND[kind];
  if (size < limit) return undefined;
  return `${kind} is ${(size / MB).toFixed(1)} MB: Clarifai accepts ${kind}s under ${
    limit / MB
  } MB`;
}
