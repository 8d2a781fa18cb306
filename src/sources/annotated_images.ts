/**
 * {@linkcode annotatedImages}: the walk shared by annotation formats that keep images in a
 * folder and one annotation file per image beside it (YOLO, Pascal VOC).
 *
 * @module
 */
import type { DraftOrRejection, InputDraft } from "../inputs/input_draft.ts";
import { folderSource } from "./folder_source.ts";
import { invalidDatasetIdReason } from "../inputs/validate.ts";
import { generatorStream } from "./generator_stream.ts";

/** One folder of images and the prefix its locations get. */
export interface ImageFolder {
  /** The folder on disk. */
  path: string;
  /** What locations start with, relative to the dataset root: `images`, `train/images`. */
  prefix: string;
}

/** Options of {@linkcode annotatedImages}. */
export interface AnnotatedImagesOptions {
  /** Input IDs from file stems (default) or paths relative to the images folder. */
  idFrom?: "stem" | "path";
  /** The dataset every draft joins. */
  datasetId?: string;
}

/**
 * Turns a found image into what the stream emits: usually rejections of some of its
 * annotations and then the draft with its regions, or a rejection instead of the draft.
 *
 * @param draft The image's draft (location already prefixed, no regions yet).
 * @param relative The image's path relative to its images folder, with `/`.
 * @returns The items to emit for this image.
 */
export type AnnotateImage = (
  draft: InputDraft,
  relative: string,
) => Promise<DraftOrRejection[]>;

/**
 * Walks image folders (recursively, sorted, images only: other files come out as skips) and
 * lets `annotate` add each image's regions, one image at a time. Locations are prefixed with
 * the folder's prefix (`images/01.jpg`).
 *
 * @param folders The image folders, walked in order.
 * @param options ID rule and dataset.
 * @param annotate Adds an image's regions.
 * @returns A stream of drafts, rejections and skips.
 *
 * @example Label every image with one full-image box
 * ```ts
 * import { annotatedImages } from "./annotated_images.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeFile(`${dir}/a.png`, new Uint8Array([1]));
 * const items = await Array.fromAsync(annotatedImages(
 *   [{ path: dir, prefix: "images" }],
 *   {},
 *   (draft) => Promise.resolve([{ type: "draft", draft: { ...draft, regions: [
 *     { concepts: ["all"], box: { left: 0, top: 0, right: 1, bottom: 1 } },
 *   ] } }]),
 * ));
 * assertEquals(items.length, 1);
 * assertEquals(items[0].type === "draft" && items[0].draft.location, "images/a.png");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function annotatedImages(
  folders: readonly ImageFolder[],
  options: AnnotatedImagesOptions,
  annotate: AnnotateImage,
): ReadableStream<DraftOrRejection> {
  async function* items(): AsyncGenerator<DraftOrRejection> {
    for (const folder of folders) {
      const prefix = folder.prefix === "" ? "" : `${folder.prefix}/`;
      const walk = folderSource(folder.path, {
        recursive: true,
        inputTypes: ["image"],
        idFrom: options.idFrom,
        datasetId: options.datasetId,
      });
      for await (const item of walk) {
        if (item.type === "draft") {
          const relative = item.draft.location;
          yield* await annotate({ ...item.draft, location: prefix + relative }, relative);
        } else if (item.type === "rejected") {
          yield {
            type: "rejected",
            rejection: { ...item.rejection, location: prefix + item.rejection.location },
          };
        } else {
          yield { type: "skipped", skip: { ...item.skip, location: prefix + item.skip.location } };
        }
      }
    }
  }
  return generatorStream(items());
}

/**
 * Checks the options shared by the folder formats (YOLO, VOC), throwing as a constructor
 * would.
 *
 * @param where The function being created (`yoloSource`), for messages.
 * @param root The dataset folder.
 * @param options The options.
 * @throws {TypeError} When `root` is not a non-empty string.
 * @throws {RangeError} When `idFrom` or `datasetId` is invalid.
 *
 * @example Usage
 * ```ts
 * import { checkFormatOptions } from "./annotated_images.ts";
 * import { assertThrows } from "@std/assert";
 *
 * checkFormatOptions("vocSource", "data", { idFrom: "stem" });
 * assertThrows(
 *   () => checkFormatOptions("vocSource", "data", { datasetId: "a b" }),
 *   RangeError,
 *   "Cannot create vocSource: invalid dataset ID",
 * );
 * ```
 */
export function checkFormatOptions(
  where: string,
  root: string,
  options: { idFrom?: string; datasetId?: string; clampBoxes?: boolean },
): void {
  if (typeof root !== "string" || root === "") {
    throw new TypeError(`Cannot create ${where}: the dataset folder must be a non-empty string`);
  }
  if (options.idFrom !== undefined && options.idFrom !== "stem" && options.idFrom !== "path") {
    throw new RangeError(
      `Cannot create ${where}: idFrom must be "stem" or "path": current value is ${
        JSON.stringify(options.idFrom)
      }`,
    );
  }
  if (options.datasetId !== undefined) {
    const reason = invalidDatasetIdReason(options.datasetId);
    if (reason !== undefined) throw new RangeError(`Cannot create ${where}: ${reason}`);
  }
}
