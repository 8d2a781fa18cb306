/**
 * {@linkcode validateDraft}: the one place a draft that did not come from one of upflow's own
 * sources (user code, a service request) is checked before it joins the pipeline.
 *
 * @module
 */
import type { InputDraft, InputKind, JsonObject } from "./input_draft.ts";
import { INPUT_KINDS } from "./input_draft.ts";
import { invalidIdReason } from "./ids.ts";
import {
  invalidConceptReason,
  invalidDatasetIdReason,
  invalidGeoReason,
  invalidUrlReason,
  oversizeReason,
} from "./validate.ts";
import { checkFrames, checkRegions } from "./regions.ts";

/** Options of {@linkcode validateDraft}. */
export interface ValidateDraftOptions {
  /**
   * Clamp region coordinates outside [0, 1] into it (counted in `clampedBoxes`) instead of
   * refusing the draft (default `false`).
   */
  clampBoxes?: boolean;
}

/** What {@linkcode validateDraft} returns: a clean draft, or why the draft is refused. */
export type ValidatedDraft =
  | {
    /** A clean copy of the draft. */
    draft: InputDraft;
    /** How many regions had coordinates clamped (always 0 without `clampBoxes`). */
    clampedBoxes: number;
  }
  | {
    /** What is wrong, in words a person can act on. */
    reason: string;
  };

const DRAFT_FIELDS = [
  "id",
  "kind",
  "content",
  "location",
  "concepts",
  "metadata",
  "geo",
  "regions",
  "frames",
  "datasetId",
];
const MAX_JSON_DEPTH = 64;

function show(value: unknown): string {
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (value === undefined) return "undefined";
  if (typeof value === "function") return "a function";
  if (value instanceof Uint8Array) return `a Uint8Array of ${value.length} bytes`;
  try {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 60 ? `${text.slice(0, 57)}…` : text;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Why `value` is not JSON (as a `google.protobuf.Struct` value carries it), or `undefined`. */
function invalidJsonReason(value: unknown, path: string, depth: number): string | undefined {
  if (depth > MAX_JSON_DEPTH) return `${path} nests deeper than ${MAX_JSON_DEPTH} levels`;
  if (value === null || typeof value === "boolean" || typeof value === "string") return undefined;
  if (typeof value === "number") {
    return Number.isFinite(value) ? undefined : `${path} is ${value}: JSON numbers are finite`;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const reason = invalidJsonReason(value[i], `${path}[${i}]`, depth + 1);
      if (reason !== undefined) return reason;
    }
    return undefined;
  }
  if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      const reason = invalidJsonReason(item, `${path}.${key}`, depth + 1);
      if (reason !== undefined) return reason;
    }
    return undefined;
  }
  return `${path} is not a JSON value: got ${
    value === undefined
      ? "undefined"
      : typeof value === "object"
      ? (value.constructor?.name ?? "an object")
      : typeof value
  }`;
}

function contentReason(kind: InputKind, content: unknown): string | undefined {
  if (!isPlainObject(content)) {
    return `content must be an object {type: "file" | "url" | "raw" | "bytes" | "object", …}: got ${
      show(content)
    }`;
  }
  switch (content.type) {
    case "file": {
      if (typeof content.path !== "string" || content.path === "") {
        return `file content needs a path: got ${show(content.path)}`;
      }
      const size = content.size;
      if (size !== undefined) {
        if (typeof size !== "number" || !Number.isInteger(size) || size < 0) {
          return `file size must be a non-negative integer: got ${show(size)}`;
        }
        return oversizeReason(kind, size);
      }
      return undefined;
    }
    case "url":
      if (typeof content.url !== "string") {
        return `url content needs a url: got ${show(content.url)}`;
      }
      return invalidUrlReason(content.url);
    case "raw":
      if (kind !== "text") {
        return `raw content is for text inputs: give the ${kind} as a file, url or bytes`;
      }
      if (typeof content.text !== "string") {
        return `raw content needs text: got ${show(content.text)}`;
      }
      if (content.text.trim() === "") return "raw text is empty";
      return oversizeReason(kind, new TextEncoder().encode(content.text).length);
    case "bytes":
      if (!(content.bytes instanceof Uint8Array)) {
        return `bytes content needs a Uint8Array: got ${show(content.bytes)}`;
      }
      if (content.bytes.length === 0) return "bytes content is empty";
      return oversizeReason(kind, content.bytes.length);
    case "object": {
      if (typeof content.url !== "string" || !/^s3:\/\/[^/]+\/./.test(content.url)) {
        return `object content needs an s3://bucket/key url: got ${show(content.url)}`;
      }
      if (content.etag !== undefined && typeof content.etag !== "string") {
        return `object etag must be a string: got ${show(content.etag)}`;
      }
      const size = content.size;
      if (size === undefined) return undefined;
      if (typeof size !== "number" || !Number.isInteger(size) || size < 0) {
        return `object size must be a non-negative integer: got ${show(size)}`;
      }
      return oversizeReason(kind, size);
    }
    default:
      return `content type must be file, url, raw, bytes or object: got ${show(content.type)}`;
  }
}

