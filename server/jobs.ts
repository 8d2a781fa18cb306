/**
 * Upload jobs: {@linkcode Jobs} creates and finds them, {@linkcode Job} runs one upload's events
 * to its own events log (NDJSON on disk), next to its own journal, and lets any number of
 * readers follow that log from the start: the response that started the job is just one reader,
 * so a client that leaves does not stop the job and can re-attach.
 *
 * On disk, under the data folder: `jobs/<id>/job.json` (state and counts), `events.ndjson`
 * (every event, the first line `{"type":"job",…}`, the last the `done` summary),
 * `journal.ndjson` (the run's journal) and, for multipart uploads, `files/`.
 *
 * @module
 */
import { join } from "node:path";
import type { ProgressEvent, UploadCounts, UploadSummary } from "../src/pipeline/progress_event.ts";
import { zeroCounts } from "../src/pipeline/progress_event.ts";
import { ApiError } from "./api_error.ts";
import type { InputOutcome, Metrics } from "./metrics.ts";
import { JournalInUseError, type JournalLock, lockJournal } from "../src/journal/journal_lock.ts";

/**
 * Where a job is. `completed`: every input uploaded (or already there); `completed_with_failures`:
 * some inputs uploaded, some failed or were rejected; `failed`: a fatal error stopped it, or
 * inputs failed or were rejected and none was uploaded; `interrupted`: the service stopped while
 * it ran.
 */
export type JobState =
  | "running"
  | "completed"
  | "completed_with_failures"
  | "failed"
  | "cancelled"
  | "interrupted";

/** Every job state, in the order lists and metrics show them. */
export const JOB_STATES: readonly JobState[] = [
  "running",
  "completed",
  "completed_with_failures",
  "failed",
  "cancelled",
  "interrupted",
];

/**
 * The state of a job that ended with `summary` (`undefined`: it ended without one).
 *
 * @param summary The run's summary.
 * @param aborted Whether the job was cancelled.
 * @returns The job's final state.
 *
 * @example Usage
 * ```ts
 * import { finalState } from "./jobs.ts";
 * import { zeroCounts } from "../src/pipeline/progress_event.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const base = {
 *   ...zeroCounts(), runId: "r", dryRun: false, batches: 1, bytes: 1, durationMs: 1,
 *   inputsPerSecond: 1, megabytesPerSecond: 1,
 * };
 * assertEquals(finalState({ ...base, uploaded: 2 }, false), "completed");
 * assertEquals(finalState({ ...base, uploaded: 2, failed: 1 }, false), "completed_with_failures");
 * assertEquals(finalState({ ...base, failed: 3 }, false), "failed");
 * ```
 */
export function finalState(summary: UploadSummary | undefined, aborted: boolean): JobState {
  if (summary?.fatal) return "failed";
  if (summary?.cancelled || aborted) return "cancelled";
  if (summary === undefined) return "failed";
  const bad = summary.failed + summary.rejected + (summary.processing?.failed ?? 0);
  if (bad === 0) return "completed";
  return summary.uploaded + summary.alreadyUploaded + summary.present > 0
    ? "completed_with_failures"
    : "failed";
}

/** What a job uploads. */
export type JobKind = "csv" | "multipart" | "folder" | "retry";

/** The settings a retry of a job reuses (no credentials: only where one came from). */
export interface JobSettings {
  /** The dataset the inputs join. */
  datasetId?: string;
  /** Whether the dataset was created when missing. */
  createDataset?: boolean;
  /** User ID given with the request. */
  userId?: string;
  /** App ID given with the request. */
  appId?: string;
  /** Where the job's PAT came from: the request's `x-clarifai-pat` header, or the server. */
  patFrom: "request" | "server";
  /** Whether the job was a dry run. */
  dryRun?: boolean;
}

/** A job's state and counts: the answer of `GET /v1/uploads/{id}` and `job.json`. */
export interface JobRecord {
  /** The job's ID. */
  id: string;
  /** What it uploads. */
  kind: JobKind;
  /** What it reads, for people (`csv body`, `folder images`, `3 files`). */
  source: string;
  /** Where it is. */
  state: JobState;
  /** ISO time it was created. */
  createdAt: string;
  /** ISO time it ended. */
  finishedAt?: string;
  /** Counts by outcome so far. */
  counts: UploadCounts;
  /** Content bytes sent so far. */
  bytes: number;
  /** The summary, once done. */
  summary?: UploadSummary;
  /** The job this one retries. */
  retryOf?: string;
  /** Settings a retry reuses. */
  settings: JobSettings;
}

