/**
 * The metrics of a dataset version, as ListDatasetVersionMetricsGroups answers them and the
 * official Python SDK's `get_upload_status` reads them: a root group (`parent_path` "/", value
 * `"total"`) with the counts of the whole dataset, one `INPUT_TYPE` group per kind of input
 * (value `image`, `video`, `text`, `audio`) and one `CONCEPT_ID` group per concept. Every count
 * is set, zero included (the SDK indexes them without checking).
 *
 * Labels are read where the local API keeps them: concepts from input-level annotations (made by
 * PostInputs from the inputs' concepts, or posted), regions and frames from the other annotations
 * and from the inputs' own data.
 *
 * @module
 */
import { create, fromBinary } from "@bufbuild/protobuf";
import {
  type Data,
  DataSchema,
  type DatasetVersionMetrics,
  type DatasetVersionMetricsGroup,
  DatasetVersionMetricsGroupSchema,
  DatasetVersionMetricsGroupType,
  DatasetVersionMetricsSchema,
  type Region,
} from "../../src/gen/clarifai/api/resources_pb.ts";
import type { LocalStore } from "./store.ts";

/** The counts of one group, as plain numbers. */
export interface Counts {
  /** Inputs. */
  inputs: number;
  /** Inputs with no concept, region or frame. */
  unlabeledInputs: number;
  /** Inputs with metadata. */
  inputsWithMetadata: number;
  /** Inputs with a geo point. */
  inputsWithGeo: number;
  /** Regions. */
  regions: number;
  /** Regions with a bounding box. */
  boundingBoxes: number;
  /** Regions with a polygon. */
  polygons: number;
  /** Regions with a point. */
  points: number;
  /** Regions with a mask. */
  masks: number;
  /** Inputs with at least one region. */
  regionInputs: number;
  /** Frames with at least one region. */
  regionFrames: number;
  /** Frames. */
  frames: number;
  /** Inputs with at least one frame. */
  frameInputs: number;
  /** Input-level concepts with a positive value. */
  positiveInputTags: number;
  /** Region concepts with a positive value. */
  positiveRegionTags: number;
  /** Frame concepts with a positive value. */
  positiveFrameTags: number;
}

const zero = (): Counts => ({
  inputs: 0,
  unlabeledInputs: 0,
  inputsWithMetadata: 0,
  inputsWithGeo: 0,
  regions: 0,
  boundingBoxes: 0,
  polygons: 0,
  points: 0,
  masks: 0,
  regionInputs: 0,
  regionFrames: 0,
  frames: 0,
  frameInputs: 0,
  positiveInputTags: 0,
  positiveRegionTags: 0,
  positiveFrameTags: 0,
});

/**
 * The counts as a `DatasetVersionMetrics` message (every wrapper set).
 *
 * @param c The counts.
 * @returns The message.
 *
 * @example Usage
 * ```ts
 * import { metricsMessage } from "./dataset_metrics.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const m = metricsMessage({ inputs: 2, unlabeledInputs: 0, inputsWithMetadata: 0, inputsWithGeo: 0,
 *   regions: 0, boundingBoxes: 0, polygons: 0, points: 0, masks: 0, regionInputs: 0, regionFrames: 0,
 *   frames: 0, frameInputs: 0, positiveInputTags: 2, positiveRegionTags: 0, positiveFrameTags: 0 });
 * assertEquals([m.inputsCount, m.polygonsCount], [2n, 0n]);
 * ```
 */
export function metricsMessage(c: Counts): DatasetVersionMetrics {
  const n = BigInt;
  return create(DatasetVersionMetricsSchema, {
    inputsCount: n(c.inputs),
    unlabeledInputsCount: n(c.unlabeledInputs),
    inputsWithMetadataCount: n(c.inputsWithMetadata),
    inputsWithGeoCount: n(c.inputsWithGeo),
    regionsCount: n(c.regions),
    boundingBoxesCount: n(c.boundingBoxes),
    polygonsCount: n(c.polygons),
    pointsCount: n(c.points),
    masksCount: n(c.masks),
    regionInputsCount: n(c.regionInputs),
    regionFramesCount: n(c.regionFrames),
    framesCount: n(c.frames),
    frameInputsCount: n(c.frameInputs),
    positiveInputTagsCount: n(c.positiveInputTags),
    positiveRegionTagsCount: n(c.positiveRegionTags),
    positiveFrameTagsCount: n(c.positiveFrameTags),
  });
}

/** One input's labels, gathered from its data and its annotations. */
interface Labels {
  kind: string;
  inputConcepts: Set<string>;
  regions: { region: Region; inFrame: boolean }[];
  frames: { concepts: string[]; regions: number }[];
  metadata: boolean;
  geo: boolean;
}

const positive = (data: Data | undefined) =>
  (data?.concepts ?? []).filter((c) => c.value > 0).map((c) => c.id || c.name);

function gather(labels: Labels, data: Data, inputLevel: boolean): void {
  if (inputLevel) { for (const id of positive(data)) labels.inputConcepts.add(id); }
  for (const region of data.regions) labels.regions.push({ region, inFrame: false });
  for (const frame of data.frames) {
    const regions = frame.data?.regions ?? [];
    for (const region of regions) labels.regions.push({ region, inFrame: true });
    labels.frames.push({ concepts: positive(frame.data), regions: regions.length });
  }
}

