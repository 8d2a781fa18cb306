/**
 * Dataset versions around an upload: {@linkcode datasetVersionEvents} makes a version of a
 * dataset (PostDatasetVersions), waits until the server has it ready (bounded polling of
 * GetDatasetVersion, with an event at every change and at least every few seconds) and reads its
 * metrics (ListDatasetVersionMetricsGroups); {@linkcode latestDatasetVersion} finds the newest
 * version of a dataset and its metrics; {@linkcode versionMetricsOf} reads the metrics groups the
 * way the official Python SDK's `get_upload_status` does.
 *
 * Every call goes through the client's retry interceptor: throttling and `UNAVAILABLE` are waited
 * out there.
 *
 * @module
 */
import type { V2Client } from "../clarifai/api_types.ts";
import {
  type DatasetVersion,
  type DatasetVersionMetricsGroup,
  DatasetVersionMetricsGroupType,
} from "../gen/clarifai/api/resources_pb.ts";
import { StatusCode } from "../gen/clarifai/api/status/status_code_pb.ts";
import { statusCodeName } from "../clarifai/status_codes.ts";
import type {
  DatasetVersionConcept,
  DatasetVersionMetrics,
  VersionEvent,
} from "../pipeline/progress_event.ts";

/** The user and app of the calls (`undefined` with an app-scoped key). */
export type VersionUserAppId = { userId: string; appId: string } | undefined;

/** Options of {@linkcode datasetVersionEvents}. */
export interface DatasetVersionOptions {
  /** The version's ID (default: 32 random hex digits, as the SDK makes them). */
  id?: string;
  /** Its description (default `upflow upload`). */
  description?: string;
  /** How long to wait for it to be ready, in milliseconds (default 600 000, the SDK's). */
  timeoutMs?: number;
  /** The first wait between two looks, in milliseconds (default 250; it grows to 5 s). */
  pollMs?: number;
  /** An event at least this often while the status stays the same (default 5 000 ms). */
  heartbeatMs?: number;
  /** Stops the wait (then no further event comes). */
  signal?: AbortSignal;
}

const READY = StatusCode.DATASET_VERSION_READY;
const WAITING = new Map<number, VersionEvent["status"]>([
  [StatusCode.DATASET_VERSION_PENDING, "pending"],
  [StatusCode.DATASET_VERSION_IN_PROGRESS, "in progress"],
]);
const MAX_POLL_MS = 5_000;
const METRICS_PAGE = 1000;

/** A status as words: `CONN_THROTTLED exceeded limit …`. */
function describe(status: { code: number; description?: string; details?: string } | undefined) {
  if (!status) return "no status in the answer";
  return [statusCodeName(status.code), status.description, status.details]
    .filter((s) => s).join(" ");
}

/** Waits `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Reads metrics groups as the official Python SDK's `get_upload_status` does: inputs by the
 * value of each group that is not a concept group (`total`, then each kind), and annotations
 * summed over the concept groups (`positive_input_tags_count` as concepts,
 * `bounding_boxes_count`, `polygons_count`); frames from the total group.
 *
 * @param groups The groups of ListDatasetVersionMetricsGroups.
 * @returns The metrics.
 *
 * @example Two concepts on three images
 * ```ts
 * import { versionMetricsOf } from "./dataset_version.ts";
 * import { DatasetVersionMetricsGroupType as T } from "../gen/clarifai/api/resources_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const group = (type: T, value: string, inputsCount: bigint, positiveInputTagsCount = 0n) =>
 *   ({ type, value: { kind: { case: "stringValue", value } }, metrics: { inputsCount, positiveInputTagsCount } });
 * const metrics = versionMetricsOf([
 *   group(T.DATASET_VERSION_METRICS_GROUP_TYPE_NOT_SET, "total", 3n, 3n),
 *   group(T.INPUT_TYPE, "image", 3n),
 *   group(T.CONCEPT_ID, "cat", 2n, 2n),
 *   group(T.CONCEPT_ID, "dog", 1n, 1n),
 * ] as never);
 * assertEquals(metrics.inputs, 3);
 * assertEquals(metrics.inputsByKind, { image: 3 });
 * assertEquals(metrics.annotations.concepts, 3);
 * assertEquals(metrics.concepts.map((c) => [c.id, c.inputs]), [["cat", 2], ["dog", 1]]);
 * ```
 */
