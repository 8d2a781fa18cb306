/**
 * {@linkcode vocSource}: a Pascal VOC dataset (`Annotations/*.xml` and `JPEGImages/`) as a
 * stream of image drafts with box regions.
 *
 * @module
 */
import { join, relative as relativePath } from "node:path";
import type { DraftOrRejection, RegionDraft } from "../inputs/input_draft.ts";
import { invalidConceptReason } from "../inputs/validate.ts";
import { boxFromPixels, checkRegion, type ImageSize } from "../inputs/regions.ts";
import { invalidImageSizeReason } from "../inputs/regions.ts";
import { annotatedImages, checkFormatOptions } from "./annotated_images.ts";
import { imageSize } from "./image_size.ts";
import { parseXml, xmlChild, xmlChildText, type XmlElement } from "./xml_element.ts";

/** Options of {@linkcode vocSource}. */
export interface VocSourceOptions {
  /** The folder of XML files (default `ROOT/Annotations`). */
  annotationsDir?: string;
  /** The folder of images (default `ROOT/JPEGImages`). */
  imagesDir?: string;
  /** Input IDs from file stems (default) or paths relative to the images folder. */
  idFrom?: "stem" | "path";
  /** Clamp boxes reaching outside the image into it instead of refusing them. */
  clampBoxes?: boolean;
  /** Called with the location of each region clamped (with `clampBoxes`). */
  onClamped?: (location: string) => void;
  /** The dataset every draft joins. */
  datasetId?: string;
}

