/**
 * The annotation-format commands of the CLI: `coco`, `yolo` and `voc`. Each takes the common
 * upload options; with `--dry-run` it first counts the images, boxes, polygons and concepts the
 * dataset holds, then runs the dry run (validate and batch, send nothing).
 *
 * @module
 */
import { isS3Url } from "../sources/s3/s3_url.ts";
import { s3CocoSource } from "../sources/s3/s3_coco_source.ts";
import { uploadS3Coco } from "../sources/s3/upload_s3_coco.ts";
import {
  checkS3Address,
  refuseS3Flags,
  S3_FLAGS,
  S3_FLAGS_HELP,
  s3SettingsFrom,
} from "./s3_flags.ts";
import type { DraftOrRejection } from "../inputs/input_draft.ts";
import type { ProgressEvent } from "../pipeline/progress_event.ts";
import { type AnnotationCounts, countAnnotations } from "../sources/annotation_counts.ts";
import { type CocoShapes, cocoSource } from "../sources/coco_source.ts";
import { yoloSource } from "../sources/yolo_source.ts";
import { vocSource } from "../sources/voc_source.ts";
import { uploadCoco, uploadVoc, uploadYolo } from "../upload/upload_formats.ts";
import type { UploadOptions } from "../upload/upload.ts";
import {
  defaultJournalPath,
  ExitCode,
  parseCommandArgs,
  UPLOAD_OPTIONS,
  UPLOAD_OPTIONS_HELP,
  uploadOptionsFrom,
  UsageError,
} from "./upload_command.ts";
import { type RunValues, runWithReport } from "./run_setup.ts";

/** Runs `check`, turning the RangeError it throws about a flag into a usage error. */
function usage<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(error.message);
    throw error;
  }
}

/** Help of the `coco` command. */
export const COCO_HELP = `upflow coco FILE [options]

Uploads the images of a COCO JSON file (instances.json) with their boxes and polygons; category
names become concepts. Crowd/RLE annotations are refused one by one (the image still uploads).
FILE may be in a bucket (s3://bucket/coco/instances.json), its images too (--images s3://…).

COCO:
  --images DIR           folder the file_name paths are relative to (default: the file's folder)
  --shapes S             boxes, polygons or both (default both)
  --id-from stem|path    input IDs from file stems (default) or file_name paths
  --clamp-boxes          clamp coordinates outside the image instead of refusing the region

${S3_FLAGS_HELP}

${UPLOAD_OPTIONS_HELP}`;

/** Help of the `yolo` command. */
export const YOLO_HELP = `upflow yolo DIR [options]

Uploads a YOLO dataset: DIR/images with DIR/labels (or DIR/<split>/images and labels), class
names from DIR/data.yaml (names:) or classes.txt. Label lines "class cx cy w h" become boxes,
"class x1 y1 x2 y2 x3 y3 ..." polygons.

YOLO:
  --id-from stem|path    input IDs from file stems (default) or paths under images/
  --clamp-boxes          clamp coordinates outside [0, 1] instead of refusing the region

${UPLOAD_OPTIONS_HELP}`;

/** Help of the `voc` command. */
export const VOC_HELP = `upflow voc DIR [options]

Uploads a Pascal VOC dataset: images in DIR/JPEGImages, one XML per image in DIR/Annotations;
each <object> with a <bndbox> becomes a box, its <name> the concept.

VOC:
  --annotations DIR      the XML folder (default DIR/Annotations)
  --images DIR           the images folder (default DIR/JPEGImages)
  --id-from stem|path    input IDs from file stems (default) or paths under the images folder
  --clamp-boxes          clamp boxes reaching outside the image instead of refusing them

${UPLOAD_OPTIONS_HELP}`;

const FORMAT_OPTIONS = {
  "id-from": { type: "string" },
  "clamp-boxes": { type: "boolean" },
} as const;

function idFromOf(value: string | undefined): "stem" | "path" | undefined {
  if (value !== undefined && value !== "stem" && value !== "path") {
    throw new UsageError(`--id-from must be stem or path: got "${value}"`);
  }
  return value;
}

