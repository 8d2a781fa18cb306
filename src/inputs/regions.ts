/**
 * Regions and frames: checking boxes, polygons and video frames, and converting the ways
 * datasets write boxes (pixels, SDK lists, YOLO centers) into normalized {@linkcode BoxDraft}s.
 *
 * Coordinates are normalized to [0, 1]: `left`/`col` is x divided by the image width,
 * `top`/`row` is y divided by the image height. The conversions snap values that miss the
 * edges by at most {@linkcode EDGE_TOLERANCE} (rounding in the source file) onto 0 or 1; the
 * checks themselves are exact.
 *
 * @module
 */
import type { BoxDraft, FrameDraft, PointDraft, RegionDraft } from "./input_draft.ts";
import { invalidIdReason } from "./ids.ts";
import { invalidConceptReason } from "./validate.ts";

/** How far outside [0, 1] a converted coordinate may fall and still be snapped onto the edge. */
export const EDGE_TOLERANCE = 1e-6;

/** The largest frame number or time a `uint32` field carries. */
export const MAX_FRAME_VALUE = 0xffff_ffff;

/** An image's size in pixels. */
export interface ImageSize {
  /** Width in pixels (> 0). */
  width: number;
  /** Height in pixels (> 0). */
  height: number;
}

/** Options of {@linkcode checkRegions} and {@linkcode checkFrames}. */
export interface RegionCheckOptions {
  /**
   * Clamp box coordinates and polygon points outside [0, 1] into it and count the regions
   * clamped, instead of refusing them (default `false`). A box that is empty after clamping is
   * still refused.
   */
  clampBoxes?: boolean;
}

function snap(value: number): number {
  if (value < 0 && value >= -EDGE_TOLERANCE) return 0;
  if (value > 1 && value <= 1 + EDGE_TOLERANCE) return 1;
  return value;
}

function clamp01(value: number): number {
  return value < 0 ? 0 : value > 1 ? 1 : value;
}

function show(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (value === undefined) return "undefined";
  return JSON.stringify(value) ?? String(value);
}

/**
 * Returns why `size` is not a usable image size (positive finite width and height), or
 * `undefined`.
 *
 * @param size The size.
 * @returns A reason, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { invalidImageSizeReason } from "./regions.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(invalidImageSizeReason({ width: 640, height: 480 }), undefined);
 * assertEquals(
 *   invalidImageSizeReason({ width: 0, height: 480 }),
 *   "image width 0 is not a positive number of pixels",
 * );
 * ```
 */
export function invalidImageSizeReason(size: ImageSize): string | undefined {
  for (const key of ["width", "height"] as const) {
    const value = size[key];
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      return `image ${key} ${show(value)} is not a positive number of pixels`;
    }
  }
  return undefined;
}

/**
 * Converts a box in the SDKs' list order `[xmin, ymin, xmax, ymax]`, normalized, into a
 * {@linkcode BoxDraft}. The result is not checked: see {@linkcode invalidBoxReason}.
 *
 * @param list `[xmin, ymin, xmax, ymax]` in [0, 1].
 * @returns The box.
 * @throws {TypeError} When `list` does not hold exactly four numbers.
 *
 * @example Usage
 * ```ts
 * import { boxFromList } from "./regions.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(boxFromList([0.1, 0.2, 0.5, 0.9]), { left: 0.1, top: 0.2, right: 0.5, bottom: 0.9 });
 * ```
 */
export function boxFromList(list: readonly number[]): BoxDraft {
  if (!Array.isArray(list) || list.length !== 4 || list.some((v) => typeof v !== "number")) {
    throw new TypeError(
      `A box list must be [xmin, ymin, xmax, ymax]: got ${show(list)}`,
    );
  }
  const [left, top, right, bottom] = list.map(snap);
  return { left, top, right, bottom };
}

/**
 * Converts a box in pixels, `[xmin, ymin, xmax, ymax]`, into a normalized
 * {@linkcode BoxDraft} using the image's size. The result is not checked: see
 * {@linkcode invalidBoxReason}.
 *
 * @param pixels `[xmin, ymin, xmax, ymax]` in pixels.
 * @param size The image's size in pixels.
 * @returns The normalized box.
 * @throws {RangeError} When the size is not positive.
 *
 * @example A box touching the right edge of a 640×480 image
 * ```ts
 * import { boxFromPixels } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(
 *   boxFromPixels([320, 120, 640, 360], { width: 640, height: 480 }),
 *   { left: 0.5, top: 0.25, right: 1, bottom: 0.75 },
 * );
 * ```
 */
