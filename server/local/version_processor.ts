/**
 * The local API's background processing of dataset versions: a version is created
 * `DATASET_VERSION_PENDING`, moves to `DATASET_VERSION_IN_PROGRESS` after one step, and becomes
 * `DATASET_VERSION_READY` with its metrics once every input of its dataset is processed (inputs
 * still pending keep it in progress, as Clarifai's versions wait for their inputs).
 *
 * @module
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { MultiDatasetVersionMetricsGroupResponseSchema } from "../../src/gen/clarifai/api/service_pb.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import { datasetMetricsGroups } from "./dataset_metrics.ts";
import type { LocalStore } from "./store.ts";

/** Options of {@linkcode VersionProcessor}. */
export interface VersionProcessorOptions {
  /** Milliseconds between the steps pending → in progress → ready (default 50). */
  stepMs?: number;
}

/**
 * Moves dataset versions from pending to ready in the background.
 *
 * @example Process a version of an empty dataset
 * ```ts
 * import { VersionProcessor } from "./version_processor.ts";
 * import { LocalStore } from "./store.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const app = store.appKey("me", "demo");
 * store.versions.insert({ app, datasetId: "ds", id: "v1", message: new Uint8Array(), statusCode: 64005, metrics: null, createdAt: 1, modifiedAt: 1 });
 * const processor = new VersionProcessor(store, { stepMs: 0 });
 * processor.kick();
 * await processor.idle();
 * assertEquals(store.versions.get(app, "ds", "v1")?.statusCode, 64015);
 * processor.close();
 * store.close();
 * ```
 */
export class VersionProcessor {
  #store: LocalStore;
  #stepMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #waiters: (() => void)[] = [];

  /**
   * Creates a processor; call {@linkcode VersionProcessor.prototype.kick} to start it.
   *
   * @param store The store.
   * @param options The step delay.
   */
  constructor(store: LocalStore, options: VersionProcessorOptions = {}) {
    const { stepMs = 50 } = options;
    if (!(Number.isFinite(stepMs) && stepMs >= 0)) {
      throw new RangeError(
        `Cannot create VersionProcessor: stepMs must be a number of at least 0: current value is ${stepMs}`,
      );
    }
    this.#store = store;
    this.#stepMs = stepMs;
  }

  /** Schedules a step (if none is scheduled). */
  kick(): void {
    if (this.#closed || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => this.#run(), this.#stepMs);
  }

  /**
   * Resolves when no version is pending or in progress.
   *
   * @returns A promise.
   */
  idle(): Promise<void> {
    if (this.#timer === undefined && this.#unfinished() === 0) return Promise.resolve();
    this.kick();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Stops processing; unfinished versions are taken up again after a restart. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }

  #unfinished(): number {
    return this.#store.versions.withStatus(StatusCode.DATASET_VERSION_PENDING, 1).length +
      this.#store.versions.withStatus(StatusCode.DATASET_VERSION_IN_PROGRESS, 1).length;
  }

  #run(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    const now = Date.now();
    const versions = this.#store.versions;
    // In progress → ready, for versions whose dataset has no input left to process.
    for (const v of versions.withStatus(StatusCode.DATASET_VERSION_IN_PROGRESS, 16)) {
      if (this.#store.datasets.unfinishedInputs(v.app, v.datasetId) > 0) continue;
      const groups = datasetMetricsGroups(this.#store, v.app, v.datasetId);
      const metrics = toBinary(
        MultiDatasetVersionMetricsGroupResponseSchema,
        create(MultiDatasetVersionMetricsGroupResponseSchema, {
          datasetVersionMetricsGroups: groups,
        }),
      );
      versions.setStatus(v.app, v.datasetId, v.id, StatusCode.DATASET_VERSION_READY, metrics, now);
    }
    // Pending → in progress.
    for (const v of versions.withStatus(StatusCode.DATASET_VERSION_PENDING, 64)) {
      versions.setStatus(
        v.app,
        v.datasetId,
        v.id,
        StatusCode.DATASET_VERSION_IN_PROGRESS,
        null,
        now,
      );
    }
    if (this.#unfinished() > 0) {
      this.kick();
    } else {
      for (const resolve of this.#waiters.splice(0)) resolve();
    }
  }
}
