/**
 * {@linkcode BrowserQueries}: the read-only questions the local API's browser asks of its
 * store: apps, datasets, inputs a page at a time, counts by status, annotations. It reads the
 * store's database file through a connection of its own opened read-only (SQLite's WAL lets it
 * read while the API writes), so browsing can never change the data.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { AnnotationRow, InputRow } from "../store.ts";
import { toInputRow } from "../store/input_table.ts";
import { toAnnotationRow } from "../store/annotation_table.ts";

/** An app with its input count. */
export interface AppSummary {
  /** The app's key in the store. */
  key: number;
  /** The user ID. */
  userId: string;
  /** The app ID. */
  appId: string;
  /** Inputs in the app. */
  inputs: number;
  /** Datasets in the app. */
  datasets: number;
}

/** A dataset with its input count. */
export interface DatasetSummary {
  /** The dataset ID. */
  id: string;
  /** Inputs in the dataset. */
  inputs: number;
  /** Milliseconds since the epoch. */
  createdAt: number;
}

/** Which inputs, and which page of them (keyset paging on creation order). */
export interface InputQuery {
  /** Only the inputs of this dataset. */
  datasetId?: string;
  /** Only inputs with this status code. */
  statusCode?: number;
  /** Inputs after this position (exclusive). */
  after?: number;
  /** Inputs before this position (exclusive), read backwards. */
  before?: number;
  /** Inputs on one page. */
  limit: number;
}

/** A page of inputs. */
export interface InputPage {
  /** The inputs, oldest first, each with its position for paging. */
  inputs: { input: InputRow; position: number }[];
  /** Whether inputs come before this page. */
  hasBefore: boolean;
  /** Whether inputs come after this page. */
  hasAfter: boolean;
}

type Row = Record<string, unknown>;

/**
 * Read-only queries over a local API's database file.
 *
 * @example Read an app's inputs
 * ```ts
 * import { BrowserQueries } from "./browser_queries.ts";
 * import { LocalStore } from "../store.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = await Deno.makeTempDir();
 * const store = new LocalStore(dir);
 * const app = store.appKey("me", "demo");
 * store.inputs.insert({
 *   app, id: "a", kind: "text", data: new Uint8Array(), contentHash: null, contentSize: 0,
 *   statusCode: 30000, statusDescription: "Download complete", statusDetails: "",
 *   createdAt: 1, modifiedAt: 1, jobId: "job-1",
 * });
 * const queries = new BrowserQueries(store.location);
 * assertEquals(queries.apps().map((a) => [a.appId, a.inputs]), [["demo", 1]]);
 * assertEquals(queries.inputs(app, { limit: 10 }).inputs[0].input.id, "a");
 * queries.close();
 * store.close();
 * ```
 */
export class BrowserQueries {
  #db: DatabaseSync;
  #statements = new Map<string, StatementSync>();

  /**
   * Opens the database file read-only.
   *
   * @param location The store's database file (`LocalStore.location`).
   * @throws {TypeError} For a store kept in memory, which another connection cannot read.
   */
  constructor(location: string) {
    if (typeof location !== "string" || location === "" || location === ":memory:") {
      throw new TypeError(
        `Cannot create BrowserQueries: location must be a database file: current value is ${
          JSON.stringify(location)
        }`,
      );
    }
    this.#db = new DatabaseSync(location, { readOnly: true });
    this.#db.exec("PRAGMA busy_timeout = 5000");
  }

