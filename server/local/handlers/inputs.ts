/**
 * The local API's input methods: PostInputs (validation by the local rules, duplicate IDs per
 * `input_id_conflict_resolution`, content bytes stored once by SHA-256, inputs stored
 * `INPUT_PENDING` for the background processor, an input-level annotation for the concepts of
 * each), GetInput, ListInputs, GetInputCount and
 * DeleteInputs.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { clone, create, toBinary } from "@bufbuild/protobuf";
import {
  type Data,
  DataSchema,
  type Input,
  InputCountSchema,
  InputIDConflictResolution,
  InputSchema,
  type UserAppIDSet,
} from "../../../src/gen/clarifai/api/resources_pb.ts";
import {
  type MultiInputResponse,
  type PostInputsRequest,
  V2,
} from "../../../src/gen/clarifai/api/service_pb.ts";
import type { Status } from "../../../src/gen/clarifai/api/status/status_pb.ts";
import { StatusCode } from "../../../src/gen/clarifai/api/status/status_code_pb.ts";
import { localStatus } from "../local_status.ts";
import { type BlobContent, STAGED_BYTES } from "../store/blob_store.ts";
import { type Content, contentOf, dataReason, idReason } from "../validation.ts";
import {
  Answer,
  appOf,
  type HandlerContext,
  type Handlers,
  invalid,
  MAX_INPUTS_PER_REQUEST,
  missing,
  ms,
  newId,
  overallStatus,
  paging,
  readAppOf,
  requireItems,
} from "./common.ts";
import { syncInputLevelAnnotation } from "./input_level.ts";
import { inputMessage, jobMessage } from "./messages.ts";

/**
 * An input that passed validation: its content, the SHA-256 of its bytes, and the temporary
 * file its bytes were written to ahead of the transaction (large contents only).
 */
interface Prepared {
  content: Content;
  hash: string | null;
  staged?: string;
}

/**
 * SHA-256 hex of content bytes: `node:crypto` hashes on the calling thread with the CPU's SHA
 * instructions (1.2 GB/s here), where Web Crypto's `digest` ran at 200 MB/s and answered through
 * a promise per input.
 */
function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Gives every region (also inside frames) an ID, as Clarifai does. */
export function assignRegionIds(data: Data): void {
  for (const region of data.regions) if (region.id === "") region.id = newId();
  for (const frame of data.frames) {
    if (frame.id === "") frame.id = newId();
    if (frame.data) assignRegionIds(frame.data);
  }
}

/** Request-level checks of PostInputs; returns the job ID. */
function checkPostInputs(req: PostInputsRequest): string {
  requireItems(req.inputs.length, "inputs", MAX_INPUTS_PER_REQUEST);
  const videos = req.inputs.filter((i) => i.data?.video !== undefined).length;
  if (videos > 1) throw invalid(`only 1 video per request: got ${videos}`);
  const jobId = req.inputsAddJobId || newId();
  const jobReason = idReason(jobId, "inputs add job");
  if (jobReason) throw invalid(`inputs_add_job_id: ${jobReason}`);
  return jobId;
}

