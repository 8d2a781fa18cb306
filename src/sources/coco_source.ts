/**
 * {@linkcode cocoSource}: a COCO JSON file (`instances.json`: `images`, `annotations`,
 * `categories`) as a stream of image drafts with box and polygon regions.
 *
 * @module
 */
import { basename, dirname, isAbsolute, join, normalize } from "node:path";
import type {
  ContentSource,
  DraftOrRejection,
  InputDraft,
  RegionDraft,
} from "../inputs/input_draft.ts";
import { cleanId, invalidIdReason } from "../inputs/ids.ts";
import { invalidConceptReason, invalidDatasetIdReason } from "../inputs/validate.ts";
import {
  boxFromPixels,
  checkRegion,
  type ImageSize,
  invalidImageSizeReason,
  pointsFromPixels,
} from "../inputs/regions.ts";
import { jsonArrayElements } from "./json_array_elements.ts";
import { imageSize } from "./image_size.ts";
import { generatorStream } from "./generator_stream.ts";

/** Which shapes of a COCO annotation become regions. */
export type CocoShapes = "boxes" | "polygons" | "both";

/** Options of {@linkcode cocoSource}. */
export interface CocoSourceOptions {
  /** The folder `file_name`s are relative to (default: the JSON file's folder). */
  imagesDir?: string;
  /**
   * Which shapes become regions (default `"both"`): each annotation's `bbox` as a box region,
   * each polygon of its `segmentation` as a polygon region, or both.
   */
  shapes?: CocoShapes;
  /**
   * Input IDs from the image's file name without extension (`"stem"`, default: `cats/01.jpg` →
   * `01`) or its whole `file_name` without extension (`"path"`: `cats_01`).
   */
  idFrom?: "stem" | "path";
  /** Clamp coordinates outside the image into it instead of refusing the region. */
  clampBoxes?: boolean;
  /** Called with the location of each region clamped (with `clampBoxes`). */
  onClamped?: (location: string) => void;
  /** The dataset every draft joins. */
  datasetId?: string;
  /**
   * Opens the COCO JSON somewhere else than on disk (a bucket); `path` then only names it in
   * locations. Default: the file at `path`.
   */
  open?: () => Promise<ReadableStream<Uint8Array>>;
  /**
   * Finds an image somewhere else than on disk (a bucket): its content from its `file_name`
   * (normalized, inside the images folder), or why not. When given, `imagesDir` is not used, and
   * an image with no valid `width`/`height` in the JSON is refused when it has regions.
   */
  resolveImage?: (relative: string) => Promise<ContentSource | string>;
}

const IMAGE_EXTENSIONS = new Set(["jpg", "jpeg", "png", "tiff", "tif", "webp", "bmp", "gif"]);

/** An image as held between parsing and emitting: only what the draft needs. */
interface CocoImage {
  id: string;
  fileName: unknown;
  width: unknown;
  height: unknown;
  line: number;
  problem?: string;
}

/** An annotation as held between parsing and emitting. */
interface CocoAnnotation {
  /** The annotation's `id` as written, or its index in `annotations` when it has none. */
  id: number | string | { index: number };
  /** The `category_id` as written. */
  categoryId: unknown;
  bbox: unknown;
  /** Polygons (flat pixel lists), when the segmentation is a list. */
  polygons?: unknown[];
  /** Why the annotation is refused whole (crowd/RLE, not an object). */
  problem?: string;
}

/** How locations name an annotation: `annotation 17`, or `annotations[40]` without an id. */
function annotationName(annotation: CocoAnnotation): string {
  const id = annotation.id;
  return typeof id === "object" ? `annotations[${id.index}]` : `annotation ${key(id)}`;
}

function key(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value === "string" && value !== "") return JSON.stringify(value);
  return undefined;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

const RLE_REASON =
  "RLE segmentation is not supported (Clarifai regions are boxes and polygons): the annotation is left out, its image uploads with its other annotations";

function toAnnotation(value: Record<string, unknown>, index: number): CocoAnnotation {
  const id = value.id;
  const annotation: CocoAnnotation = {
    id: key(id) === undefined ? { index } : id as number | string,
    categoryId: value.category_id,
    bbox: value.bbox,
  };
  const segmentation = value.segmentation;
  if (value.iscrowd === 1 || value.iscrowd === true) {
    annotation.problem = `iscrowd=1: ${RLE_REASON}`;
  } else if (isObject(segmentation)) {
    annotation.problem = RLE_REASON;
  } else if (Array.isArray(segmentation)) {
    annotation.polygons = segmentation;
  } else if (segmentation !== undefined && segmentation !== null) {
    annotation.problem = `segmentation must be a list of polygons or an RLE object: got ${
      show(segmentation)
    }`;
  }
  return annotation;
}

