/**
 * The local implementation of the `clarifai.api.V2` subset, independent of the protocol: every
 * call goes through {@linkcode LocalV2Service.prototype.call} with the request message and the
 * caller's `authorization` header, and answers the response message with an in-body status, as
 * Clarifai does (errors travel as `status` with transport OK).
 *
 * @module
 */
import { clone, create, type DescMessage, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { fromBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type Annotation,
  AnnotationSchema,
  type Data,
  DataSchema,
  DatasetInputSchema,
  DatasetSchema,
  type Input,
  InputCountSchema,
  InputIDConflictResolution,
  InputsAddJobProgressSchema,
  InputsAddJobSchema,
  InputSchema,
  type Region,
  type UserAppIDSet,
} from "../../src/gen/clarifai/api/resources_pb.ts";
import {
  type CancelInputsAddJobRequest,
  type DeleteInputsRequest,
  type GetDatasetRequest,
  type GetInputCountRequest,
  type GetInputRequest,
  type GetInputsAddJobRequest,
  type ListAnnotationsRequest,
  type ListDatasetInputsRequest,
  type ListInputsRequest,
  type PostAnnotationsRequest,
  type PostDatasetInputsRequest,
  type PostDatasetsRequest,
  type PostInputsRequest,
  V2,
} from "../../src/gen/clarifai/api/service_pb.ts";
import type { Status } from "../../src/gen/clarifai/api/status/status_pb.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import { invalidIdReason } from "../../src/inputs/ids.ts";
import { invalidUrlReason, oversizeReason } from "../../src/inputs/validate.ts";
import type { FaultInjector } from "./faults.ts";
import { localStatus } from "./local_status.ts";
import type { InputRow, LocalStore } from "./store.ts";

/** The most inputs one PostInputs request may carry. */
export const MAX_INPUTS_PER_REQUEST = 128;
/** The most annotations or dataset inputs one request may carry. */
export const MAX_ITEMS_PER_REQUEST = 128;
/** The default page size of the list methods. */
export const DEFAULT_PER_PAGE = 128;
/** The largest page size of the list methods. */
export const MAX_PER_PAGE = 1000;

/** What the service knows of the caller and its connection. */
export interface CallContext {
  /** The `authorization` header (gRPC metadata), or `null`. */
  authorization: string | null;
  /** Destroys the caller's connection without an answer (the drop-after-commit fault). */
  drop(): void;
}

/** Thrown by {@linkcode LocalV2Service.prototype.call} after it dropped the connection. */
export class ConnectionDroppedError extends Error {
  /**
   * Creates the error.
   *
   * @param method The method whose answer was dropped.
   */
  constructor(method: string) {
    super(`dropped the connection after committing ${method} (drop-after-commit fault)`);
    this.name = "ConnectionDroppedError";
  }
}

/** The lower-camel-case names of the implemented methods (`postInputs`, …). */
export type V2MethodName = keyof typeof V2.method;

/** Options of {@linkcode LocalV2Service}. */
export interface LocalV2ServiceOptions {
  /** The store. */
  store: LocalStore;
  /** The accepted API key (PAT). */
  key: string;
  /** The fault injector. */
  faults: FaultInjector;
  /** Called after inputs were stored, so the background processor picks them up. */
  onInputsStored?: () => void;
  /** Returns the URL where content bytes with a given SHA-256 can be downloaded. */
  contentUrl?: (hash: string) => string;
}

type Kind = "image" | "video" | "audio" | "text";
const KINDS: Kind[] = ["image", "video", "audio", "text"];

interface Content {
  kind: Kind;
  bytes?: Uint8Array;
  url?: string;
}

const newId = (): string => crypto.randomUUID().replaceAll("-", "");

function ms(t: number) {
  return timestampFromMs(t);
}

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Reads the content of an input's data: exactly one kind, with either a URL or bytes. */
function contentOf(data: Data | undefined): Content | Status {
  const present = KINDS.filter((k) => data?.[k] !== undefined);
  if (data === undefined || present.length === 0) {
    return localStatus(
      StatusCode.INPUT_INVALID_ARGUMENT,
      "Input has no content: set one of data.image, data.video, data.audio or data.text.",
    );
  }
  if (present.length > 1) {
    return localStatus(
      StatusCode.INPUT_INVALID_ARGUMENT,
      `Input has more than one kind of content (${present.join(", ")}): send one.`,
    );
  }
  const kind = present[0];
  let url = "";
  let bytes: Uint8Array | undefined;
  if (kind === "text") {
    const text = data.text!;
    url = text.url;
    if (text.raw !== "" && url !== "") {
      return localStatus(
        StatusCode.INPUT_INVALID_ARGUMENT,
        "Set either text.raw or text.url, not both.",
      );
    }
    if (text.raw !== "") bytes = new TextEncoder().encode(text.raw);
  } else {
    const media = data[kind]!;
    url = media.url;
    if (media.base64.length > 0) bytes = media.base64;
    if (bytes !== undefined && url !== "") {
      return localStatus(
        StatusCode.INPUT_INVALID_ARGUMENT,
        `Set either ${kind}.url or ${kind}.base64, not both.`,
      );
    }
  }
  if (bytes === undefined && url === "") {
    return localStatus(
      StatusCode.INPUT_INVALID_ARGUMENT,
      `The ${kind} has no content: set ${
        kind === "text" ? "text.raw" : `${kind}.base64`
      } or ${kind}.url.`,
    );
  }
  if (url !== "") {
    const reason = invalidUrlReason(url);
    if (reason !== undefined) return localStatus(StatusCode.INPUT_INVALID_URL, reason);
    return { kind, url };
  }
  const over = oversizeReason(kind, bytes!.length);
  if (over !== undefined) return localStatus(StatusCode.INPUT_OVER_LIMIT, over);
  return { kind, bytes };
}

const inUnit = (v: number) => Number.isFinite(v) && v >= 0 && v <= 1;

/** Returns why a region is invalid, or `undefined`. */
function regionReason(region: Region, where: string): string | undefined {
  const info = region.regionInfo;
  const box = info?.boundingBox;
  const polygon = info?.polygon;
  const point = info?.point;
  const mask = info?.mask;
  if (!box && !polygon && !point && !mask) {
    return `${where}: a region needs a bounding_box, polygon, point or mask`;
  }
  if (box) {
    const { leftCol, topRow, rightCol, bottomRow } = box;
    if (!(inUnit(leftCol) && inUnit(rightCol) && leftCol < rightCol)) {
      return `${where}: bounding box must satisfy 0 <= left_col < right_col <= 1: got left_col ${leftCol}, right_col ${rightCol}`;
    }
    if (!(inUnit(topRow) && inUnit(bottomRow) && topRow < bottomRow)) {
      return `${where}: bounding box must satisfy 0 <= top_row < bottom_row <= 1: got top_row ${topRow}, bottom_row ${bottomRow}`;
    }
  }
  if (polygon) {
    if (polygon.points.length < 3) {
      return `${where}: a polygon needs at least 3 points: got ${polygon.points.length}`;
    }
    const bad = polygon.points.findIndex((p) => !inUnit(p.row) || !inUnit(p.col));
    if (bad >= 0) {
      const p = polygon.points[bad];
      return `${where}: polygon point ${bad} (row ${p.row}, col ${p.col}) is outside [0, 1]`;
    }
  }
  if (point && (!inUnit(point.row) || !inUnit(point.col))) {
    return `${where}: point (row ${point.row}, col ${point.col}) is outside [0, 1]`;
  }
  if (mask && !(mask.image && (mask.image.base64.length > 0 || mask.image.url !== ""))) {
    return `${where}: a mask needs an image`;
  }
  return region.data ? dataReason(region.data, where) : undefined;
}

/** Returns why the labels of a `Data` (concepts, geo, regions, frames) are invalid. */
function dataReason(data: Data, where: string): string | undefined {
  for (const [i, concept] of data.concepts.entries()) {
    if (concept.id === "" && concept.name === "") return `${where}: concept ${i} has no id`;
    if (!inUnit(concept.value)) {
      return `${where}: concept ${
        JSON.stringify(concept.id)
      } has value ${concept.value}: use 0 or 1`;
    }
  }
  const geo = data.geo?.geoPoint;
  if (geo) {
    if (!(geo.longitude >= -180 && geo.longitude <= 180)) {
      return `${where}: longitude ${geo.longitude} is outside [-180, 180]`;
    }
    if (!(geo.latitude >= -90 && geo.latitude <= 90)) {
      return `${where}: latitude ${geo.latitude} is outside [-90, 90]`;
    }
  }
  for (const [i, region] of data.regions.entries()) {
    const reason = regionReason(region, `${where} region ${region.id || i}`);
    if (reason) return reason;
  }
  for (const [i, frame] of data.frames.entries()) {
    if (frame.data) {
      const reason = dataReason(frame.data, `${where} frame ${frame.id || i}`);
      if (reason) return reason;
    }
  }
  return undefined;
}

/** Gives every region (also inside frames) an ID, as Clarifai does. */
function assignRegionIds(data: Data): void {
  for (const region of data.regions) if (region.id === "") region.id = newId();
  for (const frame of data.frames) {
    if (frame.id === "") frame.id = newId();
    if (frame.data) assignRegionIds(frame.data);
  }
}

function hasLabels(data: Data | undefined): boolean {
  if (!data) return false;
  return data.concepts.length > 0 || data.regions.length > 0 || data.frames.length > 0 ||
    data.metadata !== undefined || data.geo !== undefined;
}

function countsOf(statuses: Status[]): Status {
  const ok = statuses.filter((s) => isOk(s.code)).length;
  if (ok === statuses.length) return localStatus(StatusCode.SUCCESS);
  if (ok === 0) return localStatus(StatusCode.FAILURE);
  return localStatus(StatusCode.MIXED_STATUS);
}

const OK_CODES = new Set<number>([
  StatusCode.SUCCESS,
  StatusCode.INPUT_PENDING,
  StatusCode.INPUT_SUCCESS,
  StatusCode.ANNOTATION_SUCCESS,
  StatusCode.DATASET_INPUT_SUCCESS,
]);
const isOk = (code: number) => OK_CODES.has(code);

/** A request failure answered as the response's status. */
class Answer extends Error {
  constructor(readonly status: Status) {
    super(status.details || status.description);
  }
}

const notImplemented = (method: string): never => {
  throw new Answer(
    localStatus(StatusCode.NOT_IMPLEMENTED, `${method} is not implemented by the local API yet`),
  );
};

const invalid = (details: string) =>
  new Answer(localStatus(StatusCode.CONN_INVALID_REQUEST, details));

function paging(page: number, perPage: number): { offset: number; limit: number } {
  if (perPage > MAX_PER_PAGE) {
    throw invalid(`per_page must be at most ${MAX_PER_PAGE}: got ${perPage}`);
  }
  const limit = perPage === 0 ? DEFAULT_PER_PAGE : perPage;
  return { offset: (Math.max(page, 1) - 1) * limit, limit };
}

/**
 * The V2 subset over a {@linkcode LocalStore}, with Clarifai's semantics and the request-level
 * faults (auth, rate limit, throttle, drop after commit).
 *
 * @example Post an input and read it back
 * ```ts
 * import { LocalV2Service } from "./v2_service.ts";
 * import { LocalStore } from "./store.ts";
 * import { FaultInjector } from "./faults.ts";
 * import { create } from "@bufbuild/protobuf";
 * import { PostInputsRequestSchema } from "../../src/gen/clarifai/api/service_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const service = new LocalV2Service({ store, key: "k", faults: new FaultInjector() });
 * const ctx = { authorization: "Key k", drop() {} };
 * const request = create(PostInputsRequestSchema, {
 *   userAppId: { userId: "me", appId: "demo" },
 *   inputs: [{ id: "t1", data: { text: { raw: "hello" } } }],
 * });
 * const response = await service.call("postInputs", request, ctx);
 * assertEquals(response.status?.code, 10000);
 * assertEquals(response.inputs[0].status?.code, 30001);
 * store.close();
 * ```
 */
export class LocalV2Service {
  #store: LocalStore;
  #key: string;
  #faults: FaultInjector;
  #onInputsStored: () => void;
  #contentUrl: (hash: string) => string;
  #handlers: {
    [M in V2MethodName]: (
      request: MessageShape<(typeof V2.method)[M]["input"]>,
      userAppId: UserAppIDSet,
    ) =>
      | MessageShape<(typeof V2.method)[M]["output"]>
      | Promise<
        MessageShape<(typeof V2.method)[M]["output"]>
      >;
  } = {
    postInputs: (r, u) => this.#postInputs(r, u),
    getInput: (r, u) => this.#getInput(r, u),
    listInputs: (r, u) => this.#listInputs(r, u),
    getInputCount: (r, u) => this.#getInputCount(r, u),
    deleteInputs: (r, u) => this.#deleteInputs(r, u),
    getInputsAddJob: (r, u) => this.#getInputsAddJob(r, u),
    cancelInputsAddJob: (r, u) => this.#cancelInputsAddJob(r, u),
    postAnnotations: (r, u) => this.#postAnnotations(r, u),
    listAnnotations: (r, u) => this.#listAnnotations(r, u),
    postDatasets: (r, u) => this.#postDatasets(r, u),
    getDataset: (r, u) => this.#getDataset(r, u),
    postDatasetInputs: (r, u) => this.#postDatasetInputs(r, u),
    listDatasetInputs: (r, u) => this.#listDatasetInputs(r, u),
    patchInputs: () => notImplemented("PatchInputs"),
    patchAnnotations: () => notImplemented("PatchAnnotations"),
    deleteAnnotations: () => notImplemented("DeleteAnnotations"),
    listDatasets: () => notImplemented("ListDatasets"),
    patchDatasets: () => notImplemented("PatchDatasets"),
    deleteDatasets: () => notImplemented("DeleteDatasets"),
    postDatasetVersions: () => notImplemented("PostDatasetVersions"),
    getDatasetVersion: () => notImplemented("GetDatasetVersion"),
    listDatasetVersions: () => notImplemented("ListDatasetVersions"),
    deleteDatasetVersions: () => notImplemented("DeleteDatasetVersions"),
    listDatasetVersionMetricsGroups: () => notImplemented("ListDatasetVersionMetricsGroups"),
  };

  /**
   * Creates the service.
   *
   * @param options The store, key and faults.
   */
  constructor(options: LocalV2ServiceOptions) {
    this.#store = options.store;
    this.#key = options.key;
    this.#faults = options.faults;
    this.#onInputsStored = options.onInputsStored ?? (() => {});
    this.#contentUrl = options.contentUrl ?? ((hash) => `/local/blobs/${hash}`);
  }

  /**
   * Answers one call: checks the key, applies the rate limit and throttling faults, runs the
   * method, and drops the connection after a committed write when the fault says so.
   *
   * @param method The method's lower-camel-case name.
   * @param request The request message.
   * @param ctx The caller.
   * @returns The response message (errors as its `status`).
   * @throws {ConnectionDroppedError} After dropping the connection.
   */
  async call<M extends V2MethodName>(
    method: M,
    request: MessageShape<(typeof V2.method)[M]["input"]>,
    ctx: CallContext,
  ): Promise<MessageShape<(typeof V2.method)[M]["output"]>> {
    const output = V2.method[method].output as DescMessage;
    const fail = (status: Status) =>
      create(output, { status }) as MessageShape<(typeof V2.method)[M]["output"]>;
    const reqId = newId();
    const withReqId = <T extends { status?: Status }>(response: T): T => {
      if (response.status) response.status.reqId = reqId;
      return response;
    };

    const auth = this.#authenticate(ctx.authorization);
    if (auth) return withReqId(fail(auth));
    if (this.#faults.takeRateLimited()) {
      return withReqId(fail(localStatus(
        StatusCode.CONN_THROTTLED,
        `exceeded limit of ${this.#faults.rps} requests per second`,
      )));
    }
    if (this.#faults.takeThrottle()) {
      return withReqId(fail(localStatus(
        StatusCode.CONN_THROTTLED,
        "exceeded the request rate limit (throttle fault)",
      )));
    }
    const userAppId = (request as { userAppId?: UserAppIDSet }).userAppId;
    if (!userAppId?.userId || !userAppId?.appId) {
      return withReqId(fail(localStatus(
        StatusCode.CONN_INVALID_REQUEST,
        "user_app_id with user_id and app_id is required with a personal access token",
      )));
    }
    let response;
    try {
      const handler = this.#handlers[method] as (r: unknown, u: UserAppIDSet) => unknown;
      response = await handler(request, userAppId) as MessageShape<
        (typeof V2.method)[M]["output"]
      >;
    } catch (error) {
      if (error instanceof Answer) return withReqId(fail(error.status));
      throw error;
    }
    if (
      (method === "postInputs" || method === "postAnnotations") &&
      response.status?.code !== StatusCode.FAILURE &&
      this.#faults.takeDropAfterCommit()
    ) {
      ctx.drop();
      throw new ConnectionDroppedError(method);
    }
    return withReqId(response);
  }

  #authenticate(authorization: string | null): Status | undefined {
    const match = /^Key\s+(\S+)\s*$/i.exec(authorization ?? "");
    if (!match) {
      return localStatus(
        StatusCode.CONN_CREDENTIALS_INVALID,
        "send the header 'authorization: Key <your PAT>'",
      );
    }
    if (match[1] !== this.#key) {
      return localStatus(StatusCode.CONN_KEY_INVALID, "the API key or PAT is not valid");
    }
    return undefined;
  }

  #app(u: UserAppIDSet): number {
    return this.#store.appKey(u.userId, u.appId);
  }

  #readApp(u: UserAppIDSet): number | undefined {
    return this.#store.findApp(u.userId, u.appId);
  }

  #toInput(row: InputRow, datasetIds?: string[]): Input {
    const data = fromBinary(DataSchema, row.data);
    if (row.contentHash !== null && row.kind !== "text") {
      const media = data[row.kind as "image" | "video" | "audio"];
      if (media) media.url = this.#contentUrl(row.contentHash);
    }
    return create(InputSchema, {
      id: row.id,
      data,
      createdAt: ms(row.createdAt),
      modifiedAt: ms(row.modifiedAt),
      status: localStatus(row.statusCode, row.statusDetails, row.statusDescription),
      datasetIds: datasetIds ?? [],
    });
  }

  #job(app: number, id: string) {
    const job = this.#store.getJob(app, id);
    if (!job) return undefined;
    const p = this.#store.jobProgress(app, id);
    const code = job.cancelled
      ? StatusCode.JOB_FAILED
      : p.pending + p.inProgress > 0
      ? (p.success + p.failed > 0 || p.inProgress > 0
        ? StatusCode.JOB_RUNNING
        : StatusCode.JOB_QUEUED)
      : StatusCode.JOB_COMPLETED;
    return create(InputsAddJobSchema, {
      id,
      progress: create(InputsAddJobProgressSchema, {
        pendingCount: BigInt(p.pending),
        inProgressCount: BigInt(p.inProgress),
        successCount: BigInt(p.success),
        failedCount: BigInt(p.failed),
      }),
      createdAt: ms(job.createdAt),
      modifiedAt: ms(job.modifiedAt),
      status: localStatus(code, "", job.cancelled ? "Job cancelled" : undefined),
    });
  }

  // ── inputs ──────────────────────────────────────────────────────────────────

  async #postInputs(req: PostInputsRequest, u: UserAppIDSet) {
    const output = V2.method.postInputs.output;
    if (req.inputs.length === 0) throw invalid("inputs must not be empty");
    if (req.inputs.length > MAX_INPUTS_PER_REQUEST) {
      throw invalid(
        `at most ${MAX_INPUTS_PER_REQUEST} inputs per request: got ${req.inputs.length}`,
      );
    }
    const videos = req.inputs.filter((i) => i.data?.video !== undefined).length;
    if (videos > 1) throw invalid(`only 1 video per request: got ${videos}`);
    const jobId = req.inputsAddJobId || newId();
    const jobReason = invalidIdReason(jobId);
    if (jobReason) throw invalid(`inputs_add_job_id: ${jobReason}`);
    const suffix = req.inputIdConflictResolution === InputIDConflictResolution.SUFFIX;

    const idCounts = new Map<string, number>();
    for (const input of req.inputs) {
      if (input.id !== "") idCounts.set(input.id, (idCounts.get(input.id) ?? 0) + 1);
    }
    // Validate and hash outside the transaction.
    const prepared = await Promise.all(req.inputs.map(async (input) => {
      if (input.id !== "") {
        const reason = invalidIdReason(input.id);
        if (reason) return localStatus(StatusCode.INPUT_INVALID_ARGUMENT, reason);
        if ((idCounts.get(input.id) ?? 0) > 1) {
          return localStatus(
            StatusCode.INPUT_INVALID_ARGUMENT,
            `Input ID ${JSON.stringify(input.id)} is used by more than one input in this request.`,
          );
        }
      }
      const content = contentOf(input.data);
      if (!("kind" in content)) return content;
      const reason = dataReason(input.data!, "input");
      if (reason) return localStatus(StatusCode.INPUT_INVALID_ARGUMENT, reason);
      const hash = content.bytes && content.kind !== "text"
        ? hex(await crypto.subtle.digest("SHA-256", content.bytes as Uint8Array<ArrayBuffer>))
        : null;
      return { content, hash };
    }));

    const now = Date.now();
    const results: Input[] = this.#store.transaction(() => {
      const app = this.#app(u);
      this.#store.upsertJob(app, jobId, now);
      const taken = new Set<string>(idCounts.keys());
      return req.inputs.map((input, i) => {
        const p = prepared[i];
        const answer = (status: Status) =>
          create(InputSchema, { id: input.id, status, datasetIds: input.datasetIds });
        if (!("content" in p)) return answer(p);
        let id = input.id;
        if (id === "") {
          id = newId();
        } else if (this.#store.inputExists(app, id)) {
          if (!suffix) {
            return answer(localStatus(StatusCode.INPUT_DUPLICATE, "Input has a duplicate ID."));
          }
          id = this.#freeId(app, id, taken);
        }
        for (const datasetId of input.datasetIds) {
          if (!this.#store.getDataset(app, datasetId)) {
            return answer(localStatus(
              StatusCode.INPUT_INVALID_ARGUMENT,
              `Dataset ${JSON.stringify(datasetId)} does not exist in app ${u.appId}.`,
            ));
          }
        }
        taken.add(id);
        const kind = p.content.kind;
        // The bytes are stored apart: the clone of the data is made without them.
        const media = kind !== "text" ? input.data![kind] : undefined;
        const bytes = media?.base64;
        if (media) media.base64 = new Uint8Array(0);
        const data = clone(DataSchema, input.data!);
        if (media) media.base64 = bytes!;
        if (kind !== "text" && p.content.bytes) {
          this.#store.putBlob(p.hash!, p.content.bytes);
        }
        assignRegionIds(data);
        const status = localStatus(StatusCode.INPUT_PENDING);
        this.#store.insertInput({
          app,
          id,
          kind,
          data: toBinary(DataSchema, data),
          contentHash: p.hash,
          contentSize: p.content.bytes?.length ?? 0,
          statusCode: status.code,
          statusDescription: status.description,
          statusDetails: "",
          createdAt: now,
          modifiedAt: now,
          jobId,
        });
        for (const datasetId of input.datasetIds) {
          this.#store.addDatasetInput(app, datasetId, id, now);
        }
        if (p.hash !== null) data[kind as "image"]!.url = this.#contentUrl(p.hash);
        return create(InputSchema, {
          id,
          data,
          createdAt: ms(now),
          modifiedAt: ms(now),
          status,
          datasetIds: input.datasetIds,
        });
      });
    });
    if (results.some((r) => r.status?.code === StatusCode.INPUT_PENDING)) this.#onInputsStored();
    const app = this.#app(u);
    return create(output, {
      status: countsOf(results.map((r) => r.status!)),
      inputs: results,
      inputsAddJob: this.#job(app, jobId),
    });
  }

  #freeId(app: number, id: string, taken: Set<string>): string {
    const free = (candidate: string) =>
      !taken.has(candidate) && !this.#store.inputExists(app, candidate);
    for (let n = 1; n <= 9; n++) {
      const candidate = `${id}-${n}`;
      if (free(candidate)) return candidate;
    }
    for (;;) {
      const candidate = `${id}-${newId().slice(0, 8)}`;
      if (free(candidate)) return candidate;
    }
  }

  #getInput(req: GetInputRequest, u: UserAppIDSet) {
    const app = this.#readApp(u);
    const row = app === undefined ? undefined : this.#store.getInput(app, req.inputId);
    if (!row) {
      throw new Answer(localStatus(
        StatusCode.CONN_DOES_NOT_EXIST,
        `Input ${JSON.stringify(req.inputId)} does not exist in app ${u.appId}.`,
      ));
    }
    return create(V2.method.getInput.output, {
      status: localStatus(StatusCode.SUCCESS),
      input: this.#toInput(row, this.#store.datasetsOfInput(app!, row.id)),
    });
  }

  #listInputs(req: ListInputsRequest, u: UserAppIDSet) {
    const page = paging(req.page, req.perPage);
    const app = this.#readApp(u);
    const rows = app === undefined
      ? []
      : this.#store.listInputs(app, { ids: req.ids, statusCode: req.status?.code }, page);
    return create(V2.method.listInputs.output, {
      status: localStatus(StatusCode.SUCCESS),
      inputs: rows.map((r) => this.#toInput(r)),
    });
  }

  #getInputCount(_req: GetInputCountRequest, u: UserAppIDSet) {
    const app = this.#readApp(u);
    const p = app === undefined
      ? { pending: 0, inProgress: 0, success: 0, failed: 0 }
      : this.#store.inputCounts(app);
    return create(V2.method.getInputCount.output, {
      status: localStatus(StatusCode.SUCCESS),
      counts: create(InputCountSchema, {
        processed: p.success,
        toProcess: p.pending,
        errors: p.failed,
        processing: p.inProgress,
      }),
    });
  }

  #deleteInputs(req: DeleteInputsRequest, u: UserAppIDSet) {
    if (req.ids.length === 0) throw invalid("ids must not be empty");
    const app = this.#app(u);
    return this.#store.transaction(() => {
      const missing = req.ids.filter((id) => !this.#store.inputExists(app, id));
      if (missing.length > 0) {
        throw new Answer(localStatus(
          StatusCode.INPUT_DOES_NOT_EXIST,
          `${missing.length} input(s) do not exist, nothing was deleted: ${
            missing.slice(0, 5).join(", ")
          }`,
        ));
      }
      this.#store.deleteInputs(app, [...new Set(req.ids)]);
      return create(V2.method.deleteInputs.output, { status: localStatus(StatusCode.SUCCESS) });
    });
  }

  #getInputsAddJob(req: GetInputsAddJobRequest, u: UserAppIDSet) {
    const app = this.#readApp(u);
    const job = app === undefined ? undefined : this.#job(app, req.id);
    if (!job) {
      throw new Answer(localStatus(
        StatusCode.CONN_DOES_NOT_EXIST,
        `Inputs add job ${JSON.stringify(req.id)} does not exist.`,
      ));
    }
    return create(V2.method.getInputsAddJob.output, {
      status: localStatus(StatusCode.SUCCESS),
      inputsAddJob: job,
    });
  }

  #cancelInputsAddJob(req: CancelInputsAddJobRequest, u: UserAppIDSet) {
    const app = this.#readApp(u);
    if (app === undefined || !this.#store.getJob(app, req.id)) {
      throw new Answer(localStatus(
        StatusCode.CONN_DOES_NOT_EXIST,
        `Inputs add job ${JSON.stringify(req.id)} does not exist.`,
      ));
    }
    this.#store.cancelJob(app, req.id, Date.now());
    return create(V2.method.cancelInputsAddJob.output, {
      status: localStatus(StatusCode.SUCCESS),
      inputsAddJob: this.#job(app, req.id),
    });
  }

  // ── annotations ─────────────────────────────────────────────────────────────

  #postAnnotations(req: PostAnnotationsRequest, u: UserAppIDSet) {
    if (req.annotations.length === 0) throw invalid("annotations must not be empty");
    if (req.annotations.length > MAX_ITEMS_PER_REQUEST) {
      throw invalid(
        `at most ${MAX_ITEMS_PER_REQUEST} annotations per request: got ${req.annotations.length}`,
      );
    }
    const idCounts = new Map<string, number>();
    for (const a of req.annotations) {
      if (a.id !== "") idCounts.set(a.id, (idCounts.get(a.id) ?? 0) + 1);
    }
    const now = Date.now();
    const results = this.#store.transaction(() => {
      const app = this.#app(u);
      return req.annotations.map((a): Annotation => {
        const answer = (status: Status) =>
          create(AnnotationSchema, { id: a.id, inputId: a.inputId, status });
        const bad = (details: string) =>
          answer(localStatus(StatusCode.ANNOTATION_INVALID_ARGUMENT, details));
        if (a.id !== "") {
          const reason = invalidIdReason(a.id);
          if (reason) return bad(reason.replace("input ID", "annotation ID"));
          if ((idCounts.get(a.id) ?? 0) > 1) {
            return bad(
              `Annotation ID ${
                JSON.stringify(a.id)
              } is used by more than one annotation in this request.`,
            );
          }
          if (this.#store.annotationExists(app, a.id)) {
            return answer(localStatus(
              StatusCode.DATABASE_DUPLICATE_KEY,
              "Annotation has a duplicate ID.",
              "Annotation with this ID already exists",
            ));
          }
        }
        if (a.inputId === "") return bad("input_id is required");
        if (!this.#store.inputExists(app, a.inputId)) {
          return answer(localStatus(
            StatusCode.INPUT_DOES_NOT_EXIST,
            `Input ${JSON.stringify(a.inputId)} does not exist in app ${u.appId}.`,
          ));
        }
        if (!hasLabels(a.data)) {
          return bad("the annotation has no data: add concepts, regions or frames");
        }
        const reason = dataReason(a.data!, "annotation");
        if (reason) return bad(reason);
        const data = clone(DataSchema, a.data!);
        assignRegionIds(data);
        const id = a.id || newId();
        const status = localStatus(StatusCode.ANNOTATION_SUCCESS);
        this.#store.insertAnnotation(app, {
          id,
          inputId: a.inputId,
          data: toBinary(DataSchema, data),
          inputLevel: a.inputLevel || data.regions.length === 0 && data.frames.length === 0,
          statusCode: status.code,
          statusDescription: status.description,
          createdAt: now,
          modifiedAt: now,
        });
        return create(AnnotationSchema, {
          id,
          inputId: a.inputId,
          data,
          status,
          inputLevel: a.inputLevel,
          createdAt: ms(now),
          modifiedAt: ms(now),
        });
      });
    });
    return create(V2.method.postAnnotations.output, {
      status: countsOf(results.map((r) => r.status!)),
      annotations: results,
    });
  }

  #listAnnotations(req: ListAnnotationsRequest, u: UserAppIDSet) {
    const page = paging(req.page, req.perPage);
    const app = this.#readApp(u);
    const rows = app === undefined ? [] : this.#store.listAnnotations(app, {
      ids: req.ids,
      inputIds: req.inputIds,
      statusCodes: req.statuses.map((s) => s.code).filter((c) => c !== 0),
    }, page);
    return create(V2.method.listAnnotations.output, {
      status: localStatus(StatusCode.SUCCESS),
      annotations: rows.map((r) =>
        create(AnnotationSchema, {
          id: r.id,
          inputId: r.inputId,
          data: fromBinary(DataSchema, r.data),
          inputLevel: r.inputLevel,
          status: localStatus(r.statusCode, "", r.statusDescription),
          createdAt: ms(r.createdAt),
          modifiedAt: ms(r.modifiedAt),
        })
      ),
    });
  }

  // ── datasets ────────────────────────────────────────────────────────────────

  #postDatasets(req: PostDatasetsRequest, u: UserAppIDSet) {
    if (req.datasets.length === 0) throw invalid("datasets must not be empty");
    if (req.datasets.length > MAX_ITEMS_PER_REQUEST) {
      throw invalid(
        `at most ${MAX_ITEMS_PER_REQUEST} datasets per request: got ${req.datasets.length}`,
      );
    }
    const now = Date.now();
    const seen = new Set<string>();
    return this.#store.transaction(() => {
      const app = this.#app(u);
      const created = req.datasets.map((d) => {
        if (d.id === "") throw invalid("every dataset needs an id");
        const reason = invalidIdReason(d.id);
        if (reason) throw invalid(reason.replace("input ID", "dataset ID"));
        if (seen.has(d.id)) {
          throw invalid(`Dataset ID ${JSON.stringify(d.id)} appears twice in this request.`);
        }
        seen.add(d.id);
        if (this.#store.getDataset(app, d.id)) {
          throw new Answer(localStatus(
            StatusCode.DATABASE_DUPLICATE_KEY,
            `Dataset ${JSON.stringify(d.id)} already exists in app ${u.appId}.`,
          ));
        }
        const dataset = create(DatasetSchema, {
          id: d.id,
          description: d.description,
          metadata: d.metadata,
          appId: u.appId,
          userId: u.userId,
          createdAt: ms(now),
          modifiedAt: ms(now),
        });
        this.#store.insertDataset(app, {
          id: d.id,
          message: toBinary(DatasetSchema, dataset),
          createdAt: now,
          modifiedAt: now,
        });
        return dataset;
      });
      return create(V2.method.postDatasets.output, {
        status: localStatus(StatusCode.SUCCESS),
        datasets: created,
      });
    });
  }

  #requireDataset(u: UserAppIDSet, datasetId: string): number {
    const app = this.#readApp(u);
    if (datasetId === "") throw invalid("dataset_id is required");
    if (app === undefined || !this.#store.getDataset(app, datasetId)) {
      throw new Answer(localStatus(
        StatusCode.CONN_DOES_NOT_EXIST,
        `Dataset ${JSON.stringify(datasetId)} does not exist in app ${u.appId}.`,
      ));
    }
    return app;
  }

  #getDataset(req: GetDatasetRequest, u: UserAppIDSet) {
    const app = this.#requireDataset(u, req.datasetId);
    const row = this.#store.getDataset(app, req.datasetId)!;
    return create(V2.method.getDataset.output, {
      status: localStatus(StatusCode.SUCCESS),
      dataset: fromBinary(DatasetSchema, row.message),
    });
  }

  #postDatasetInputs(req: PostDatasetInputsRequest, u: UserAppIDSet) {
    if (req.datasetInputs.length === 0) throw invalid("dataset_inputs must not be empty");
    if (req.datasetInputs.length > MAX_ITEMS_PER_REQUEST) {
      throw invalid(
        `at most ${MAX_ITEMS_PER_REQUEST} dataset inputs per request: got ${req.datasetInputs.length}`,
      );
    }
    const app = this.#requireDataset(u, req.datasetId);
    const now = Date.now();
    const items = this.#store.transaction(() =>
      req.datasetInputs.map((item) => {
        const id = item.input?.id ?? "";
        const row = id === "" ? undefined : this.#store.getInput(app, id);
        if (!row) {
          return create(DatasetInputSchema, {
            input: create(InputSchema, {
              id,
              status: localStatus(
                StatusCode.INPUT_DOES_NOT_EXIST,
                id === ""
                  ? "input.id is required"
                  : `Input ${JSON.stringify(id)} does not exist in app ${u.appId}.`,
              ),
            }),
          });
        }
        const addedAt = this.#store.addDatasetInput(app, req.datasetId, id, now);
        const input = this.#toInput(row);
        input.status = localStatus(StatusCode.DATASET_INPUT_SUCCESS);
        return create(DatasetInputSchema, { createdAt: ms(addedAt), input });
      })
    );
    return create(V2.method.postDatasetInputs.output, {
      status: countsOf(items.map((i) => i.input!.status!)),
      datasetInputs: items,
    });
  }

  #listDatasetInputs(req: ListDatasetInputsRequest, u: UserAppIDSet) {
    const page = paging(req.page, req.perPage);
    const app = this.#requireDataset(u, req.datasetId);
    return create(V2.method.listDatasetInputs.output, {
      status: localStatus(StatusCode.SUCCESS),
      datasetInputs: this.#store.listDatasetInputs(app, req.datasetId, page).map((r) =>
        create(DatasetInputSchema, { createdAt: ms(r.addedAt), input: this.#toInput(r.input) })
      ),
    });
  }
}
