/**
 * {@linkcode openApiDocument}: the OpenAPI 3.1 description of every `/v1` route of the upload
 * service, served at `GET /openapi.json`. A test sends real requests to each route and checks
 * every answer (status, content type, each NDJSON line) against this document, so it stays
 * true: change a route's answer and that test names what to change here.
 *
 * @module
 */
import { Hono } from "hono";
import { JOB_STATES } from "../jobs.ts";

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str = (description: string): Schema => ({ type: "string", description });
const int = (description: string): Schema => ({ type: "integer", minimum: 0, description });
const num = (description: string): Schema => ({ type: "number", description });
const bool = (description: string): Schema => ({ type: "boolean", description });

/** A closed object: these properties, the `required` ones always present, nothing else. */
function object(
  description: string,
  properties: Record<string, Schema>,
  required: string[] = Object.keys(properties),
): Schema {
  return { type: "object", description, properties, required, additionalProperties: false };
}

/** One event line, discriminated by its constant `type`. */
function event(
  type: string,
  description: string,
  properties: Record<string, Schema>,
  optional: string[] = [],
) {
  const all = { type: { const: type }, ...properties };
  return object(description, all, Object.keys(all).filter((k) => !optional.includes(k)));
}

const COUNTS: Record<string, Schema> = {
  uploaded: int("Inputs the server accepted in this run."),
  alreadyUploaded: int("Inputs skipped because the journal says an earlier run uploaded them."),
  present: int("Inputs found on the server already (same content digest, or none) and not sent."),
  presentUnverified: int("Of the present inputs, those without a content digest to verify."),
  failed: int("Inputs the server refused or that failed after retries."),
  rejected: int("Records refused by validation before anything was sent."),
  skipped: int("Files passed over on purpose (hidden, other extensions)."),
  annotations: int("Annotations the server accepted."),
  annotationsFailed: int("Annotations that failed."),
  retries: int("Requests retried."),
};

const TOTAL = object("Totals from a pre-count.", {
  inputs: int("Inputs."),
  bytes: int("Content bytes."),
});

const JOB_STATE = {
  type: "string",
  enum: [...JOB_STATES],
  description:
    "`completed_with_failures`: some inputs uploaded, some failed or were rejected; `failed`: a fatal error, or nothing uploaded and some failed; `interrupted`: the service stopped while the job ran.",
};

const INPUT_KIND = { type: "string", enum: ["image", "video", "audio", "text"] };
const STAGE = { type: "string", enum: ["upload", "annotation", "processing", "dataset"] };

const VERSION_METRICS = object(
  "A dataset version's metrics, as the Python SDK's `get_upload_status` shows them.",
  {
    inputs: int("Inputs in the version."),
    inputsByKind: {
      type: "object",
      additionalProperties: { type: "integer", minimum: 0 },
      description: "Inputs by kind.",
    },
    annotations: object("Annotation counts.", {
      concepts: int("Input-level concepts, summed over the concepts."),
      boundingBoxes: int("Bounding boxes, summed over the concepts."),
      polygons: int("Polygons, summed over the concepts."),
      frames: int("Video frames with annotations."),
    }),
    concepts: {
      type: "array",
      description: "Each concept's counts.",
      items: object("One concept.", {
        id: str("The concept ID."),
        inputs: int("Inputs that carry it."),
        inputTags: int("Input-level tags with it."),
        boundingBoxes: int("Bounding boxes with it."),
        polygons: int("Polygons with it."),
      }),
    },
  },
);

const VERSION_STATUS = {
  type: "string",
  enum: ["pending", "in progress", "ready", "failed", "timed out"],
};