interface Parsed {
  images: CocoImage[];
  byImage: Map<string, CocoAnnotation[]>;
  categories: Map<string, string>;
  stray: DraftOrRejection[];
}

async function parse(
  path: string,
  base: string,
  signal: { cancelled: boolean },
  open?: () => Promise<ReadableStream<Uint8Array>>,
): Promise<Parsed> {
  const images: CocoImage[] = [];
  const imageLines = new Map<string, number>();
  const byImage = new Map<string, CocoAnnotation[]>();
  const categories = new Map<string, string>();
  const stray: DraftOrRejection[] = [];
  const reject = (location: string, reason: string) =>
    stray.push({ type: "rejected", rejection: { location, reason } });
  let bytes: ReadableStream<Uint8Array>;
  try {
    bytes = open ? await open() : (await Deno.open(path, { read: true })).readable;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`Cannot read COCO file "${path}": it does not exist`);
    }
    throw error;
  }
  const text = bytes.pipeThrough(new TextDecoderStream());
  let sawAny = false;
  try {
    for await (
      const { key: section, value, line, index } of jsonArrayElements(text, [
        "images",
        "annotations",
        "categories",
      ])
    ) {
      if (signal.cancelled) break;
      sawAny = true;
      const where = `${base}:${section}[${index}]`;
      if (!isObject(value)) {
        reject(where, `not an object: got ${show(value)}`);
        continue;
      }
      if (section === "images") {
        const id = key(value.id);
        if (id === undefined) {
          reject(where, `image has no id (a number or string): got ${show(value.id)}`);
          continue;
        }
        const image: CocoImage = {
          id,
          fileName: value.file_name,
          width: value.width,
          height: value.height,
          line,
        };
        const first = imageLines.get(id);
        if (first !== undefined) image.problem = `duplicate image id ${id}: also on line ${first}`;
        else imageLines.set(id, line);
        images.push(image);
      } else if (section === "annotations") {
        const imageId = key(value.image_id);
        const annotation = toAnnotation(value, index);
        if (imageId === undefined) {
          reject(
            `${base}:${annotationName(annotation)}`,
            `annotation has no image_id: got ${show(value.image_id)}`,
          );
          continue;
        }
        let list = byImage.get(imageId);
        if (list === undefined) byImage.set(imageId, list = []);
        list.push(annotation);
      } else {
        const id = key(value.id);
        if (id === undefined || typeof value.name !== "string") {
          reject(where, `category needs an id and a name: got ${show(value)}`);
          continue;
        }
        categories.set(id, value.name);
      }
    }
  } catch (error) {
    if (error instanceof SyntaxError) throw new SyntaxError(`${base}: ${error.message}`);
    throw error;
  }
  if (!sawAny && !signal.cancelled) {
    throw new SyntaxError(
      `${base}: no images, annotations or categories: is this a COCO instances file?`,
    );
  }
  return { images, byImage, categories, stray };
}

interface Checked {
  resolveImage?: (relative: string) => Promise<ContentSource | string>;
  imagesDir: string;
  shapes: CocoShapes;
  idFrom: "stem" | "path";
  clampBoxes: boolean;
  onClamped?: (location: string) => void;
  datasetId?: string;
}

function checkOptions(path: string, options: CocoSourceOptions): Checked {
  if (typeof path !== "string" || path === "") {
    throw new TypeError("Cannot create cocoSource: path must be a non-empty string");
  }
  const { shapes = "both", idFrom = "stem", clampBoxes = false, datasetId } = options;
  if (shapes !== "boxes" && shapes !== "polygons" && shapes !== "both") {
    throw new RangeError(
      `Cannot create cocoSource: shapes must be "boxes", "polygons" or "both": current value is ${
        JSON.stringify(shapes)
      }`,
    );
  }
  if (idFrom !== "stem" && idFrom !== "path") {
    throw new RangeError(
      `Cannot create cocoSource: idFrom must be "stem" or "path": current value is ${
        JSON.stringify(idFrom)
      }`,
    );
  }
  if (datasetId !== undefined) {
    const reason = invalidDatasetIdReason(datasetId);
    if (reason !== undefined) throw new RangeError(`Cannot create cocoSource: ${reason}`);
  }
  return {
    resolveImage: options.resolveImage,
    imagesDir: options.imagesDir ?? dirname(path),
    shapes,
    idFrom,
    clampBoxes,
    onClamped: options.onClamped,
    datasetId,
  };
}