async function mustExist(path: string, what: "file" | "folder"): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    throw new UsageError(`no ${what} at ${path}`);
  }
  if (what === "file" && !info.isFile) throw new UsageError(`${path} is not a file`);
  if (what === "folder" && !info.isDirectory) throw new UsageError(`${path} is not a folder`);
}

/**
 * Renders the counts of a pre-scan as the lines a dry run prints first.
 *
 * @param what What was scanned (`coco instances.json`).
 * @param counts The counts.
 * @param clamped How many regions were clamped.
 * @returns The text, ending in a newline.
 *
 * @example Usage
 * ```ts
 * import { renderAnnotationCounts } from "./format_commands.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * const text = renderAnnotationCounts("yolo data", {
 *   images: 3, imagesWithoutRegions: 1, otherInputs: 0, boxes: 4, polygons: 1, concepts: 2,
 *   regionsByConcept: { cat: 3, "golden retriever": 2 }, rejected: 1, skipped: 0,
 * }, 0);
 * assertStringIncludes(text, "images      3 (1 without regions)");
 * assertStringIncludes(text, "concepts    2: cat 3, golden retriever 2");
 * ```
 */
export function renderAnnotationCounts(
  what: string,
  counts: AnnotationCounts,
  clamped: number,
): string {
  const top = Object.entries(counts.regionsByConcept).slice(0, 12)
    .map(([concept, n]) => `${concept} ${n}`);
  const more = counts.concepts > top.length ? `, … ${counts.concepts - top.length} more` : "";
  return [
    `Found in ${what}:`,
    `  images      ${counts.images} (${counts.imagesWithoutRegions} without regions)`,
    `  boxes       ${counts.boxes}`,
    `  polygons    ${counts.polygons}`,
    `  concepts    ${counts.concepts}${top.length > 0 ? `: ${top.join(", ")}${more}` : ""}`,
    ...(clamped > 0 ? [`  clamped     ${clamped} regions`] : []),
    `  rejected    ${counts.rejected}${counts.rejected > 0 ? " (listed by the dry run)" : ""}`,
    `  skipped     ${counts.skipped}`,
    "",
  ].join("\n");
}

/** Pre-scans (dry run only), then runs; turns a source that cannot be read into exit 3. */
async function run(
  command: string,
  args: string[],
  values: RunValues,
  path: string,
  options: UploadOptions,
  source: (onClamped: (location: string) => void) => ReadableStream<DraftOrRejection>,
  upload: (options: UploadOptions) => ReadableStream<ProgressEvent>,
): Promise<number> {
  const json = values.json ?? false;
  const what = `${command} ${path}`;
  const encoder = new TextEncoder();
  try {
    if (options.dryRun) {
      let clamped = 0;
      const counts = await countAnnotations(source(() => clamped++));
      if (json) {
        Deno.stderr.writeSync(
          encoder.encode(JSON.stringify({ type: "counts", ...counts, clamped }) + "\n"),
        );
      } else {
        Deno.stdout.writeSync(encoder.encode(renderAnnotationCounts(what, counts, clamped)));
      }
    }
    return await runWithReport(
      command,
      args,
      values,
      options,
      (env) => defaultJournalPath(command, path, options, env),
      upload,
    );
  } catch (error) {
    if (
      error instanceof SyntaxError || error instanceof Deno.errors.NotFound ||
      error instanceof Deno.errors.NotADirectory
    ) {
      Deno.stderr.writeSync(encoder.encode(`upflow ${command}: ${error.message}\n`));
      return ExitCode.Fatal;
    }
    throw error;
  }
}

/**
 * Runs `upflow coco FILE`.
 *
 * @param args The arguments after the command.
 * @returns The exit code.
 */
