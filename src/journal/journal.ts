/**
 * The journal: an append-only NDJSON file with one line per input outcome. Re-running the same
 * upload with the same journal resumes it (inputs recorded as uploaded are skipped without
 * being read); its failure lines are the retry log; its `sending` lines tell a resend after a
 * crash from a real duplicate.
 *
 * @module
 */
import type { InputDraft, InputKind } from "../inputs/input_draft.ts";
import type { FailureStage } from "../inputs/failure_stage.ts";
import { JournalIndex } from "./journal_index.ts";

/** The first line of each run appended to a journal. */
export interface JournalRunEntry {
  /** Discriminant. */
  t: "run";
  /** The run's ID. */
  runId: string;
  /** ISO time the run started. */
  time: string;
  /** Where the inputs go, for people. */
  target: string;
  /** What the run reads, for people (`folder samples/images`). */
  source?: string;
}

/** Written before a PostInputs request: these IDs may be stored from here on. */
export interface JournalSendingEntry {
  /** Discriminant. */
  t: "sending";
  /** The input IDs in the request. */
  ids: string[];
}

/** The outcome of one input. */
export interface JournalInputEntry {
  /** Discriminant. */
  t: "input";
  /** The input ID (empty when a rejected record had none). */
  id: string;
  /** Where the record came from. */
  location: string;
  /** What happened. `processed` and `processing-failed` come from waiting for processing. */
  outcome: "uploaded" | "failed" | "rejected" | "processed" | "processing-failed";
  /** The input's kind, when known. */
  kind?: InputKind;
  /** Where a failure happened. */
  stage?: FailureStage;
  /** Clarifai's status code name, when there was one. */
  code?: string;
  /** Why it failed. */
  reason?: string;
  /** Requests it took. */
  attempts?: number;
  /** Annotations uploaded with the input. */
  annotations?: number;
  /** The IDs of those annotations (derived from their content), on uploaded lines. */
  annotationIds?: string[];
  /** The draft, on failure lines, so `retry` can re-send it without the source. */
  draft?: InputDraft;
  /** On failure lines: a request carrying the input went unanswered, so the server may hold it. */
  maybeStored?: boolean;
  /**
   * On uploaded lines of inputs this run found on the server instead of sending them: whether
   * the server's copy carried the same content digest (`verified`) or none (`unverified`).
   */
  present?: "verified" | "unverified";
}

/** A line of the journal. */
export type JournalEntry = JournalRunEntry | JournalSendingEntry | JournalInputEntry;

/** What a journal says, read back. */
export interface JournalState {
  /** IDs whose latest outcome is uploaded (or processed). */
  uploaded: Set<string>;
  /** The annotation IDs recorded for uploaded inputs that have annotations. */
  annotationIds: Map<string, Set<string>>;
  /**
   * IDs that were in a request whose outcome the journal does not record (the run died or the
   * answer was lost): the server may hold them, so a duplicate answer for one of these on a
   * resend is our own earlier request, not somebody else's input.
   */
  unanswered: Set<string>;
  /** The latest failure or rejection of each input still not uploaded, keyed by ID or location. */
  failures: Map<string, JournalInputEntry>;
  /** Runs recorded. */
  runs: JournalRunEntry[];
  /** Lines that could not be parsed (a torn last line is repaired, not counted here). */
  badLines: number;
  /** Whether a torn last line was cut off when the journal was opened. */
  repaired: boolean;
}

function emptyState(): JournalState {
  return {
    uploaded: new Set(),
    annotationIds: new Map(),
    unanswered: new Set(),
    failures: new Map(),
    runs: [],
    badLines: 0,
    repaired: false,
  };
}

function failureKey(entry: JournalInputEntry): string {
  return entry.id !== "" ? entry.id : `@${entry.location}`;
}