/** Builds one image's items: rejections of its annotations, then its draft (or rejection). */
async function emitImage(
  image: CocoImage,
  annotations: CocoAnnotation[],
  categories: Map<string, string>,
  base: string,
  options: Checked,
): Promise<DraftOrRejection[]> {
  const found = await locateImage(image, base, options);
  if (found.type === "rejected") return [found];
  const { id, location, content } = found;
  const items: DraftOrRejection[] = [];
  const regions: RegionDraft[] = [];
  const sizeOf = imageSizeOnce(image, content);
  for (const annotation of annotations) {
    const where = `${base}:${annotationName(annotation)}`;
    const drop = (reason: string) =>
      items.push({ type: "rejected", rejection: { location: where, reason } });
    const shapes = annotationShapes(annotation, categories, options, drop);
    if (shapes === undefined) continue;
    const dims = await sizeOf();
    if (typeof dims === "string") {
      return [{ type: "rejected", rejection: { location, reason: dims, id } }];
    }
    shapes.addRegions(dims, (region, what) => {
      const checked = checkRegion(region, { clampBoxes: options.clampBoxes });
      if ("reason" in checked) drop(`${what}: ${checked.reason}`);
      else {
        regions.push(checked.region);
        if (checked.clamped) options.onClamped?.(where);
      }
    });
  }
  const draft: InputDraft = { id, kind: "image", content, location, concepts: [] };
  if (regions.length > 0) draft.regions = regions;
  if (options.datasetId !== undefined) draft.datasetId = options.datasetId;
  items.push({ type: "draft", draft });
  return items;
}

/** An image's input ID, location and content, or why it is refused. */
type LocatedImage =
  | { type: "found"; id: string; location: string; content: ContentSource }
  | Extract<DraftOrRejection, { type: "rejected" }>;

/** Checks an image's `file_name`, derives its input ID and finds its content. */
async function locateImage(
  image: CocoImage,
  base: string,
  options: Checked,
): Promise<LocatedImage> {
  const fileName = image.fileName;
  const location = `${base}:image ${image.id} (${typeof fileName === "string" ? fileName : "?"})`;
  const refuse = (reason: string, id?: string): LocatedImage => ({
    type: "rejected",
    rejection: id === undefined ? { location, reason } : { location, reason, id },
  });
  if (image.problem) return refuse(image.problem);
  if (typeof fileName !== "string" || fileName.trim() === "") {
    return refuse(`image has no file_name: got ${show(fileName)}`);
  }
  const relative = normalize(fileName.replaceAll("\\", "/"));
  if (isAbsolute(relative) || relative === ".." || relative.startsWith("../")) {
    return refuse(`file_name ${JSON.stringify(fileName)} must stay inside the images folder`);
  }
  const dot = relative.lastIndexOf(".");
  const extension = dot > relative.lastIndexOf("/") ? relative.slice(dot + 1) : "";
  if (!IMAGE_EXTENSIONS.has(extension.toLowerCase())) {
    return refuse(`file_name ${JSON.stringify(fileName)} has no image extension`);
  }
  const withoutExtension = relative.slice(0, dot);
  const idSource = options.idFrom === "stem"
    ? withoutExtension.slice(withoutExtension.lastIndexOf("/") + 1)
    : withoutExtension;
  const id = cleanId(idSource);
  if (id === "") {
    return refuse(`file name ${JSON.stringify(idSource)} gives an empty input ID`);
  }
  const idReason = invalidIdReason(id);
  if (idReason !== undefined) return refuse(idReason, id);
  const content = await imageContent(relative, options);
  if (typeof content === "string") return refuse(content, id);
  return { type: "found", id, location, content };
}