const SCHEMAS: Record<string, Schema> = {
  Error: object("An error.", {
    error: object("What went wrong.", {
      code: str("Short machine-readable code, snake_case."),
      message: str("For people."),
    }),
  }),
  UploadCounts: object("Counts by outcome.", COUNTS),
  UploadSummary: object("The end-of-run summary.", {
    runId: str("The run's ID (empty when the run never started)."),
    dryRun: bool("Nothing was sent."),
    ...COUNTS,
    batches: int("Batches sent."),
    bytes: int("Content bytes sent."),
    durationMs: num("Wall time in milliseconds."),
    inputsPerSecond: num("Uploaded inputs per second."),
    megabytesPerSecond: num("Content megabytes (10^6 bytes) per second."),
    processing: object("Processing results, when the run waited.", {
      succeeded: int("Processed."),
      failed: int("Failed processing."),
      pending: int("Not processed yet."),
    }),
    journal: str("The journal's path."),
    fatal: object("What stopped the run.", { code: str("Code."), message: str("Why.") }),
    cancelled: bool("The run was cancelled."),
    version: object("The dataset version made at the end (`create_version`).", {
      id: str("The version's ID."),
      datasetId: str("The dataset's ID."),
      status: { type: "string", enum: ["ready", "failed", "timed out"] },
      waitedMs: num("Milliseconds from its creation to this outcome."),
      metrics: VERSION_METRICS,
      error: str("Why it did not become ready."),
    }, ["id", "datasetId", "status", "waitedMs"]),
  }, [
    "runId",
    "dryRun",
    ...Object.keys(COUNTS),
    "batches",
    "bytes",
    "durationMs",
    "inputsPerSecond",
    "megabytesPerSecond",
  ]),
  JobSettings: object("Settings a retry reuses (never a credential).", {
    datasetId: str("The dataset the inputs join."),
    createDataset: bool("The dataset was created when missing."),
    userId: str("User ID given with the request."),
    appId: str("App ID given with the request."),
    patFrom: {
      type: "string",
      enum: ["request", "server"],
      description: "Where the PAT came from.",
    },
    dryRun: bool("A dry run."),
  }, ["patFrom"]),
  JobRecord: object("A job's state and counts.", {
    id: { type: "string", pattern: "^[0-9a-f]{24}$", description: "The job's ID." },
    kind: { type: "string", enum: ["csv", "multipart", "folder", "retry"] },
    source: str("What it reads, for people."),
    state: JOB_STATE,
    createdAt: { type: "string", format: "date-time" },
    finishedAt: { type: "string", format: "date-time" },
    counts: ref("UploadCounts"),
    bytes: int("Content bytes sent so far."),
    summary: ref("UploadSummary"),
    retryOf: str("The job this one retries."),
    settings: ref("JobSettings"),
  }, ["id", "kind", "source", "state", "createdAt", "counts", "bytes", "settings"]),
  JobList: object("A page of jobs, newest first.", {
    jobs: { type: "array", items: ref("JobRecord") },
    nextPageToken: str("Pass as `page_token` for the next page; absent on the last page."),
    totals: object(
      "Every job the service holds, by state.",
      Object.fromEntries(JOB_STATE.enum.map((s) => [s, int(`Jobs ${s}.`)])),
    ),
  }, ["jobs", "totals"]),
  EventLine: {
    description: "One line of an upload's NDJSON event stream.",
    oneOf: [
      event("job", "The first line: the job.", {
        id: str("The job's ID."),
        kind: { type: "string", enum: ["csv", "multipart", "folder", "retry"] },
        source: str("What it reads."),
        createdAt: { type: "string", format: "date-time" },
        retryOf: str("The job this one retries."),
      }, ["retryOf"]),
      event("start", "The run starts.", {
        runId: str("The run's ID."),
        target: str("Where the inputs go, for people."),
        dryRun: bool("Nothing will be sent."),
        journal: str("The journal's path."),
        total: TOTAL,
        resumed: int("Inputs the journal already records as uploaded."),
      }, ["journal", "total", "resumed"]),
      event("rejected", "A record refused by validation.", {
        location: str("Where the record came from."),
        reason: str("Why."),
        id: str("Its input ID, when known."),
      }, ["id"]),
      event("skipped", "A file passed over on purpose.", {
        location: str("Where."),
        reason: str("Why."),
      }),
      event("batch", "A batch the server accepted.", {
        batch: int("Sequence number from 1."),
        ids: { type: "array", items: { type: "string" } },
        bytes: int("Content bytes."),
        attempts: int("Requests it took."),
        jobIds: { type: "array", items: { type: "string" } },
        annotations: int("Annotations posted with it."),
      }, ["jobIds", "annotations"]),
      event("failed", "An input (or its annotation) that failed.", {
        id: str("The input ID."),
        location: str("Where the record came from."),
        kind: INPUT_KIND,
        stage: STAGE,
        code: str("Clarifai's status code name."),
        reason: str("Why."),
        attempts: int("Requests it took."),
      }, ["kind", "code"]),
      event("progress", "Counts so far.", {
        counts: ref("UploadCounts"),
        bytes: int("Content bytes sent."),
        elapsedMs: num("Milliseconds since the start."),
        total: TOTAL,
      }, ["total"]),
      event("processing", "Processing progress (with `wait`).", {
        pending: int("Not processed yet."),
        succeeded: int("Processed."),
        failed: int("Failed processing."),
      }),
      event("version", "The dataset version's status (with `create_version`).", {
        id: str("The version's ID."),
        datasetId: str("The dataset's ID."),
        status: VERSION_STATUS,
        elapsedMs: num("Milliseconds since it was asked for."),
        metrics: VERSION_METRICS,
        error: str("Why it did not become ready."),
      }, ["metrics", "error"]),
      event("done", "The last line: the summary.", { summary: ref("UploadSummary") }),
    ],
  },
  FailureLine: {
    type: "object",
    description: "One failure of a job, as its journal records it (with the draft to re-send).",
    properties: {
      t: { const: "input" },
      id: str("The input ID (empty when a rejected record had none)."),
      location: str("Where the record came from."),
      outcome: { type: "string", enum: ["failed", "rejected", "processing-failed"] },
      kind: INPUT_KIND,
      stage: STAGE,
      code: str("Clarifai's status code name."),
      reason: str("Why."),
      attempts: int("Requests it took."),
      draft: { type: "object", description: "The input to re-send." },
      maybeStored: bool("A request carrying it went unanswered: the server may hold it."),
    },
    required: ["t", "id", "location", "outcome"],
    additionalProperties: false,
  },
};