export function versionMetricsOf(
  groups: readonly DatasetVersionMetricsGroup[],
): DatasetVersionMetrics {
  const n = (v: bigint | undefined) => Number(v ?? 0n);
  const metrics: DatasetVersionMetrics = {
    inputs: 0,
    inputsByKind: {},
    annotations: { concepts: 0, boundingBoxes: 0, polygons: 0, frames: 0 },
    concepts: [],
  };
  for (const group of groups) {
    const value = group.value?.kind.case === "stringValue" ? group.value.kind.value : undefined;
    const m = group.metrics;
    if (value === undefined || m === undefined) continue;
    if (group.type === DatasetVersionMetricsGroupType.CONCEPT_ID) {
      const concept: DatasetVersionConcept = {
        id: value,
        inputs: n(m.inputsCount),
        inputTags: n(m.positiveInputTagsCount),
        boundingBoxes: n(m.boundingBoxesCount),
        polygons: n(m.polygonsCount),
      };
      metrics.concepts.push(concept);
      metrics.annotations.concepts += concept.inputTags;
      metrics.annotations.boundingBoxes += concept.boundingBoxes;
      metrics.annotations.polygons += concept.polygons;
    } else if (value === "total") {
      metrics.inputs = n(m.inputsCount);
      metrics.annotations.frames = n(m.framesCount);
    } else {
      metrics.inputsByKind[value] = n(m.inputsCount);
    }
  }
  return metrics;
}

/**
 * Reads every metrics group of a version, a page at a time, and returns its metrics.
 *
 * @param client The client.
 * @param userAppId The user and app.
 * @param datasetId The dataset.
 * @param versionId The version.
 * @returns The metrics.
 * @throws {Error} When an answer is not a success.
 */
async function readVersionMetrics(
  client: V2Client,
  userAppId: VersionUserAppId,
  datasetId: string,
  versionId: string,
): Promise<DatasetVersionMetrics> {
  const groups: DatasetVersionMetricsGroup[] = [];
  for (let page = 1;; page++) {
    const listed = await client.listDatasetVersionMetricsGroups({
      userAppId,
      datasetId,
      datasetVersionId: versionId,
      page,
      perPage: METRICS_PAGE,
    });
    if (listed.status?.code !== StatusCode.SUCCESS) {
      throw new Error(`Could not read the version's metrics: ${describe(listed.status)}`);
    }
    groups.push(...listed.datasetVersionMetricsGroups);
    if (listed.datasetVersionMetricsGroups.length < METRICS_PAGE) break;
  }
  return versionMetricsOf(groups);
}

/** Asks for the version; `undefined` when made, else what went wrong. */
async function postVersion(
  client: V2Client,
  userAppId: VersionUserAppId,
  datasetId: string,
  id: string,
  description: string,
): Promise<string | undefined> {
  const made = await client.postDatasetVersions({
    userAppId,
    datasetId,
    datasetVersions: [{ id, description }],
  });
  if (made.status?.code === StatusCode.SUCCESS) return undefined;
  // An attempt whose answer was lost made it: the retry hears that the ID exists.
  if (made.status?.code === StatusCode.DATABASE_DUPLICATE_KEY) {
    const got = await client.getDatasetVersion({ userAppId, datasetId, datasetVersionId: id });
    if (got.status?.code === StatusCode.SUCCESS) return undefined;
  }
  return `Could not create a version of dataset "${datasetId}": ${describe(made.status)}`;
}

/**
 * Makes a version of a dataset, waits until it is ready and reads its metrics, as events: the
 * version `pending` once made, then its status at every change and at least every
 * `heartbeatMs`, and last `ready` with the metrics, or `failed` / `timed out` with an error (a
 * version not ready in time stays on the server and becomes ready there). Nothing throws: what
 * goes wrong is the last event's `error`.
 *
 * @param client A client of `clarifai.api.V2` (with its retry interceptor).
 * @param userAppId The user and app.
 * @param datasetId The dataset.
 * @param options ID, description, timeout, polling, signal.
 * @yields The version's events.
 *
 * @example A version of a dataset on the embedded local API
 * ```ts
 * import { datasetVersionEvents, ensureDataset, openTarget, summaryOf, uploadInputs } from "@upflow/upflow";
 * import { localTarget } from "@upflow/upflow/local";
 * import { assertEquals } from "@std/assert";
 *
 * const target = await openTarget({ env: null, local: localTarget({ dataDir: await Deno.makeTempDir() }) });
 * await ensureDataset(target.client, "notes", true);
 * await summaryOf(uploadInputs([
 *   { id: "n1", kind: "text", content: { type: "raw", text: "hi" }, location: "n1", concepts: ["greeting"], datasetId: "notes" },
 * ], { target, datasetId: "notes" }));
 * let last;
 * for await (const event of datasetVersionEvents(target.client, target.client.userAppId, "notes")) last = event;
 * assertEquals(last?.status, "ready");
 * assertEquals(last?.metrics?.inputsByKind, { text: 1 });
 * assertEquals(last?.metrics?.concepts.map((c) => c.id), ["greeting"]);
 * await target.close();
 * ```
 */