export function boxFromPixels(pixels: readonly number[], size: ImageSize): BoxDraft {
  const reason = invalidImageSizeReason(size);
  if (reason !== undefined) throw new RangeError(`Cannot normalize a box: ${reason}`);
  const [xmin, ymin, xmax, ymax] = pixels;
  return {
    left: snap(xmin / size.width),
    top: snap(ymin / size.height),
    right: snap(xmax / size.width),
    bottom: snap(ymax / size.height),
  };
}

/**
 * Converts a YOLO box (normalized center, width and height) into a corner
 * {@linkcode BoxDraft}. The result is not checked: see {@linkcode invalidBoxReason}.
 *
 * @param cx Center x in [0, 1].
 * @param cy Center y in [0, 1].
 * @param width Width in [0, 1].
 * @param height Height in [0, 1].
 * @returns The box.
 *
 * @example Usage
 * ```ts
 * import { boxFromCenter } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(boxFromCenter(0.5, 0.5, 0.5, 1), { left: 0.25, top: 0, right: 0.75, bottom: 1 });
 * ```
 */
export function boxFromCenter(cx: number, cy: number, width: number, height: number): BoxDraft {
  return {
    left: snap(cx - width / 2),
    top: snap(cy - height / 2),
    right: snap(cx + width / 2),
    bottom: snap(cy + height / 2),
  };
}

/**
 * Converts polygon vertices given as a flat pixel list `[x1, y1, x2, y2, …]` (COCO's form)
 * into normalized points (`row` = y, `col` = x). The result is not checked: see
 * {@linkcode invalidPolygonReason}.
 *
 * @param xy The flat pixel coordinates (an even count).
 * @param size The image's size in pixels.
 * @returns The points.
 * @throws {RangeError} When the size is not positive or `xy` has an odd length.
 *
 * @example Usage
 * ```ts
 * import { pointsFromPixels } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(pointsFromPixels([0, 0, 100, 0, 100, 50], { width: 100, height: 100 }), [
 *   { row: 0, col: 0 },
 *   { row: 0, col: 1 },
 *   { row: 0.5, col: 1 },
 * ]);
 * ```
 */
export function pointsFromPixels(xy: readonly number[], size: ImageSize): PointDraft[] {
  const reason = invalidImageSizeReason(size);
  if (reason !== undefined) throw new RangeError(`Cannot normalize a polygon: ${reason}`);
  if (xy.length % 2 !== 0) {
    throw new RangeError(
      `Cannot normalize a polygon: ${xy.length} coordinates is an odd count (x, y pairs expected)`,
    );
  }
  const points: PointDraft[] = [];
  for (let i = 0; i < xy.length; i += 2) {
    points.push({ row: snap(xy[i + 1] / size.height), col: snap(xy[i] / size.width) });
  }
  return points;
}

/**
 * Returns why a box is not acceptable, or `undefined`: every coordinate a finite number in
 * [0, 1], `left < right` and `top < bottom` (an empty box, of zero width or height, is
 * refused).
 *
 * @param box The normalized box.
 * @returns A reason, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { invalidBoxReason } from "./regions.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(invalidBoxReason({ left: 0, top: 0, right: 1, bottom: 1 }), undefined);
 * assertEquals(
 *   invalidBoxReason({ left: 0.2, top: 0, right: 1.5, bottom: 1 }),
 *   "box right 1.5 is outside [0, 1]",
 * );
 * assertEquals(
 *   invalidBoxReason({ left: 0.5, top: 0, right: 0.5, bottom: 1 }),
 *   "box has zero width: left 0.5 and right 0.5 must differ, left < right",
 * );
 * ```
 */
export function invalidBoxReason(box: BoxDraft): string | undefined {
  if (box === null || typeof box !== "object") {
    return `box must be an object {left, top, right, bottom}: got ${show(box)}`;
  }
  for (const key of ["left", "top", "right", "bottom"] as const) {
    const value = box[key];
    if (typeof value !== "number" || !Number.isFinite(value)) {
      return `box ${key} is not a finite number: got ${show(value)}`;
    }
    if (value < 0 || value > 1) return `box ${key} ${value} is outside [0, 1]`;
  }
  return degenerateBoxReason(box);
}

function degenerateBoxReason(box: BoxDraft): string | undefined {
  if (box.left === box.right) {
    return `box has zero width: left ${box.left} and right ${box.right} must differ, left < right`;
  }
  if (box.left > box.right) {
    return `box left ${box.left} is right of right ${box.right}: left < right is required`;
  }
  if (box.top === box.bottom) {
    return `box has zero height: top ${box.top} and bottom ${box.bottom} must differ, top < bottom`;
  }
  if (box.top > box.bottom) {
    return `box top ${box.top} is below bottom ${box.bottom}: top < bottom is required`;
  }
  return undefined;
}