/** What {@linkcode Jobs.create} needs. */
export interface JobInit {
  /** What it uploads. */
  kind: JobKind;
  /** What it reads, for people. */
  source: string;
  /** Settings a retry reuses. */
  settings: JobSettings;
  /** The job this one retries. */
  retryOf?: string;
}

/** Options of {@linkcode Jobs}. */
export interface JobsOptions {
  /** The service's data folder; jobs live in `<dataDir>/jobs/<id>/`. */
  dataDir: string;
  /** Counters to update as events go by. */
  metrics?: Metrics;
  /** Milliseconds a cancelled run gets to end by itself before its stream is cut (default 10 s). */
  cancelGraceMs?: number;
}

const ID_PATTERN = /^[0-9a-f]{24}$/;
const encoder = new TextEncoder();

function newId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function errorInfo(err: unknown): { code: string; message: string } {
  if (err instanceof JournalInUseError) return { code: "JOURNAL_IN_USE", message: err.message };
  if (err instanceof ApiError) return { code: err.code.toUpperCase(), message: err.message };
  if (err instanceof SyntaxError) return { code: "BAD_INPUT", message: err.message };
  if (err instanceof Error) return { code: "INTERNAL", message: `${err.name}: ${err.message}` };
  return { code: "INTERNAL", message: String(err) };
}

/**
 * One upload job. Create it with {@linkcode Jobs.create}, start it with {@linkcode Job.run}
 * (which returns when the run ends), read it with {@linkcode Job.follow} as many times as
 * wanted, stop it with {@linkcode Job.cancel}.
 */
export class Job {
  /** The job's ID: 24 hex digits. */
  readonly id: string;
  /** The job's folder. */
  readonly dir: string;
  /** The run's journal. */
  readonly journalPath: string;
  /** The events log. */
  readonly eventsPath: string;
  /** Where a multipart upload's files are written. */
  readonly filesDir: string;
  #record: JobRecord;
  #abort = new AbortController();
  #committed = 0;
  #done = false;
  #changed!: Promise<void>;
  #notify!: () => void;
  #finished: Promise<void>;
  #resolveFinished!: () => void;
  #metrics?: Metrics;
  #cancelGraceMs: number;
  #started = false;

  /**
   * Wraps a job's folder and record; use {@linkcode Jobs.create} or {@linkcode Jobs.get}.
   *
   * @param dir The job's folder.
   * @param record Its record.
   * @param options Metrics, grace period, and whether it already ended (with its log size).
   */
  constructor(
    dir: string,
    record: JobRecord,
    options: { metrics?: Metrics; cancelGraceMs?: number; endedWithBytes?: number } = {},
  ) {
    this.id = record.id;
    this.dir = dir;
    this.journalPath = join(dir, "journal.ndjson");
    this.eventsPath = join(dir, "events.ndjson");
    this.filesDir = join(dir, "files");
    this.#record = record;
    this.#metrics = options.metrics;
    this.#cancelGraceMs = options.cancelGraceMs ?? 10_000;
    this.#changed = new Promise((resolve) => this.#notify = resolve);
    this.#finished = new Promise((resolve) => this.#resolveFinished = resolve);
    if (options.endedWithBytes !== undefined) {
      this.#committed = options.endedWithBytes;
      this.#done = true;
      this.#started = true;
      this.#resolveFinished();
    }
  }

  /** A snapshot of the job's state and counts. */
  get record(): JobRecord {
    return structuredClone(this.#record);
  }

  /** Aborted when the job is cancelled: pass it to the run as its `signal`. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Settles when the job's run has ended and its log and record are written. */
  get finished(): Promise<void> {
    return this.#finished;
  }

  /** Whether the run is still going (or not started yet). */
  get running(): boolean {
    return !this.#done;
  }

  /** Whether {@linkcode Job.run} was called (or the job was read back from disk). */
  get started(): boolean {
    return this.#started;
  }

  #bump(): void {
    const notify = this.#notify;
    this.#changed = new Promise((resolve) => this.#notify = resolve);
    notify();
  }