/** Validates one input and hashes its bytes, outside any transaction. */
function prepareInput(input: Input, idCounts: Map<string, number>): Prepared | Status {
  if (input.id !== "") {
    const reason = idReason(input.id, "input");
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
  const hash = content.bytes && content.kind !== "text" ? sha256Hex(content.bytes) : null;
  return { content, hash };
}

/** The input's data without its content bytes (which are stored apart). */
function dataWithoutBytes(input: Input, kind: string): Data {
  const media = kind !== "text" ? input.data![kind as "image"] : undefined;
  const bytes = media?.base64;
  if (media) media.base64 = new Uint8Array(0);
  const data = clone(DataSchema, input.data!);
  if (media) media.base64 = bytes!;
  return data;
}

/** A free ID for SUFFIX conflict resolution: `id-1` … `id-9`, then `id-<8 hex digits>`. */
function freeId(ctx: HandlerContext, app: number, id: string, taken: Set<string>): string {
  const free = (candidate: string) =>
    !taken.has(candidate) && !ctx.store.inputs.exists(app, candidate);
  for (let n = 1; n <= 9; n++) {
    const candidate = `${id}-${n}`;
    if (free(candidate)) return candidate;
  }
  for (;;) {
    const candidate = `${id}-${newId().slice(0, 8)}`;
    if (free(candidate)) return candidate;
  }
}

/** What storing one input needs to know about the request. */
interface StoreRequest {
  app: number;
  u: UserAppIDSet;
  jobId: string;
  suffix: boolean;
  taken: Set<string>;
  now: number;
  /** The content bytes of the inputs stored, for the blob store at the end. */
  contents: BlobContent[];
}

/** Resolves the ID of one prepared input, or the status that refuses it. */
function resolveId(ctx: HandlerContext, input: Input, r: StoreRequest): string | Status {
  let id = input.id;
  if (id === "") {
    id = newId();
  } else if (ctx.store.inputs.exists(r.app, id)) {
    if (!r.suffix) return localStatus(StatusCode.INPUT_DUPLICATE, "Input has a duplicate ID.");
    id = freeId(ctx, r.app, id, r.taken);
  }
  for (const datasetId of input.datasetIds) {
    if (!ctx.store.datasets.get(r.app, datasetId)) {
      return localStatus(
        StatusCode.INPUT_INVALID_ARGUMENT,
        `Dataset ${JSON.stringify(datasetId)} does not exist in app ${r.u.appId}.`,
      );
    }
  }
  return id;
}

/** Stores one prepared input (inside the request's transaction). */
function storeInput(ctx: HandlerContext, input: Input, p: Prepared, r: StoreRequest): Input {
  const id = resolveId(ctx, input, r);
  if (typeof id !== "string") {
    return create(InputSchema, { id: input.id, status: id, datasetIds: input.datasetIds });
  }
  r.taken.add(id);
  const kind = p.content.kind;
  const data = dataWithoutBytes(input, kind);
  if (kind !== "text" && p.content.bytes) {
    r.contents.push({ hash: p.hash!, bytes: p.content.bytes, staged: p.staged });
  }
  assignRegionIds(data);
  const status = localStatus(StatusCode.INPUT_PENDING);
  ctx.store.inputs.insert({
    app: r.app,
    id,
    kind,
    data: toBinary(DataSchema, data),
    contentHash: p.hash,
    contentSize: p.content.bytes?.length ?? 0,
    statusCode: status.code,
    statusDescription: status.description,
    statusDetails: "",
    createdAt: r.now,
    modifiedAt: r.now,
    jobId: r.jobId,
  });
  for (const datasetId of input.datasetIds) {
    ctx.store.datasets.addInput(r.app, datasetId, id, r.now);
  }
  syncInputLevelAnnotation(ctx, r.app, id, data.concepts, r.now);
  if (p.hash !== null) data[kind as "image"]!.url = ctx.contentUrl(p.hash);
  return create(InputSchema, {
    id,
    data,
    createdAt: ms(r.now),
    modifiedAt: ms(r.now),
    status,
    datasetIds: input.datasetIds,
  });
}

/** PostInputs' transaction: stores the prepared inputs and answers. */
function storeInputs(
  ctx: HandlerContext,
  req: PostInputsRequest,
  u: UserAppIDSet,
  jobId: string,
  idCounts: Map<string, number>,
  prepared: (Prepared | Status)[],
): MultiInputResponse {
  const now = Date.now();
  const results = ctx.store.transaction(() => {
    const app = appOf(ctx, u);
    ctx.store.jobs.upsert(app, jobId, now);
    const suffix = req.inputIdConflictResolution === InputIDConflictResolution.SUFFIX;
    const taken = new Set(idCounts.keys());
    const r: StoreRequest = { app, u, jobId, suffix, taken, now, contents: [] };
    const stored = req.inputs.map((input, i) => {
      const p = prepared[i];
      if (!("content" in p)) {
        return create(InputSchema, { id: input.id, status: p, datasetIds: input.datasetIds });
      }
      return storeInput(ctx, input, p, r);
    });
    ctx.store.blobs.putAll(r.contents); // the request's small contents in one file
    return stored;
  });
  if (results.some((r) => r.status?.code === StatusCode.INPUT_PENDING)) ctx.onInputsStored();
  return create(V2.method.postInputs.output, {
    status: overallStatus(results.map((r) => r.status!)),
    inputs: results,
    inputsAddJob: jobMessage(ctx, appOf(ctx, u), jobId),
  });
}

/**
 * Creates the input handlers.
 *
 * @param ctx The handler context.
 * @returns PostInputs, GetInput, ListInputs, GetInputCount and DeleteInputs.
 *
 * @example Post a text input
 * ```ts
 * import { inputHandlers } from "./inputs.ts";
 * import { LocalStore } from "../store.ts";
 * import { create } from "@bufbuild/protobuf";
 * import { PostInputsRequestSchema } from "../../../src/gen/clarifai/api/service_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const ctx = { store, contentUrl: (h: string) => h, onInputsStored() {}, onVersionCreated() {} };
 * const u = { userId: "me", appId: "demo" };
 * const request = create(PostInputsRequestSchema, { inputs: [{ id: "t1", data: { text: { raw: "hi" } } }] });
 * const response = await inputHandlers(ctx).postInputs(request, u as never);
 * assertEquals(response.inputs[0].status?.code, 30001);
 * store.close();
 * ```
 */
export function inputHandlers(
  ctx: HandlerContext,
): Handlers<"postInputs" | "getInput" | "listInputs" | "getInputCount" | "deleteInputs"> {
  return {
    postInputs(req, u) {
      const jobId = checkPostInputs(req);
      const idCounts = new Map<string, number>();
      for (const input of req.inputs) {
        if (input.id !== "") idCounts.set(input.id, (idCounts.get(input.id) ?? 0) + 1);
      }
      const prepared = req.inputs.map((input) => prepareInput(input, idCounts));
      const large = prepared.filter((p): p is Prepared =>
        "content" in p && p.hash !== null && p.content.bytes!.length >= STAGED_BYTES
      );
      const store = () => storeInputs(ctx, req, u, jobId, idCounts, prepared);
      if (large.length === 0) return store();
      // Large contents are written before the transaction, other requests going on meanwhile.
      const staging = large.map(async (p) => {
        p.staged = await ctx.store.blobs.stage(p.hash!, p.content.bytes!);
      });
      return Promise.all(staging).then(store).finally(async () => {
        await Promise.allSettled(staging);
        for (const p of large) ctx.store.blobs.unstage(p.staged);
      });
    },

    getInput(req, u) {
      const app = readAppOf(ctx, u);
      const row = app === undefined ? undefined : ctx.store.inputs.get(app, req.inputId);
      if (!row) {
        throw missing(`Input ${JSON.stringify(req.inputId)} does not exist in app ${u.appId}.`);
      }
      return create(V2.method.getInput.output, {
        status: localStatus(StatusCode.SUCCESS),
        input: inputMessage(ctx, row, ctx.store.datasets.ofInput(app!, row.id)),
      });
    },

    listInputs(req, u) {
      const page = paging(req.page, req.perPage);
      const app = readAppOf(ctx, u);
      const rows = app === undefined
        ? []
        : ctx.store.inputs.list(app, { ids: req.ids, statusCode: req.status?.code }, page);
      return create(V2.method.listInputs.output, {
        status: localStatus(StatusCode.SUCCESS),
        inputs: rows.map((r) => inputMessage(ctx, r)),
      });
    },

    getInputCount(_req, u) {
      const app = readAppOf(ctx, u);
      const p = app === undefined
        ? { pending: 0, inProgress: 0, success: 0, failed: 0 }
        : ctx.store.inputs.counts(app);
      return create(V2.method.getInputCount.output, {
        status: localStatus(StatusCode.SUCCESS),
        counts: create(InputCountSchema, {
          processed: p.success,
          toProcess: p.pending,
          errors: p.failed,
          processing: p.inProgress,
        }),
      });
    },

    deleteInputs(req, u) {
      if (req.ids.length === 0) throw invalid("ids must not be empty");
      const app = appOf(ctx, u);
      return ctx.store.transaction(() => {
        const absent = req.ids.filter((id) => !ctx.store.inputs.exists(app, id));
        if (absent.length > 0) {
          throw new Answer(localStatus(
            StatusCode.INPUT_DOES_NOT_EXIST,
            `${absent.length} input(s) do not exist, nothing was deleted: ${
              absent.slice(0, 5).join(", ")
            }`,
          ));
        }
        ctx.store.deleteInputs(app, [...new Set(req.ids)]);
        return create(V2.method.deleteInputs.output, { status: localStatus(StatusCode.SUCCESS) });
      });
    },
  };
}
