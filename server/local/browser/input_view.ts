/**
 * {@linkcode inputView}: what the browser shows of one input, gathered from its stored `Data`
 * and its annotations: content, concepts, regions (boxes, polygons, points, in 0..1
 * coordinates), video frames with their regions, metadata and geo point.
 *
 * @module
 */
import { fromBinary, type JsonObject } from "@bufbuild/protobuf";
import { type Data, DataSchema, type Region } from "../../../src/gen/clarifai/api/resources_pb.ts";
import type { AnnotationRow, InputRow } from "../store.ts";

/** A region to draw, in 0..1 image coordinates (x from the left, y from the top). */
export type RegionShape =
  | { type: "box"; x: number; y: number; width: number; height: number }
  | { type: "polygon"; points: [number, number][] }
  | { type: "point"; x: number; y: number };

/** A region with its labels. */
export interface RegionView {
  /** The region's ID. */
  id: string;
  /** The annotation that holds it (empty when it is in the input's own data). */
  annotationId: string;
  /** Its shape. */
  shape: RegionShape;
  /** The concepts of the region. */
  concepts: string[];
  /** The track it belongs to, in a video. */
  trackId: string;
}

/** One video frame with its regions. */
export interface FrameView {
  /** Frame number (or index). */
  index: number;
  /** Milliseconds from the start. */
  time: number;
  /** Its regions. */
  regions: RegionView[];
  /** Concepts of the whole frame. */
  concepts: string[];
}

/** What the browser shows of an input. */
export interface InputView {
  /** The input ID. */
  id: string;
  /** `image`, `video`, `audio` or `text`. */
  kind: string;
  /** SHA-256 of the stored bytes (served at `/local/blobs/{hash}`). */
  contentHash: string | null;
  /** Size of the stored bytes. */
  contentSize: number;
  /** The URL the input was added from, when it came by URL. */
  url: string;
  /** Inline text, for text inputs sent raw. */
  text: string;
  /** Concepts of the input (its own and its input-level annotations'), without repeats. */
  concepts: string[];
  /** Regions of the image. */
  regions: RegionView[];
  /** Video frames, in time order. */
  frames: FrameView[];
  /** Metadata, when any. */
  metadata?: JsonObject;
  /** The geo point, when any. */
  geo?: { latitude: number; longitude: number };
  /** Status code and description. */
  status: { code: number; description: string; details: string };
  /** Milliseconds since the epoch. */
  createdAt: number;
}

function shapeOf(region: Region): RegionShape | undefined {
  const info = region.regionInfo;
  if (!info) return undefined;
  if (info.boundingBox) {
    const b = info.boundingBox;
    return {
      type: "box",
      x: b.leftCol,
      y: b.topRow,
      width: b.rightCol - b.leftCol,
      height: b.bottomRow - b.topRow,
    };
  }
  if (info.polygon && info.polygon.points.length > 0) {
    return { type: "polygon", points: info.polygon.points.map((p) => [p.col, p.row]) };
  }
  if (info.point) return { type: "point", x: info.point.col, y: info.point.row };
  return undefined;
}

function conceptNames(data: Data | undefined): string[] {
  return (data?.concepts ?? []).map((c) => c.name || c.id);
}

function regionsOf(data: Data, annotationId: string): RegionView[] {
  const out: RegionView[] = [];
  for (const region of data.regions) {
    const shape = shapeOf(region);
    if (!shape) continue;
    out.push({
      id: region.id,
      annotationId,
      shape,
      concepts: conceptNames(region.data),
      trackId: region.trackId,
    });
  }
  return out;
}

/**
 * Gathers what the browser shows of an input.
 *
 * @param input The stored input.
 * @param annotations Its annotations.
 * @returns The view.
 *
 * @example A box from an annotation
 * ```ts
 * import { inputView } from "./input_view.ts";
 * import { create, toBinary } from "@bufbuild/protobuf";
 * import { DataSchema } from "../../../src/gen/clarifai/api/resources_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const data = toBinary(DataSchema, create(DataSchema, {
 *   regions: [{
 *     id: "r1",
 *     regionInfo: { boundingBox: { topRow: 0.1, leftCol: 0.2, bottomRow: 0.5, rightCol: 0.6 } },
 *     data: { concepts: [{ id: "cat", name: "cat", value: 1 }] },
 *   }],
 * }));
 * const view = inputView(
 *   { seq: 1, app: 1, id: "a", kind: "image", data: new Uint8Array(), contentHash: null,
 *     contentSize: 0, statusCode: 30000, statusDescription: "ok", statusDetails: "",
 *     createdAt: 0, modifiedAt: 0, jobId: "j" },
 *   [{ id: "n1", inputId: "a", data, inputLevel: false, statusCode: 24150,
 *     statusDescription: "ok", createdAt: 0, modifiedAt: 0 }],
 * );
 * assertEquals(view.regions[0].concepts, ["cat"]);
 * assertEquals(view.regions[0].shape.type, "box");
 * ```
 */
export function inputView(input: InputRow, annotations: AnnotationRow[]): InputView {
  const data = fromBinary(DataSchema, input.data);
  const concepts = new Set(conceptNames(data));
  const regions = regionsOf(data, "");
  const frames = new Map<string, FrameView>();
  const addFrames = (source: Data, annotationId: string) => {
    for (const frame of source.frames) {
      const index = frame.frameInfo?.number || frame.frameInfo?.index || 0;
      const time = frame.frameInfo?.time ?? 0;
      const key = `${time}:${index}`;
      let view = frames.get(key);
      if (!view) frames.set(key, view = { index, time, regions: [], concepts: [] });
      if (frame.data) {
        view.regions.push(...regionsOf(frame.data, annotationId));
        view.concepts.push(...conceptNames(frame.data).filter((c) => !view!.concepts.includes(c)));
      }
    }
  };
  addFrames(data, "");
  for (const annotation of annotations) {
    const adata = fromBinary(DataSchema, annotation.data);
    for (const name of conceptNames(adata)) concepts.add(name);
    regions.push(...regionsOf(adata, annotation.id));
    addFrames(adata, annotation.id);
  }
  const geo = data.geo?.geoPoint;
  return {
    id: input.id,
    kind: input.kind,
    contentHash: input.contentHash,
    contentSize: input.contentSize,
    url: data.image?.url || data.video?.url || data.audio?.url || data.text?.url || "",
    text: data.text?.raw ?? "",
    concepts: [...concepts],
    regions,
    frames: [...frames.values()].sort((a, b) => a.time - b.time || a.index - b.index),
    ...(data.metadata && Object.keys(data.metadata).length > 0 ? { metadata: data.metadata } : {}),
    ...(geo ? { geo: { latitude: geo.latitude, longitude: geo.longitude } } : {}),
    status: {
      code: input.statusCode,
      description: input.statusDescription,
      details: input.statusDetails,
    },
    createdAt: input.createdAt,
  };
}