  async #writeRecord(): Promise<void> {
    const tmp = join(this.dir, "job.json.tmp");
    await Deno.writeTextFile(tmp, JSON.stringify(this.#record, null, 2) + "\n");
    await Deno.rename(tmp, join(this.dir, "job.json"));
  }

  #observe(event: ProgressEvent): void {
    let counts: UploadCounts | undefined;
    let bytes: number | undefined;
    if (event.type === "progress") {
      counts = event.counts;
      bytes = event.bytes;
    } else if (event.type === "done") {
      counts = event.summary;
      bytes = event.summary.bytes;
    }
    if (!counts || bytes === undefined) return;
    const before = this.#record.counts;
    const pick = ({
      uploaded,
      alreadyUploaded,
      present,
      presentUnverified,
      failed,
      rejected,
      skipped,
      annotations,
      annotationsFailed,
      retries,
    }: UploadCounts): UploadCounts => ({
      uploaded,
      alreadyUploaded,
      present,
      presentUnverified,
      failed,
      rejected,
      skipped,
      annotations,
      annotationsFailed,
      retries,
    });
    if (this.#metrics) {
      const outcomes: [InputOutcome, keyof UploadCounts][] = [
        ["uploaded", "uploaded"],
        ["already_uploaded", "alreadyUploaded"],
        ["failed", "failed"],
        ["rejected", "rejected"],
        ["skipped", "skipped"],
      ];
      for (const [outcome, key] of outcomes) {
        this.#metrics.addInputs(outcome, counts[key] - before[key]);
      }
      this.#metrics.addRetries(counts.retries - before.retries);
      this.#metrics.addUploadBytes(bytes - this.#record.bytes);
    }
    this.#record.counts = pick(counts);
    this.#record.bytes = bytes;
  }