function copyContent(content: InputDraft["content"]): InputDraft["content"] {
  switch (content.type) {
    case "file":
      return content.size === undefined
        ? { type: "file", path: content.path }
        : { type: "file", path: content.path, size: content.size };
    case "url":
      return { type: "url", url: content.url };
    case "raw":
      return { type: "raw", text: content.text };
    case "bytes":
      return { type: "bytes", bytes: content.bytes };
    case "object":
      return {
        type: "object",
        url: content.url,
        ...(content.size === undefined ? {} : { size: content.size }),
        ...(content.etag === undefined ? {} : { etag: content.etag }),
      };
  }
}

/**
 * Checks a draft and returns a clean copy, or the reason it is refused. Checked, in order:
 * only known fields; `id` (Clarifai's ID rules); `kind`; `content` consistent with the kind
 * (`raw` text only for text inputs and not empty, a `url` absolute http(s), `bytes` non-empty,
 * a `file` with a path, sizes under the kind's limit when known); `location` a string (default:
 * the ID); input `concepts` (trimmed, deduplicated, no empty or control characters; default
 * none); `metadata` a plain JSON object (finite numbers, at most 64 levels); `geo` in range;
 * `datasetId`; `regions` only for images and `frames` only for videos, checked by
 * {@linkcode checkRegions} and {@linkcode checkFrames} (boxes and polygons in [0, 1], no empty
 * boxes, polygons of at least 3 points, at least one concept per region, frames in strictly
 * increasing order). With `clampBoxes`, out-of-range coordinates are clamped and counted.
 *
 * The draft itself is never modified.
 *
 * @param draft The draft (from user code: any value is checked).
 * @param options Whether to clamp coordinates.
 * @returns `{ draft, clampedBoxes }` or `{ reason }`.
 *
 * @example A box outside the image, refused or clamped
 * ```ts
 * import { validateDraft } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 * import type { InputDraft } from "@upflow/upflow";
 *
 * const draft: InputDraft = {
 *   id: "cat-01",
 *   kind: "image",
 *   content: { type: "url", url: "https://example.com/cat.jpg" },
 *   location: "cat-01",
 *   concepts: [],
 *   regions: [{ concepts: ["cat"], box: { left: 0.5, top: 0.5, right: 1.2, bottom: 1 } }],
 * };
 * assertEquals(validateDraft(draft), { reason: "region 1: box right 1.2 is outside [0, 1]" });
 * const clamped = validateDraft(draft, { clampBoxes: true });
 * assertEquals("draft" in clamped && clamped.draft.regions![0].box!.right, 1);
 * assertEquals("draft" in clamped && clamped.clampedBoxes, 1);
 * ```
 *
 * @example Raw content is for text only
 * ```ts
 * import { validateDraft } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(
 *   validateDraft({
 *     id: "a", kind: "image", content: { type: "raw", text: "hi" }, location: "a", concepts: [],
 *   }),
 *   { reason: "raw content is for text inputs: give the image as a file, url or bytes" },
 * );
 * ```
 */