/** Adds one input's labels to a group's counts. */
function count(c: Counts, l: Labels, concept?: string): void {
  const regions = concept === undefined
    ? l.regions
    : l.regions.filter((r) => positive(r.region.data).includes(concept));
  const frames = concept === undefined
    ? l.frames
    : l.frames.filter((f) => f.concepts.includes(concept));
  c.inputs++;
  if (l.inputConcepts.size === 0 && l.regions.length === 0 && l.frames.length === 0) {
    c.unlabeledInputs++;
  }
  if (l.metadata) c.inputsWithMetadata++;
  if (l.geo) c.inputsWithGeo++;
  for (const { region, inFrame } of regions) {
    const info = region.regionInfo;
    c.regions++;
    if (info?.boundingBox) c.boundingBoxes++;
    if (info?.polygon) c.polygons++;
    if (info?.point) c.points++;
    if (info?.mask) c.masks++;
    if (inFrame) c.regionFrames++;
    c.positiveRegionTags += concept === undefined ? positive(region.data).length : 1;
  }
  if (regions.length > 0) c.regionInputs++;
  c.frames += frames.length;
  if (frames.length > 0) c.frameInputs++;
  for (const f of frames) c.positiveFrameTags += concept === undefined ? f.concepts.length : 1;
  c.positiveInputTags += concept === undefined
    ? l.inputConcepts.size
    : (l.inputConcepts.has(concept) ? 1 : 0);
}

/** Every concept an input carries anywhere. */
function conceptsOf(l: Labels): Set<string> {
  const all = new Set(l.inputConcepts);
  for (const { region } of l.regions) for (const id of positive(region.data)) all.add(id);
  for (const f of l.frames) for (const id of f.concepts) all.add(id);
  return all;
}

const PAGE_SIZE = 500;
const INPUT_SUCCESS = 30000;
const byKey = <T>(a: [string, T], b: [string, T]) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;

/**
 * Computes the metrics groups of a dataset as it is now, reading its inputs a page at a time.
 *
 * @param store The store.
 * @param app The app's key.
 * @param datasetId The dataset ID.
 * @returns The groups: the root (`"total"`), one per input kind, one per concept.
 *
 * @example An empty dataset still has its root group
 * ```ts
 * import { datasetMetricsGroups } from "./dataset_metrics.ts";
 * import { LocalStore } from "./store.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const groups = datasetMetricsGroups(store, store.appKey("me", "demo"), "ds");
 * assertEquals(groups.map((g) => [g.parentPath, g.value?.kind.value, g.metrics?.inputsCount]), [["/", "total", 0n]]);
 * store.close();
 * ```
 */
export function datasetMetricsGroups(
  store: LocalStore,
  app: number,
  datasetId: string,
): DatasetVersionMetricsGroup[] {
  const total = zero();
  const byKind = new Map<string, Counts>();
  const byConcept = new Map<string, Counts>();
  for (let offset = 0;; offset += PAGE_SIZE) {
    const page = store.datasets.listInputs(app, datasetId, { offset, limit: PAGE_SIZE });
    if (page.length === 0) break;
    // Only processed inputs are in a version (the processor waits for the others).
    const rows = page.map((r) => r.input).filter((input) => input.statusCode === INPUT_SUCCESS);
    const annotations = store.annotations.list(app, { inputIds: rows.map((r) => r.id) }, {
      offset: 0,
      limit: Number.MAX_SAFE_INTEGER,
    });
    const labels = new Map<string, Labels>();
    for (const row of rows) {
      const data = fromBinary(DataSchema, row.data);
      const l: Labels = {
        kind: row.kind,
        inputConcepts: new Set(),
        regions: [],
        frames: [],
        metadata: data.metadata !== undefined && Object.keys(data.metadata).length > 0,
        geo: data.geo?.geoPoint !== undefined,
      };
      gather(l, create(DataSchema, { regions: data.regions, frames: data.frames }), false);
      labels.set(row.id, l);
    }
    for (const a of annotations) {
      const l = labels.get(a.inputId);
      if (l) gather(l, fromBinary(DataSchema, a.data), a.inputLevel);
    }
    for (const l of labels.values()) {
      count(total, l);
      if (!byKind.has(l.kind)) byKind.set(l.kind, zero());
      count(byKind.get(l.kind)!, l);
      for (const concept of conceptsOf(l)) {
        if (!byConcept.has(concept)) byConcept.set(concept, zero());
        count(byConcept.get(concept)!, l, concept);
      }
    }
    if (page.length < PAGE_SIZE) break;
  }
  const group = (type: DatasetVersionMetricsGroupType, value: string, c: Counts) =>
    create(DatasetVersionMetricsGroupSchema, {
      parentPath: "/",
      type,
      value: { kind: { case: "stringValue", value } },
      metrics: metricsMessage(c),
    });
  return [
    group(
      DatasetVersionMetricsGroupType.DATASET_VERSION_METRICS_GROUP_TYPE_NOT_SET,
      "total",
      total,
    ),
    ...[...byKind].sort(byKey).map(([kind, c]) =>
      group(DatasetVersionMetricsGroupType.INPUT_TYPE, kind, c)
    ),
    ...[...byConcept].sort(byKey).map(([id, c]) =>
      group(DatasetVersionMetricsGroupType.CONCEPT_ID, id, c)
    ),
  ];
}
