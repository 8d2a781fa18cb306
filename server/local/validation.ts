/**
 * The local API's own rules for what it accepts, written from Clarifai's documented limits
 * (see `clarifai-api.md` and Clarifai's "Upload Inputs" page): IDs, URLs, content size by kind,
 * one kind of content per input, region geometry normalized to [0, 1], concept values, geo
 * ranges. It shares no code with the uploader's validation on purpose: a target that judged
 * requests with the client's own rules would prove nothing about the client.
 *
 * @module
 */
import type { Data, Region } from "../../src/gen/clarifai/api/resources_pb.ts";
import type { Status } from "../../src/gen/clarifai/api/status/status_pb.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import { localStatus } from "./local_status.ts";

const MB = 1024 * 1024;

/** The longest ID (input, annotation, dataset, version, job) the local API accepts. */
export const MAX_LOCAL_ID_LENGTH = 255;

/** Bytes accepted per input by kind: images, text and audio under 20 MB, videos under 128 MB. */
export const LOCAL_MAX_BYTES: Readonly<Record<ContentKind, number>> = {
  image: 20 * MB,
  text: 20 * MB,
  audio: 20 * MB,
  video: 128 * MB,
};

/** The kinds of content an input holds. */
export type ContentKind = "image" | "video" | "audio" | "text";

/** The kinds, in the order the local API looks for them in `Data`. */
export const CONTENT_KINDS: readonly ContentKind[] = ["image", "video", "audio", "text"];

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/**
 * Returns why an ID is not acceptable, or `undefined`: letters, digits, `_` and `-`, starting
 * with a letter or digit, at most {@linkcode MAX_LOCAL_ID_LENGTH} characters.
 *
 * @param id The ID.
 * @param what What the ID names, for the message (`input`, `dataset`, …).
 * @returns The reason, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { idReason } from "./validation.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(idReason("cat-01", "input"), undefined);
 * assertEquals(idReason("", "dataset"), "empty dataset ID");
 * ```
 */
export function idReason(id: string, what: string): string | undefined {
  if (id.length === 0) return `empty ${what} ID`;
  if (id.length > MAX_LOCAL_ID_LENGTH) {
    return `${what} ID is ${id.length} characters long: at most ${MAX_LOCAL_ID_LENGTH} are allowed`;
  }
  if (!ID_PATTERN.test(id)) {
    return `invalid ${what} ID ${
      JSON.stringify(id)
    }: use letters, digits, "_" and "-", starting with a letter or digit`;
  }
  return undefined;
}

/**
 * Returns why a content URL is not acceptable (not absolute, not http or https), or `undefined`.
 *
 * @param url The URL.
 * @returns The reason, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { urlReason } from "./validation.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(urlReason("https://example.com/a.jpg"), undefined);
 * assertEquals(urlReason("ftp://example.com/a.jpg"), 'URL "ftp://example.com/a.jpg" must use http or https');
 * ```
 */
