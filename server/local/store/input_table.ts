/**
 * The local API's `inputs` table: one row per input, its `Data` as protobuf binary without the
 * content bytes, its processing status, and the inputs-add job that added it.
 *
 * @module
 */
import { inJson, type Page, type Row, type SqliteDb } from "./sqlite_db.ts";

/** The table's schema. */
export const INPUTS_SCHEMA = `
CREATE TABLE IF NOT EXISTS inputs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  app INTEGER NOT NULL REFERENCES apps(app),
  id TEXT NOT NULL,
  kind TEXT NOT NULL,
  data BLOB NOT NULL,
  content_hash TEXT,
  content_size INTEGER NOT NULL DEFAULT 0,
  status_code INTEGER NOT NULL,
  status_description TEXT NOT NULL,
  status_details TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  modified_at INTEGER NOT NULL,
  job_id TEXT NOT NULL,
  UNIQUE (app, id)
);
CREATE INDEX IF NOT EXISTS inputs_by_status ON inputs (status_code, seq);
CREATE INDEX IF NOT EXISTS inputs_by_job ON inputs (app, job_id, status_code);
CREATE INDEX IF NOT EXISTS inputs_by_hash ON inputs (content_hash);
`;

/** A stored input. */
export interface InputRow {
  /** Row number: creation order. */
  seq: number;
  /** The app's key. */
  app: number;
  /** The input ID. */
  id: string;
  /** `image`, `video`, `audio` or `text`. */
  kind: string;
  /** The input's `Data` as protobuf binary, without content bytes. */
  data: Uint8Array;
  /** SHA-256 (hex) of the content bytes, when they were sent as bytes. */
  contentHash: string | null;
  /** Size of the content bytes. */
  contentSize: number;
  /** Status code (`INPUT_PENDING`, …). */
  statusCode: number;
  /** Status description. */
  statusDescription: string;
  /** Status details (why it failed). */
  statusDetails: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Milliseconds since the epoch. */
  modifiedAt: number;
  /** The inputs-add job that added it. */
  jobId: string;
}

/** Counts of inputs by processing state. */
export interface InputProgress {
  /** Inputs waiting to be processed. */
  pending: number;
  /** Inputs being processed. */
  inProgress: number;
  /** Inputs processed successfully. */
  success: number;
  /** Inputs that failed. */
  failed: number;
}

/** A pending input, as the background processor sees it. */
export interface PendingInput {
  /** Row number. */
  seq: number;
  /** The app's key. */
  app: number;
  /** The input ID. */
  id: string;
  /** The kind. */
  kind: string;
  /** SHA-256 of the content bytes, if any. */
  contentHash: string | null;
  /** The job that added it. */
  jobId: string;
}

/** Codes the table counts progress by (see `StatusCode`). */
export const INPUT_CODES = {
  SUCCESS: 30000,
  PENDING: 30001,
  FAILED: 30002,
  IN_PROGRESS: 30003,
} as const;

/**
 * Converts a database row into an {@linkcode InputRow}.
 *
 * @param r The row.
 * @returns The input.
 *
 * @example Usage
 * ```ts
 * import { toInputRow } from "./input_table.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const row = toInputRow({ seq: 1, app: 1, id: "a", kind: "text", data: new Uint8Array(), content_hash: null,
 *   content_size: 0, status_code: 30000, status_description: "", status_details: "", created_at: 1,
 *   modified_at: 1, job_id: "j" });
 * assertEquals(row.id, "a");
 * ```
 */
export function toInputRow(r: Row): InputRow {
  return {
    seq: Number(r.seq),
    app: Number(r.app),
    id: String(r.id),
    kind: String(r.kind),
    data: r.data as Uint8Array,
    contentHash: (r.content_hash as string | null) ?? null,
    contentSize: Number(r.content_size),
    statusCode: Number(r.status_code),
    statusDescription: String(r.status_description),
    statusDetails: String(r.status_details),
    createdAt: Number(r.created_at),
    modifiedAt: Number(r.modified_at),
    jobId: String(r.job_id),
  };
}

