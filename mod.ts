/**
 * upflow uploads folders and CSV files of images, text, video and audio into Clarifai datasets,
 * through composable WHATWG streams: read → parse → validate → load → byte-bounded batching →
 * upload → progress.
 *
 * @example Clean a file name into an input ID
 * ```ts
 * import { cleanId } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(cleanId("Cat 01.jpg"), "cat_01_jpg");
 * ```
 *
 * @module
 */
export * from "./src/inputs/input_draft.ts";
export * from "./src/inputs/ids.ts";
export * from "./src/inputs/validate.ts";