/**
 * A copy of `text` that shares no memory with a larger string. An ID sliced out of a 64 KiB
 * chunk of a CSV would otherwise keep the whole chunk alive for as long as the journal's sets
 * hold it: every chunk of a 10-million-row file.
 */
function flat(text: string): string {
  return text.length < 13 ? text : JSON.parse(JSON.stringify(text));
}

function applyEntry(state: JournalState, entry: JournalEntry): void {
  switch (entry.t) {
    case "run":
      state.runs.push(entry);
      return;
    case "sending":
      for (const id of entry.ids) state.unanswered.add(flat(id));
      return;
    case "input":
      if (entry.maybeStored) state.unanswered.add(flat(entry.id));
      else state.unanswered.delete(entry.id);
      if (entry.outcome === "uploaded" || entry.outcome === "processed") {
        state.uploaded.add(entry.id);
        if (entry.annotationIds?.length) {
          const ids = state.annotationIds.get(entry.id);
          if (ids) { for (const a of entry.annotationIds) ids.add(a); }
          else state.annotationIds.set(entry.id, new Set(entry.annotationIds));
        }
        state.failures.delete(entry.id);
      } else {
        if (entry.outcome === "processing-failed") state.uploaded.delete(entry.id);
        state.failures.set(failureKey(entry), entry);
      }
      return;
  }
}

function isEntry(value: unknown): value is JournalEntry {
  if (typeof value !== "object" || value === null) return false;
  const t = (value as { t?: unknown }).t;
  return t === "run" || t === "sending" || t === "input";
}

/**
 * Reads a journal file into its state. A missing file is an empty journal. A last line without
 * its newline (a write torn by a crash) is ignored; `repair: true` also cuts it off the file.
 *
 * @param path The journal's path.
 * @param options `repair`: truncate a torn last line.
 * @returns The journal's state.
 *
 * @example Usage
 * ```ts
 * import { readJournal } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const path = await Deno.makeTempFile({ suffix: ".ndjson" });
 * await Deno.writeTextFile(
 *   path,
 *   '{"t":"sending","ids":["a","b"]}\n' +
 *     '{"t":"input","id":"a","location":"a.jpg","outcome":"uploaded"}\n' +
 *     '{"t":"input","id":"b","location":"b.jpg","outcome":"fai',
 * );
 * const state = await readJournal(path, { repair: true });
 * assertEquals([...state.uploaded], ["a"]);
 * assertEquals([...state.unanswered], ["b"]);
 * assertEquals(state.repaired, true);
 * await Deno.remove(path);
 * ```
 */
export async function readJournal(
  path: string,
  options: { repair?: boolean } = {},
): Promise<JournalState> {
  const state = emptyState();
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return state;
    throw err;
  }
  let goodBytes = 0;
  let pending = "";
  let lineNo = 0;
  const decoder = new TextDecoder();
  for await (const chunk of file.readable) {
    pending += decoder.decode(chunk, { stream: true });
    let start = 0;
    let nl: number;
    while ((nl = pending.indexOf("\n", start)) !== -1) {
      const line = pending.slice(start, nl);
      start = nl + 1;
      lineNo++;
      goodBytes += new TextEncoder().encode(line).length + 1;
      if (line.trim() === "") continue;
      try {
        const value = JSON.parse(line);
        if (isEntry(value)) applyEntry(state, value);
        else state.badLines++;
      } catch {
        state.badLines++;
      }
    }
    pending = pending.slice(start);
  }
  pending += decoder.decode();
  if (pending !== "") {
    // A torn last line: the process died mid-write. Its outcome is unknown, so it is dropped.
    state.repaired = true;
    if (options.repair) await Deno.truncate(path, goodBytes);
  }
  return state;
}

/**
 * Cuts a torn last line (a write cut short by a crash) off a journal, reading only its end.
 *
 * @returns The journal's size afterwards (0 when it does not exist), and whether a line was cut.
 */
