/**
 * Stored rows turned back into Clarifai messages: inputs (content bytes as a URL), annotations
 * and inputs-add jobs with their progress.
 *
 * @module
 */
import { create, fromBinary } from "@bufbuild/protobuf";
import {
  type Annotation,
  AnnotationSchema,
  DataSchema,
  type Input,
  type InputsAddJob,
  InputsAddJobProgressSchema,
  InputsAddJobSchema,
  InputSchema,
} from "../../../src/gen/clarifai/api/resources_pb.ts";
import { StatusCode } from "../../../src/gen/clarifai/api/status/status_code_pb.ts";
import { localStatus } from "../local_status.ts";
import type { AnnotationRow, InputRow } from "../store.ts";
import { type HandlerContext, ms } from "./common.ts";

/**
 * An input message from its row; stored bytes come back as the URL that serves them.
 *
 * @param ctx The handler context.
 * @param row The row.
 * @param datasetIds The datasets to name in `dataset_ids` (none by default).
 * @returns The input.
 *
 * @example Usage
 * ```ts
 * import { inputMessage } from "./messages.ts";
 * import { LocalStore } from "../store.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const ctx = { store, contentUrl: (h: string) => `/blobs/${h}`, onInputsStored() {}, onVersionCreated() {} };
 * const input = inputMessage(ctx, {
 *   seq: 1, app: 1, id: "a", kind: "image", data: new Uint8Array([10, 0]), contentHash: "h",
 *   contentSize: 3, statusCode: 30000, statusDescription: "Download complete", statusDetails: "",
 *   createdAt: 1, modifiedAt: 1, jobId: "j",
 * });
 * assertEquals(input.data?.image?.url, "/blobs/h");
 * store.close();
 * ```
 */
export function inputMessage(ctx: HandlerContext, row: InputRow, datasetIds: string[] = []): Input {
  const data = fromBinary(DataSchema, row.data);
  if (row.contentHash !== null && row.kind !== "text") {
    const media = data[row.kind as "image" | "video" | "audio"];
    if (media) media.url = ctx.contentUrl(row.contentHash);
  }
  return create(InputSchema, {
    id: row.id,
    data,
    createdAt: ms(row.createdAt),
    modifiedAt: ms(row.modifiedAt),
    status: localStatus(row.statusCode, row.statusDetails, row.statusDescription),
    datasetIds,
  });
}

/**
 * An annotation message from its row.
 *
 * @param row The row.
 * @returns The annotation.
 *
 * @example Usage
 * ```ts
 * import { annotationMessage } from "./messages.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const a = annotationMessage({
 *   id: "a1", inputId: "i1", data: new Uint8Array(), inputLevel: true, statusCode: 24150,
 *   statusDescription: "Annotation success", createdAt: 1, modifiedAt: 1,
 * });
 * assertEquals([a.id, a.inputId, a.inputLevel], ["a1", "i1", true]);
 * ```
 */
export function annotationMessage(row: AnnotationRow): Annotation {
  return create(AnnotationSchema, {
    id: row.id,
    inputId: row.inputId,
    data: fromBinary(DataSchema, row.data),
    inputLevel: row.inputLevel,
    status: localStatus(row.statusCode, "", row.statusDescription),
    createdAt: ms(row.createdAt),
    modifiedAt: ms(row.modifiedAt),
  });
}

/**
 * An inputs-add job message with its progress, or `undefined` when the job does not exist.
 * Status: JOB_QUEUED while nothing started, JOB_RUNNING, JOB_COMPLETED, or JOB_FAILED once
 * cancelled.
 *
 * @param ctx The handler context.
 * @param app The app's key.
 * @param id The job ID.
 * @returns The job.
 *
 * @example Usage
 * ```ts
 * import { jobMessage } from "./messages.ts";
 * import { LocalStore } from "../store.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const ctx = { store, contentUrl: (h: string) => h, onInputsStored() {}, onVersionCreated() {} };
 * const app = store.appKey("me", "demo");
 * store.jobs.upsert(app, "j1", 1);
 * assertEquals(jobMessage(ctx, app, "j1")?.status?.code, 64002);
 * assertEquals(jobMessage(ctx, app, "nope"), undefined);
 * store.close();
 * ```
 */
export function jobMessage(ctx: HandlerContext, app: number, id: string): InputsAddJob | undefined {
  const job = ctx.store.jobs.get(app, id);
  if (!job) return undefined;
  const p = ctx.store.inputs.jobProgress(app, id);
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