const OPTION_PARAMS: [string, string, Schema][] = [
  ["dataset", "Dataset the inputs join.", { type: "string" }],
  ["create_dataset", "Create the dataset when missing.", { type: "boolean" }],
  ["batch_size", "Inputs per request (1-128).", { type: "integer" }],
  ["max_batch_mb", "Megabytes per request.", { type: "number" }],
  ["concurrency", "Requests in flight.", { type: "integer" }],
  ["rps", "Requests per second (0: no limit).", { type: "number" }],
  ["retries", "Retries per request.", { type: "integer" }],
  ["dry_run", "Read and validate, send nothing.", { type: "boolean" }],
  ["wait", "Wait for processing.", { type: "boolean" }],
  ["create_version", "Make a dataset version at the end; its metrics in the summary.", {
    type: "boolean",
  }],
  ["user_id", "Clarifai user ID.", { type: "string" }],
  ["app_id", "Clarifai app ID.", { type: "string" }],
  ["input_type", "CSV or folder: the kind of inputs.", { type: "string" }],
  ["csv_type", "CSV: `url`, `file_path` or `raw`.", { type: "string" }],
  ["labels", "CSV: read concepts; folder: label by folder name.", { type: "boolean" }],
  ["recursive", "Folder: walk subfolders.", { type: "boolean" }],
  ["id_from", "Folder or files: IDs from the file's `stem` or `path`.", { type: "string" }],
  [
    "include",
    "Folder: upload only files matching these glob patterns (repeatable; paths relative to the folder, as rclone matches them).",
    { type: "array", items: { type: "string" } },
  ],
  [
    "exclude",
    "Folder: skip files matching these glob patterns, and folders ending in `/` or `**` (repeatable).",
    { type: "array", items: { type: "string" } },
  ],
];

const query = (name: string, description: string, schema: Schema) => ({
  name,
  in: "query",
  required: false,
  description,
  schema,
});

const idParam = {
  name: "id",
  in: "path",
  required: true,
  description: "The job's ID.",
  schema: { type: "string" },
};

const error = (description: string) => ({
  description,
  content: { "application/json": { schema: ref("Error") } },
});

const ndjson = (description: string, schema: string, headers = true) => ({
  description: `${description} NDJSON: one JSON value per line, each matching the schema.`,
  ...(headers
    ? {
      headers: {
        "upflow-job-id": { description: "The job's ID.", schema: { type: "string" } },
      },
    }
    : {}),
  content: { "application/x-ndjson": { schema: ref(schema) } },
});

const json = (description: string, schema: string) => ({
  description,
  content: { "application/json": { schema: ref(schema) } },
});

const UNAUTHORIZED = error("No bearer token, or a wrong one.");
const NOT_FOUND = error("No such job.");

/** `/v1/uploads`: list jobs, start one. */
const UPLOADS_PATH = {
  get: {
    operationId: "listUploads",
    summary: "List jobs, newest first, a page at a time.",
    parameters: [
      query("limit", "Jobs per page (1-500, default 50).", { type: "integer" }),
      query("page_token", "`nextPageToken` of the page before.", { type: "string" }),
      query("state", "Only jobs in this state.", JOB_STATE),
    ],
    responses: {
      "200": json("A page of jobs.", "JobList"),
      "400": error("A bad query."),
      "401": UNAUTHORIZED,
    },
  },
  post: {
    operationId: "startUpload",
    summary: "Start a job: a CSV body, files as multipart, or a path under the root.",
    parameters: [
      ...OPTION_PARAMS.map(([name, description, schema]) => query(name, description, schema)),
    ],
    requestBody: {
      required: true,
      content: {
        "text/csv": { schema: { type: "string" } },
        "multipart/form-data": {
          schema: {
            type: "object",
            properties: {
              file: {
                type: "array",
                items: { type: "string", contentMediaType: "application/octet-stream" },
              },
              labels: {
                type: "string",
                description: "Concepts for every file, or a JSON object by file name.",
              },
            },
            additionalProperties: {
              type: "string",
              description:
                "`labels[<file name>]`: concepts of one file; other fields: the options.",
            },
          },
        },
        "application/json": {
          schema: {
            type: "object",
            properties: {
              folder: str("A folder under the root."),
              csv: str("A CSV file under the root."),
            },
            additionalProperties: { description: "The options, by their query names." },
          },
        },
      },
    },
    responses: {
      "200": ndjson("The job's events as they happen.", "EventLine"),
      "400": error("Bad options, files or JSON."),
      "401": UNAUTHORIZED,
      "413": error("The body crosses the service's limit."),
      "415": error("Another content type."),
    },
  },
};