async function repairTail(path: string): Promise<{ size: number; repaired: boolean }> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { size: 0, repaired: false };
    throw err;
  }
  try {
    const { size } = await file.stat();
    let end = size;
    const chunk = new Uint8Array(64 * 1024);
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      await file.seek(start, Deno.SeekMode.Start);
      let got = 0;
      while (got < end - start) {
        const n = await file.read(chunk.subarray(got, end - start));
        if (n === null) break;
        got += n;
      }
      const nl = chunk.subarray(0, got).lastIndexOf(10);
      if (nl !== -1) {
        const good = start + nl + 1;
        if (good === size) return { size, repaired: false };
        await Deno.truncate(path, good);
        return { size: good, repaired: true };
      }
      end = start;
    }
    if (size > 0) await Deno.truncate(path, 0);
    return { size: 0, repaired: size > 0 };
  } finally {
    file.close();
  }
}

/** How much of the journal's first line the index keeps, to tell a replaced journal. */
const HEAD_CHARS = 200;

/** The start of the journal's first line, or "" for an empty journal. */
async function firstLine(path: string): Promise<string> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "";
    throw err;
  }
  try {
    const buf = new Uint8Array(4096);
    let got = 0;
    while (got < buf.length) {
      const n = await file.read(buf.subarray(got));
      if (n === null) break;
      got += n;
    }
    const text = new TextDecoder().decode(buf.subarray(0, got));
    const nl = text.indexOf("\n");
    return (nl === -1 ? text : text.slice(0, nl)).slice(0, HEAD_CHARS);
  } finally {
    file.close();
  }
}

/**
 * Applies the journal's lines from the index's offset to `size` to the index, in transactions
 * of a few thousand lines.
 *
 * @returns The number of lines that could not be parsed.
 */
async function catchUp(
  path: string,
  index: JournalIndex,
  size: number,
  head: string,
): Promise<number> {
  if (index.offset >= size) return 0;
  const file = await Deno.open(path, { read: true });
  let badLines = 0;
  try {
    await file.seek(index.offset, Deno.SeekMode.Start);
    let offset = index.offset;
    let batch: JournalEntry[] = [];
    let pending = new Uint8Array(0);
    const decoder = new TextDecoder();
    const buf = new Uint8Array(1024 * 1024);
    let remaining = size - offset;
    while (remaining > 0) {
      const n = await file.read(buf.subarray(0, Math.min(buf.length, remaining)));
      if (n === null) break;
      remaining -= n;
      const data = pending.length === 0 ? buf.subarray(0, n) : concat(pending, buf.subarray(0, n));
      let start = 0;
      let nl: number;
      while ((nl = data.indexOf(10, start)) !== -1) {
        const line = decoder.decode(data.subarray(start, nl));
        offset += nl + 1 - start;
        start = nl + 1;
        if (line.trim() !== "") {
          try {
            const value = JSON.parse(line);
            if (isEntry(value)) batch.push(value);
            else badLines++;
          } catch {
            badLines++;
          }
        }
        if (batch.length >= 5000) {
          index.apply(batch, offset, index.offset === 0 ? head : undefined);
          batch = [];
        }
      }
      pending = data.slice(start);
    }
    index.apply(batch, offset, index.offset === 0 ? head : undefined);
  } finally {
    file.close();
  }
  return badLines;
}

