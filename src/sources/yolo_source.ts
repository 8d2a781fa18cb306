/**
 * {@linkcode yoloSource}: a YOLO dataset (`images/` and `labels/` folders, class names in
 * `data.yaml` or `classes.txt`) as a stream of image drafts with box and polygon regions.
 *
 * @module
 */
import { join } from "node:path";
import type { DraftOrRejection, RegionDraft } from "../inputs/input_draft.ts";
import { invalidConceptReason } from "../inputs/validate.ts";
import { boxFromCenter, checkRegion } from "../inputs/regions.ts";
import { annotatedImages, checkFormatOptions, type ImageFolder } from "./annotated_images.ts";
import { parseYoloNames } from "./yolo_names.ts";
import { generatorStream } from "./generator_stream.ts";

/** Options of {@linkcode yoloSource}. */
export interface YoloSourceOptions {
  /** Class names (index = class number), instead of reading `data.yaml` or `classes.txt`. */
  names?: readonly string[];
  /** Input IDs from file stems (default) or paths relative to the images folder. */
  idFrom?: "stem" | "path";
  /** Clamp coordinates outside [0, 1] into it instead of refusing the region. */
  clampBoxes?: boolean;
  /** Called with the location of each region clamped (with `clampBoxes`). */
  onClamped?: (location: string) => void;
  /** The dataset every draft joins. */
  datasetId?: string;
}

/** Where a YOLO dataset's parts are. */
export interface YoloLayout {
  /** Image folders with their label folders, in walk order. */
  folders: (ImageFolder & { labels: string; labelsPrefix: string })[];
  /** Class names, index = class number. */
  names: string[];
  /** The file the names came from (`data.yaml`), or `"options"`. */
  namesFrom: string;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

function namesFromLines(text: string, file: string): string[] {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/).map((line) => line.trim());
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const blank = lines.indexOf("");
  if (blank >= 0) {
    throw new SyntaxError(`${file}: Syntax error on line ${blank + 1}: an empty class name`);
  }
  return lines;
}

/**
 * Finds the parts of a YOLO dataset: image folders (`root/images`, or the splits
 * `root/<split>/images` such as `train`, `valid`, `test`, sorted) with their sibling `labels`
 * folders, and the class names (options, else `data.yaml`/`data.yml` `names:`, else
 * `classes.txt` or `obj.names`, one name a line, in the root or a labels folder).
 *
 * @param root The dataset folder.
 * @param names Class names given by the caller, if any.
 * @returns The layout.
 * @throws {Deno.errors.NotFound} When there is no images folder or no class names.
 * @throws {SyntaxError} When the names file cannot be read.
 *
 * @example Usage
 * ```ts
 * import { yoloLayout } from "./yolo_source.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(`${root}/train/images`, { recursive: true });
 * await Deno.writeTextFile(`${root}/data.yaml`, "names: [cat, dog]\n");
 * const layout = await yoloLayout(root);
 * assertEquals(layout.names, ["cat", "dog"]);
 * assertEquals(layout.folders.map((f) => [f.prefix, f.labelsPrefix]), [["train/images", "train/labels"]]);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function yoloLayout(root: string, names?: readonly string[]): Promise<YoloLayout> {
  const folders: YoloLayout["folders"] = [];
  if (await isDirectory(join(root, "images"))) {
    folders.push({
      path: join(root, "images"),
      prefix: "images",
      labels: join(root, "labels"),
      labelsPrefix: "labels",
    });
  } else {
    if (!(await isDirectory(root))) {
      throw new Deno.errors.NotFound(`Cannot read YOLO dataset "${root}": it is not a folder`);
    }
    const splits: string[] = [];
    for await (const entry of Deno.readDir(root)) {
      if (!entry.name.startsWith(".") && await isDirectory(join(root, entry.name, "images"))) {
        splits.push(entry.name);
      }
    }
    splits.sort();
    for (const split of splits) {
      folders.push({
        path: join(root, split, "images"),
        prefix: `${split}/images`,
        labels: join(root, split, "labels"),
        labelsPrefix: `${split}/labels`,
      });
    }
  }
  if (folders.length === 0) {
    throw new Deno.errors.NotFound(
      `Cannot read YOLO dataset "${root}": no images folder (images/, or train/images/ and the like)`,
    );
  }
  if (names !== undefined) return { folders, names: [...names], namesFrom: "options" };
  for (const file of ["data.yaml", "data.yml"]) {
    const text = await readIfExists(join(root, file));
    if (text === undefined) continue;
    try {
      return { folders, names: parseYoloNames(text), namesFrom: file };
    } catch (error) {
      if (error instanceof SyntaxError) throw new SyntaxError(`${file}: ${error.message}`);
      throw error;
    }
  }
  const places = [
    ["classes.txt", join(root, "classes.txt")],
    ["obj.names", join(root, "obj.names")],
    ...folders.flatMap((f) => [
      [`${f.labelsPrefix}/classes.txt`, join(f.labels, "classes.txt")],
    ]),
  ];
  for (const [name, path] of places) {
    const text = await readIfExists(path);
    if (text !== undefined) return { folders, names: namesFromLines(text, name), namesFrom: name };
  }
  throw new Deno.errors.NotFound(
    `Cannot read YOLO dataset "${root}": no class names (add data.yaml with names:, or classes.txt)`,
  );
}

const INTEGER = /^(0|[1-9][0-9]*)$/;

/** Reads one label file into regions and rejections of its lines. */
function readLabels(
  text: string,
  location: string,
  names: readonly string[],
  namesFrom: string,
  options: YoloSourceOptions,
): { regions: RegionDraft[]; rejections: DraftOrRejection[] } {
  const regions: RegionDraft[] = [];
  const rejections: DraftOrRejection[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    const where = `${location}:${i + 1}`;
    const drop = (reason: string) =>
      rejections.push({ type: "rejected", rejection: { location: where, reason } });
    const tokens = line.split(/\s+/);
    if (!INTEGER.test(tokens[0])) {
      drop(`class ${JSON.stringify(tokens[0])} is not a class number (0, 1, …)`);
      continue;
    }
    const classIndex = Number(tokens[0]);
    const name = names[classIndex];
    if (name === undefined) {
      drop(`class ${classIndex} is not in ${namesFrom} (classes 0 to ${names.length - 1})`);
      continue;
    }
    const concept = name.trim();
    const conceptReason = invalidConceptReason(concept);
    if (conceptReason !== undefined) {
      drop(`class ${classIndex}: ${conceptReason}`);
      continue;
    }
    const values = tokens.slice(1).map(Number);
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      drop(`value ${bad + 2} ${JSON.stringify(tokens[bad + 1])} is not a number`);
      continue;
    }
    let region: RegionDraft;
    if (values.length === 4) {
      const [cx, cy, w, h] = values;
      region = { concepts: [concept], box: boxFromCenter(cx, cy, w, h) };
    } else if (values.length >= 6 && values.length % 2 === 0) {
      const polygon = [];
      for (let j = 0; j < values.length; j += 2) {
        polygon.push({ row: values[j + 1], col: values[j] });
      }
      region = { concepts: [concept], polygon };
    } else {
      drop(
        `${values.length} values after the class: expected 4 (cx cy w h) for a box or an even count of at least 6 (x1 y1 x2 y2 x3 y3 …) for a polygon`,
      );
      continue;
    }
    const checked = checkRegion(region, { clampBoxes: options.clampBoxes });
    if ("reason" in checked) drop(checked.reason);
    else {
      regions.push(checked.region);
      if (checked.clamped) options.onClamped?.(where);
    }
  }
  return { regions, rejections };
}

