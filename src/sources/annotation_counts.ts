/**
 * {@linkcode countAnnotations}: what an annotated source holds (images, boxes, polygons,
 * concepts), counted before anything is sent.
 *
 * @module
 */
import type { DraftOrRejection } from "../inputs/input_draft.ts";

/** What {@linkcode countAnnotations} found. */
export interface AnnotationCounts {
  /** Image drafts. */
  images: number;
  /** Image drafts without any region. */
  imagesWithoutRegions: number;
  /** Drafts of other kinds (video, audio, text). */
  otherInputs: number;
  /** Box regions (of images and of video frames). */
  boxes: number;
  /** Polygon regions. */
  polygons: number;
  /** Distinct concepts, on regions or inputs. */
  concepts: number;
  /** Regions per concept, most used first. */
  regionsByConcept: Record<string, number>;
  /** Rejections (records, regions or files refused). */
  rejected: number;
  /** Files passed over on purpose. */
  skipped: number;
}

/**
 * Reads a source to its end and counts its images, boxes, polygons and concepts, plus its
 * rejections and skips. Nothing is loaded or sent.
 *
 * @param source The source's items.
 * @returns The counts.
 *
 * @example Usage
 * ```ts
 * import { countAnnotations } from "./annotation_counts.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const counts = await countAnnotations([
 *   {
 *     type: "draft",
 *     draft: {
 *       id: "a", kind: "image", content: { type: "file", path: "a.jpg" }, location: "a.jpg",
 *       concepts: [],
 *       regions: [
 *         { concepts: ["cat"], box: { left: 0, top: 0, right: 1, bottom: 1 } },
 *         { concepts: ["cat"], polygon: [{ row: 0, col: 0 }, { row: 0, col: 1 }, { row: 1, col: 1 }] },
 *       ],
 *     },
 *   },
 *   { type: "rejected", rejection: { location: "x.json:annotation 3", reason: "RLE" } },
 * ]);
 * assertEquals(counts.images, 1);
 * assertEquals(counts.boxes, 1);
 * assertEquals(counts.polygons, 1);
 * assertEquals(counts.regionsByConcept, { cat: 2 });
 * assertEquals(counts.rejected, 1);
 * ```
 */
export async function countAnnotations(
  source: AsyncIterable<DraftOrRejection> | Iterable<DraftOrRejection>,
): Promise<AnnotationCounts> {
  const counts: AnnotationCounts = {
    images: 0,
    imagesWithoutRegions: 0,
    otherInputs: 0,
    boxes: 0,
    polygons: 0,
    concepts: 0,
    regionsByConcept: {},
    rejected: 0,
    skipped: 0,
  };
  const byConcept = new Map<string, number>();
  const inputConcepts = new Set<string>();
  for await (const item of source) {
    if (item.type === "rejected") counts.rejected++;
    else if (item.type === "skipped") counts.skipped++;
    else {
      const { draft } = item;
      for (const concept of draft.concepts) inputConcepts.add(concept);
      const regions = [
        ...(draft.regions ?? []),
        ...(draft.frames ?? []).flatMap((frame) => frame.regions),
      ];
      if (draft.kind === "image") {
        counts.images++;
        if (regions.length === 0) counts.imagesWithoutRegions++;
      } else counts.otherInputs++;
      for (const region of regions) {
        if (region.box !== undefined) counts.boxes++;
        else if (region.polygon !== undefined) counts.polygons++;
        for (const concept of region.concepts) {
          byConcept.set(concept, (byConcept.get(concept) ?? 0) + 1);
        }
      }
    }
  }
  const sorted = [...byConcept].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  counts.regionsByConcept = Object.fromEntries(sorted);
  counts.concepts = new Set([...byConcept.keys(), ...inputConcepts]).size;
  return counts;
}