/**
 * Sums `status_code, n` rows into progress counts (any final error counts as failed).
 *
 * @param rows Rows with `status_code` and `n`.
 * @returns The counts.
 *
 * @example Usage
 * ```ts
 * import { progressOf } from "./input_table.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(progressOf([{ status_code: 30000, n: 2 }, { status_code: 30101, n: 1 }]), {
 *   pending: 0, inProgress: 0, success: 2, failed: 1,
 * });
 * ```
 */
export function progressOf(rows: Row[]): InputProgress {
  const progress = { pending: 0, inProgress: 0, success: 0, failed: 0 };
  for (const row of rows) {
    const n = Number(row.n);
    switch (Number(row.status_code)) {
      case INPUT_CODES.PENDING:
        progress.pending += n;
        break;
      case INPUT_CODES.IN_PROGRESS:
        progress.inProgress += n;
        break;
      case INPUT_CODES.SUCCESS:
        progress.success += n;
        break;
      default:
        progress.failed += n;
    }
  }
  return progress;
}

/**
 * The inputs of every app.
 *
 * @example Insert and read an input
 * ```ts
 * import { LocalStore } from "../store.ts";
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
 * assertEquals(store.inputs.counts(app).pending, 1);
 * store.close();
 * ```
 */
export class InputTable {
  #db: SqliteDb;

  /**
   * Wraps the shared database.
   *
   * @param db The database (with {@linkcode INPUTS_SCHEMA} applied).
   */
  constructor(db: SqliteDb) {
    this.#db = db;
  }

  /**
   * Tells whether an input ID is taken in an app.
   *
   * @param app The app's key.
   * @param id The input ID.
   * @returns `true` when it exists.
   */
  exists(app: number, id: string): boolean {
    return this.#db.sql("SELECT 1 FROM inputs WHERE app = ? AND id = ?").get(app, id) !==
      undefined;
  }

