/**
 * The local API's storage: one SQLite database (`node:sqlite`, WAL mode) in a data folder, with
 * apps scoped by user and app ID, inputs (their `Data` as protobuf binary without the content
 * bytes), content bytes stored once by SHA-256, datasets and their inputs, annotations and
 * inputs-add jobs. Every method is synchronous; group writes with
 * {@linkcode LocalStore.prototype.transaction}.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

/** The name of the database file inside the data folder. */
export const DATABASE_FILE = "local.sqlite";

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

/** Paging: rows to skip and rows to return. */
export interface Page {
  /** Rows to skip. */
  offset: number;
  /** Rows to return. */
  limit: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS apps (
  app INTEGER PRIMARY KEY,
  user_id TEXT NOT NULL,
  app_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (user_id, app_id)
);
CREATE TABLE IF NOT EXISTS blobs (
  hash TEXT PRIMARY KEY,
  bytes BLOB NOT NULL
);
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
CREATE TABLE IF NOT EXISTS add_jobs (
  app INTEGER NOT NULL,
  id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  modified_at INTEGER NOT NULL,
  cancelled INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (app, id)
);
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

type Row = Record<string, unknown>;

function toInputRow(r: Row): InputRow {
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

function toAnnotationRow(r: Row): AnnotationRow {
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

/** Codes the store uses to count progress (see `StatusCode`). */
const PENDING = 30001, SUCCESS = 30000, FAILED = 30002, IN_PROGRESS = 30003;

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
 * store.insertInput({
 *   app, id: "a", kind: "text", data: new Uint8Array(), contentHash: null, contentSize: 0,
 *   statusCode: 30001, statusDescription: "Download pending", statusDetails: "",
 *   createdAt: 1, modifiedAt: 1, jobId: "job-1",
 * });
 * assertEquals(store.getInput(app, "a")?.kind, "text");
 * store.close();
 * ```
 */
export class LocalStore {
  #db: DatabaseSync;
  #statements = new Map<string, StatementSync>();
  #depth = 0;
  /** Where the database lives: a file path or `":memory:"`. */
  readonly location: string;
  /**
   * Where content bytes live: a folder of files named by hash, or `undefined` for a store in
   * memory (then they live in the database). Files keep large uploads out of SQLite's journal,
   * which wrote every byte twice.
   */
  readonly #blobDir: string | undefined;

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
    if (dataDir === ":memory:") {
      this.location = ":memory:";
    } else {
      mkdirSync(dataDir, { recursive: true });
      this.location = join(dataDir, DATABASE_FILE);
      this.#blobDir = join(dataDir, "blobs");
      mkdirSync(this.#blobDir, { recursive: true });
    }
    this.#db = new DatabaseSync(this.location);
    this.#db.exec("PRAGMA journal_mode = WAL");
    this.#db.exec("PRAGMA synchronous = NORMAL");
    this.#db.exec("PRAGMA busy_timeout = 5000");
    this.#db.exec(SCHEMA);
  }

  #sql(text: string): StatementSync {
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

  /**
   * Returns the key of an app, or `undefined` when nothing was ever stored in it.
   *
   * @param userId The user ID.
   * @param appId The app ID.
   * @returns The app's key.
   */
  findApp(userId: string, appId: string): number | undefined {
    const row = this.#sql("SELECT app FROM apps WHERE user_id = ? AND app_id = ?").get(
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
    const result = this.#sql("INSERT INTO apps (user_id, app_id, created_at) VALUES (?, ?, ?)")
      .run(userId, appId, Date.now());
    return Number(result.lastInsertRowid);
  }

  // ── inputs ──────────────────────────────────────────────────────────────────

  /**
   * Stores content bytes under their hash (once).
   *
   * @param hash SHA-256 hex of `bytes`.
   * @param bytes The content.
   */
  putBlob(hash: string, bytes: Uint8Array): void {
    if (this.#blobDir === undefined) {
      this.#sql("INSERT OR IGNORE INTO blobs (hash, bytes) VALUES (?, ?)").run(hash, bytes);
      return;
    }
    const inserted = this.#sql("INSERT OR IGNORE INTO blobs (hash, bytes) VALUES (?, ?)").run(
      hash,
      new Uint8Array(0),
    );
    if (Number(inserted.changes) === 0) return;
    // Written whole under a temporary name, then renamed: a reader sees all of it or nothing.
    const path = this.#blobPath(hash);
    const temp = `${path}.${crypto.randomUUID()}.tmp`;
    writeFileSync(temp, bytes);
    renameSync(temp, path);
  }

  #blobPath(hash: string): string {
    return join(this.#blobDir!, hash);
  }

  /**
   * Reads content bytes by hash.
   *
   * @param hash SHA-256 hex.
   * @returns The bytes, or `undefined`.
   */
  blob(hash: string): Uint8Array | undefined {
    const row = this.#sql("SELECT bytes FROM blobs WHERE hash = ?").get(hash);
    if (row === undefined) return undefined;
    if (this.#blobDir === undefined) return row.bytes as Uint8Array;
    try {
      return new Uint8Array(readFileSync(this.#blobPath(hash)));
    } catch {
      return undefined;
    }
  }

  /**
   * Reads the first bytes of stored content (enough to sniff its format).
   *
   * @param hash SHA-256 hex.
   * @param length How many bytes.
   * @returns The bytes, or `undefined`.
   */
  blobHead(hash: string, length: number): Uint8Array | undefined {
    if (this.#blobDir !== undefined) {
      if (this.#sql("SELECT 1 FROM blobs WHERE hash = ?").get(hash) === undefined) return undefined;
      let fd: number | undefined;
      try {
        fd = openSync(this.#blobPath(hash), "r");
        const head = new Uint8Array(length);
        const n = readSync(fd, head, 0, length, 0);
        return head.subarray(0, n);
      } catch {
        return undefined;
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    }
    const row = this.#sql("SELECT substr(bytes, 1, ?) AS head FROM blobs WHERE hash = ?").get(
      length,
      hash,
    );
    return row === undefined ? undefined : row.head as Uint8Array;
  }

  /**
   * Tells whether an input ID is taken in an app.
   *
   * @param app The app's key.
   * @param id The input ID.
   * @returns `true` when it exists.
   */
  inputExists(app: number, id: string): boolean {
    return this.#sql("SELECT 1 FROM inputs WHERE app = ? AND id = ?").get(app, id) !== undefined;
  }

  /**
   * Inserts an input.
   *
   * @param row The input (without `seq`).
   * @returns The row number.
   */
  insertInput(row: Omit<InputRow, "seq">): number {
    const result = this.#sql(
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
  getInput(app: number, id: string): InputRow | undefined {
    const row = this.#sql("SELECT * FROM inputs WHERE app = ? AND id = ?").get(app, id);
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
  listInputs(
    app: number,
    filter: { ids?: string[]; statusCode?: number },
    page: Page,
  ): InputRow[] {
    const where = ["app = ?"];
    const args: (string | number)[] = [app];
    if (filter.ids && filter.ids.length > 0) {
      where.push("id IN (SELECT value FROM json_each(?))");
      args.push(JSON.stringify(filter.ids));
    }
    if (filter.statusCode) {
      where.push("status_code = ?");
      args.push(filter.statusCode);
    }
    return this.#sql(
      `SELECT * FROM inputs WHERE ${where.join(" AND ")} ORDER BY seq LIMIT ? OFFSET ?`,
    ).all(...args, page.limit, page.offset).map(toInputRow);
  }

  /**
   * Counts an app's inputs by processing state.
   *
   * @param app The app's key.
   * @returns The counts.
   */
  inputCounts(app: number): InputProgress {
    return this.#progress(
      this.#sql("SELECT status_code, COUNT(*) AS n FROM inputs WHERE app = ? GROUP BY status_code")
        .all(app),
    );
  }

  #progress(rows: Row[]): InputProgress {
    const progress = { pending: 0, inProgress: 0, success: 0, failed: 0 };
    for (const row of rows) {
      const n = Number(row.n);
      switch (Number(row.status_code)) {
        case PENDING:
          progress.pending += n;
          break;
        case IN_PROGRESS:
          progress.inProgress += n;
          break;
        case SUCCESS:
          progress.success += n;
          break;
        default: // INPUT_FAILED and any other final error
          progress.failed += n;
      }
    }
    return progress;
  }

  /**
   * Deletes inputs with their dataset memberships and annotations; content bytes no other input
   * uses are deleted too.
   *
   * @param app The app's key.
   * @param ids The input IDs.
   * @returns How many inputs were deleted.
   */
  deleteInputs(app: number, ids: string[]): number {
    const deleted = this.transaction(() => {
      const json = JSON.stringify(ids);
      const hashes = this.#sql(
        `SELECT DISTINCT content_hash FROM inputs
         WHERE app = ? AND id IN (SELECT value FROM json_each(?)) AND content_hash IS NOT NULL`,
      ).all(app, json).map((r) => String(r.content_hash));
      const result = this.#sql(
        "DELETE FROM inputs WHERE app = ? AND id IN (SELECT value FROM json_each(?))",
      ).run(app, json);
      this.#sql(
        "DELETE FROM dataset_inputs WHERE app = ? AND input_id IN (SELECT value FROM json_each(?))",
      ).run(app, json);
      this.#sql(
        "DELETE FROM annotations WHERE app = ? AND input_id IN (SELECT value FROM json_each(?))",
      ).run(app, json);
      const unused: string[] = [];
      for (const hash of hashes) {
        const gone = this.#sql(
          "DELETE FROM blobs WHERE hash = ? AND NOT EXISTS (SELECT 1 FROM inputs WHERE content_hash = ?)",
        ).run(hash, hash);
        if (Number(gone.changes) > 0) unused.push(hash);
      }
      return { changes: Number(result.changes), unused };
    });
    // Files go once the rows are gone for good.
    if (this.#blobDir !== undefined) {
      for (const hash of deleted.unused) rmSync(this.#blobPath(hash), { force: true });
    }
    return deleted.changes;
  }

  /**
   * Returns up to `limit` pending inputs of every app, oldest first.
   *
   * @param limit The most to return.
   * @returns The pending inputs.
   */
  pendingInputs(limit: number): PendingInput[] {
    return this.#sql(
      `SELECT seq, app, id, kind, content_hash, job_id FROM inputs
       WHERE status_code = ? ORDER BY seq LIMIT ?`,
    ).all(PENDING, limit).map((r) => ({
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
   * @param code The status code.
   * @param description The description.
   * @param details The details.
   * @param now Milliseconds since the epoch.
   */
  setInputStatus(
    seq: number,
    code: number,
    description: string,
    details: string,
    now: number,
  ): void {
    this.#sql(
      `UPDATE inputs SET status_code = ?, status_description = ?, status_details = ?, modified_at = ?
       WHERE seq = ?`,
    ).run(code, description, details, now, seq);
  }

  // ── jobs ────────────────────────────────────────────────────────────────────

  /**
   * Creates an inputs-add job, or touches it when it exists.
   *
   * @param app The app's key.
   * @param id The job ID.
   * @param now Milliseconds since the epoch.
   */
  upsertJob(app: number, id: string, now: number): void {
    this.#sql(
      `INSERT INTO add_jobs (app, id, created_at, modified_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (app, id) DO UPDATE SET modified_at = excluded.modified_at`,
    ).run(app, id, now, now);
  }

  /**
   * Reads an inputs-add job.
   *
   * @param app The app's key.
   * @param id The job ID.
   * @returns The job, or `undefined`.
   */
  getJob(app: number, id: string): JobRow | undefined {
    const r = this.#sql("SELECT * FROM add_jobs WHERE app = ? AND id = ?").get(app, id);
    if (r === undefined) return undefined;
    return {
      id: String(r.id),
      createdAt: Number(r.created_at),
      modifiedAt: Number(r.modified_at),
      cancelled: Number(r.cancelled) === 1,
    };
  }

  /**
   * Counts a job's inputs by processing state.
   *
   * @param app The app's key.
   * @param id The job ID.
   * @returns The counts.
   */
  jobProgress(app: number, id: string): InputProgress {
    return this.#progress(
      this.#sql(
        "SELECT status_code, COUNT(*) AS n FROM inputs WHERE app = ? AND job_id = ? GROUP BY status_code",
      ).all(app, id),
    );
  }

  /**
   * Cancels a job: marks it cancelled and fails its pending inputs.
   *
   * @param app The app's key.
   * @param id The job ID.
   * @param now Milliseconds since the epoch.
   * @returns How many pending inputs were failed.
   */
  cancelJob(app: number, id: string, now: number): number {
    return this.transaction(() => {
      this.#sql("UPDATE add_jobs SET cancelled = 1, modified_at = ? WHERE app = ? AND id = ?").run(
        now,
        app,
        id,
      );
      const result = this.#sql(
        `UPDATE inputs SET status_code = ?, status_description = 'Download failed',
         status_details = 'The inputs add job was cancelled.', modified_at = ?
         WHERE app = ? AND job_id = ? AND status_code IN (?, ?)`,
      ).run(FAILED, now, app, id, PENDING, IN_PROGRESS);
      return Number(result.changes);
    });
  }

  // ── datasets ────────────────────────────────────────────────────────────────

  /**
   * Reads a dataset.
   *
   * @param app The app's key.
   * @param id The dataset ID.
   * @returns The dataset, or `undefined`.
   */
  getDataset(app: number, id: string): DatasetRow | undefined {
    const r = this.#sql("SELECT * FROM datasets WHERE app = ? AND id = ?").get(app, id);
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
  insertDataset(app: number, row: DatasetRow): void {
    this.#sql(
      "INSERT INTO datasets (app, id, message, created_at, modified_at) VALUES (?, ?, ?, ?, ?)",
    ).run(app, row.id, row.message, row.createdAt, row.modifiedAt);
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
  addDatasetInput(app: number, datasetId: string, inputId: string, now: number): number {
    this.#sql(
      `INSERT OR IGNORE INTO dataset_inputs (app, dataset_id, input_id, created_at)
       VALUES (?, ?, ?, ?)`,
    ).run(app, datasetId, inputId, now);
    const r = this.#sql(
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
  listDatasetInputs(
    app: number,
    datasetId: string,
    page: Page,
  ): { input: InputRow; addedAt: number }[] {
    return this.#sql(
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
  datasetsOfInput(app: number, inputId: string): string[] {
    return this.#sql(
      "SELECT dataset_id FROM dataset_inputs WHERE app = ? AND input_id = ? ORDER BY seq",
    ).all(app, inputId).map((r) => String(r.dataset_id));
  }

  // ── annotations ─────────────────────────────────────────────────────────────

  /**
   * Tells whether an annotation ID is taken in an app.
   *
   * @param app The app's key.
   * @param id The annotation ID.
   * @returns `true` when it exists.
   */
  annotationExists(app: number, id: string): boolean {
    return this.#sql("SELECT 1 FROM annotations WHERE app = ? AND id = ?").get(app, id) !==
      undefined;
  }

  /**
   * Inserts an annotation.
   *
   * @param app The app's key.
   * @param row The annotation.
   */
  insertAnnotation(app: number, row: AnnotationRow): void {
    this.#sql(
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
  listAnnotations(
    app: number,
    filter: { ids?: string[]; inputIds?: string[]; statusCodes?: number[] },
    page: Page,
  ): AnnotationRow[] {
    const where = ["app = ?"];
    const args: (string | number)[] = [app];
    if (filter.ids && filter.ids.length > 0) {
      where.push("id IN (SELECT value FROM json_each(?))");
      args.push(JSON.stringify(filter.ids));
    }
    if (filter.inputIds && filter.inputIds.length > 0) {
      where.push("input_id IN (SELECT value FROM json_each(?))");
      args.push(JSON.stringify(filter.inputIds));
    }
    if (filter.statusCodes && filter.statusCodes.length > 0) {
      where.push("status_code IN (SELECT value FROM json_each(?))");
      args.push(JSON.stringify(filter.statusCodes));
    }
    return this.#sql(
      `SELECT * FROM annotations WHERE ${where.join(" AND ")} ORDER BY seq LIMIT ? OFFSET ?`,
    ).all(...args, page.limit, page.offset).map(toAnnotationRow);
  }
}