  /**
   * Runs the job: writes its first line, then every event of `events` to the log as it comes,
   * keeping the counts; ends with the `done` summary (one is made from the error when the
   * stream fails, so the log always ends with a summary). Call once.
   *
   * @param events The run's events (from `uploadInputs`, `uploadCsv`, …, given this job's
   *   `signal` and `journalPath`).
   * @returns A promise that settles when the job has ended.
   */
  async run(events: ReadableStream<ProgressEvent>): Promise<void> {
    if (this.#started) throw new TypeError(`Job ${this.id} has already run`);
    this.#started = true;
    const log = await Deno.open(this.eventsPath, { write: true, create: true, truncate: true });
    const write = async (value: unknown) => {
      const bytes = encoder.encode(JSON.stringify(value) + "\n");
      let written = 0;
      while (written < bytes.length) written += await log.write(bytes.subarray(written));
      this.#committed += bytes.length;
      this.#bump();
    };
    const reader = events.getReader();
    let grace: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      grace = setTimeout(
        () => reader.cancel(this.#abort.signal.reason).catch(() => {}),
        this.#cancelGraceMs,
      );
    };
    this.#abort.signal.addEventListener("abort", onAbort, { once: true });
    let runId = "";
    let summary: UploadSummary | undefined;
    let lock: JournalLock | undefined;
    try {
      await write({
        type: "job",
        id: this.id,
        kind: this.#record.kind,
        source: this.#record.source,
        createdAt: this.#record.createdAt,
        ...(this.#record.retryOf ? { retryOf: this.#record.retryOf } : {}),
      });
      try {
        // One run at a time per journal, the same lock the CLI takes.
        lock = await lockJournal(this.journalPath, `upflow service, job ${this.id}`);
        while (true) {
          const { value, done } = await reader.read();
          if (done) break;
          if (value.type === "start") runId = value.runId;
          this.#observe(value);
          if (value.type === "done") summary = value.summary;
          await write(value);
        }
      } catch (err) {
        if (err instanceof JournalInUseError) await reader.cancel(err).catch(() => {});
        if (summary === undefined) {
          summary = this.#summaryFrom(runId, this.#abort.signal.aborted ? undefined : err);
          this.#observe({ type: "done", summary });
          await write({ type: "done", summary });
        }
      }
      if (summary === undefined) {
        summary = this.#summaryFrom(
          runId,
          this.#abort.signal.aborted ? undefined : new Error("the run ended without a summary"),
        );
        await write({ type: "done", summary });
      }
    } finally {
      clearTimeout(grace);
      this.#abort.signal.removeEventListener("abort", onAbort);
      log.close();
      await lock?.release();
      this.#record.summary = summary;
      this.#record.state = finalState(summary, this.#abort.signal.aborted);
      this.#record.finishedAt = new Date().toISOString();
      await this.#writeRecord().catch(() => {});
      this.#done = true;
      this.#bump();
      this.#resolveFinished();
    }
  }

  #summaryFrom(runId: string, err: unknown): UploadSummary {
    const ms = Date.now() - Date.parse(this.#record.createdAt);
    return {
      runId,
      dryRun: this.#record.settings.dryRun ?? false,
      ...this.#record.counts,
      batches: 0,
      bytes: this.#record.bytes,
      durationMs: ms,
      inputsPerSecond: Math.round((this.#record.counts.uploaded / Math.max(ms / 1000, 1e-6)) * 10) /
        10,
      megabytesPerSecond: Math.round((this.#record.bytes / 1e6 / Math.max(ms / 1000, 1e-6)) * 100) /
        100,
      journal: this.journalPath,
      ...(err === undefined ? { cancelled: true } : { fatal: errorInfo(err) }),
    };
  }

  /**
   * Cancels the job: aborts its run's signal (the run stops sending, journals what was
   * answered, and ends with a `cancelled` summary).
   *
   * @param reason Why.
   * @returns `false` when the job had already ended.
   */
  cancel(reason: unknown = new Error("cancelled")): boolean {
    if (this.#done) return false;
    this.#abort.abort(reason);
    return true;
  }

  /**
   * Reads the events log from its first byte and follows it live until the job ends: one
   * reader of the job among any number. Cancelling the stream (a client that went away) only
   * stops this reader and calls `onDisconnect`; the job goes on.
   *
   * @param options `onDisconnect`: called when the reader is cancelled before the end.
   * @returns The log's bytes, NDJSON.
   */
  follow(options: { onDisconnect?: () => void } = {}): ReadableStream<Uint8Array> {
    let file: Deno.FsFile | undefined;
    let offset = 0;
    let closed = false;
    let busy = false;
    const release = () => {
      file?.close();
      file = undefined;
    };
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        busy = true;
        try {
          while (!closed) {
            if (offset < this.#committed) {
              file ??= await Deno.open(this.eventsPath, { read: true });
              await file.seek(offset, Deno.SeekMode.Start);
              const chunk = new Uint8Array(Math.min(64 * 1024, this.#committed - offset));
              const n = await file.read(chunk);
              if (n === null || n === 0) {
                throw new Error(`The events log of job ${this.id} is short`);
              }
              offset += n;
              if (!closed) controller.enqueue(n === chunk.length ? chunk : chunk.slice(0, n));
              return;
            }
            if (this.#done) {
              closed = true;
              controller.close();
              return;
            }
            await this.#changed;
          }
        } finally {
          busy = false;
          if (closed) release();
        }
      },
      cancel: () => {
        const early = !closed;
        closed = true;
        if (!busy) release();
        if (early) options.onDisconnect?.();
      },
    }, { highWaterMark: 0 });
  }
}

/**
 * The service's jobs: creates them in `<dataDir>/jobs/<id>/`, keeps the ones of this process in
 * memory, and finds older ones on disk (a job that was running when the service stopped reads
 * as `interrupted`).
 *
 * @example Run a job and read its log
 * ```ts
 * import { Jobs } from "./jobs.ts";
 * import { runUpload } from "../src/upload/run_upload.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const jobs = new Jobs({ dataDir: await Deno.makeTempDir() });
 * const job = await jobs.create({ kind: "csv", source: "two rows", settings: { patFrom: "server" } });
 * await job.run(runUpload([
 *   { id: "a", kind: "text", content: { type: "raw", text: "hi" }, location: "a", concepts: [] },
 * ], { dryRun: true, signal: job.signal, journal: job.journalPath }));
 * const lines = (await new Response(job.follow()).text()).trim().split("\n").map((l) => JSON.parse(l));
 * assertEquals(lines[0], { type: "job", id: job.id, kind: "csv", source: "two rows", createdAt: job.record.createdAt });
 * assertEquals(lines.at(-1).type, "done");
 * assertEquals(job.record.state, "completed");
 * assertEquals((await jobs.get(job.id))?.record.counts.uploaded, 1);
 * ```
 */
export class Jobs {
  /** The jobs folder: `<dataDir>/jobs`. */
  readonly dir: string;
  #jobs = new Map<string, Job>();
  #metrics?: Metrics;
  #cancelGraceMs?: number;

  /**
   * Creates the registry.
   *
   * @param options The data folder and metrics.
   * @throws {TypeError} When `dataDir` is not a non-empty string.
   */
  constructor(options: JobsOptions) {
    if (typeof options?.dataDir !== "string" || options.dataDir === "") {
      throw new TypeError("Cannot create Jobs: dataDir must be a non-empty string");
    }
    this.dir = join(options.dataDir, "jobs");
    this.#metrics = options.metrics;
    this.#cancelGraceMs = options.cancelGraceMs;
  }

  /**
   * Creates a job: its ID, its folder and its record (state `running`).
   *
   * @param init What it uploads.
   * @returns The job, not started yet.
   */
  async create(init: JobInit): Promise<Job> {
    const id = newId();
    const dir = join(this.dir, id);
    await Deno.mkdir(dir, { recursive: true });
    const record: JobRecord = {
      id,
      kind: init.kind,
      source: init.source,
      state: "running",
      createdAt: new Date().toISOString(),
      counts: zeroCounts(),
      bytes: 0,
      settings: init.settings,
      ...(init.retryOf ? { retryOf: init.retryOf } : {}),
    };
    await Deno.writeTextFile(join(dir, "job.json"), JSON.stringify(record, null, 2) + "\n");
    const job = new Job(dir, record, {
      metrics: this.#metrics,
      cancelGraceMs: this.#cancelGraceMs,
    });
    this.#jobs.set(id, job);
    this.#metrics?.jobStarted(init.kind);
    return job;
  }

  /**
   * Forgets a job that never ran (its request failed before the run) and removes its folder.
   *
   * @param job The job.
   */
  async discard(job: Job): Promise<void> {
    this.#jobs.delete(job.id);
    await Deno.remove(job.dir, { recursive: true }).catch(() => {});
  }

  /**
   * Finds a job: in memory, else on disk. IDs that are not 24 hex digits are never looked up.
   *
   * @param id The job's ID.
   * @returns The job, or `undefined`.
   */
  async get(id: string): Promise<Job | undefined> {
    if (!ID_PATTERN.test(id)) return undefined;
    const known = this.#jobs.get(id);
    if (known) return known;
    const dir = join(this.dir, id);
    let record: JobRecord;
    try {
      record = JSON.parse(await Deno.readTextFile(join(dir, "job.json")));
    } catch {
      return undefined;
    }
    if (record.state === "running") record.state = "interrupted";
    let size = 0;
    try {
      size = (await Deno.stat(join(dir, "events.ndjson"))).size;
    } catch {
      size = 0;
    }
    const job = new Job(dir, record, { metrics: this.#metrics, endedWithBytes: size });
    this.#jobs.set(id, job);
    return job;
  }

  /**
   * Counts the jobs this process knows, by state.
   *
   * @returns Jobs by state.
   */
  countByState(): Record<JobState, number> {
    const counts = Object.fromEntries(JOB_STATES.map((state) => [state, 0])) as Record<
      JobState,
      number
    >;
    for (const job of this.#jobs.values()) counts[job.record.state]++;
    return counts;
  }

  /**
   * Cancels every running job and waits until each has ended (journals closed, logs written).
   *
   * @returns A promise that settles when every job has ended.
   */
  async close(): Promise<void> {
    const running = [...this.#jobs.values()].filter((job) => job.running && job.started);
    for (const job of running) job.cancel(new Error("the service is stopping"));
    await Promise.all(running.map((job) => job.finished));
  }
}