/**
 * Indexes a journal into a file of its own, reading the journal only (a torn last line is left
 * out, not cut off): for reading the counts of a journal that has no index of its own, or one a
 * running upload is writing, without holding its lines in memory.
 *
 * @param path The journal's path.
 * @param indexPath Where to write the index (created, or brought up to date when it is one of
 *   this journal).
 * @returns The open index (close it) and the number of lines that could not be parsed.
 *
 * @example Usage
 * ```ts
 * import { indexJournal } from "./journal.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(
 *   `${dir}/j.ndjson`,
 *   '{"t":"input","id":"a","location":"a.jpg","outcome":"uploaded"}\n{"t":"inp',
 * );
 * const { index, badLines } = await indexJournal(`${dir}/j.ndjson`, `${dir}/copy.sqlite`);
 * assertEquals([index.uploadedCount, badLines], [1, 0]);
 * index.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function indexJournal(
  path: string,
  indexPath: string,
): Promise<{ index: JournalIndex; badLines: number }> {
  const { size } = await Deno.stat(path);
  const head = await firstLine(path);
  const index = JournalIndex.open(indexPath);
  try {
    return { index, badLines: await catchUp(path, index, size, head) };
  } catch (err) {
    index.close();
    throw err;
  }
}

/**
 * The start of a journal's first line as its index records it (`""` for an empty or missing
 * journal), to tell whether an index describes this journal.
 *
 * @param path The journal's path.
 * @returns The line's first 200 characters.
 *
 * @example Usage
 * ```ts
 * import { journalHead } from "./journal.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, '{"t":"sending","ids":["a"]}\n');
 * assertEquals(await journalHead(path), '{"t":"sending","ids":["a"]}');
 * await Deno.remove(path);
 * ```
 */
