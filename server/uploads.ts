/**
 * The upload routes, mounted at `/v1/uploads`: start a job from a CSV body, a multipart upload
 * of files or a path under the root, and read, follow, retry and cancel jobs.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { join } from "node:path";
import type { DraftOrRejection } from "../src/inputs/input_draft.ts";
import { invalidConceptReason, splitConcepts } from "../src/inputs/validate.ts";
import { readJournal } from "../src/journal/journal.ts";
import { countFolder, folderSource } from "../src/sources/folder_source.ts";
import { csvSource } from "../src/sources/csv_source.ts";
import { uploadInputs, type UploadOptions } from "../src/upload/upload.ts";
import type { DraftSource } from "../src/upload/run_upload.ts";
import { ApiError } from "./api_error.ts";
import { ByteLimitStream } from "./byte_limit_stream.ts";
import { ConfineToRootStream } from "./confine_to_root_stream.ts";
import type { Job, JobKind, JobSettings } from "./jobs.ts";
import { multipartBoundary, MultipartReader } from "./multipart_reader.ts";
import { type UploadRequestOptions, uploadRequestOptions } from "./request_options.ts";
import { retryDrafts } from "../src/journal/retry_drafts.ts";
import { resolveUnderRoot } from "./root_path.ts";
import type { JobTarget, UploadService } from "./upload_service.ts";

/** The request header that carries a Clarifai PAT for one job. */
export const PAT_HEADER = "x-clarifai-pat";

/** The response header that carries the job's ID. */
export const JOB_ID_HEADER = "upflow-job-id";

const CSV_TYPES = new Set(["text/csv", "application/csv", "text/plain"]);

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(
    413,
    "payload_too_large",
    `The request body exceeds the service's limit of ${maxBytes} bytes`,
  );
}

/**
 * The request body, ended with an error when the client goes away before sending all of it
 * (a body read can otherwise wait forever on a connection that is gone). Once the body is
 * complete, the client may leave: the job goes on. `state.complete` says whether the client
 * sent its whole body.
 */
function untilClientLeaves(
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal,
  state: { complete: boolean } = { complete: false },
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let cancelled = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const onAbort = () => {
        if (state.complete) return;
        controller.error(
          new ApiError(400, "client_disconnected", "The client left before the body was complete"),
        );
        reader.cancel().catch(() => {});
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    },
    async pull(controller) {
      const { value, done } = await reader.read();
      if (done) {
        // A read ended by our own cancel is not the client's end of the body.
        state.complete = !cancelled;
        controller.close();
      } else controller.enqueue(value);
    },
    cancel(reason) {
      cancelled = true;
      return reader.cancel(reason);
    },
  });
}

function limited(service: UploadService, body: ReadableStream<Uint8Array>) {
  return body.pipeThrough(
    new ByteLimitStream({
      maxBytes: service.maxBodyBytes,
      error: tooLarge,
      onBytes: (n) => service.metrics.addBodyBytes(n),
    }),
  );
}