export async function* datasetVersionEvents(
  client: V2Client,
  userAppId: VersionUserAppId,
  datasetId: string,
  options: DatasetVersionOptions = {},
): AsyncGenerator<VersionEvent> {
  const id = options.id ?? crypto.randomUUID().replaceAll("-", "");
  const { signal, timeoutMs = 600_000, heartbeatMs = 5_000 } = options;
  const started = performance.now();
  const event = (status: VersionEvent["status"], extra: Partial<VersionEvent> = {}) => ({
    type: "version" as const,
    id,
    datasetId,
    status,
    elapsedMs: Math.round(performance.now() - started),
    ...extra,
  });
  try {
    const refused = await postVersion(
      client,
      userAppId,
      datasetId,
      id,
      options.description ?? "upflow upload",
    );
    if (refused) return yield event("failed", { error: refused });
    let shown: VersionEvent["status"] = "pending";
    let shownAt = performance.now();
    yield event(shown);
    for (let wait = options.pollMs ?? 250;; wait = Math.min(wait * 1.5, MAX_POLL_MS)) {
      const got = await client.getDatasetVersion({ userAppId, datasetId, datasetVersionId: id });
      if (signal?.aborted) return;
      const code = got.datasetVersion?.status?.code;
      if (got.status?.code !== StatusCode.SUCCESS || code === undefined) {
        return yield event("failed", {
          error: `Could not read the version: ${describe(got.status)}`,
        });
      }
      if (code === READY) break;
      const status = WAITING.get(code);
      if (status === undefined) {
        return yield event("failed", {
          error: `The version failed: ${describe(got.datasetVersion?.status)}`,
        });
      }
      const elapsed = performance.now() - started;
      if (elapsed >= timeoutMs) {
        return yield event("timed out", {
          error: `The version is not ready after ${Math.round(elapsed / 1000)} s (${status}); ` +
            `it stays on the server and becomes ready there`,
        });
      }
      if (status !== shown || performance.now() - shownAt >= heartbeatMs) {
        shown = status;
        shownAt = performance.now();
        yield event(status);
      }
      await sleep(Math.min(wait, timeoutMs - elapsed), signal);
      if (signal?.aborted) return;
    }
    yield event("ready", { metrics: await readVersionMetrics(client, userAppId, datasetId, id) });
  } catch (err) {
    if (signal?.aborted) return;
    yield event("failed", { error: (err as Error)?.message ?? String(err) });
  }
}

/** The newest version of a dataset, with its metrics when it is ready. */
export interface LatestDatasetVersion {
  /** The version's ID. */
  id: string;
  /** Its status: `ready`, `pending`, `in progress`, or the status code's name. */
  status: string;
  /** When it was made (ISO 8601), when the server says. */
  createdAt?: string;
  /** Its description. */
  description?: string;
  /** Its metrics, when ready. */
  metrics?: DatasetVersionMetrics;
}

function statusWord(version: DatasetVersion): string {
  const code = version.status?.code ?? 0;
  if (code === READY) return "ready";
  return WAITING.get(code) ?? statusCodeName(code);
}

/**
 * The newest version of a dataset (ListDatasetVersions lists them newest first), with its
 * metrics when it is ready.
 *
 * @param client A client of `clarifai.api.V2`.
 * @param userAppId The user and app.
 * @param datasetId The dataset.
 * @returns The version, or `undefined` when the dataset has none.
 * @throws {Error} When an answer is not a success (a dataset that does not exist, say).
 *
 * @example A dataset without versions
 * ```ts
 * import { ensureDataset, latestDatasetVersion, openTarget } from "@upflow/upflow";
 * import { localTarget } from "@upflow/upflow/local";
 * import { assertEquals } from "@std/assert";
 *
 * const target = await openTarget({ env: null, local: localTarget({ dataDir: await Deno.makeTempDir() }) });
 * await ensureDataset(target.client, "empty", true);
 * assertEquals(await latestDatasetVersion(target.client, target.client.userAppId, "empty"), undefined);
 * await target.close();
 * ```
 */
export async function latestDatasetVersion(
  client: V2Client,
  userAppId: VersionUserAppId,
  datasetId: string,
): Promise<LatestDatasetVersion | undefined> {
  const listed = await client.listDatasetVersions({ userAppId, datasetId, page: 1, perPage: 1 });
  if (listed.status?.code !== StatusCode.SUCCESS) {
    throw new Error(
      `Could not list the versions of dataset "${datasetId}": ${describe(listed.status)}`,
    );
  }
  const version = listed.datasetVersions[0];
  if (!version) return undefined;
  const status = statusWord(version);
  const created = version.createdAt;
  return {
    id: version.id,
    status,
    ...(created
      ? { createdAt: new Date(Number(created.seconds) * 1000 + created.nanos / 1e6).toISOString() }
      : {}),
    ...(version.description ? { description: version.description } : {}),
    ...(status === "ready"
      ? { metrics: await readVersionMetrics(client, userAppId, datasetId, version.id) }
      : {}),
  };
}
