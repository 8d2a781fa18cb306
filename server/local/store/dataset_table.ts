/**
 * The local API's datasets (their `Dataset` message as protobuf binary) and dataset
 * memberships (a set of input IDs per dataset, in the order they were added).
 *
 * @module
 */
import { INPUT_CODES, type InputRow, toInputRow } from "./input_table.ts";
import { inJson, type Page, type SqliteDb } from "./sqlite_db.ts";

/** The tables' schema. */
export const DATASETS_SCHEMA = `
CREATE TABLE IF NOT EXISTS datasets (
  app INTEGER NOT NULL,
  id TEXT NOT NULL,
  message BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  modified_at INTEGER NOT NULL,
  PRIMARY KEY (app, id)
);
CREATE TABLE IF NOT EXISTS dataset_inputs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  app INTEGER NOT NULL,
  dataset_id TEXT NOT NULL,
  input_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (app, dataset_id, input_id)
);
CREATE INDEX IF NOT EXISTS dataset_inputs_by_input ON dataset_inputs (app, input_id);
`;

/** A stored dataset. */
export interface DatasetRow {
  /** The dataset ID. */
  id: string;
  /** The `Dataset` message as protobuf binary. */
  message: Uint8Array;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Milliseconds since the epoch. */
  modifiedAt: number;
}

/** The order ListDatasets lists datasets in. */
export interface DatasetOrder {
  /** By creation time, modification time or ID. */
  by: "created" | "modified" | "id";
  /** Ascending instead of descending. */
  ascending: boolean;
}

const ORDER_COLUMNS = { created: "created_at", modified: "modified_at", id: "id" } as const;

/**
 * The datasets of every app and their inputs.
 *
 * @example Create a dataset and add an input to it
 * ```ts
 * import { LocalStore } from "../store.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const app = store.appKey("me", "demo");
 * store.datasets.insert(app, { id: "ds", message: new Uint8Array(), createdAt: 1, modifiedAt: 1 });
 * assertEquals(store.datasets.addInput(app, "ds", "a", 2), 2);
 * assertEquals(store.datasets.addInput(app, "ds", "a", 3), 2); // a set: the first time stays
 * assertEquals(store.datasets.ofInput(app, "a"), ["ds"]);
 * store.close();
 * ```
 */
export class DatasetTable {
  #db: SqliteDb;

  /**
   * Wraps the shared database.
   *
   * @param db The database (with {@linkcode DATASETS_SCHEMA} applied).
   */
  constructor(db: SqliteDb) {
    this.#db = db;
  }

  /**
   * Reads a dataset.
   *
   * @param app The app's key.
   * @param id The dataset ID.
   * @returns The dataset, or `undefined`.
   */
  get(app: number, id: string): DatasetRow | undefined {
    const r = this.#db.sql("SELECT * FROM datasets WHERE app = ? AND id = ?").get(app, id);
    if (r === undefined) return undefined;
    return {
      id: String(r.id),
      message: r.message as Uint8Array,
      createdAt: Number(r.created_at),
      modifiedAt: Number(r.modified_at),
    };
  }