export async function cocoCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    ...UPLOAD_OPTIONS,
    ...FORMAT_OPTIONS,
    images: { type: "string" },
    shapes: { type: "string" },
    ...S3_FLAGS,
  });
  if (values.help) {
    console.log(COCO_HELP);
    return ExitCode.Ok;
  }
  if (positionals.length !== 1) throw new UsageError("coco takes one FILE");
  const [path] = positionals;
  const shapes = values.shapes as CocoShapes | undefined;
  if (shapes !== undefined && shapes !== "boxes" && shapes !== "polygons" && shapes !== "both") {
    throw new UsageError(`--shapes must be boxes, polygons or both: got "${shapes}"`);
  }
  const idFrom = idFromOf(values["id-from"]);
  if (isS3Url(path)) {
    if (values.images !== undefined && !isS3Url(values.images)) {
      throw new UsageError("--images of a COCO file in a bucket must be an s3:// prefix too");
    }
    usage(() => checkS3Address(path));
    if (values.images !== undefined) usage(() => checkS3Address(values.images!));
    const options = uploadOptionsFrom(values);
    const s3 = usage(() => s3SettingsFrom(values, Deno.env, options.retry));
    const s3Options = {
      images: values.images,
      shapes,
      idFrom,
      clampBoxes: values["clamp-boxes"],
      datasetId: options.datasetId,
    };
    return await run(
      "coco",
      args,
      values,
      path,
      options,
      (onClamped) => s3CocoSource(s3.client, path, { ...s3Options, onClamped }),
      (final) =>
        uploadS3Coco(path, {
          ...final,
          ...s3Options,
          s3: s3.client,
          via: s3.via,
          urlExpiresSeconds: s3.urlExpiresSeconds,
        }),
    );
  }
  usage(() => refuseS3Flags(values));
  await mustExist(path, "file");
  if (values.images !== undefined) await mustExist(values.images, "folder");
  const options = uploadOptionsFrom(values);
  const sourceOptions = {
    imagesDir: values.images,
    shapes,
    idFrom,
    clampBoxes: values["clamp-boxes"],
    datasetId: options.datasetId,
  };
  return await run(
    "coco",
    args,
    values,
    path,
    options,
    (onClamped) => cocoSource(path, { ...sourceOptions, onClamped }),
    (final) => uploadCoco(path, { ...final, ...sourceOptions }),
  );
}

/**
 * Runs `upflow yolo DIR`.
 *
 * @param args The arguments after the command.
 * @returns The exit code.
 */
export async function yoloCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { ...UPLOAD_OPTIONS, ...FORMAT_OPTIONS });
  if (values.help) {
    console.log(YOLO_HELP);
    return ExitCode.Ok;
  }
  if (positionals.length !== 1) throw new UsageError("yolo takes one DIR");
  const [root] = positionals;
  const idFrom = idFromOf(values["id-from"]);
  await mustExist(root, "folder");
  const options = uploadOptionsFrom(values);
  const sourceOptions = { idFrom, clampBoxes: values["clamp-boxes"], datasetId: options.datasetId };
  return await run(
    "yolo",
    args,
    values,
    root,
    options,
    (onClamped) => yoloSource(root, { ...sourceOptions, onClamped }),
    (final) => uploadYolo(root, { ...final, ...sourceOptions }),
  );
}

/**
 * Runs `upflow voc DIR`.
 *
 * @param args The arguments after the command.
 * @returns The exit code.
 */
export async function vocCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    ...UPLOAD_OPTIONS,
    ...FORMAT_OPTIONS,
    annotations: { type: "string" },
    images: { type: "string" },
  });
  if (values.help) {
    console.log(VOC_HELP);
    return ExitCode.Ok;
  }
  if (positionals.length !== 1) throw new UsageError("voc takes one DIR");
  const [root] = positionals;
  const idFrom = idFromOf(values["id-from"]);
  await mustExist(root, "folder");
  const options = uploadOptionsFrom(values);
  const sourceOptions = {
    annotationsDir: values.annotations,
    imagesDir: values.images,
    idFrom,
    clampBoxes: values["clamp-boxes"],
    datasetId: options.datasetId,
  };
  return await run(
    "voc",
    args,
    values,
    root,
    options,
    (onClamped) => vocSource(root, { ...sourceOptions, onClamped }),
    (final) => uploadVoc(root, { ...final, ...sourceOptions }),
  );
}