/** An image's content: from `resolveImage`, or the file under the images folder; or why not. */
async function imageContent(relative: string, options: Checked): Promise<ContentSource | string> {
  if (options.resolveImage) return await options.resolveImage(relative);
  const path = join(options.imagesDir, relative);
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) return `${path} is not a file`;
    return { type: "file", path, size: info.size };
  } catch (error) {
    return error instanceof Deno.errors.NotFound
      ? `image file not found: ${path}`
      : `cannot read image file ${path}: ${(error as Error).message}`;
  }
}

/**
 * The image's size, found once when a region first needs it: from the JSON's `width` and
 * `height`, else read from the file; or why it cannot be known.
 */
function imageSizeOnce(
  image: CocoImage,
  content: ContentSource,
): () => Promise<ImageSize | string> {
  let dimensions: ImageSize | undefined;
  return async () => {
    if (dimensions !== undefined) return dimensions;
    const given = { width: image.width as number, height: image.height as number };
    if (invalidImageSizeReason(given) === undefined) return dimensions = given;
    const read = content.type === "file"
      ? await imageSize(content.path).catch(() => undefined)
      : undefined;
    if (read === undefined) {
      return `image width/height are missing or invalid (${show(image.width)}×${
        show(image.height)
      }) and cannot be read from the file`;
    }
    return dimensions = read;
  };
}

/** An annotation's shapes, made regions once the image's size is known. */
interface AnnotationShapes {
  /** Passes each region with its name (`bbox [1,2,3,4]`, `polygon 2`) to `add`, in order. */
  addRegions(size: ImageSize, add: (region: RegionDraft, what: string) => void): void;
}

/**
 * Reads one annotation: its concept and the shapes wanted of it. Returns undefined (after
 * `drop` says why, when it is a fault) when it gives no region.
 */
function annotationShapes(
  annotation: CocoAnnotation,
  categories: Map<string, string>,
  options: Checked,
  drop: (reason: string) => void,
): AnnotationShapes | undefined {
  if (annotation.problem) return void drop(annotation.problem);
  const categoryKey = key(annotation.categoryId);
  const category = categoryKey === undefined ? undefined : categories.get(categoryKey);
  if (category === undefined) {
    return void drop(`category_id ${show(annotation.categoryId ?? null)} is not in categories`);
  }
  const concept = category.trim();
  const conceptReason = invalidConceptReason(concept);
  if (conceptReason !== undefined) return void drop(`category ${categoryKey}: ${conceptReason}`);
  const wantBox = options.shapes !== "polygons" && annotation.bbox !== undefined;
  const polygons = options.shapes !== "boxes" ? annotation.polygons ?? [] : [];
  if (!wantBox && polygons.length === 0) {
    if (annotation.bbox === undefined && annotation.polygons === undefined) {
      drop("annotation has neither a bbox nor a segmentation");
    }
    return undefined;
  }
  return {
    addRegions(dims, add) {
      const bbox = annotation.bbox;
      if (wantBox && !isNumbers(bbox, 4)) {
        drop(`bbox must be [x, y, width, height] in pixels: got ${show(bbox)}`);
      } else if (wantBox) {
        const [x, y, w, h] = bbox as number[];
        add(
          { concepts: [concept], box: boxFromPixels([x, y, x + w, y + h], dims) },
          `bbox ${show(bbox)}`,
        );
      }
      polygons.forEach((polygon, i) => {
        const what = `polygon ${i + 1}`;
        if (!isNumbers(polygon) || (polygon as number[]).length % 2 !== 0) {
          drop(`${what} must be a flat list [x1, y1, x2, y2, …] in pixels: got ${show(polygon)}`);
        } else {
          add({ concepts: [concept], polygon: pointsFromPixels(polygon as number[], dims) }, what);
        }
      });
    },
  };
}

/** Whether `value` is an array of finite numbers (of `length` numbers, when given). */
function isNumbers(value: unknown, length?: number): boolean {
  return Array.isArray(value) && (length === undefined || value.length === length) &&
    value.every((v) => typeof v === "number" && Number.isFinite(v));
}