function shown(root: string, path: string): string {
  const rel = relativePath(root, path).replaceAll("\\", "/");
  return rel === "" || rel.startsWith("..") ? path : rel;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

function sizeFromXml(root: XmlElement): ImageSize | undefined {
  const size = xmlChild(root, "size");
  if (size === undefined) return undefined;
  const dims = {
    width: Number(xmlChildText(size, "width") ?? NaN),
    height: Number(xmlChildText(size, "height") ?? NaN),
  };
  return invalidImageSizeReason(dims) === undefined ? dims : undefined;
}

/**
 * Streams a Pascal VOC dataset as image drafts. Images are walked in `JPEGImages/`
 * (recursively, sorted); each image's annotation is the XML file of the same stem in
 * `Annotations/`. Each `<object>` with a `<name>` and a `<bndbox>` (`xmin`, `ymin`, `xmax`,
 * `ymax` in pixels) becomes a box region, normalized with `<size><width>` and `<height>` (read
 * from the image's header when the XML gives none or zero). The object's name, trimmed, is the
 * concept. Coordinates are taken as pixel positions divided by the size, without VOC's 1-based
 * shift. `<part>` boxes, `<pose>`, `<truncated>`, `<difficult>` and `<segmented>` are ignored
 * (difficult objects are uploaded like the others).
 *
 * Refused, as rejections that never stop the stream:
 * - the whole image (location `Annotations/01.xml`, with the input ID): malformed XML, a root
 *   element other than `<annotation>`, a size neither in the XML nor in the image header, an
 *   unreadable XML file;
 * - one object (location `Annotations/01.xml:LINE`, the image still uploads): no name, no
 *   `<bndbox>`, coordinates that are not numbers, a box outside the image (unless
 *   `clampBoxes`) or empty.
 *
 * An image without an XML file is uploaded without regions. XML files without an image are not
 * read.
 *
 * @param root The dataset folder (holding `Annotations/` and `JPEGImages/`).
 * @param options Folders, IDs, clamping and dataset.
 * @returns A stream of drafts, rejections and skips.
 * @throws {RangeError} When an option is invalid.
 *
 * The stream errors with `NotFound` when the images folder does not exist.
 *
 * @example One object
 * ```ts
 * import { vocSource } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(`${root}/JPEGImages`);
 * await Deno.mkdir(`${root}/Annotations`);
 * await Deno.writeFile(`${root}/JPEGImages/01.jpg`, new Uint8Array([1]));
 * await Deno.writeTextFile(`${root}/Annotations/01.xml`, `<annotation>
 *   <size><width>200</width><height>100</height></size>
 *   <object><name>dog</name><bndbox><xmin>100</xmin><ymin>0</ymin><xmax>200</xmax><ymax>50</ymax></bndbox></object>
 * </annotation>`);
 * const [item] = await Array.fromAsync(vocSource(root));
 * assertEquals(item.type === "draft" && item.draft.regions, [
 *   { concepts: ["dog"], box: { left: 0.5, top: 0, right: 1, bottom: 0.5 } },
 * ]);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export function vocSource(
  root: string,
  options: VocSourceOptions = {},
): ReadableStream<DraftOrRejection> {
  checkFormatOptions("vocSource", root, options);
  const imagesDir = options.imagesDir ?? join(root, "JPEGImages");
  const annotationsDir = options.annotationsDir ?? join(root, "Annotations");
  const annotationsPrefix = shown(root, annotationsDir);
  return annotatedImages(
    [{ path: imagesDir, prefix: shown(root, imagesDir) }],
    options,
    async (draft, relative) => {
      const stem = relative.replace(/\.[^./]+$/, "");
      const location = `${annotationsPrefix}/${stem}.xml`;
      const refuse = (reason: string): DraftOrRejection[] => [{
        type: "rejected",
        rejection: { location, id: draft.id, reason },
      }];
      let text: string | undefined;
      try {
        text = await readIfExists(join(annotationsDir, `${stem}.xml`));
      } catch (error) {
        return refuse(`cannot read the XML file: ${(error as Error).message}`);
      }
      if (text === undefined) return [{ type: "draft", draft }];
      let xml: XmlElement;
      try {
        xml = parseXml(text);
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
        return refuse(`malformed XML: ${error.message}`);
      }
      if (xml.name !== "annotation") {
        return refuse(`the root element is <${xml.name}>, not <annotation>`);
      }
      const objects = xml.children.filter((child) => child.name === "object");
      const regions: RegionDraft[] = [];
      const items: DraftOrRejection[] = [];
      let dims: ImageSize | undefined;
      if (objects.length > 0) {
        dims = sizeFromXml(xml);
        if (dims === undefined && draft.content.type === "file") {
          dims = await imageSize(draft.content.path).catch(() => undefined);
        }
        if (dims === undefined) {
          return refuse(
            "no <size> with a positive <width> and <height>, and the image's size cannot be read from the file",
          );
        }
      }
      objects.forEach((object, i) => {
        const where = `${location}:${object.line}`;
        const name = xmlChildText(object, "name");
        const what = `object ${i + 1}${name ? ` (${JSON.stringify(name)})` : ""}`;
        const drop = (reason: string) =>
          items.push({
            type: "rejected",
            rejection: { location: where, reason: `${what}: ${reason}` },
          });
        if (name === undefined || name === "") return drop("no <name>");
        const conceptReason = invalidConceptReason(name);
        if (conceptReason !== undefined) return drop(conceptReason);
        const box = xmlChild(object, "bndbox");
        if (box === undefined) return drop("no <bndbox> (only boxes are read)");
        const corners = ["xmin", "ymin", "xmax", "ymax"].map((key) => xmlChildText(box, key));
        const numbers = corners.map((
          text,
        ) => (text === undefined || text === "" ? NaN : Number(text)));
        const bad = numbers.findIndex((n) => !Number.isFinite(n));
        if (bad >= 0) {
          return drop(
            `<${["xmin", "ymin", "xmax", "ymax"][bad]}> is not a number: got ${
              JSON.stringify(corners[bad] ?? null)
            }`,
          );
        }
        const checked = checkRegion(
          { concepts: [name], box: boxFromPixels(numbers, dims!) },
          { clampBoxes: options.clampBoxes },
        );
        if ("reason" in checked) return drop(checked.reason);
        regions.push(checked.region);
        if (checked.clamped) options.onClamped?.(where);
      });
      items.push({ type: "draft", draft: regions.length > 0 ? { ...draft, regions } : draft });
      return items;
    },
  );
}
