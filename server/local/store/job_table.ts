/**
 * The local API's inputs-add jobs: the client-chosen (or generated) `inputs_add_job_id` of
 * PostInputs, and whether CancelInputsAddJob was called. Progress is counted from the inputs.
 *
 * @module
 */
import type { SqliteDb } from "./sqlite_db.ts";

/** The table's schema. */
export const JOBS_SCHEMA = `
CREATE TABLE IF NOT EXISTS add_jobs (
  app INTEGER NOT NULL,
  id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  modified_at INTEGER NOT NULL,
  cancelled INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (app, id)
);
`;

/** A stored inputs-add job. */
export interface JobRow {
  /** The job ID. */
  id: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Milliseconds since the epoch. */
  modifiedAt: number;
  /** Whether CancelInputsAddJob was called. */
  cancelled: boolean;
}

/**
 * The inputs-add jobs of every app.
 *
 * @example Create, touch and cancel a job
 * ```ts
 * import { LocalStore } from "../store.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const app = store.appKey("me", "demo");
 * store.jobs.upsert(app, "j1", 1);
 * store.jobs.upsert(app, "j1", 5);
 * assertEquals(store.jobs.get(app, "j1"), { id: "j1", createdAt: 1, modifiedAt: 5, cancelled: false });
 * store.jobs.markCancelled(app, "j1", 9);
 * assertEquals(store.jobs.get(app, "j1")?.cancelled, true);
 * store.close();
 * ```
 */
export class JobTable {
  #db: SqliteDb;

  /**
   * Wraps the shared database.
   *
   * @param db The database (with {@linkcode JOBS_SCHEMA} applied).
   */
  constructor(db: SqliteDb) {
    this.#db = db;
  }

  /**
   * Creates a job, or touches it when it exists.
   *
   * @param app The app's key.
   * @param id The job ID.
   * @param now Milliseconds since the epoch.
   */
  upsert(app: number, id: string, now: number): void {
    this.#db.sql(
      `INSERT INTO add_jobs (app, id, created_at, modified_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (app, id) DO UPDATE SET modified_at = excluded.modified_at`,
    ).run(app, id, now, now);
  }

  /**
   * Reads a job.
   *
   * @param app The app's key.
   * @param id The job ID.
   * @returns The job, or `undefined`.
   */
  get(app: number, id: string): JobRow | undefined {
    const r = this.#db.sql("SELECT * FROM add_jobs WHERE app = ? AND id = ?").get(app, id);
    if (r === undefined) return undefined;
    return {
      id: String(r.id),
      createdAt: Number(r.created_at),
      modifiedAt: Number(r.modified_at),
      cancelled: Number(r.cancelled) === 1,
    };
  }

  /**
   * Marks a job cancelled.
   *
   * @param app The app's key.
   * @param id The job ID.
   * @param now Milliseconds since the epoch.
   */
  markCancelled(app: number, id: string, now: number): void {
    this.#db.sql("UPDATE add_jobs SET cancelled = 1, modified_at = ? WHERE app = ? AND id = ?")
      .run(now, app, id);
  }
}