  /**
   * Inserts an input.
   *
   * @param row The input (without `seq`).
   * @returns The row number.
   */
  insert(row: Omit<InputRow, "seq">): number {
    const result = this.#db.sql(
      `INSERT INTO inputs (app, id, kind, data, content_hash, content_size, status_code,
        status_description, status_details, created_at, modified_at, job_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      row.app,
      row.id,
      row.kind,
      row.data,
      row.contentHash,
      row.contentSize,
      row.statusCode,
      row.statusDescription,
      row.statusDetails,
      row.createdAt,
      row.modifiedAt,
      row.jobId,
    );
    return Number(result.lastInsertRowid);
  }

  /**
   * Reads one input.
   *
   * @param app The app's key.
   * @param id The input ID.
   * @returns The input, or `undefined`.
   */
  get(app: number, id: string): InputRow | undefined {
    const row = this.#db.sql("SELECT * FROM inputs WHERE app = ? AND id = ?").get(app, id);
    return row === undefined ? undefined : toInputRow(row);
  }

  /**
   * Lists inputs in creation order.
   *
   * @param app The app's key.
   * @param filter Optional ID list and status code.
   * @param page Paging.
   * @returns The inputs.
   */
  list(app: number, filter: { ids?: string[]; statusCode?: number }, page: Page): InputRow[] {
    const where = ["app = ?"];
    const args: (string | number)[] = [app];
    const byIds = filter.ids !== undefined && filter.ids.length > 0;
    if (byIds) {
      // One query for a page of IDs (up to 1,000): each is looked up by the (app, id) index.
      where.push(inJson("id"));
      args.push(JSON.stringify(filter.ids));
    }
    if (filter.statusCode) {
      // With IDs, `+` keeps SQLite off the status index, which would scan every input of that
      // status in every app (all of them, for INPUT_SUCCESS) instead of looking up the IDs.
      where.push(byIds ? "+status_code = ?" : "status_code = ?");
      args.push(filter.statusCode);
    }
    return this.#db.sql(
      `SELECT * FROM inputs WHERE ${where.join(" AND ")} ORDER BY seq LIMIT ? OFFSET ?`,
    ).all(...args, page.limit, page.offset).map(toInputRow);
  }

  /**
   * Counts an app's inputs by processing state.
   *
   * @param app The app's key.
   * @returns The counts.
   */
  counts(app: number): InputProgress {
    return progressOf(
      this.#db.sql(
        "SELECT status_code, COUNT(*) AS n FROM inputs WHERE app = ? GROUP BY status_code",
      ).all(app),
    );
  }

  /**
   * Replaces an input's data (a patch).
   *
   * @param app The app's key.
   * @param id The input ID.
   * @param data The new `Data` as protobuf binary.
   * @param now Milliseconds since the epoch.
   */
  setData(app: number, id: string, data: Uint8Array, now: number): void {
    this.#db.sql("UPDATE inputs SET data = ?, modified_at = ? WHERE app = ? AND id = ?").run(
      data,
      now,
      app,
      id,
    );
  }

  /**
   * Returns the distinct content hashes of some inputs.
   *
   * @param app The app's key.
   * @param ids The input IDs.
   * @returns The hashes.
   */
  hashesOf(app: number, ids: string[]): string[] {
    return this.#db.sql(
      `SELECT DISTINCT content_hash FROM inputs
       WHERE app = ? AND ${inJson("id")} AND content_hash IS NOT NULL`,
    ).all(app, JSON.stringify(ids)).map((r) => String(r.content_hash));
  }

  /**
   * Tells whether any input still uses content with this hash.
   *
   * @param hash SHA-256 hex.
   * @returns `true` when one does.
   */
  usesHash(hash: string): boolean {
    return this.#db.sql("SELECT 1 FROM inputs WHERE content_hash = ? LIMIT 1").get(hash) !==
      undefined;
  }

  /**
   * Deletes inputs (only their rows: see `LocalStore.deleteInputs` for the rest).
   *
   * @param app The app's key.
   * @param ids The input IDs.
   * @returns How many were deleted.
   */
  delete(app: number, ids: string[]): number {
    const result = this.#db.sql(`DELETE FROM inputs WHERE app = ? AND ${inJson("id")}`).run(
      app,
      JSON.stringify(ids),
    );
    return Number(result.changes);
  }

  /**
   * Returns up to `limit` pending inputs of every app, oldest first.
   *
   * @param limit The most to return.
   * @returns The pending inputs.
   */
  pending(limit: number): PendingInput[] {
    return this.#db.sql(
      `SELECT seq, app, id, kind, content_hash, job_id FROM inputs
       WHERE status_code = ? ORDER BY seq LIMIT ?`,
    ).all(INPUT_CODES.PENDING, limit).map((r) => ({
      seq: Number(r.seq),
      app: Number(r.app),
      id: String(r.id),
      kind: String(r.kind),
      contentHash: (r.content_hash as string | null) ?? null,
      jobId: String(r.job_id),
    }));
  }

  /**
   * Sets the status of an input (by row number).
   *
   * @param seq The row number.
   * @param status Code, description and details.
   * @param now Milliseconds since the epoch.
   */
  setStatus(
    seq: number,
    status: { code: number; description: string; details: string },
    now: number,
  ): void {
    this.#db.sql(
      `UPDATE inputs SET status_code = ?, status_description = ?, status_details = ?, modified_at = ?
       WHERE seq = ?`,
    ).run(status.code, status.description, status.details, now, seq);
  }

  /**
   * Counts a job's inputs by processing state.
   *
   * @param app The app's key.
   * @param jobId The job ID.
   * @returns The counts.
   */
  jobProgress(app: number, jobId: string): InputProgress {
    return progressOf(
      this.#db.sql(
        "SELECT status_code, COUNT(*) AS n FROM inputs WHERE app = ? AND job_id = ? GROUP BY status_code",
      ).all(app, jobId),
    );
  }

  /**
   * Fails a job's inputs that are still pending or in progress.
   *
   * @param app The app's key.
   * @param jobId The job ID.
   * @param now Milliseconds since the epoch.
   * @returns How many were failed.
   */
  failUnfinished(app: number, jobId: string, now: number): number {
    const result = this.#db.sql(
      `UPDATE inputs SET status_code = ?, status_description = 'Download failed',
       status_details = 'The inputs add job was cancelled.', modified_at = ?
       WHERE app = ? AND job_id = ? AND status_code IN (?, ?)`,
    ).run(INPUT_CODES.FAILED, now, app, jobId, INPUT_CODES.PENDING, INPUT_CODES.IN_PROGRESS);
    return Number(result.changes);
  }
}