function checkDeclaredLength(c: Context, maxBytes: number): void {
  const declared = Number(c.req.header("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
}

async function readLimitedText(body: ReadableStream<Uint8Array> | null, maxBytes: number) {
  if (!body) return "";
  const chunks: Uint8Array[] = [];
  for await (const chunk of body.pipeThrough(new ByteLimitStream({ maxBytes, error: tooLarge }))) {
    chunks.push(chunk);
  }
  return new TextDecoder().decode(await new Blob(chunks as BlobPart[]).arrayBuffer());
}

function eventsResponse(service: UploadService, job: Job, bodyPending?: () => boolean): Response {
  let events = job.follow({ onDisconnect: () => service.metrics.streamDisconnected() });
  if (bodyPending) {
    events = endingTheConnection(events, () => job.signal.aborted && bodyPending());
  }
  return new Response(
    events,
    {
      status: 200,
      headers: {
        "content-type": "application/x-ndjson; charset=utf-8",
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        [JOB_ID_HEADER]: job.id,
        location: `/v1/uploads/${job.id}`,
      },
    },
  );
}

function settingsOf(options: UploadRequestOptions, pat: string | undefined): JobSettings {
  return {
    ...(options.upload.datasetId !== undefined ? { datasetId: options.upload.datasetId } : {}),
    ...(options.upload.createDataset !== undefined
      ? { createDataset: options.upload.createDataset }
      : {}),
    ...(options.userId !== undefined ? { userId: options.userId } : {}),
    ...(options.appId !== undefined ? { appId: options.appId } : {}),
    ...(options.upload.dryRun ? { dryRun: true } : {}),
    patFrom: pat !== undefined ? "request" : "server",
  };
}

/** Opens the job's target (none for a dry run), creates nothing when that fails. */
async function targetFor(
  service: UploadService,
  options: UploadRequestOptions,
  pat: string | undefined,
): Promise<JobTarget | undefined> {
  if (options.upload.dryRun) return undefined;
  return await service.target({ pat, userId: options.userId, appId: options.appId });
}

/** Starts the job's run over `source` and answers with its event stream. */
function launch(
  service: UploadService,
  job: Job,
  source: () => DraftSource,
  options: UploadRequestOptions,
  target: JobTarget | undefined,
  describe: string,
  totals?: () => Promise<{ inputs: number; bytes: number }>,
  bodyPending?: () => boolean,
): Response {
  const upload: UploadOptions = {
    ...options.upload,
    ...(target ? { client: target.client } : {}),
    journal: job.journalPath,
    signal: job.signal,
  };
  service.start(job, uploadInputs(source, upload, describe, totals), target);
  return eventsResponse(service, job, bodyPending);
}

/**
 * The events of a job whose request body may still be arriving when the job is cancelled (by
 * `DELETE`, or by the service's shutdown). Closing the response would leave the connection open
 * for as long as the client goes on sending, and a graceful shutdown of the server waits for
 * every open connection: a client that never finishes its body would hold the service's
 * shutdown forever. So when `abandon()` says so at the end of the events, the response is
 * errored once every line has been handed over, which closes the connection. (The events stay
 * readable from `/v1/uploads/:id/events`.)
 */
function endingTheConnection(
  events: ReadableStream<Uint8Array>,
  abandon: () => boolean,
): ReadableStream<Uint8Array> {
  const reader = events.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await reader.read();
      if (!done) controller.enqueue(value);
      else if (abandon()) {
        controller.error(new DOMException("The job ended before its request body", "AbortError"));
      } else controller.close();
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
}

/** Turns a multipart file name into a safe, flat file name, or refuses it. */
function safeFileName(name: string): string {
  const base = name.split(/[/\\]/).pop() ?? "";
  // deno-lint-ignore no-control-regex
  if (base === "" || base === "." || base === ".." || /[\u0000-\u001f\u007f]/.test(base)) {
    throw new ApiError(400, "bad_file_name", `Refused file name ${JSON.stringify(name)}`);
  }
  if (new TextEncoder().encode(base).length > 255) {
    throw new ApiError(400, "bad_file_name", "A file name is longer than 255 bytes");
  }
  return base;
}

function conceptsOf(field: string, text: string): string[] {
  const concepts = splitConcepts(text);
  for (const concept of concepts) {
    const reason = invalidConceptReason(concept);
    if (reason) throw new ApiError(400, "bad_labels", `${field}: ${reason}`);
  }
  return concepts;
}

async function writeAll(file: Deno.FsFile, chunk: Uint8Array): Promise<void> {
  let written = 0;
  while (written < chunk.length) written += await file.write(chunk.subarray(written));
}

async function csvBodyUpload(c: Context, service: UploadService): Promise<Response> {
  const body = c.req.raw.body;
  if (!body) throw new ApiError(400, "bad_request", "Send the CSV as the request body");
  checkDeclaredLength(c, service.maxBodyBytes);
  const options = uploadRequestOptions(c.req.query(), "csv");
  const pat = c.req.header(PAT_HEADER);
  const target = await targetFor(service, options, pat);
  const job = await service.jobs.create({
    kind: "csv",
    source: "csv body",
    settings: settingsOf(options, pat),
  });
  const state = { complete: false };
  const source = () =>
    csvSource(limited(service, untilClientLeaves(body, c.req.raw.signal, state)), {
      inputType: options.inputType,
      csvType: options.csvType,
      labels: options.labels,
      root: service.root,
      datasetId: options.upload.datasetId,
      name: "body.csv",
    }).pipeThrough(new ConfineToRootStream(service.root));
  return launch(
    service,
    job,
    source,
    options,
    target,
    "csv body",
    undefined,
    () => !state.complete,
  );
}

async function multipartUpload(c: Context, service: UploadService): Promise<Response> {
  const body = c.req.raw.body;
  if (!body) throw new ApiError(400, "bad_request", "Send the files as multipart/form-data");
  let boundary: string;
  try {
    boundary = multipartBoundary(c.req.header("content-type") ?? "");
  } catch (err) {
    throw new ApiError(400, "bad_multipart", (err as Error).message);
  }
  checkDeclaredLength(c, service.maxBodyBytes);
  const pat = c.req.header(PAT_HEADER);
  const params: Record<string, unknown> = { ...c.req.query() };
  const job = await service.jobs.create({
    kind: "multipart",
    source: "multipart upload",
    settings: { patFrom: pat !== undefined ? "request" : "server" },
  });
  let received: ReceivedParts;
  let options: UploadRequestOptions;
  let target: JobTarget | undefined;
  try {
    await Deno.mkdir(job.filesDir, { recursive: true });
    received = await receiveParts(limited(service, body), boundary, service, job.filesDir, params);
    options = uploadRequestOptions(params, "multipart");
    target = await targetFor(service, options, pat);
  } catch (err) {
    await service.jobs.discard(job);
    if (err instanceof ApiError) throw err;
    if (err instanceof SyntaxError || err instanceof RangeError) {
      throw new ApiError(400, "bad_multipart", err.message);
    }
    throw err;
  }
  const concepts = conceptsByFile(received);
  const filesDir = await Deno.realPath(job.filesDir);
  const source = () =>
    folderSource(filesDir, { idFrom: options.idFrom, datasetId: options.upload.datasetId })
      .pipeThrough(withConcepts(concepts))
      .pipeThrough(new ConfineToRootStream(filesDir));
  const files = received.names.size;
  const describe = `${files} file${files === 1 ? "" : "s"}`;
  return launch(service, job, source, options, target, describe, async () => {
    const count = await countFolder(filesDir, {});
    return { inputs: count.files, bytes: count.bytes };
  });
}

/** What a multipart body held besides its options. */
interface ReceivedParts {
  /** The files, by the name they were sent with → the name on disk. */
  names: Map<string, string>;
  /** Labels of single files (`labels[<name>]`, or a JSON `labels` object), by name. */
  labelsFor: Map<string, string[]>;
  /** Labels for every file (a plain `labels` field). */
  labelsAll?: string[];
}

/**
 * Reads a multipart body: saves its files into `filesDir`, reads their labels, and puts the
 * other fields (the options) into `params`. Refuses too many files, clashing or unsafe names,
 * no file at all, and labels for a file the upload does not hold.
 */
async function receiveParts(
  body: ReadableStream<Uint8Array>,
  boundary: string,
  service: UploadService,
  filesDir: string,
  params: Record<string, unknown>,
): Promise<ReceivedParts> {
  const received: ReceivedParts = { names: new Map(), labelsFor: new Map() };
  const { names, labelsFor } = received;
  for await (const part of new MultipartReader(body, boundary)) {
    if (part.filename !== undefined) {
      if (names.size >= service.maxFiles) {
        throw new ApiError(
          413,
          "too_many_files",
          `The upload holds more than the service's limit of ${service.maxFiles} files`,
        );
      }
      const name = safeFileName(part.filename);
      if ([...names.values()].includes(name)) {
        throw new ApiError(
          400,
          "duplicate_file_name",
          `Two files are named ${JSON.stringify(name)}`,
        );
      }
      names.set(part.filename, name);
      await saveFile(join(filesDir, name), part.body);
      continue;
    }
    const text = await part.text(service.maxFieldBytes);
    const perFile = /^labels\[(.+)\]$/.exec(part.name);
    if (perFile) labelsFor.set(perFile[1], conceptsOf(part.name, text));
    else if (part.name !== "labels") params[part.name] = text;
    else if (!text.trimStart().startsWith("{")) received.labelsAll = conceptsOf("labels", text);
    else {
      for (const [file, labels] of labelsByFile(text)) labelsFor.set(file, labels);
    }
  }
  if (names.size === 0) throw new ApiError(400, "no_files", "The upload holds no files");
  for (const file of labelsFor.keys()) {
    if (!names.has(file) && ![...names.values()].includes(file)) {
      throw new ApiError(
        400,
        "bad_labels",
        `Labels for ${JSON.stringify(file)}, which is not in the upload`,
      );
    }
  }
  return received;
}

/** Writes a file part to a new file at `path`. */
async function saveFile(path: string, body: AsyncIterable<Uint8Array>): Promise<void> {
  const file = await Deno.open(path, { write: true, createNew: true });
  try {
    for await (const chunk of body) await writeAll(file, chunk);
  } finally {
    file.close();
  }
}

/** A JSON `labels` field: `{"a.jpg": "cat,pet", "b.jpg": ["dog"]}`. */
function labelsByFile(text: string): [string, string[]][] {
  let map: unknown;
  try {
    map = JSON.parse(text);
  } catch {
    throw new ApiError(400, "bad_labels", "labels: not valid JSON");
  }
  return Object.entries(map as Record<string, unknown>).map(([file, value]) => {
    const list = Array.isArray(value) ? value.join(",") : String(value);
    return [file, conceptsOf(`labels[${file}]`, list)];
  });
}

/** Each saved file's concepts (by its name on disk), from its own labels or everyone's. */
function conceptsByFile(received: ReceivedParts): Map<string, string[]> {
  const concepts = new Map<string, string[]>();
  for (const [sent, onDisk] of received.names) {
    const labels = received.labelsFor.get(sent) ?? received.labelsFor.get(onDisk) ??
      received.labelsAll;
    if (labels) concepts.set(onDisk, labels);
  }
  return concepts;
}

/** Gives the drafts of files named in `concepts` those concepts. */
function withConcepts(
  concepts: Map<string, string[]>,
): TransformStream<DraftOrRejection, DraftOrRejection> {
  return new TransformStream({
    transform(item, controller) {
      const labels = item.type === "draft" ? concepts.get(item.draft.location) : undefined;
      if (item.type === "draft" && labels) {
        item = { type: "draft", draft: { ...item.draft, concepts: labels } };
      }
      controller.enqueue(item);
    },
  });
}

/** The query's options; `include` and `exclude` may be given more than once. */
function queryOptions(c: Context): Record<string, unknown> {
  const options: Record<string, unknown> = { ...c.req.query() };
  for (const name of ["include", "exclude"]) {
    const all = c.req.queries(name);
    if (all !== undefined) options[name] = all;
  }
  return options;
}

async function pathUpload(c: Context, service: UploadService): Promise<Response> {
  checkDeclaredLength(c, service.maxFieldBytes);
  const text = await readLimitedText(c.req.raw.body, service.maxFieldBytes);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ApiError(400, "bad_json", "The body is not valid JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ApiError(400, "bad_json", 'Send a JSON object: {"folder": "…"} or {"csv": "…"}');
  }
  const { folder, csv, ...rest } = json as Record<string, unknown>;
  if ((folder === undefined) === (csv === undefined)) {
    throw new ApiError(400, "bad_request", 'Name exactly one of "folder" or "csv"');
  }
  const kind: JobKind = folder !== undefined ? "folder" : "csv";
  const relative = folder ?? csv;
  if (typeof relative !== "string") {
    throw new ApiError(400, "bad_request", `"${kind}" must be a string`);
  }
  const options = uploadRequestOptions({ ...queryOptions(c), ...rest }, kind);
  const path = await resolveUnderRoot(service.root, relative);
  const info = await Deno.stat(path);
  if (kind === "folder" && !info.isDirectory) {
    throw new ApiError(400, "not_a_folder", `${relative} is not a folder`);
  }
  if (kind === "csv" && !info.isFile) {
    throw new ApiError(400, "not_a_file", `${relative} is not a file`);
  }
  const pat = c.req.header(PAT_HEADER);
  const target = await targetFor(service, options, pat);
  const describe = `${kind} ${relative}`;
  const job = await service.jobs.create({
    kind,
    source: describe,
    settings: settingsOf(options, pat),
  });
  if (kind === "folder") {
    const folderOptions = {
      recursive: options.recursive,
      labels: options.labels,
      inputTypes: options.kinds,
      idFrom: options.idFrom,
      include: options.include,
      exclude: options.exclude,
      datasetId: options.upload.datasetId,
    };
    return launch(
      service,
      job,
      () => folderSource(path, folderOptions).pipeThrough(new ConfineToRootStream(service.root)),
      options,
      target,
      describe,
      async () => {
        const count = await countFolder(path, folderOptions);
        return { inputs: count.files, bytes: count.bytes };
      },
    );
  }
  return launch(
    service,
    job,
    () =>
      csvSource(path, {
        inputType: options.inputType,
        csvType: options.csvType,
        labels: options.labels,
        root: service.root,
        datasetId: options.upload.datasetId,
      }).pipeThrough(new ConfineToRootStream(service.root)),
    options,
    target,
    describe,
  );
}

async function jobOf(service: UploadService, id: string): Promise<Job> {
  const job = await service.jobs.get(id);
  if (!job) throw new ApiError(404, "job_not_found", `No upload job ${id}`);
  return job;
}

/**
 * The upload routes, to mount at `/v1/uploads`:
 *
 * - `POST /` starts a job from a CSV body (`text/csv`, options as query parameters), a
 *   `multipart/form-data` upload of files (per-file labels as `labels[<file>]` fields, or one
 *   `labels` field for all, or a `labels` JSON object), or JSON `{"folder": "rel"}` /
 *   `{"csv": "rel.csv"}` naming a path under the root; answers NDJSON events, the first line
 *   `{"type":"job","id":…}`, the last the `done` summary, with the ID in `upflow-job-id`;
 * - `GET /:id` the job's state and counts; `GET /:id/events` its events from the start,
 *   following live; `GET /:id/failures` its journal's failure lines (NDJSON);
 *   `POST /:id/retry` a new job re-sending those failures; `DELETE /:id` cancels it.
 *
 * @param service The service.
 * @returns A Hono app.
 *
 * @example Start a dry run and read the job back
 * ```ts
 * import { uploadRoutes } from "./uploads.ts";
 * import { UploadService } from "./upload_service.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const service = await UploadService.open({ root: ".", dataDir: await Deno.makeTempDir(), log: () => {} });
 * const app = uploadRoutes(service);
 * const res = await app.request("/?dry_run=1", {
 *   method: "POST",
 *   headers: { "content-type": "text/csv" },
 *   body: "inputid,input,concepts\na,hello,greeting\n",
 * });
 * await res.text();
 * const job = await (await app.request(`/${res.headers.get("upflow-job-id")}`)).json();
 * assertEquals([job.state, job.counts.uploaded], ["completed", 1]);
 * await service.close();
 * ```
 */
export function uploadRoutes(service: UploadService): Hono {
  const app = new Hono();

  app.post("/", (c) => {
    const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (type === "multipart/form-data") return multipartUpload(c, service);
    if (type === "application/json") return pathUpload(c, service);
    if (CSV_TYPES.has(type)) return csvBodyUpload(c, service);
    throw new ApiError(
      415,
      "unsupported_media_type",
      "Send text/csv (a CSV body), multipart/form-data (files) or application/json (a path)",
    );
  });

  app.get("/:id", async (c) => c.json((await jobOf(service, c.req.param("id"))).record));

  app.get(
    "/:id/events",
    async (c) => eventsResponse(service, await jobOf(service, c.req.param("id"))),
  );

  app.get("/:id/failures", async (c) => {
    const job = await jobOf(service, c.req.param("id"));
    const state = await readJournal(job.journalPath);
    const lines = [...state.failures.values()].map((entry) => JSON.stringify(entry) + "\n");
    return c.body(ReadableStream.from(lines).pipeThrough(new TextEncoderStream()), 200, {
      "content-type": "application/x-ndjson; charset=utf-8",
      [JOB_ID_HEADER]: job.id,
    });
  });

  app.post("/:id/retry", async (c) => {
    const original = await jobOf(service, c.req.param("id"));
    if (original.running) {
      throw new ApiError(
        409,
        "job_running",
        `Job ${original.id} is still running: retry it when it ends`,
      );
    }
    const settings = original.record.settings;
    const pat = c.req.header(PAT_HEADER);
    if (settings.patFrom === "request" && pat === undefined && !settings.dryRun) {
      throw new ApiError(
        400,
        "pat_required",
        `Job ${original.id} used a PAT from the ${PAT_HEADER} header: send it again to retry`,
      );
    }
    const options = uploadRequestOptions(
      {
        ...(settings.datasetId !== undefined ? { dataset: settings.datasetId } : {}),
        ...(settings.userId !== undefined ? { user_id: settings.userId } : {}),
        ...(settings.appId !== undefined ? { app_id: settings.appId } : {}),
        ...c.req.query(),
      },
      "retry",
    );
    const plan = retryDrafts(await readJournal(original.journalPath), {
      newIdsForDuplicates: options.newIdsForDuplicates,
    });
    const target = await targetFor(service, options, pat);
    const job = await service.jobs.create({
      kind: "retry",
      source: `retry of ${original.id}`,
      settings: settingsOf(options, pat),
      retryOf: original.id,
    });
    const roots = [service.root];
    try {
      roots.push(await Deno.realPath(original.filesDir));
    } catch { /* not a multipart job */ }
    const items: DraftOrRejection[] = [
      ...plan.notRetried.map((rejection): DraftOrRejection => ({ type: "rejected", rejection })),
      ...plan.drafts.map((draft): DraftOrRejection => ({ type: "draft", draft })),
    ];
    return launch(
      service,
      job,
      () => ReadableStream.from(items).pipeThrough(new ConfineToRootStream(roots)),
      options,
      target,
      `retry of job ${original.id}`,
    );
  });

  app.delete("/:id", async (c) => {
    const job = await jobOf(service, c.req.param("id"));
    if (!job.cancel(new Error("cancelled by DELETE"))) {
      throw new ApiError(
        409,
        "job_finished",
        `Job ${job.id} has already ended (${job.record.state})`,
      );
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      job.finished,
      new Promise((resolve) => timer = setTimeout(resolve, 15_000)),
    ]);
    clearTimeout(timer);
    return c.json(job.record, job.running ? 202 : 200);
  });

  return app;
}
