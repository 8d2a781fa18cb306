/**
 * The local API's storage: one SQLite database (`node:sqlite`, WAL mode) in a data folder, with
 * apps scoped by user and app ID and one table object per resource: {@linkcode InputTable}
 * (inputs and their processing), {@linkcode BlobStore} (content bytes once per SHA-256),
 * {@linkcode DatasetTable} (datasets and their inputs), {@linkcode AnnotationTable} and
 * {@linkcode JobTable} (inputs-add jobs) and {@linkcode DatasetVersionTable}. Every method is synchronous; group writes with
 * {@linkcode LocalStore.prototype.transaction}.
 *
 * @module
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ANNOTATIONS_SCHEMA, AnnotationTable } from "./store/annotation_table.ts";
import { BLOBS_SCHEMA, BlobStore } from "./store/blob_store.ts";
import { DATASETS_SCHEMA, DatasetTable } from "./store/dataset_table.ts";
import { DatasetVersionTable, VERSIONS_SCHEMA } from "./store/dataset_version_table.ts";
import { INPUTS_SCHEMA, InputTable } from "./store/input_table.ts";
import { JOBS_SCHEMA, JobTable } from "./store/job_table.ts";
import { SqliteDb } from "./store/sqlite_db.ts";

export type { AnnotationFilter, AnnotationRow } from "./store/annotation_table.ts";
export type { DatasetOrder, DatasetRow } from "./store/dataset_table.ts";
export type { VersionRow } from "./store/dataset_version_table.ts";
export type { InputProgress, InputRow, PendingInput } from "./store/input_table.ts";
export type { JobRow } from "./store/job_table.ts";
export type { Page } from "./store/sqlite_db.ts";

/** The name of the database file inside the data folder. */
export const DATABASE_FILE = "local.sqlite";

const APPS_SCHEMA = `
CREATE TABLE IF NOT EXISTS apps (
  app INTEGER PRIMARY KEY,
  user_id TEXT NOT NULL,
  app_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (user_id, app_id)
);
`;

/**
 * The SQLite store of the local API.
 *
 * @example Store and read an input
 * ```ts
 * import { LocalStore } from "./store.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const app = store.appKey("me", "demo");
 * store.inputs.insert({
 *   app, id: "a", kind: "text", data: new Uint8Array(), contentHash: null, contentSize: 0,
 *   statusCode: 30001, statusDescription: "Download pending", statusDetails: "",
 *   createdAt: 1, modifiedAt: 1, jobId: "job-1",
 * });
 * assertEquals(store.inputs.get(app, "a")?.kind, "text");
 * store.close();
 * ```
 */
export class LocalStore {
  #db: SqliteDb;
  /** Where the database lives: a file path or `":memory:"`. */
  readonly location: string;
  /** Inputs and their processing state. */
  readonly inputs: InputTable;
  /** Content bytes by SHA-256. */
  readonly blobs: BlobStore;
  /** Datasets and their inputs. */
  readonly datasets: DatasetTable;
  /** Annotations. */
  readonly annotations: AnnotationTable;
  /** Inputs-add jobs. */
  readonly jobs: JobTable;
  /** Dataset versions. */
  readonly versions: DatasetVersionTable;

  /**
   * Opens (creating when needed) the store in `dataDir`.
   *
   * @param dataDir The data folder, or `":memory:"` for a store that vanishes on close.
   */
  constructor(dataDir: string) {
    if (typeof dataDir !== "string" || dataDir === "") {
      throw new TypeError(
        `Cannot create LocalStore: dataDir must be a folder path or ":memory:": current value is ${
          JSON.stringify(dataDir)
        }`,
      );
    }
    let blobDir: string | undefined;
    if (dataDir === ":memory:") {
      this.location = ":memory:";
    } else {
      mkdirSync(dataDir, { recursive: true });
      this.location = join(dataDir, DATABASE_FILE);
      blobDir = join(dataDir, "blobs");
      mkdirSync(blobDir, { recursive: true });
    }
    this.#db = new SqliteDb(
      this.location,
      APPS_SCHEMA + BLOBS_SCHEMA + INPUTS_SCHEMA + JOBS_SCHEMA + DATASETS_SCHEMA +
        ANNOTATIONS_SCHEMA + VERSIONS_SCHEMA,
    );
    this.inputs = new InputTable(this.#db);
    this.blobs = new BlobStore(this.#db, blobDir);
    this.datasets = new DatasetTable(this.#db);
    this.annotations = new AnnotationTable(this.#db);
    this.jobs = new JobTable(this.#db);
    this.versions = new DatasetVersionTable(this.#db);
  }

  /**
   * Runs `fn` in one transaction (nested calls join the outer one); rolls back when it throws.
   *
   * @param fn The work.
   * @returns What `fn` returns.
   *
   * @example Roll back on error
   * ```ts
   * import { LocalStore } from "./store.ts";
   * import { assertEquals, assertThrows } from "@std/assert";
   *
   * const store = new LocalStore(":memory:");
   * assertThrows(() => store.transaction(() => { store.appKey("u", "a"); throw new Error("no"); }));
   * assertEquals(store.findApp("u", "a"), undefined);
   * store.close();
   * ```
   */
  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn);
  }

  /** Closes the database. */
  close(): void {
    this.#db.close();
  }

  /**
   * Returns the key of an app, or `undefined` when nothing was ever stored in it.
   *
   * @param userId The user ID.
   * @param appId The app ID.
   * @returns The app's key.
   */
  findApp(userId: string, appId: string): number | undefined {
    const row = this.#db.sql("SELECT app FROM apps WHERE user_id = ? AND app_id = ?").get(
      userId,
      appId,
    );
    return row === undefined ? undefined : Number(row.app);
  }

  /**
   * Returns the key of an app, creating the app when it does not exist yet.
   *
   * @param userId The user ID.
   * @param appId The app ID.
   * @returns The app's key.
   */
  appKey(userId: string, appId: string): number {
    const found = this.findApp(userId, appId);
    if (found !== undefined) return found;
    const result = this.#db.sql(
      "INSERT INTO apps (user_id, app_id, created_at) VALUES (?, ?, ?)",
    ).run(userId, appId, Date.now());
    return Number(result.lastInsertRowid);
  }

  /**
   * Deletes inputs with their dataset memberships and annotations; content bytes no other input
   * uses are deleted too (their files once the transaction committed).
   *
   * @param app The app's key.
   * @param ids The input IDs.
   * @returns How many inputs were deleted.
   */
  deleteInputs(app: number, ids: string[]): number {
    const deleted = this.transaction(() => {
      const hashes = this.inputs.hashesOf(app, ids);
      const changes = this.inputs.delete(app, ids);
      this.datasets.removeInputs(app, ids);
      this.annotations.deleteOfInputs(app, ids);
      const files: string[] = [];
      for (const hash of hashes) {
        const file = this.inputs.usesHash(hash) ? undefined : this.blobs.forget(hash);
        if (file !== undefined) files.push(file);
      }
      return { changes, files };
    });
    this.blobs.removeFiles(deleted.files);
    return deleted.changes;
  }

  /**
   * Cancels an inputs-add job: marks it cancelled and fails its unfinished inputs.
   *
   * @param app The app's key.
   * @param id The job ID.
   * @param now Milliseconds since the epoch.
   * @returns How many inputs were failed.
   */
  cancelJob(app: number, id: string, now: number): number {
    return this.transaction(() => {
      this.jobs.markCancelled(app, id, now);
      return this.inputs.failUnfinished(app, id, now);
    });
  }
}
