/**
 * The local API's annotations: their `Data` as protobuf binary, the annotated input, whether
 * they are input-level, their status.
 *
 * @module
 */
import { inJson, type Page, type Row, type SqliteDb } from "./sqlite_db.ts";

/** The table's schema. */
export const ANNOTATIONS_SCHEMA = `
CREATE TABLE IF NOT EXISTS annotations (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  app INTEGER NOT NULL,
  id TEXT NOT NULL,
  input_id TEXT NOT NULL,
  data BLOB NOT NULL,
  input_level INTEGER NOT NULL DEFAULT 0,
  status_code INTEGER NOT NULL,
  status_description TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  modified_at INTEGER NOT NULL,
  UNIQUE (app, id)
);
CREATE INDEX IF NOT EXISTS annotations_by_input ON annotations (app, input_id);
`;

/** A stored annotation. */
export interface AnnotationRow {
  /** The annotation ID. */
  id: string;
  /** The annotated input. */
  inputId: string;
  /** The annotation's `Data` as protobuf binary. */
  data: Uint8Array;
  /** Whether it is an input-level annotation. */
  inputLevel: boolean;
  /** Status code. */
  statusCode: number;
  /** Status description. */
  statusDescription: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Milliseconds since the epoch. */
  modifiedAt: number;
}

/** Which annotations to list. */
export interface AnnotationFilter {
  /** Annotation IDs. */
  ids?: string[];
  /** Input IDs. */
  inputIds?: string[];
  /** Status codes. */
  statusCodes?: number[];
}

/**
 * An `annotations` row as the store hands it out (the browser reads the same rows).
 *
 * @param r The row as SQLite returns it.
 * @returns The annotation row.
 *
 * @example Usage
 * ```ts
 * import { toAnnotationRow } from "./annotation_table.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const row = toAnnotationRow({ id: "n", input_id: "a", data: new Uint8Array(), input_level: 1,
 *   status_code: 24000, status_description: "", created_at: 1, modified_at: 1 });
 * assertEquals([row.inputId, row.inputLevel], ["a", true]);
 * ```
 */
export function toAnnotationRow(r: Row): AnnotationRow {
  return {
    id: String(r.id),
    inputId: String(r.input_id),
    data: r.data as Uint8Array,
    inputLevel: Number(r.input_level) === 1,
    statusCode: Number(r.status_code),
    statusDescription: String(r.status_description),
    createdAt: Number(r.created_at),
    modifiedAt: Number(r.modified_at),
  };
}

/**
 * The annotations of every app.
 *
 * @example Insert and list an annotation
 * ```ts
 * import { LocalStore } from "../store.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const app = store.appKey("me", "demo");
 * store.annotations.insert(app, {
 *   id: "a1", inputId: "i1", data: new Uint8Array(), inputLevel: true, statusCode: 24150,
 *   statusDescription: "Annotation success", createdAt: 1, modifiedAt: 1,
 * });
 * const page = { offset: 0, limit: 10 };
 * assertEquals(store.annotations.list(app, { inputIds: ["i1"] }, page).map((a) => a.id), ["a1"]);
 * store.close();
 * ```
 */
export class AnnotationTable {
  #db: SqliteDb;

  /**
   * Wraps the shared database.
   *
   * @param db The database (with {@linkcode ANNOTATIONS_SCHEMA} applied).
   */
  constructor(db: SqliteDb) {
    this.#db = db;
  }

  /**
   * Tells whether an annotation ID is taken in an app.
   *
   * @param app The app's key.
   * @param id The annotation ID.
   * @returns `true` when it exists.
   */
  exists(app: number, id: string): boolean {
    return this.#db.sql("SELECT 1 FROM annotations WHERE app = ? AND id = ?").get(app, id) !==
      undefined;
  }

  /**
   * Reads one annotation.
   *
   * @param app The app's key.
   * @param id The annotation ID.
   * @returns The annotation, or `undefined`.
   */
  get(app: number, id: string): AnnotationRow | undefined {
    const r = this.#db.sql("SELECT * FROM annotations WHERE app = ? AND id = ?").get(app, id);
    return r === undefined ? undefined : toAnnotationRow(r);
  }

  /**
   * Inserts an annotation.
   *
   * @param app The app's key.
   * @param row The annotation.
   */
  insert(app: number, row: AnnotationRow): void {
    this.#db.sql(
      `INSERT INTO annotations (app, id, input_id, data, input_level, status_code,
        status_description, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      app,
      row.id,
      row.inputId,
      row.data,
      row.inputLevel ? 1 : 0,
      row.statusCode,
      row.statusDescription,
      row.createdAt,
      row.modifiedAt,
    );
  }

  /**
   * Lists annotations in creation order.
   *
   * @param app The app's key.
   * @param filter Optional annotation IDs, input IDs and status codes.
   * @param page Paging.
   * @returns The annotations.
   */
  list(app: number, filter: AnnotationFilter, page: Page): AnnotationRow[] {
    const where = ["app = ?"];
    const args: (string | number)[] = [app];
    const lists: [string, unknown[] | undefined][] = [
      ["id", filter.ids],
      ["input_id", filter.inputIds],
      ["status_code", filter.statusCodes],
    ];
    for (const [column, values] of lists) {
      if (values && values.length > 0) {
        where.push(inJson(column));
        args.push(JSON.stringify(values));
      }
    }
    return this.#db.sql(
      `SELECT * FROM annotations WHERE ${where.join(" AND ")} ORDER BY seq LIMIT ? OFFSET ?`,
    ).all(...args, page.limit, page.offset).map(toAnnotationRow);
  }

  /**
   * Reads an input's earliest input-level annotation.
   *
   * @param app The app's key.
   * @param inputId The input ID.
   * @returns The annotation, or `undefined`.
   */
  inputLevelOf(app: number, inputId: string): AnnotationRow | undefined {
    const r = this.#db.sql(
      `SELECT * FROM annotations WHERE app = ? AND input_id = ? AND input_level = 1
       ORDER BY seq LIMIT 1`,
    ).get(app, inputId);
    return r === undefined ? undefined : toAnnotationRow(r);
  }

  /**
   * Replaces an annotation's data.
   *
   * @param app The app's key.
   * @param id The annotation ID.
   * @param data The new `Data` as protobuf binary.
   * @param now Milliseconds since the epoch.
   */
  setData(app: number, id: string, data: Uint8Array, now: number): void {
    this.#db.sql("UPDATE annotations SET data = ?, modified_at = ? WHERE app = ? AND id = ?").run(
      data,
      now,
      app,
      id,
    );
  }

  /**
   * Deletes annotations by ID.
   *
   * @param app The app's key.
   * @param ids The annotation IDs.
   * @returns How many were deleted.
   */
  delete(app: number, ids: string[]): number {
    return Number(
      this.#db.sql(`DELETE FROM annotations WHERE app = ? AND ${inJson("id")}`).run(
        app,
        JSON.stringify(ids),
      ).changes,
    );
  }

  /**
   * Deletes the annotations of some inputs.
   *
   * @param app The app's key.
   * @param inputIds The input IDs.
   * @returns How many were deleted.
   */
  deleteOfInputs(app: number, inputIds: string[]): number {
    return Number(
      this.#db.sql(`DELETE FROM annotations WHERE app = ? AND ${inJson("input_id")}`).run(
        app,
        JSON.stringify(inputIds),
      ).changes,
    );
  }
}