  #sql(text: string): StatementSync {
    let statement = this.#statements.get(text);
    if (!statement) this.#statements.set(text, statement = this.#db.prepare(text));
    return statement;
  }

  /** Closes the connection. */
  close(): void {
    this.#statements.clear();
    this.#db.close();
  }

  /**
   * Lists the apps, by user and app ID, with their counts.
   *
   * @returns The apps.
   */
  apps(): AppSummary[] {
    return this.#sql(
      `SELECT a.app, a.user_id, a.app_id,
         (SELECT COUNT(*) FROM inputs i WHERE i.app = a.app) AS inputs,
         (SELECT COUNT(*) FROM datasets d WHERE d.app = a.app) AS datasets
       FROM apps a ORDER BY a.user_id, a.app_id`,
    ).all().map((r) => ({
      key: Number(r.app),
      userId: String(r.user_id),
      appId: String(r.app_id),
      inputs: Number(r.inputs),
      datasets: Number(r.datasets),
    }));
  }

  /**
   * Finds an app's key.
   *
   * @param userId The user ID.
   * @param appId The app ID.
   * @returns The key, or `undefined`.
   */
  appKey(userId: string, appId: string): number | undefined {
    const row = this.#sql("SELECT app FROM apps WHERE user_id = ? AND app_id = ?").get(
      userId,
      appId,
    );
    return row === undefined ? undefined : Number(row.app);
  }

  /**
   * Counts an app's inputs (or a dataset's) by status code.
   *
   * @param app The app's key.
   * @param datasetId Only this dataset's inputs.
   * @returns Counts keyed by status code.
   */
  statusCounts(app: number, datasetId?: string): Map<number, number> {
    const rows = datasetId === undefined
      // Grouped in the order of the (app, job_id, status_code) index, which holds every column
      // read: no table rows and no sort (twice as fast as GROUP BY status_code alone).
      ? this.#sql(
        "SELECT status_code, COUNT(*) AS n FROM inputs WHERE app = ? GROUP BY job_id, status_code",
      ).all(app)
      : this.#sql(
        `SELECT i.status_code, COUNT(*) AS n FROM dataset_inputs d
         JOIN inputs i ON i.app = d.app AND i.id = d.input_id
         WHERE d.app = ? AND d.dataset_id = ? GROUP BY i.status_code`,
      ).all(app, datasetId);
    const counts = new Map<number, number>();
    for (const r of rows) {
      const code = Number(r.status_code);
      counts.set(code, (counts.get(code) ?? 0) + Number(r.n));
    }
    return counts;
  }

  /**
   * Lists an app's datasets with their input counts.
   *
   * @param app The app's key.
   * @returns The datasets, by ID.
   */
  datasets(app: number): DatasetSummary[] {
    return this.#sql(
      `SELECT d.id, d.created_at,
         (SELECT COUNT(*) FROM dataset_inputs di WHERE di.app = d.app AND di.dataset_id = d.id)
           AS inputs
       FROM datasets d WHERE d.app = ? ORDER BY d.id`,
    ).all(app).map((r) => ({
      id: String(r.id),
      inputs: Number(r.inputs),
      createdAt: Number(r.created_at),
    }));
  }

  /**
   * Reads a page of an app's inputs (or a dataset's), in the order they were added. (How many
   * match in all: {@linkcode BrowserQueries.prototype.statusCounts}.)
   *
   * @param app The app's key.
   * @param query Dataset, status, and the page.
   * @returns The page.
   */
  inputs(app: number, query: InputQuery): InputPage {
    const dataset = query.datasetId !== undefined;
    const from = dataset
      ? "dataset_inputs d JOIN inputs i ON i.app = d.app AND i.id = d.input_id"
      : "inputs i";
    const position = dataset ? "d.seq" : "i.seq";
    const where = [dataset ? "d.app = ? AND d.dataset_id = ?" : "i.app = ?"];
    const args: (number | string)[] = dataset ? [app, query.datasetId!] : [app];
    if (query.statusCode !== undefined) {
      where.push("i.status_code = ?");
      args.push(query.statusCode);
    }
    const base = `FROM ${from} WHERE ${where.join(" AND ")}`;
    let rows: Row[];
    if (query.before !== undefined) {
      rows = this.#sql(
        `SELECT i.*, ${position} AS position ${base} AND ${position} < ? ORDER BY ${position} DESC LIMIT ?`,
      ).all(...args, query.before, query.limit + 1);
      const more = rows.length > query.limit;
      rows = rows.slice(0, query.limit).reverse();
      const last = rows.length > 0 ? Number(rows[rows.length - 1].position) : query.before - 1;
      return {
        inputs: rows.map((r) => ({ input: toInputRow(r), position: Number(r.position) })),
        hasBefore: more,
        hasAfter: this.#exists(base, args, position, ">", last),
      };
    }
    const after = query.after ?? 0;
    rows = this.#sql(
      `SELECT i.*, ${position} AS position ${base} AND ${position} > ? ORDER BY ${position} LIMIT ?`,
    ).all(...args, after, query.limit + 1);
    const more = rows.length > query.limit;
    rows = rows.slice(0, query.limit);
    const first = rows.length > 0 ? Number(rows[0].position) : after + 1;
    return {
      inputs: rows.map((r) => ({ input: toInputRow(r), position: Number(r.position) })),
      hasBefore: this.#exists(base, args, position, "<", first),
      hasAfter: more,
    };
  }

  #exists(
    base: string,
    args: (number | string)[],
    position: string,
    op: "<" | ">",
    value: number,
  ): boolean {
    return this.#sql(`SELECT 1 ${base} AND ${position} ${op} ? LIMIT 1`).get(...args, value) !==
      undefined;
  }

  /**
   * Reads one input.
   *
   * @param app The app's key.
   * @param id The input ID.
   * @returns The input, or `undefined`.
   */
  input(app: number, id: string): InputRow | undefined {
    const row = this.#sql("SELECT * FROM inputs WHERE app = ? AND id = ?").get(app, id);
    return row === undefined ? undefined : toInputRow(row);
  }

  /**
   * Reads the annotations of some inputs, in creation order.
   *
   * @param app The app's key.
   * @param inputIds The inputs.
   * @returns The annotations.
   */
  annotations(app: number, inputIds: string[]): AnnotationRow[] {
    if (inputIds.length === 0) return [];
    return this.#sql(
      `SELECT * FROM annotations WHERE app = ? AND input_id IN (SELECT value FROM json_each(?))
       ORDER BY seq`,
    ).all(app, JSON.stringify(inputIds)).map(toAnnotationRow);
  }

  /**
   * Lists the datasets an input is in.
   *
   * @param app The app's key.
   * @param inputId The input.
   * @returns Dataset IDs.
   */
  datasetsOf(app: number, inputId: string): string[] {
    return this.#sql(
      "SELECT dataset_id FROM dataset_inputs WHERE app = ? AND input_id = ? ORDER BY seq",
    ).all(app, inputId).map((r) => String(r.dataset_id));
  }
}