  /**
   * Inserts a dataset.
   *
   * @param app The app's key.
   * @param row The dataset.
   */
  insert(app: number, row: DatasetRow): void {
    this.#db.sql(
      "INSERT INTO datasets (app, id, message, created_at, modified_at) VALUES (?, ?, ?, ?, ?)",
    ).run(app, row.id, row.message, row.createdAt, row.modifiedAt);
  }

  /**
   * Lists an app's datasets.
   *
   * @param app The app's key.
   * @param search Text the ID or description must contain (none when empty).
   * @param order The order.
   * @param page Paging.
   * @returns The datasets.
   */
  list(app: number, search: string, order: DatasetOrder, page: Page): DatasetRow[] {
    const direction = order.ascending ? "ASC" : "DESC";
    const where = search === "" ? "" : "AND (instr(lower(id), lower(?)) > 0)";
    const args: (string | number)[] = search === "" ? [app] : [app, search];
    return this.#db.sql(
      `SELECT * FROM datasets WHERE app = ? ${where}
       ORDER BY ${ORDER_COLUMNS[order.by]} ${direction}, id ${direction} LIMIT ? OFFSET ?`,
    ).all(...args, page.limit, page.offset).map((r) => ({
      id: String(r.id),
      message: r.message as Uint8Array,
      createdAt: Number(r.created_at),
      modifiedAt: Number(r.modified_at),
    }));
  }

  /**
   * Replaces a dataset's message (a patch).
   *
   * @param app The app's key.
   * @param id The dataset ID.
   * @param message The `Dataset` message as protobuf binary.
   * @param now Milliseconds since the epoch.
   */
  setMessage(app: number, id: string, message: Uint8Array, now: number): void {
    this.#db.sql("UPDATE datasets SET message = ?, modified_at = ? WHERE app = ? AND id = ?").run(
      message,
      now,
      app,
      id,
    );
  }

  /**
   * Deletes a dataset and its memberships (never its inputs).
   *
   * @param app The app's key.
   * @param id The dataset ID.
   */
  delete(app: number, id: string): void {
    this.#db.sql("DELETE FROM dataset_inputs WHERE app = ? AND dataset_id = ?").run(app, id);
    this.#db.sql("DELETE FROM datasets WHERE app = ? AND id = ?").run(app, id);
  }

  /**
   * Counts a dataset's inputs still pending or in processing.
   *
   * @param app The app's key.
   * @param datasetId The dataset ID.
   * @returns How many.
   */
  unfinishedInputs(app: number, datasetId: string): number {
    const r = this.#db.sql(
      `SELECT COUNT(*) AS n FROM dataset_inputs d JOIN inputs i ON i.app = d.app AND i.id = d.input_id
       WHERE d.app = ? AND d.dataset_id = ? AND i.status_code IN (?, ?)`,
    ).get(app, datasetId, INPUT_CODES.PENDING, INPUT_CODES.IN_PROGRESS);
    return Number(r?.n ?? 0);
  }

  /**
   * Adds an input to a dataset.
   *
   * @param app The app's key.
   * @param datasetId The dataset ID.
   * @param inputId The input ID.
   * @param now Milliseconds since the epoch.
   * @returns The membership's creation time (the earlier one when it already existed).
   */
  addInput(app: number, datasetId: string, inputId: string, now: number): number {
    this.#db.sql(
      `INSERT OR IGNORE INTO dataset_inputs (app, dataset_id, input_id, created_at)
       VALUES (?, ?, ?, ?)`,
    ).run(app, datasetId, inputId, now);
    const r = this.#db.sql(
      "SELECT created_at FROM dataset_inputs WHERE app = ? AND dataset_id = ? AND input_id = ?",
    ).get(app, datasetId, inputId);
    return Number(r?.created_at ?? now);
  }

  /**
   * Lists a dataset's inputs in the order they were added.
   *
   * @param app The app's key.
   * @param datasetId The dataset ID.
   * @param page Paging.
   * @returns The inputs with the time each was added.
   */
  listInputs(app: number, datasetId: string, page: Page): { input: InputRow; addedAt: number }[] {
    return this.#db.sql(
      `SELECT i.*, d.created_at AS added_at FROM dataset_inputs d
       JOIN inputs i ON i.app = d.app AND i.id = d.input_id
       WHERE d.app = ? AND d.dataset_id = ? ORDER BY d.seq LIMIT ? OFFSET ?`,
    ).all(app, datasetId, page.limit, page.offset).map((r) => ({
      input: toInputRow(r),
      addedAt: Number(r.added_at),
    }));
  }

  /**
   * Lists the datasets an input belongs to.
   *
   * @param app The app's key.
   * @param inputId The input ID.
   * @returns The dataset IDs.
   */
  ofInput(app: number, inputId: string): string[] {
    return this.#db.sql(
      "SELECT dataset_id FROM dataset_inputs WHERE app = ? AND input_id = ? ORDER BY seq",
    ).all(app, inputId).map((r) => String(r.dataset_id));
  }

  /**
   * Removes inputs from every dataset.
   *
   * @param app The app's key.
   * @param inputIds The input IDs.
   */
  removeInputs(app: number, inputIds: string[]): void {
    this.#db.sql(`DELETE FROM dataset_inputs WHERE app = ? AND ${inJson("input_id")}`).run(
      app,
      JSON.stringify(inputIds),
    );
  }
}
