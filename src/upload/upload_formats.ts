/**
 * One-call uploads of annotated datasets: {@linkcode uploadCoco}, {@linkcode uploadYolo} and
 * {@linkcode uploadVoc}, the format sources pre-assembled with the upload run.
 *
 * @module
 */
import { join } from "node:path";
import type { ProgressEvent } from "../pipeline/progress_event.ts";
import { cocoSource, type CocoSourceOptions } from "../sources/coco_source.ts";
import { yoloLayout, yoloSource, type YoloSourceOptions } from "../sources/yolo_source.ts";
import { vocSource, type VocSourceOptions } from "../sources/voc_source.ts";
import { countFolder } from "../sources/folder_source.ts";
import { uploadInputs, type UploadOptions } from "./upload.ts";

async function countImages(paths: string[]): Promise<{ inputs: number; bytes: number }> {
  let inputs = 0;
  let bytes = 0;
  for (const path of paths) {
    try {
      const count = await countFolder(path, { recursive: true, inputTypes: ["image"] });
      inputs += count.files;
      bytes += count.bytes;
    } catch {
      // The source reports a missing folder itself.
    }
  }
  return { inputs, bytes };
}

/**
 * Uploads a COCO JSON file's images with their boxes and polygons (see
 * {@linkcode cocoSource} for what is read and what is refused). Annotations are posted once
 * their input is accepted, with deterministic IDs.
 *
 * @param path The COCO JSON file.
 * @param options Source, target, dataset and run options.
 * @returns The progress events, ending in `done`.
 *
 * @example Dry-run a COCO file
 * ```ts
 * import { summaryOf, uploadCoco } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeFile(`${dir}/a.png`, new Uint8Array([1, 2, 3]));
 * await Deno.writeTextFile(`${dir}/instances.json`, JSON.stringify({
 *   images: [{ id: 1, file_name: "a.png", width: 10, height: 10 }],
 *   annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 5, 5] }],
 *   categories: [{ id: 1, name: "cat" }],
 * }));
 * const summary = await summaryOf(uploadCoco(`${dir}/instances.json`, { dryRun: true }));
 * assertEquals(summary.uploaded, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function uploadCoco(
  path: string,
  options: UploadOptions & Omit<CocoSourceOptions, "datasetId"> = {},
): ReadableStream<ProgressEvent> {
  return uploadInputs(
    () =>
      cocoSource(path, {
        imagesDir: options.imagesDir,
        shapes: options.shapes,
        idFrom: options.idFrom,
        clampBoxes: options.clampBoxes,
        onClamped: options.onClamped,
        datasetId: options.datasetId,
      }),
    options,
    `coco ${path}`,
  );
}

/**
 * Uploads a YOLO dataset's images with their boxes and polygons (see {@linkcode yoloSource}),
 * with a pre-count of the images for the progress bar.
 *
 * @param root The dataset folder.
 * @param options Source, target, dataset and run options.
 * @returns The progress events, ending in `done`.
 *
 * @example Dry-run a YOLO dataset
 * ```ts
 * import { summaryOf, uploadYolo } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(`${root}/images`);
 * await Deno.writeFile(`${root}/images/a.png`, new Uint8Array([1, 2, 3]));
 * await Deno.writeTextFile(`${root}/classes.txt`, "cat\n");
 * const summary = await summaryOf(uploadYolo(root, { dryRun: true }));
 * assertEquals(summary.uploaded, 1);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export function uploadYolo(
  root: string,
  options: UploadOptions & Omit<YoloSourceOptions, "datasetId"> = {},
): ReadableStream<ProgressEvent> {
  return uploadInputs(
    () =>
      yoloSource(root, {
        names: options.names,
        idFrom: options.idFrom,
        clampBoxes: options.clampBoxes,
        onClamped: options.onClamped,
        datasetId: options.datasetId,
      }),
    options,
    `yolo ${root}`,
    async () => {
      const layout = await yoloLayout(root, options.names).catch(() => undefined);
      return await countImages(layout?.folders.map((f) => f.path) ?? []);
    },
  );
}

/**
 * Uploads a Pascal VOC dataset's images with their boxes (see {@linkcode vocSource}), with a
 * pre-count of the images for the progress bar.
 *
 * @param root The dataset folder (holding `Annotations/` and `JPEGImages/`).
 * @param options Source, target, dataset and run options.
 * @returns The progress events, ending in `done`.
 *
 * @example Dry-run a VOC dataset
 * ```ts
 * import { summaryOf, uploadVoc } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(`${root}/JPEGImages`);
 * await Deno.writeFile(`${root}/JPEGImages/a.jpg`, new Uint8Array([1, 2, 3]));
 * const summary = await summaryOf(uploadVoc(root, { dryRun: true }));
 * assertEquals(summary.uploaded, 1);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export function uploadVoc(
  root: string,
  options: UploadOptions & Omit<VocSourceOptions, "datasetId"> = {},
): ReadableStream<ProgressEvent> {
  return uploadInputs(
    () =>
      vocSource(root, {
        annotationsDir: options.annotationsDir,
        imagesDir: options.imagesDir,
        idFrom: options.idFrom,
        clampBoxes: options.clampBoxes,
        onClamped: options.onClamped,
        datasetId: options.datasetId,
      }),
    options,
    `voc ${root}`,
    () => countImages([options.imagesDir ?? join(root, "JPEGImages")]),
  );
}
