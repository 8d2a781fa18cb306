/**
 * {@linkcode JournalIndex}: what a journal says, kept on disk in a SQLite file beside it
 * (`<journal>.index.sqlite`), so that a run over ten million inputs keeps none of it in memory
 * and a resume starts without reading the journal again. The NDJSON journal stays the record;
 * the index is a cache of it that knows how many bytes of the journal it has applied, and is
 * brought up to date (or rebuilt) from the journal when it opens.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { JournalEntry, JournalInputEntry, JournalRunEntry } from "./journal.ts";

const VERSION = "1";
const UPLOADED = 1;
const UNANSWERED = 2;

/** The key a failure is kept under: its input ID, or `@location` when it has none. */
function failureKey(entry: JournalInputEntry): string {
  return entry.id !== "" ? entry.id : `@${entry.location}`;
}

/**
 * The on-disk state of a journal: which inputs are uploaded, which went out in a request whose
 * answer the journal does not record, the annotation IDs of uploaded inputs, the latest failure
 * of each input still not uploaded, and the runs. Updates are applied in one transaction per
 * call, together with the journal offset they bring the index to.
 *
 * @example Usage
 * ```ts
 * import { JournalIndex } from "./journal_index.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = await Deno.makeTempDir();
 * const index = JournalIndex.open(`${dir}/j.index.sqlite`);
 * index.apply([
 *   { t: "sending", ids: ["a", "b"] },
 *   { t: "input", id: "a", location: "a.jpg", outcome: "uploaded" },
 * ], 100);
 * assertEquals([index.isUploaded("a"), index.isUploaded("b")], [true, false]);
 * assertEquals([index.uploadedCount, index.unansweredSince("b", 101)], [1, true]);
 * assertEquals(index.offset, 100);
 * index.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class JournalIndex {
  /** The index file's path. */
  readonly path: string;
  #db: DatabaseSync;
  #get: StatementSync;
  #put: StatementSync;
  #send: StatementSync;
  #getFailure: StatementSync;
  #putFailure: StatementSync;
  #deleteFailure: StatementSync;
  #putRun: StatementSync;
  #setMeta: StatementSync;
  #offset: number;
  #uploaded: number;
  #failures: number;
  #nextSeq: number;
  #head: string;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
    this.#get = db.prepare("SELECT flags, sent, ann FROM inputs WHERE id = ?");
    this.#put = db.prepare(
      "INSERT OR REPLACE INTO inputs(id, flags, sent, ann) VALUES (?, ?, ?, ?)",
    );
    // A sending line: unanswered from here, unless it is already (the earliest request is the
    // one that may have stored it), in one statement.
    this.#send = db.prepare(
      "INSERT INTO inputs(id, flags, sent, ann) VALUES (?, 2, ?, NULL) ON CONFLICT(id) DO UPDATE" +
        " SET sent = CASE WHEN flags & 2 THEN sent ELSE excluded.sent END, flags = flags | 2",
    );
    this.#getFailure = db.prepare("SELECT seq FROM failures WHERE key = ?");
    this.#putFailure = db.prepare(
      "INSERT OR REPLACE INTO failures(key, seq, entry) VALUES (?, ?, ?)",
    );
    this.#deleteFailure = db.prepare("DELETE FROM failures WHERE key = ?");
    this.#putRun = db.prepare("INSERT INTO runs(entry) VALUES (?)");
    this.#setMeta = db.prepare("INSERT OR REPLACE INTO meta(k, v) VALUES (?, ?)");
    const meta = new Map(
      (db.prepare("SELECT k, v FROM meta").all() as { k: string; v: string }[]).map((
        r,
      ) => [r.k, r.v]),
    );
    this.#offset = Number(meta.get("offset") ?? 0);
    this.#uploaded = Number(meta.get("uploaded") ?? 0);
    this.#failures = Number(meta.get("failures") ?? 0);
    this.#nextSeq = Number(meta.get("seq") ?? 0);
    this.#head = meta.get("head") ?? "";
  }

  /**
   * Opens (or creates) an index file. A file of another version, or one SQLite cannot read, is
   * replaced by an empty index.
   *
   * @param path The index file.
   * @returns The open index.
   */
  static open(path: string): JournalIndex {
    try {
      const index = new JournalIndex(path, JournalIndex.#connect(path));
      const version = index.#db.prepare("SELECT v FROM meta WHERE k = 'version'").get() as
        | { v: string }
        | undefined;
      if (version?.v === VERSION) return index;
      index.close();
    } catch { /* unreadable: rebuilt below */ }
    JournalIndex.remove(path);
    return new JournalIndex(path, JournalIndex.#connect(path));
  }

  /**
   * Removes an index file and its SQLite side files.
   *
   * @param path The index file.
   */
  static remove(path: string): void {
    for (const suffix of ["", "-wal", "-shm", "-journal"]) {
      try {
        Deno.removeSync(path + suffix);
      } catch { /* none */ }
    }
  }

  static #connect(path: string): DatabaseSync {
    const db = new DatabaseSync(path);
    db.exec(
      // WAL survives a killed process; the journal is the record, so a power cut that loses
      // the last commits only makes the next open replay more of the journal.
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-8192;" +
        "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;" +
        "CREATE TABLE IF NOT EXISTS inputs(id TEXT PRIMARY KEY, flags INTEGER NOT NULL," +
        " sent INTEGER NOT NULL, ann TEXT) WITHOUT ROWID;" +
        "CREATE TABLE IF NOT EXISTS failures(key TEXT PRIMARY KEY, seq INTEGER NOT NULL," +
        " entry TEXT NOT NULL) WITHOUT ROWID;" +
        "CREATE INDEX IF NOT EXISTS failures_seq ON failures(seq);" +
        "CREATE TABLE IF NOT EXISTS runs(seq INTEGER PRIMARY KEY, entry TEXT NOT NULL);" +
        `INSERT OR IGNORE INTO meta(k, v) VALUES ('version', '${VERSION}');`,
    );
    return db;
  }

  /** The journal bytes applied so far. */
  get offset(): number {
    return this.#offset;
  }

  /** The journal's first line as the index recorded it (to tell a replaced journal). */
  get head(): string {
    return this.#head;
  }

  /** The number of inputs whose latest outcome is uploaded (or processed). */
  get uploadedCount(): number {
    return this.#uploaded;
  }

  /** The number of failures and rejections of inputs still not uploaded. */
  get failureCount(): number {
    return this.#failures;
  }

  /**
   * Whether the input's latest outcome is uploaded (or processed).
   *
   * @param id The input ID.
   * @returns Whether it is uploaded.
   */
  isUploaded(id: string): boolean {
    const row = this.#get.get(id) as { flags: number } | undefined;
    return row !== undefined && (row.flags & UPLOADED) !== 0;
  }

  /**
   * Whether the input went out in a request whose outcome the journal does not record, by a
   * line that starts before `before` (a journal offset): the server may hold it.
   *
   * @param id The input ID.
   * @param before Only requests journaled before this offset count.
   * @returns Whether it is unanswered.
   */
  unansweredSince(id: string, before: number): boolean {
    const row = this.#get.get(id) as { flags: number; sent: number } | undefined;
    return row !== undefined && (row.flags & UNANSWERED) !== 0 && row.sent < before;
  }

  /**
   * The annotation IDs recorded for an uploaded input.
   *
   * @param id The input ID.
   * @returns The IDs, or `undefined` when none are recorded.
   */
  annotationIds(id: string): Set<string> | undefined {
    const row = this.#get.get(id) as { ann: string | null } | undefined;
    return row?.ann ? new Set(JSON.parse(row.ann) as string[]) : undefined;
  }

  /**
   * The latest failures and rejections of inputs still not uploaded, in the order they were
   * first recorded, read from disk as they are iterated.
   *
   * @returns The failure lines.
   */
  *failures(): Generator<JournalInputEntry> {
    const page = this.#db.prepare(
      "SELECT seq, entry FROM failures WHERE seq > ? ORDER BY seq LIMIT 512",
    );
    let after = -1;
    for (;;) {
      const rows = page.all(after) as { seq: number; entry: string }[];
      if (rows.length === 0) return;
      for (const row of rows) yield JSON.parse(row.entry);
      after = rows[rows.length - 1].seq;
    }
  }

  /**
   * The runs recorded.
   *
   * @returns The run lines, in order.
   */
  runs(): JournalRunEntry[] {
    return (this.#db.prepare("SELECT entry FROM runs ORDER BY seq").all() as { entry: string }[])
      .map((r) => JSON.parse(r.entry));
  }

  /**
   * Applies journal lines in one transaction, and records the journal offset they end at. The
   * lines count as written at the offset the index was at before (for
   * {@linkcode JournalIndex.unansweredSince}).
   *
   * @param entries The lines, in journal order.
   * @param offset The journal offset after them.
   * @param head The journal's first line, when these lines start the journal.
   */
  apply(entries: Iterable<JournalEntry>, offset: number, head?: string): void {
    const at = this.#offset;
    this.#db.exec("BEGIN");
    try {
      for (const entry of entries) this.#applyOne(entry, at);
      this.#offset = offset;
      this.#setMeta.run("offset", String(offset));
      this.#setMeta.run("uploaded", String(this.#uploaded));
      this.#setMeta.run("failures", String(this.#failures));
      this.#setMeta.run("seq", String(this.#nextSeq));
      if (head !== undefined) {
        this.#head = head;
        this.#setMeta.run("head", head);
      }
      this.#db.exec("COMMIT");
    } catch (err) {
      this.#db.exec("ROLLBACK");
      // The counters may have moved with the lines that were rolled back: read them again.
      const meta = new Map(
        (this.#db.prepare("SELECT k, v FROM meta").all() as { k: string; v: string }[]).map((
          r,
        ) => [r.k, r.v]),
      );
      this.#uploaded = Number(meta.get("uploaded") ?? 0);
      this.#failures = Number(meta.get("failures") ?? 0);
      this.#nextSeq = Number(meta.get("seq") ?? 0);
      throw err;
    }
  }

  #applyOne(entry: JournalEntry, at: number): void {
    switch (entry.t) {
      case "run":
        this.#putRun.run(JSON.stringify(entry));
        return;
      case "sending":
        for (const id of entry.ids) this.#send.run(id, at);
        return;
      case "input": {
        const key = failureKey(entry);
        const uploaded = entry.outcome === "uploaded" || entry.outcome === "processed";
        if (entry.id !== "") {
          const row = this.#get.get(entry.id) as
            | { flags: number; sent: number; ann: string | null }
            | undefined;
          let flags = row?.flags ?? 0;
          const was = (flags & UPLOADED) !== 0;
          const sent = row && (flags & UNANSWERED) !== 0 ? row.sent : at;
          flags = entry.maybeStored ? flags | UNANSWERED : flags & ~UNANSWERED;
          let ann = row?.ann ?? null;
          if (uploaded) {
            flags |= UPLOADED;
            if (entry.annotationIds?.length) {
              const ids = new Set<string>(ann ? JSON.parse(ann) : []);
              for (const a of entry.annotationIds) ids.add(a);
              ann = JSON.stringify([...ids]);
            }
          } else if (entry.outcome === "processing-failed") flags &= ~UPLOADED;
          const now = (flags & UPLOADED) !== 0;
          if (now !== was) this.#uploaded += now ? 1 : -1;
          this.#put.run(entry.id, flags, sent, ann);
        }
        if (uploaded) {
          if (this.#failures > 0 && this.#getFailure.get(key)) {
            this.#deleteFailure.run(key);
            this.#failures--;
          }
        } else {
          const held = this.#getFailure.get(key) as { seq: number } | undefined;
          if (!held) this.#failures++;
          this.#putFailure.run(key, held?.seq ?? this.#nextSeq++, JSON.stringify(entry));
        }
        return;
      }
    }
  }

  /** Closes the file. */
  close(): void {
    try {
      this.#db.close();
    } catch { /* closed */ }
  }
}