/**
 * Streams a YOLO dataset as image drafts. Images are walked under `images/` (or every
 * `<split>/images/`), recursively and sorted; each image's labels are in the sibling `labels/`
 * folder at the same relative path with the extension `.txt`. Each line of a label file is a
 * region whose concept is the class's name (from {@linkcode yoloLayout}):
 * - `class cx cy w h` (normalized center and size) → a box, converted to corners;
 * - `class x1 y1 x2 y2 x3 y3 …` (YOLO segmentation, normalized; also oriented boxes as 4
 *   points) → a polygon.
 *
 * An image without a label file, or with an empty one, is uploaded without regions (YOLO's
 * background images). A line that cannot be read (a class not in the names, a wrong count of
 * values, coordinates outside [0, 1] unless `clampBoxes`, an empty box) becomes a rejection at
 * `labels/01.txt:4` and the image still uploads with its other regions. Label files without an
 * image are not read.
 *
 * @param root The dataset folder.
 * @param options Class names, IDs, clamping and dataset.
 * @returns A stream of drafts, rejections and skips.
 * @throws {RangeError} When an option is invalid.
 *
 * The stream errors with `NotFound` when there is no images folder or no class names, and with
 * a `SyntaxError` when `data.yaml` cannot be read.
 *
 * @example One image with a box touching the border
 * ```ts
 * import { yoloSource } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(`${root}/images`);
 * await Deno.mkdir(`${root}/labels`);
 * await Deno.writeFile(`${root}/images/01.jpg`, new Uint8Array([1]));
 * await Deno.writeTextFile(`${root}/labels/01.txt`, "1 0.75 0.5 0.5 1\n");
 * await Deno.writeTextFile(`${root}/classes.txt`, "cat\ngolden retriever\n");
 * const [item] = await Array.fromAsync(yoloSource(root));
 * assertEquals(item.type === "draft" && item.draft.regions, [
 *   { concepts: ["golden retriever"], box: { left: 0.5, top: 0, right: 1, bottom: 1 } },
 * ]);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export function yoloSource(
  root: string,
  options: YoloSourceOptions = {},
): ReadableStream<DraftOrRejection> {
  checkFormatOptions("yoloSource", root, options);
  async function* items(): AsyncGenerator<DraftOrRejection> {
    const layout = await yoloLayout(root, options.names);
    for (const folder of layout.folders) {
      const stream = annotatedImages([folder], options, async (draft, relative) => {
        const stem = relative.replace(/\.[^./]+$/, "");
        const labelLocation = `${folder.labelsPrefix}/${stem}.txt`;
        let text: string | undefined;
        try {
          text = await readIfExists(join(folder.labels, `${stem}.txt`));
        } catch (error) {
          return [{
            type: "rejected",
            rejection: {
              location: labelLocation,
              id: draft.id,
              reason: `cannot read the label file: ${(error as Error).message}`,
            },
          }];
        }
        if (text === undefined) return [{ type: "draft", draft }];
        const { regions, rejections } = readLabels(
          text,
          labelLocation,
          layout.names,
          layout.namesFrom,
          options,
        );
        return [
          ...rejections,
          { type: "draft", draft: regions.length > 0 ? { ...draft, regions } : draft },
        ];
      });
      yield* stream;
    }
  }
  return generatorStream(items());
}