export function validateDraft(
  draft: InputDraft,
  options: ValidateDraftOptions = {},
): ValidatedDraft {
  if (!isPlainObject(draft)) return { reason: `a draft must be an object: got ${show(draft)}` };
  const value = draft as unknown as Record<string, unknown>;
  const extra = Object.keys(value).find((key) => !DRAFT_FIELDS.includes(key));
  if (extra !== undefined) {
    return {
      reason: `unknown draft field ${JSON.stringify(extra)}: use ${DRAFT_FIELDS.join(", ")}`,
    };
  }
  if (typeof value.id !== "string") {
    return { reason: `input ID must be a string: got ${show(value.id)}` };
  }
  const idReason = invalidIdReason(value.id);
  if (idReason !== undefined) return { reason: idReason };
  const kind = value.kind as InputKind;
  if (!INPUT_KINDS.includes(kind)) {
    return { reason: `kind must be one of ${INPUT_KINDS.join(", ")}: got ${show(value.kind)}` };
  }
  const contentProblem = contentReason(kind, value.content);
  if (contentProblem !== undefined) return { reason: contentProblem };
  if (value.location !== undefined && typeof value.location !== "string") {
    return { reason: `location must be a string: got ${show(value.location)}` };
  }
  const concepts = value.concepts ?? [];
  if (!Array.isArray(concepts)) {
    return { reason: `concepts must be an array of concept IDs: got ${show(concepts)}` };
  }
  const seen = new Set<string>();
  for (const concept of concepts) {
    if (typeof concept !== "string") {
      return { reason: `concept must be a string: got ${show(concept)}` };
    }
    const reason = invalidConceptReason(concept);
    if (reason !== undefined) return { reason };
    seen.add(concept.trim());
  }
  const clean: InputDraft = {
    id: value.id,
    kind,
    content: copyContent(value.content as InputDraft["content"]),
    location: (value.location as string | undefined) ?? value.id,
    concepts: [...seen],
  };
  if (value.metadata !== undefined) {
    if (!isPlainObject(value.metadata)) {
      return { reason: `metadata must be a JSON object: got ${show(value.metadata)}` };
    }
    const reason = invalidJsonReason(value.metadata, "metadata", 1);
    if (reason !== undefined) return { reason };
    clean.metadata = structuredClone(value.metadata) as JsonObject;
  }
  if (value.geo !== undefined) {
    const geo = value.geo as Record<string, unknown>;
    if (!isPlainObject(geo)) {
      return { reason: `geo must be an object {longitude, latitude}: got ${show(geo)}` };
    }
    const geoExtra = Object.keys(geo).find((key) => key !== "longitude" && key !== "latitude");
    if (geoExtra !== undefined) {
      return {
        reason: `geo has an unknown field ${JSON.stringify(geoExtra)}: use longitude, latitude`,
      };
    }
    const point = { longitude: geo.longitude as number, latitude: geo.latitude as number };
    const reason = invalidGeoReason(point);
    if (reason !== undefined) return { reason };
    clean.geo = point;
  }
  if (value.datasetId !== undefined) {
    const reason = typeof value.datasetId === "string"
      ? invalidDatasetIdReason(value.datasetId)
      : `dataset ID must be a string: got ${show(value.datasetId)}`;
    if (reason !== undefined) return { reason };
    clean.datasetId = value.datasetId as string;
  }
  let clampedBoxes = 0;
  if (value.regions !== undefined) {
    if (kind !== "image") {
      return {
        reason: kind === "video"
          ? "regions are for images: give a video's regions in frames"
          : `regions are for images: a ${kind} input cannot have regions`,
      };
    }
    const checked = checkRegions(value.regions as InputDraft["regions"] & object, options);
    if ("reason" in checked) return checked;
    clean.regions = checked.regions;
    clampedBoxes += checked.clamped;
  }
  if (value.frames !== undefined) {
    if (kind !== "video") {
      return {
        reason: kind === "image"
          ? "frames are for videos: give an image's regions in regions"
          : `frames are for videos: a ${kind} input cannot have frames`,
      };
    }
    const checked = checkFrames(value.frames as InputDraft["frames"] & object, options);
    if ("reason" in checked) return checked;
    clean.frames = checked.frames;
    clampedBoxes += checked.clamped;
  }
  return { draft: clean, clampedBoxes };
}