/**
 * Returns why a polygon is not acceptable, or `undefined`: at least 3 points, each `row` and
 * `col` a finite number in [0, 1], enclosing a non-zero area.
 *
 * @param points The normalized points.
 * @returns A reason, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { invalidPolygonReason } from "./regions.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const triangle = [{ row: 0, col: 0 }, { row: 0, col: 1 }, { row: 1, col: 0.5 }];
 * assertEquals(invalidPolygonReason(triangle), undefined);
 * assertEquals(
 *   invalidPolygonReason(triangle.slice(0, 2)),
 *   "polygon has 2 points: at least 3 are needed",
 * );
 * ```
 */
export function invalidPolygonReason(points: readonly PointDraft[]): string | undefined {
  if (!Array.isArray(points)) return `polygon must be an array of points: got ${show(points)}`;
  if (points.length < 3) {
    return `polygon has ${points.length} point${
      points.length === 1 ? "" : "s"
    }: at least 3 are needed`;
  }
  for (let i = 0; i < points.length; i++) {
    const reason = invalidPointReason(points[i], i);
    if (reason !== undefined) return reason;
  }
  let twiceArea = 0;
  for (let i = 0; i < points.length; i++) {
    const a = points[i];
    const b = points[(i + 1) % points.length];
    twiceArea += a.col * b.row - b.col * a.row;
  }
  if (twiceArea === 0) return "polygon has zero area: its points are on one line";
  return undefined;
}

function invalidPointReason(point: PointDraft, index: number): string | undefined {
  if (point === null || typeof point !== "object") {
    return `polygon point ${index + 1} must be an object {row, col}: got ${show(point)}`;
  }
  for (const key of ["row", "col"] as const) {
    const value = point[key];
    if (typeof value !== "number" || !Number.isFinite(value)) {
      return `polygon point ${index + 1} ${key} is not a finite number: got ${show(value)}`;
    }
    if (value < 0 || value > 1) {
      return `polygon point ${index + 1} ${key} ${value} is outside [0, 1]`;
    }
  }
  const extra = Object.keys(point).find((key) => key !== "row" && key !== "col");
  if (extra !== undefined) {
    return `polygon point ${index + 1} has an unknown field ${
      JSON.stringify(extra)
    }: use row and col`;
  }
  return undefined;
}

const REGION_FIELDS = new Set(["id", "concepts", "box", "polygon", "trackId"]);
const BOX_FIELDS = new Set(["left", "top", "right", "bottom"]);
const FRAME_FIELDS = new Set(["number", "timeMs", "regions"]);

/**
 * Checks one region (of an image, or of a video frame) and returns a clean copy: concepts
 * trimmed and deduplicated (at least one), exactly one of `box` or `polygon`, a valid
 * annotation `id` and a non-empty `trackId` when given. With `clampBoxes`, out-of-range
 * coordinates are clamped into [0, 1] and `clamped` is `true`.
 *
 * @param region The region (any value: user code may pass anything).
 * @param options Whether to clamp.
 * @returns The clean region and whether it was clamped, or a reason.
 *
 * @example Usage
 * ```ts
 * import { checkRegion } from "./regions.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const box = { left: -0.1, top: 0, right: 0.5, bottom: 0.5 };
 * assertEquals(checkRegion({ concepts: [" cat "], box }), { reason: "box left -0.1 is outside [0, 1]" });
 * assertEquals(checkRegion({ concepts: [" cat "], box }, { clampBoxes: true }), {
 *   region: { concepts: ["cat"], box: { left: 0, top: 0, right: 0.5, bottom: 0.5 } },
 *   clamped: true,
 * });
 * assertEquals(checkRegion({ concepts: [], box }), {
 *   reason: "region has no concepts: give each region at least one",
 * });
 * ```
 */