export async function journalHead(path: string): Promise<string> {
  return await firstLine(path);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Appends gathered into one write: their lines, serialised, and when the write is done. */
interface Gathered {
  entries: JournalEntry[];
  texts: string[];
  done: Promise<void>;
}

/**
 * An open journal: its state lives in a {@linkcode JournalIndex} on disk beside it
 * (`<journal>.index.sqlite`), brought up to date from the journal's lines it has not applied
 * yet when the journal opens (all of them, once, for a journal from elsewhere or an older
 * upflow), so opening a journal of ten million lines reads none of them again. A torn last line
 * is cut off first, reading only the file's end. Appends are serialised in call order; those
 * made while a write is in flight are gathered into the next one. Each write is of whole lines,
 * applied to the index once written, so a crash can tear at most the last line, which the next
 * open cuts off.
 *
 * @example Usage
 * ```ts
 * import { Journal } from "@upflow/upflow";
 * import { assert } from "@std/assert";
 *
 * const dir = await Deno.makeTempDir();
 * const journal = await Journal.open(`${dir}/journal.ndjson`);
 * await journal.append([{ t: "input", id: "a", location: "a.jpg", outcome: "uploaded" }]);
 * await journal.close();
 * const again = await Journal.open(`${dir}/journal.ndjson`);
 * assert(again.index.isUploaded("a"));
 * await again.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Journal {
  /** The journal's path. */
  readonly path: string;
  /** What the journal says, on disk, kept current by {@linkcode Journal.append}. */
  readonly index: JournalIndex;
  /** Whether a torn last line was cut off when the journal was opened. */
  readonly repaired: boolean;
  /** Lines read when the journal opened that could not be parsed. */
  readonly badLines: number;
  #file: Deno.FsFile;
  #size: number;
  #queue: Promise<void> = Promise.resolve();
  /** The write not started yet that further appends join. */
  #next?: Gathered;
  #encoder = new TextEncoder();
  #closed = false;
  #writes = 0;

  private constructor(
    path: string,
    index: JournalIndex,
    file: Deno.FsFile,
    size: number,
    repaired: boolean,
    badLines: number,
  ) {
    this.path = path;
    this.index = index;
    this.#file = file;
    this.#size = size;
    this.repaired = repaired;
    this.badLines = badLines;
  }

  /**
   * The path of a journal's index file.
   *
   * @param path The journal's path.
   * @returns `<path>.index.sqlite`.
   *
   * @example Usage
   * ```ts
   * import { Journal } from "@upflow/upflow";
   * import { assertEquals } from "@std/assert";
   *
   * assertEquals(Journal.indexPath("a/j.ndjson"), "a/j.ndjson.index.sqlite");
   * ```
   */
  static indexPath(path: string): string {
    return `${path}.index.sqlite`;
  }

  /**
   * Opens (or creates) a journal, bringing its index up to date.
   *
   * @param path The journal's path; its folder is created when missing.
   * @returns The open journal.
   */
  static async open(path: string): Promise<Journal> {
    const dir = path.replace(/[/\\][^/\\]*$/, "");
    if (dir !== path && dir !== "") await Deno.mkdir(dir, { recursive: true });
    const { size, repaired } = await repairTail(path);
    const head = await firstLine(path);
    const indexPath = Journal.indexPath(path);
    let index = JournalIndex.open(indexPath);
    if (index.offset > size || (index.offset > 0 && index.head !== head)) {
      // The journal was replaced, cut or removed since: the index describes another one.
      index.close();
      JournalIndex.remove(indexPath);
      index = JournalIndex.open(indexPath);
    }
    let badLines: number;
    try {
      badLines = await catchUp(path, index, size, head);
    } catch (err) {
      index.close();
      throw err;
    }
    const file = await Deno.open(path, { append: true, create: true });
    return new Journal(path, index, file, size, repaired, badLines);
  }

  /**
   * Appends entries after every earlier append has been written; the index learns them once
   * they are written. Appends made while a write is in flight are gathered, in call order, into
   * the next write: one `write` and one index transaction for all of them (a page of inputs
   * found present on the server is one write, not one per input).
   *
   * @param entries The lines to append.
   * @returns A promise that settles when the lines are written and indexed.
   */
  append(entries: JournalEntry[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`The journal ${this.path} is closed`));
    if (entries.length === 0) return this.#queue.catch(() => {});
    // Serialised here: a line that cannot be throws to its caller, not to those gathered with it.
    const text = entries.map((e) => JSON.stringify(e)).join("\n") + "\n";
    let next = this.#next;
    if (next === undefined) {
      const gathered: Gathered = { entries: [], texts: [], done: Promise.resolve() };
      gathered.done = this.#queue.catch(() => {}).then(() => {
        // From here on, appends go to the write after this one.
        if (this.#next === gathered) this.#next = undefined;
        return this.#write(gathered);
      });
      next = this.#next = gathered;
      this.#queue = gathered.done;
    }
    for (const entry of entries) next.entries.push(entry);
    next.texts.push(text);
    return next.done;
  }

  /**
   * The writes made so far: appends gathered into one write count once.
   *
   * @example Usage
   * ```ts
   * import { Journal } from "@upflow/upflow";
   * import { assertEquals } from "@std/assert";
   *
   * const dir = await Deno.makeTempDir();
   * const journal = await Journal.open(`${dir}/journal.ndjson`);
   * await Promise.all(["a", "b", "c"].map((id) =>
   *   journal.append([{ t: "input", id, location: id, outcome: "uploaded" }])
   * ));
   * assertEquals([journal.writeCount, journal.index.uploadedCount], [1, 3]);
   * await journal.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  get writeCount(): number {
    return this.#writes;
  }

  #write({ entries, texts }: Gathered): void {
    this.#writes++;
    const text = texts.join("");
    const bytes = this.#encoder.encode(text);
    let written = 0;
    // A synchronous write: the lines are a few KiB, and the index is updated synchronously
    // anyway; an asynchronous one costs several times the CPU (a hand-off to another thread).
    while (written < bytes.length) written += this.#file.writeSync(bytes.subarray(written));
    const start = this.#size;
    this.#size += bytes.length;
    this.index.apply(
      entries,
      this.#size,
      start === 0 ? text.slice(0, text.indexOf("\n")).slice(0, HEAD_CHARS) : undefined,
    );
  }

  /**
   * Waits for pending appends and closes the file and its index.
   *
   * @returns A promise that settles when the file is closed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      // A failed write was reported to the append that made it.
      await this.#queue.catch(() => {});
    } finally {
      this.#file.close();
      this.index.close();
    }
  }
}
