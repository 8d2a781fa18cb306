/**
 * Turns a draft's regions (images) and frame regions (videos) into the protobuf
 * `clarifai.api.Annotation`s posted with `PostAnnotations` once the input is accepted, each with
 * a deterministic ID so a retry cannot duplicate a box.
 *
 * @module
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { createHash } from "node:crypto";
import {
  type Annotation,
  AnnotationSchema,
  type RegionSchema,
} from "../gen/clarifai/api/resources_pb.ts";
import type { FrameDraft, InputDraft, RegionDraft } from "./input_draft.ts";

type RegionInit = MessageInitShape<typeof RegionSchema>;

/**
 * Converts a draft's regions into annotations: one annotation per image region, with
 * `data.regions[0]` holding the box (`region_info.bounding_box`) or polygon
 * (`region_info.polygon.points`), the region's concepts (value 1) and its track ID; and for
 * videos one annotation per region of each frame, with `data.frames[0]` holding the frame's
 * number and time and the region. Each annotation's `input_id` is the draft's ID; its `id` is the
 * region's `id` when given, else {@linkcode annotationId} of the input ID, the region's content
 * and its position, so the same draft always yields the same IDs.
 *
 * @param draft The draft.
 * @returns The annotations, in region order (frame by frame for videos); empty when there are
 * no regions.
 *
 * @example A box on an image
 * ```ts
 * import { toAnnotations } from "./to_annotations.ts";
 * import { assertEquals, assertMatch } from "@std/assert";
 *
 * const [annotation] = toAnnotations({
 *   id: "cat-01",
 *   kind: "image",
 *   content: { type: "file", path: "cat.jpg" },
 *   location: "cat.jpg",
 *   concepts: [],
 *   regions: [{ concepts: ["cat"], box: { left: 0.25, top: 0.5, right: 0.75, bottom: 1 } }],
 * });
 * assertEquals(annotation.inputId, "cat-01");
 * assertMatch(annotation.id, /^a-[0-9a-f]{20}$/);
 * const region = annotation.data!.regions[0];
 * assertEquals(region.regionInfo?.boundingBox?.leftCol, 0.25);
 * assertEquals(region.regionInfo?.boundingBox?.bottomRow, 1);
 * assertEquals(region.data?.concepts.map((c) => [c.id, c.value]), [["cat", 1]]);
 * ```
 */
export function toAnnotations(draft: InputDraft): Annotation[] {
  const annotations: Annotation[] = [];
  (draft.regions ?? []).forEach((region, index) => {
    annotations.push(create(AnnotationSchema, {
      id: region.id ?? annotationId(draft.id, { region: regionKey(region) }, [index]),
      inputId: draft.id,
      data: { regions: [regionInit(region)] },
    }));
  });
  (draft.frames ?? []).forEach((frame, frameIndex) => {
    frame.regions.forEach((region, index) => {
      const key = { frame: frameKey(frame), region: regionKey(region) };
      annotations.push(create(AnnotationSchema, {
        id: region.id ?? annotationId(draft.id, key, [frameIndex, index]),
        inputId: draft.id,
        data: {
          frames: [{
            frameInfo: {
              number: frame.number ?? 0,
              time: frame.timeMs === undefined ? 0 : Math.round(frame.timeMs),
            },
            data: { regions: [regionInit(region)] },
          }],
        },
      }));
    });
  });
  return annotations;
}

/**
 * Derives a deterministic annotation ID, `a-` and 20 hex digits of a SHA-256 over the input ID,
 * the region's content and its position, so re-sending the same draft yields the same ID.
 *
 * @param inputId The input's ID.
 * @param content The region's content (any JSON-serializable value; object keys are sorted).
 * @param position The region's position (e.g. `[regionIndex]` or `[frameIndex, regionIndex]`).
 * @returns The annotation ID.
 *
 * @example Usage
 * ```ts
 * import { annotationId } from "./to_annotations.ts";
 * import { assertEquals, assertNotEquals } from "@std/assert";
 *
 * const box = { box: { left: 0, top: 0, right: 1, bottom: 1 }, concepts: ["cat"] };
 * assertEquals(annotationId("in", box, [0]), annotationId("in", box, [0]));
 * assertNotEquals(annotationId("in", box, [0]), annotationId("in", box, [1]));
 * ```
 */
export function annotationId(inputId: string, content: unknown, position: number[]): string {
  const text = canonicalJson([inputId, content, position]);
  return `a-${createHash("sha256").update(text).digest("hex").slice(0, 20)}`;
}

function regionInit(region: RegionDraft): RegionInit {
  const init: RegionInit = {
    data: { concepts: region.concepts.map((id) => ({ id, value: 1 })) },
  };
  if (region.box !== undefined) {
    const { top, left, bottom, right } = region.box;
    init.regionInfo = {
      boundingBox: { topRow: top, leftCol: left, bottomRow: bottom, rightCol: right },
    };
  } else if (region.polygon !== undefined) {
    init.regionInfo = {
      polygon: { points: region.polygon.map(({ row, col }) => ({ row, col })) },
    };
  }
  if (region.trackId !== undefined) init.trackId = region.trackId;
  return init;
}

function regionKey(region: RegionDraft): unknown {
  return {
    box: region.box,
    polygon: region.polygon?.map(({ row, col }) => [row, col]),
    concepts: region.concepts,
    trackId: region.trackId,
  };
}

function frameKey(frame: FrameDraft): unknown {
  return { number: frame.number, timeMs: frame.timeMs };
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key];
    return sorted;
  });
}
