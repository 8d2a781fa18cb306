/**
 * The local API's dataset versions: the `DatasetVersion` message as given (without status and
 * metrics), the processing state, and once ready the metrics groups as protobuf binary.
 *
 * @module
 */
import { inJson, type Page, type Row, type SqliteDb } from "./sqlite_db.ts";

/** The table's schema. */
export const VERSIONS_SCHEMA = `
CREATE TABLE IF NOT EXISTS dataset_versions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  app INTEGER NOT NULL,
  dataset_id TEXT NOT NULL,
  id TEXT NOT NULL,
  message BLOB NOT NULL,
  status_code INTEGER NOT NULL,
  metrics BLOB,
  created_at INTEGER NOT NULL,
  modified_at INTEGER NOT NULL,
  UNIQUE (app, dataset_id, id)
);
CREATE INDEX IF NOT EXISTS dataset_versions_by_status ON dataset_versions (status_code, seq);
`;

/** A stored dataset version. */
export interface VersionRow {
  /** Row number: creation order. */
  seq: number;
  /** The app's key. */
  app: number;
  /** The dataset ID. */
  datasetId: string;
  /** The version ID. */
  id: string;
  /** The `DatasetVersion` message as given, protobuf binary. */
  message: Uint8Array;
  /** `DATASET_VERSION_PENDING`, `_IN_PROGRESS`, `_READY` or `_FAILURE`. */
  statusCode: number;
  /** The metrics groups (a `MultiDatasetVersionMetricsGroupResponse`), once ready. */
  metrics: Uint8Array | null;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Milliseconds since the epoch. */
  modifiedAt: number;
}

function toVersionRow(r: Row): VersionRow {
  return {
    seq: Number(r.seq),
    app: Number(r.app),
    datasetId: String(r.dataset_id),
    id: String(r.id),
    message: r.message as Uint8Array,
    statusCode: Number(r.status_code),
    metrics: (r.metrics as Uint8Array | null) ?? null,
    createdAt: Number(r.created_at),
    modifiedAt: Number(r.modified_at),
  };
}

/**
 * The dataset versions of every app.
 *
 * @example Create a version and move it along
 * ```ts
 * import { LocalStore } from "../store.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const app = store.appKey("me", "demo");
 * store.versions.insert({ app, datasetId: "ds", id: "v1", message: new Uint8Array(), statusCode: 64005, metrics: null, createdAt: 1, modifiedAt: 1 });
 * assertEquals(store.versions.withStatus(64005, 10).map((v) => v.id), ["v1"]);
 * store.versions.setStatus(app, "ds", "v1", 64015, new Uint8Array([1]), 2);
 * assertEquals(store.versions.get(app, "ds", "v1")?.statusCode, 64015);
 * store.close();
 * ```
 */
export class DatasetVersionTable {
  #db: SqliteDb;

  /**
   * Wraps the shared database.
   *
   * @param db The database (with {@linkcode VERSIONS_SCHEMA} applied).
   */
  constructor(db: SqliteDb) {
    this.#db = db;
  }

  /**
   * Inserts a version.
   *
   * @param row The version (without `seq`).
   */
  insert(row: Omit<VersionRow, "seq">): void {
    this.#db.sql(
      `INSERT INTO dataset_versions (app, dataset_id, id, message, status_code, metrics,
        created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      row.app,
      row.datasetId,
      row.id,
      row.message,
      row.statusCode,
      row.metrics,
      row.createdAt,
      row.modifiedAt,
    );
  }

  /**
   * Reads one version.
   *
   * @param app The app's key.
   * @param datasetId The dataset ID.
   * @param id The version ID.
   * @returns The version, or `undefined`.
   */
  get(app: number, datasetId: string, id: string): VersionRow | undefined {
    const r = this.#db.sql(
      "SELECT * FROM dataset_versions WHERE app = ? AND dataset_id = ? AND id = ?",
    ).get(app, datasetId, id);
    return r === undefined ? undefined : toVersionRow(r);
  }

  /**
   * Lists a dataset's versions, newest first.
   *
   * @param app The app's key.
   * @param datasetId The dataset ID.
   * @param page Paging.
   * @returns The versions.
   */
  list(app: number, datasetId: string, page: Page): VersionRow[] {
    return this.#db.sql(
      `SELECT * FROM dataset_versions WHERE app = ? AND dataset_id = ?
       ORDER BY seq DESC LIMIT ? OFFSET ?`,
    ).all(app, datasetId, page.limit, page.offset).map(toVersionRow);
  }

  /**
   * Returns up to `limit` versions of every app in a state, oldest first.
   *
   * @param statusCode The state.
   * @param limit The most to return.
   * @returns The versions.
   */
  withStatus(statusCode: number, limit: number): VersionRow[] {
    return this.#db.sql(
      "SELECT * FROM dataset_versions WHERE status_code = ? ORDER BY seq LIMIT ?",
    ).all(statusCode, limit).map(toVersionRow);
  }

  /**
   * Sets a version's state (and its metrics, once ready).
   *
   * @param app The app's key.
   * @param datasetId The dataset ID.
   * @param id The version ID.
   * @param statusCode The state.
   * @param metrics The metrics groups, or `null`.
   * @param now Milliseconds since the epoch.
   */
  setStatus(
    app: number,
    datasetId: string,
    id: string,
    statusCode: number,
    metrics: Uint8Array | null,
    now: number,
  ): void {
    this.#db.sql(
      `UPDATE dataset_versions SET status_code = ?, metrics = ?, modified_at = ?
       WHERE app = ? AND dataset_id = ? AND id = ?`,
    ).run(statusCode, metrics, now, app, datasetId, id);
  }

  /**
   * Deletes versions of a dataset (all of them without `ids`).
   *
   * @param app The app's key.
   * @param datasetId The dataset ID.
   * @param ids The version IDs, or `undefined` for all.
   * @returns How many were deleted.
   */
  delete(app: number, datasetId: string, ids?: string[]): number {
    if (ids === undefined) {
      return Number(
        this.#db.sql("DELETE FROM dataset_versions WHERE app = ? AND dataset_id = ?").run(
          app,
          datasetId,
        ).changes,
      );
    }
    return Number(
      this.#db.sql(
        `DELETE FROM dataset_versions WHERE app = ? AND dataset_id = ? AND ${inJson("id")}`,
      ).run(app, datasetId, JSON.stringify(ids)).changes,
    );
  }
}