/**
 * Streams a COCO JSON file as image drafts: one draft per entry of `images`, with a region for
 * each annotation's `bbox` (`[x, y, width, height]` in pixels, normalized with the image's
 * `width` and `height`) and one for each polygon of its `segmentation` (flat pixel lists
 * `[x1, y1, x2, y2, …]`, normalized). Each region's concept is its category's `name`, trimmed
 * and kept as written (spaces and any Unicode are valid concept IDs; control characters are
 * not). Input IDs come from file names ({@linkcode CocoSourceOptions.idFrom}); file paths are
 * `imagesDir` joined with `file_name`, which must stay inside it.
 *
 * What is refused, as rejections that never stop the stream:
 * - per annotation (location `instances.json:annotation 17`; the image still uploads with its
 *   other annotations): crowd annotations (`iscrowd: 1`) and RLE segmentations (`{counts,
 *   size}`), which are not boxes or polygons; an unknown `category_id`; a malformed `bbox` or
 *   polygon; a box or polygon outside the image (unless `clampBoxes`), empty, or a polygon of
 *   fewer than 3 points;
 * - per image (location `instances.json:image 3 (cats/01.jpg)`): a missing or escaping
 *   `file_name`, a file that does not exist, a duplicate image `id`, and a size that is missing
 *   from the file and unreadable from the image header while annotations need it;
 * - annotations whose `image_id` is in no image, at the end.
 *
 * Images without annotations are uploaded without regions. Images come out in file order,
 * each preceded by the rejections of its annotations.
 *
 * Memory: the file is read as a stream ({@linkcode jsonArrayElements}), never whole, but the
 * annotations must be grouped by image before the first draft can be emitted (they follow the
 * images, and categories often come last), so each annotation is held, reduced to its id,
 * category, bbox and polygons, until its image is emitted. Measured on Deno 2.9 (heap after
 * parsing a synthetic file of 20,000 images and 200,000 annotations, after GC): about 165 bytes
 * per image, 224 bytes per annotation with a bbox alone, 551 bytes per annotation with a bbox and
 * one 16-point polygon; parsing ran at about 25 MB of JSON per second. COCO train2017 (118k
 * images, 860k annotations) would hold roughly 0.5 GB.
 *
 * @param path The COCO JSON file.
 * @param options Images folder, shapes, IDs, clamping and dataset.
 * @returns A stream of drafts and rejections.
 * @throws {TypeError} When `path` is not a string.
 * @throws {RangeError} When an option is invalid.
 *
 * The stream errors with a `SyntaxError` (`instances.json: Syntax error on line N: …`) when the
 * file is not JSON, and with `NotFound` when it does not exist.
 *
 * @example Two images, one with a box
 * ```ts
 * import { cocoSource } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeFile(`${dir}/a.png`, new Uint8Array([1]));
 * await Deno.writeFile(`${dir}/b.png`, new Uint8Array([2]));
 * await Deno.writeTextFile(`${dir}/instances.json`, JSON.stringify({
 *   images: [{ id: 1, file_name: "a.png", width: 200, height: 100 }, { id: 2, file_name: "b.png", width: 10, height: 10 }],
 *   annotations: [{ id: 5, image_id: 1, category_id: 3, bbox: [50, 0, 150, 50], iscrowd: 0 }],
 *   categories: [{ id: 3, name: "golden retriever" }],
 * }));
 * const items = await Array.fromAsync(cocoSource(`${dir}/instances.json`));
 * assertEquals(items.length, 2);
 * assertEquals(items[0].type === "draft" && items[0].draft.regions, [
 *   { concepts: ["golden retriever"], box: { left: 0.25, top: 0, right: 1, bottom: 0.5 } },
 * ]);
 * assertEquals(items[1].type === "draft" && items[1].draft.regions, undefined);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function cocoSource(
  path: string,
  options: CocoSourceOptions = {},
): ReadableStream<DraftOrRejection> {
  const checked = checkOptions(path, options);
  const base = basename(path);
  const signal = { cancelled: false };
  async function* items(): AsyncGenerator<DraftOrRejection> {
    const { images, byImage, categories, stray } = await parse(path, base, signal, options.open);
    yield* stray;
    for (let i = 0; i < images.length; i++) {
      const image = images[i];
      images[i] = undefined as unknown as CocoImage; // let it be collected
      const annotations = image.problem ? [] : byImage.get(image.id) ?? [];
      if (!image.problem) byImage.delete(image.id);
      yield* await emitImage(image, annotations, categories, base, checked);
    }
    for (const [imageId, annotations] of byImage) {
      for (const annotation of annotations) {
        yield {
          type: "rejected",
          rejection: {
            location: `${base}:${annotationName(annotation)}`,
            reason: `image_id ${imageId} is in no image of the file`,
          },
        };
      }
    }
  }
  return generatorStream(items(), () => signal.cancelled = true);
}