/** `/v1/uploads/{id}`: a job, or cancel it. */
const JOB_PATH = {
  parameters: [idParam],
  get: {
    operationId: "getUpload",
    summary: "A job's state and counts.",
    responses: {
      "200": json("The job.", "JobRecord"),
      "401": UNAUTHORIZED,
      "404": NOT_FOUND,
    },
  },
  delete: {
    operationId: "cancelUpload",
    summary: "Cancel a running job; answers its final state.",
    responses: {
      "200": json("The job, ended.", "JobRecord"),
      "202": json("The job, still ending after 15 s.", "JobRecord"),
      "401": UNAUTHORIZED,
      "404": NOT_FOUND,
      "409": error("The job has already ended."),
    },
  },
};

/** `/v1/uploads/{id}/events`: follow a job. */
const JOB_EVENTS_PATH = {
  parameters: [idParam],
  get: {
    operationId: "followUpload",
    summary: "A job's events from the first line, live until its end.",
    responses: {
      "200": ndjson("The job's events.", "EventLine"),
      "401": UNAUTHORIZED,
      "404": NOT_FOUND,
    },
  },
};

/** `/v1/uploads/{id}/failures`: what failed. */
const JOB_FAILURES_PATH = {
  parameters: [idParam],
  get: {
    operationId: "listUploadFailures",
    summary: "A job's failures and rejections, one journal line each.",
    responses: {
      "200": ndjson("The failures.", "FailureLine"),
      "401": UNAUTHORIZED,
      "404": NOT_FOUND,
    },
  },
};

/** `/v1/uploads/{id}/retry`: send the failures again. */
const JOB_RETRY_PATH = {
  parameters: [idParam],
  post: {
    operationId: "retryUpload",
    summary: "Re-send a job's failures in a new job.",
    parameters: [
      query("new_ids_for_duplicates", "Give duplicates new IDs and send them again.", {
        type: "boolean",
      }),
      ...OPTION_PARAMS.slice(0, 11).map(([name, description, schema]) =>
        query(name, description, schema)
      ),
    ],
    responses: {
      "200": ndjson("The new job's events.", "EventLine"),
      "400": error("Bad options, or the job's PAT header is needed again."),
      "401": UNAUTHORIZED,
      "404": NOT_FOUND,
      "409": error("The job is still running."),
    },
  },
};

/**
 * Returns the service's OpenAPI 3.1 document (a fresh object each call).
 *
 * @returns The document, ready for `JSON.stringify`.
 *
 * @example Every route needs the bearer token
 * ```ts
 * import { openApiDocument } from "./openapi.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const doc = openApiDocument();
 * assertEquals(doc.openapi, "3.1.0");
 * assertEquals(doc.security, [{ bearer: [] }]);
 * ```
 */
// deno-lint-ignore no-explicit-any
export function openApiDocument(): Record<string, any> {
  return structuredClone({
    openapi: "3.1.0",
    info: {
      title: "upflow upload service",
      version: "1",
      description:
        "Uploads CSVs, files and folders into Clarifai (or the embedded local API) and streams the progress as NDJSON. Every /v1 route needs `Authorization: Bearer <token>`.",
    },
    security: [{ bearer: [] }],
    paths: {
      "/v1/uploads": UPLOADS_PATH,
      "/v1/uploads/{id}": JOB_PATH,
      "/v1/uploads/{id}/events": JOB_EVENTS_PATH,
      "/v1/uploads/{id}/failures": JOB_FAILURES_PATH,
      "/v1/uploads/{id}/retry": JOB_RETRY_PATH,
    },
    components: {
      schemas: SCHEMAS,
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
  });
}

/**
 * The route `GET /openapi.json` (no token needed: it holds no job data).
 *
 * @returns A Hono app to mount at `/`.
 *
 * @example Usage
 * ```ts
 * import { openApiRoutes } from "./openapi.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const res = await openApiRoutes().request("/openapi.json");
 * assertEquals((await res.json()).info.title, "upflow upload service");
 * ```
 */
export function openApiRoutes(): Hono {
  const app = new Hono();
  const text = JSON.stringify(openApiDocument(), null, 2);
  app.get("/openapi.json", (c) => c.body(text, 200, { "content-type": "application/json" }));
  return app;
}