export function urlReason(url: string): string | undefined {
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
 * Returns why content of `size` bytes is too large for its kind, or `undefined`.
 *
 * @param kind The kind.
 * @param size The size in bytes.
 * @returns The reason, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { sizeReason } from "./validation.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(sizeReason("image", 1000), undefined);
 * assertEquals(sizeReason("image", 21 * 1024 * 1024), "image is 21.0 MB: Clarifai accepts images under 20 MB");
 * ```
 */
export function sizeReason(kind: ContentKind, size: number): string | undefined {
  const limit = LOCAL_MAX_BYTES[kind];
  if (size < limit) return undefined;
  return `${kind} is ${(size / MB).toFixed(1)} MB: Clarifai accepts ${kind}s under ${
    limit / MB
  } MB`;
}

/** An input's content: its kind and either bytes or a URL. */
export interface Content {
  /** The kind. */
  kind: ContentKind;
  /** The bytes (raw text encoded as UTF-8 for text). */
  bytes?: Uint8Array;
  /** The URL. */
  url?: string;
}

/**
 * Reads the content of an input's data: exactly one kind, with either a URL or bytes, within the
 * size limit; or the status that says why not.
 *
 * @param data The input's data.
 * @returns The content, or an `INPUT_*` status.
 *
 * @example Usage
 * ```ts
 * import { contentOf } from "./validation.ts";
 * import { create } from "@bufbuild/protobuf";
 * import { DataSchema } from "../../src/gen/clarifai/api/resources_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const content = contentOf(create(DataSchema, { text: { raw: "hi" } }));
 * assertEquals("kind" in content ? content.kind : undefined, "text");
 * const none = contentOf(create(DataSchema, {}));
 * assertEquals("code" in none ? none.code : undefined, 30104);
 * ```
 */
export function contentOf(data: Data | undefined): Content | Status {
  const present = CONTENT_KINDS.filter((k) => data?.[k] !== undefined);
  if (data === undefined || present.length === 0) {
    return localStatus(
      StatusCode.INPUT_INVALID_ARGUMENT,
      "Input has no content: set one of data.image, data.video, data.audio or data.text.",
    );
  }
  if (present.length > 1) {
    return localStatus(
      StatusCode.INPUT_INVALID_ARGUMENT,
      `Input has more than one kind of content (${present.join(", ")}): send one.`,
    );
  }
  const kind = present[0];
  let url = "";
  let bytes: Uint8Array | undefined;
  if (kind === "text") {
    const text = data.text!;
    url = text.url;
    if (text.raw !== "" && url !== "") {
      return localStatus(
        StatusCode.INPUT_INVALID_ARGUMENT,
        "Set either text.raw or text.url, not both.",
      );
    }
    if (text.raw !== "") bytes = new TextEncoder().encode(text.raw);
  } else {
    const media = data[kind]!;
    url = media.url;
    if (media.base64.length > 0) bytes = media.base64;
    if (bytes !== undefined && url !== "") {
      return localStatus(
        StatusCode.INPUT_INVALID_ARGUMENT,
        `Set either ${kind}.url or ${kind}.base64, not both.`,
      );
    }
  }
  if (bytes === undefined && url === "") {
    const field = kind === "text" ? "text.raw" : `${kind}.base64`;
    return localStatus(
      StatusCode.INPUT_INVALID_ARGUMENT,
      `The ${kind} has no content: set ${field} or ${kind}.url.`,
    );
  }
  if (url !== "") {
    const reason = urlReason(url);
    if (reason !== undefined) return localStatus(StatusCode.INPUT_INVALID_URL, reason);
    return { kind, url };
  }
  const over = sizeReason(kind, bytes!.length);
  if (over !== undefined) return localStatus(StatusCode.INPUT_OVER_LIMIT, over);
  return { kind, bytes };
}

const inUnit = (v: number) => Number.isFinite(v) && v >= 0 && v <= 1;

function boxReason(region: Region, where: string): string | undefined {
  const box = region.regionInfo?.boundingBox;
  if (!box) return undefined;
  const { leftCol, topRow, rightCol, bottomRow } = box;
  if (!(inUnit(leftCol) && inUnit(rightCol) && leftCol < rightCol)) {
    return `${where}: bounding box must satisfy 0 <= left_col < right_col <= 1: got left_col ${leftCol}, right_col ${rightCol}`;
  }
  if (!(inUnit(topRow) && inUnit(bottomRow) && topRow < bottomRow)) {
    return `${where}: bounding box must satisfy 0 <= top_row < bottom_row <= 1: got top_row ${topRow}, bottom_row ${bottomRow}`;
  }
  return undefined;
}

/**
 * Returns why a region is invalid, or `undefined`: it needs a bounding box (0 ≤ left < right ≤ 1,
 * 0 ≤ top < bottom ≤ 1), a polygon of at least 3 points in [0, 1], a point in [0, 1] or a mask
 * with an image; its own data is checked as {@linkcode dataReason} checks it.
 *
 * @param region The region.
 * @param where Where it is, for the message.
 * @returns The reason, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { regionReason } from "./validation.ts";
 * import { create } from "@bufbuild/protobuf";
 * import { RegionSchema } from "../../src/gen/clarifai/api/resources_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const box = { topRow: 0.1, leftCol: 0.1, bottomRow: 0.5, rightCol: 0.5 };
 * assertEquals(regionReason(create(RegionSchema, { regionInfo: { boundingBox: box } }), "r"), undefined);
 * assertEquals(regionReason(create(RegionSchema, {}), "r"), "r: a region needs a bounding_box, polygon, point or mask");
 * ```
 */
export function regionReason(region: Region, where: string): string | undefined {
  const info = region.regionInfo;
  const polygon = info?.polygon;
  const point = info?.point;
  const mask = info?.mask;
  if (!info?.boundingBox && !polygon && !point && !mask) {
    return `${where}: a region needs a bounding_box, polygon, point or mask`;
  }
  const box = boxReason(region, where);
  if (box) return box;
  if (polygon) {
    if (polygon.points.length < 3) {
      return `${where}: a polygon needs at least 3 points: got ${polygon.points.length}`;
    }
    const bad = polygon.points.findIndex((p) => !inUnit(p.row) || !inUnit(p.col));
    if (bad >= 0) {
      const p = polygon.points[bad];
      return `${where}: polygon point ${bad} (row ${p.row}, col ${p.col}) is outside [0, 1]`;
    }
  }
  if (point && (!inUnit(point.row) || !inUnit(point.col))) {
    return `${where}: point (row ${point.row}, col ${point.col}) is outside [0, 1]`;
  }
  if (mask && !(mask.image && (mask.image.base64.length > 0 || mask.image.url !== ""))) {
    return `${where}: a mask needs an image`;
  }
  return region.data ? dataReason(region.data, where) : undefined;
}

/**
 * Returns why the labels of a `Data` (concepts, geo point, regions, frames) are invalid, or
 * `undefined`: concepts need an id (or name) and a value in [0, 1]; longitude in [-180, 180],
 * latitude in [-90, 90]; regions as {@linkcode regionReason} checks them.
 *
 * @param data The data.
 * @param where Where it is, for the message.
 * @returns The reason, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { dataReason } from "./validation.ts";
 * import { create } from "@bufbuild/protobuf";
 * import { DataSchema } from "../../src/gen/clarifai/api/resources_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(dataReason(create(DataSchema, { concepts: [{ id: "cat", value: 1 }] }), "input"), undefined);
 * assertEquals(
 *   dataReason(create(DataSchema, { geo: { geoPoint: { longitude: 200, latitude: 0 } } }), "input"),
 *   "input: longitude 200 is outside [-180, 180]",
 * );
 * ```
 */
export function dataReason(data: Data, where: string): string | undefined {
  for (const [i, concept] of data.concepts.entries()) {
    if (concept.id === "" && concept.name === "") return `${where}: concept ${i} has no id`;
    if (!inUnit(concept.value)) {
      return `${where}: concept ${
        JSON.stringify(concept.id)
      } has value ${concept.value}: use 0 or 1`;
    }
  }
  const geo = data.geo?.geoPoint;
  if (geo) {
    if (!(geo.longitude >= -180 && geo.longitude <= 180)) {
      return `${where}: longitude ${geo.longitude} is outside [-180, 180]`;
    }
    if (!(geo.latitude >= -90 && geo.latitude <= 90)) {
      return `${where}: latitude ${geo.latitude} is outside [-90, 90]`;
    }
  }
  for (const [i, region] of data.regions.entries()) {
    const reason = regionReason(region, `${where} region ${region.id || i}`);
    if (reason) return reason;
  }
  for (const [i, frame] of data.frames.entries()) {
    if (frame.data) {
      const reason = dataReason(frame.data, `${where} frame ${frame.id || i}`);
      if (reason) return reason;
    }
  }
  return undefined;
}