export function checkRegion(
  region: RegionDraft,
  options: RegionCheckOptions = {},
): { region: RegionDraft; clamped: boolean } | { reason: string } {
  if (region === null || typeof region !== "object" || Array.isArray(region)) {
    return { reason: `region must be an object: got ${show(region)}` };
  }
  const extra = Object.keys(region).find((key) => !REGION_FIELDS.has(key));
  if (extra !== undefined) {
    return {
      reason: `region has an unknown field ${JSON.stringify(extra)}: use ${
        [...REGION_FIELDS].join(", ")
      }`,
    };
  }
  const concepts = checkConcepts(region.concepts);
  if (typeof concepts === "string") return { reason: concepts };
  if (concepts.length === 0) {
    return { reason: "region has no concepts: give each region at least one" };
  }
  const clean: RegionDraft = { concepts };
  if (region.id !== undefined) {
    const reason = typeof region.id === "string"
      ? invalidIdReason(region.id)?.replace("input ID", "annotation ID")
      : `annotation ID must be a string: got ${show(region.id)}`;
    if (reason !== undefined) return { reason: `region ${reason}` };
    clean.id = region.id;
  }
  const hasBox = region.box !== undefined;
  const hasPolygon = region.polygon !== undefined;
  if (hasBox && hasPolygon) {
    return { reason: "region has both a box and a polygon: make them two regions" };
  }
  if (!hasBox && !hasPolygon) return { reason: "region has neither a box nor a polygon" };
  let clamped = false;
  if (hasBox) {
    const box = region.box!;
    if (box === null || typeof box !== "object") {
      return { reason: `box must be an object {left, top, right, bottom}: got ${show(box)}` };
    }
    const extraKey = Object.keys(box).find((key) => !BOX_FIELDS.has(key));
    if (extraKey !== undefined) {
      return {
        reason: `box has an unknown field ${
          JSON.stringify(extraKey)
        }: use left, top, right, bottom (normalized)`,
      };
    }
    let copy: BoxDraft = { left: box.left, top: box.top, right: box.right, bottom: box.bottom };
    if (options.clampBoxes && allFinite(Object.values(copy))) {
      const c: BoxDraft = {
        left: clamp01(copy.left),
        top: clamp01(copy.top),
        right: clamp01(copy.right),
        bottom: clamp01(copy.bottom),
      };
      clamped = c.left !== copy.left || c.top !== copy.top || c.right !== copy.right ||
        c.bottom !== copy.bottom;
      copy = c;
    }
    const reason = invalidBoxReason(copy);
    if (reason !== undefined) {
      return { reason: clamped ? `${reason} (after clamping into [0, 1])` : reason };
    }
    clean.box = copy;
  } else {
    const polygon = region.polygon!;
    if (!Array.isArray(polygon)) {
      return { reason: `polygon must be an array of points: got ${show(polygon)}` };
    }
    let points = polygon.map((p) => (p !== null && typeof p === "object" ? { ...p } : p));
    if (
      options.clampBoxes &&
      points.every((p) => p !== null && typeof p === "object" && allFinite([p.row, p.col]))
    ) {
      points = points.map((p) => {
        const c = { row: clamp01(p.row), col: clamp01(p.col) };
        if (c.row !== p.row || c.col !== p.col) clamped = true;
        return c;
      });
    }
    const reason = invalidPolygonReason(points);
    if (reason !== undefined) {
      return { reason: clamped ? `${reason} (after clamping into [0, 1])` : reason };
    }
    clean.polygon = points.map(({ row, col }) => ({ row, col }));
  }
  if (region.trackId !== undefined) {
    if (typeof region.trackId !== "string" || region.trackId.trim() === "") {
      return { reason: `region track ID must be a non-empty string: got ${show(region.trackId)}` };
    }
    clean.trackId = region.trackId;
  }
  return { region: clean, clamped };
}

function allFinite(values: unknown[]): boolean {
  return values.every((v) => typeof v === "number" && Number.isFinite(v));
}

/** Trims, deduplicates and checks concept IDs; a reason string when one is unacceptable. */
function checkConcepts(concepts: unknown): string[] | string {
  if (!Array.isArray(concepts)) {
    return `concepts must be an array of concept IDs: got ${show(concepts)}`;
  }
  const seen = new Set<string>();
  for (const concept of concepts) {
    if (typeof concept !== "string") return `concept must be a string: got ${show(concept)}`;
    const reason = invalidConceptReason(concept);
    if (reason !== undefined) return reason;
    seen.add(concept.trim());
  }
  return [...seen];
}

/**
 * Checks the regions of an image (see {@linkcode checkRegion}) and returns clean copies and the
 * number of regions clamped, or the first reason, prefixed with the region's 1-based position.
 *
 * @param regions The regions (any value: user code may pass anything).
 * @param options Whether to clamp.
 * @returns The clean regions and the clamped count, or a reason.
 *
 * @example Usage
 * ```ts
 * import { checkRegions } from "./regions.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const ok = { concepts: ["cat"], box: { left: 0, top: 0, right: 1, bottom: 1 } };
 * const empty = { concepts: ["dog"], box: { left: 0.5, top: 0, right: 0.5, bottom: 1 } };
 * assertEquals(checkRegions([ok]), { regions: [ok], clamped: 0 });
 * assertEquals(
 *   checkRegions([ok, empty]),
 *   { reason: "region 2: box has zero width: left 0.5 and right 0.5 must differ, left < right" },
 * );
 * ```
 */
