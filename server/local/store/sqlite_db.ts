/**
 * The SQLite connection the local API's tables share: `node:sqlite` in WAL mode, a cache of
 * prepared statements, and nested transactions that join the outermost one.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";

/** A row as `node:sqlite` returns it. */
export type Row = Record<string, unknown>;

/** Paging: rows to skip and rows to return. */
export interface Page {
  /** Rows to skip. */
  offset: number;
  /** Rows to return. */
  limit: number;
}

/**
 * One SQLite database with cached statements and nestable transactions.
 *
 * @example Run statements in a transaction
 * ```ts
 * import { SqliteDb } from "./sqlite_db.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const db = new SqliteDb(":memory:", "CREATE TABLE t (v INTEGER);");
 * db.transaction(() => db.sql("INSERT INTO t (v) VALUES (?)").run(7));
 * assertEquals(db.sql("SELECT v FROM t").get()?.v, 7);
 * db.close();
 * ```
 */
export class SqliteDb {
  #db: DatabaseSync;
  #statements = new Map<string, StatementSync>();
  #depth = 0;

  /**
   * Opens the database and applies the schema.
   *
   * @param location A file path or `":memory:"`.
   * @param schema SQL run once at open (`CREATE … IF NOT EXISTS`).
   */
  constructor(location: string, schema: string) {
    this.#db = new DatabaseSync(location);
    this.#db.exec("PRAGMA journal_mode = WAL");
    this.#db.exec("PRAGMA synchronous = NORMAL");
    this.#db.exec("PRAGMA busy_timeout = 5000");
    this.#db.exec(schema);
  }

  /**
   * Returns the prepared statement for `text` (prepared once).
   *
   * @param text The SQL.
   * @returns The statement.
   */
  sql(text: string): StatementSync {
    let statement = this.#statements.get(text);
    if (statement === undefined) {
      statement = this.#db.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }

  /**
   * Runs `fn` in one transaction (nested calls join the outer one); rolls back when it throws.
   *
   * @param fn The work.
   * @returns What `fn` returns.
   */
  transaction<T>(fn: () => T): T {
    if (this.#depth > 0) {
      this.#depth++;
      try {
        return fn();
      } finally {
        this.#depth--;
      }
    }
    this.#db.exec("BEGIN IMMEDIATE");
    this.#depth = 1;
    try {
      const result = fn();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    } finally {
      this.#depth = 0;
    }
  }

  /** Closes the database. */
  close(): void {
    this.#statements.clear();
    this.#db.close();
  }
}

/**
 * A SQL fragment `column IN (…)` over a JSON array parameter, for ID lists of any length.
 *
 * @param column The column.
 * @returns The fragment (one `?` parameter: `JSON.stringify(values)`).
 *
 * @example Usage
 * ```ts
 * import { inJson } from "./sqlite_db.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(inJson("id"), "id IN (SELECT value FROM json_each(?))");
 * ```
 */
export function inJson(column: string): string {
  return `${column} IN (SELECT value FROM json_each(?))`;
}