export function checkRegions(
  regions: readonly RegionDraft[],
  options: RegionCheckOptions = {},
): { regions: RegionDraft[]; clamped: number } | { reason: string } {
  if (!Array.isArray(regions)) return { reason: `regions must be an array: got ${show(regions)}` };
  const clean: RegionDraft[] = [];
  let clamped = 0;
  for (let i = 0; i < regions.length; i++) {
    const checked = checkRegion(regions[i], options);
    if ("reason" in checked) return { reason: `region ${i + 1}: ${checked.reason}` };
    clean.push(checked.region);
    if (checked.clamped) clamped++;
  }
  return { regions: clean, clamped };
}

/**
 * Checks the frames of a video and returns clean copies and the number of regions clamped, or
 * the first reason. Each frame has a `number` and/or a `timeMs`, non-negative integers (at most
 * {@linkcode MAX_FRAME_VALUE}); frames are in strictly increasing order of each (a frame out of
 * order or repeated is refused); each frame's regions pass {@linkcode checkRegion}.
 *
 * @param frames The frames (any value: user code may pass anything).
 * @param options Whether to clamp.
 * @returns The clean frames and the clamped count, or a reason.
 *
 * @example Usage
 * ```ts
 * import { checkFrames } from "./regions.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const region = { concepts: ["car"], box: { left: 0.1, top: 0.1, right: 0.4, bottom: 0.3 }, trackId: "t1" };
 * const frames = [{ number: 0, timeMs: 0, regions: [region] }, { number: 30, timeMs: 1000, regions: [region] }];
 * assertEquals(checkFrames(frames), { frames, clamped: 0 });
 * assertEquals(
 *   checkFrames([frames[1], frames[0]]),
 *   { reason: "frames out of order: frame 2 has number 0 after number 30 (frame 1)" },
 * );
 * ```
 */
export function checkFrames(
  frames: readonly FrameDraft[],
  options: RegionCheckOptions = {},
): { frames: FrameDraft[]; clamped: number } | { reason: string } {
  if (!Array.isArray(frames)) return { reason: `frames must be an array: got ${show(frames)}` };
  const clean: FrameDraft[] = [];
  let clamped = 0;
  const last: Record<"number" | "timeMs", { value: number; frame: number } | undefined> = {
    number: undefined,
    timeMs: undefined,
  };
  for (let i = 0; i < frames.length; i++) {
    const frame = frames[i];
    const where = `frame ${i + 1}`;
    if (frame === null || typeof frame !== "object" || Array.isArray(frame)) {
      return { reason: `${where} must be an object: got ${show(frame)}` };
    }
    const extra = Object.keys(frame).find((key) => !FRAME_FIELDS.has(key));
    if (extra !== undefined) {
      return {
        reason: `${where} has an unknown field ${
          JSON.stringify(extra)
        }: use number, timeMs, regions`,
      };
    }
    if (frame.number === undefined && frame.timeMs === undefined) {
      return { reason: `${where} has neither a number nor a time (timeMs)` };
    }
    const copy: FrameDraft = { regions: [] };
    for (const key of ["number", "timeMs"] as const) {
      const value = frame[key];
      if (value === undefined) continue;
      const name = key === "number" ? "number" : "time (timeMs)";
      if (
        typeof value !== "number" || !Number.isInteger(value) || value < 0 ||
        value > MAX_FRAME_VALUE
      ) {
        return {
          reason: `${where} ${name} must be a non-negative integer: got ${show(value)}`,
        };
      }
      const previous = last[key];
      const label = key === "number" ? "number" : "time";
      const unit = key === "number" ? "" : " ms";
      if (previous !== undefined && value === previous.value) {
        return {
          reason: `duplicate frame: frame ${i + 1} repeats ${label} ${value}${unit} of frame ${
            previous.frame + 1
          }`,
        };
      }
      if (previous !== undefined && value < previous.value) {
        return {
          reason: `frames out of order: frame ${
            i + 1
          } has ${label} ${value}${unit} after ${label} ${previous.value}${unit} (frame ${
            previous.frame + 1
          })`,
        };
      }
      last[key] = { value, frame: i };
      copy[key] = value;
    }
    const regions = checkRegions(frame.regions ?? [], options);
    if ("reason" in regions) return { reason: `${where}: ${regions.reason}` };
    copy.regions = regions.regions;
    clamped += regions.clamped;
    clean.push(copy);
  }
  return { frames: clean, clamped };
}
