/**
 * The local API's annotation methods: PostAnnotations (per-annotation status, geometry checked
 * by the local rules, duplicate IDs refused) and ListAnnotations.
 *
 * @module
 */
import { clone, create, toBinary } from "@bufbuild/protobuf";
import {
  type Annotation,
  AnnotationSchema,
  type Data,
  DataSchema,
  type UserAppIDSet,
} from "../../../src/gen/clarifai/api/resources_pb.ts";
import { V2 } from "../../../src/gen/clarifai/api/service_pb.ts";
import type { Status } from "../../../src/gen/clarifai/api/status/status_pb.ts";
import { StatusCode } from "../../../src/gen/clarifai/api/status/status_code_pb.ts";
import { localStatus } from "../local_status.ts";
import { dataReason, idReason } from "../validation.ts";
import {
  appOf,
  type HandlerContext,
  type Handlers,
  ms,
  newId,
  overallStatus,
  paging,
  readAppOf,
  requireItems,
} from "./common.ts";
import { assignRegionIds } from "./inputs.ts";
import { annotationMessage } from "./messages.ts";

/**
 * Whether a `Data` holds labels an annotation can carry (concepts, regions, frames, metadata,
 * geo).
 *
 * @param data The data.
 * @returns `true` when it does.
 *
 * @example Usage
 * ```ts
 * import { hasLabels } from "./annotations.ts";
 * import { create } from "@bufbuild/protobuf";
 * import { DataSchema } from "../../../src/gen/clarifai/api/resources_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(hasLabels(create(DataSchema, {})), false);
 * assertEquals(hasLabels(create(DataSchema, { concepts: [{ id: "cat", value: 1 }] })), true);
 * ```
 */
export function hasLabels(data: Data | undefined): boolean {
  if (!data) return false;
  return data.concepts.length > 0 || data.regions.length > 0 || data.frames.length > 0 ||
    data.metadata !== undefined || data.geo !== undefined;
}

/** Why one annotation of a PostAnnotations request is refused, or `undefined`. */
function refusal(
  ctx: HandlerContext,
  app: number,
  u: UserAppIDSet,
  a: Annotation,
  idCounts: Map<string, number>,
): Status | undefined {
  const bad = (details: string) => localStatus(StatusCode.ANNOTATION_INVALID_ARGUMENT, details);
  if (a.id !== "") {
    const reason = idReason(a.id, "annotation");
    if (reason) return bad(reason);
    if ((idCounts.get(a.id) ?? 0) > 1) {
      return bad(
        `Annotation ID ${
          JSON.stringify(a.id)
        } is used by more than one annotation in this request.`,
      );
    }
    if (ctx.store.annotations.exists(app, a.id)) {
      return localStatus(
        StatusCode.DATABASE_DUPLICATE_KEY,
        "Annotation has a duplicate ID.",
        "Annotation with this ID already exists",
      );
    }
  }
  if (a.inputId === "") return bad("input_id is required");
  if (!ctx.store.inputs.exists(app, a.inputId)) {
    return localStatus(
      StatusCode.INPUT_DOES_NOT_EXIST,
      `Input ${JSON.stringify(a.inputId)} does not exist in app ${u.appId}.`,
    );
  }
  if (!hasLabels(a.data)) return bad("the annotation has no data: add concepts, regions or frames");
  const reason = dataReason(a.data!, "annotation");
  return reason ? bad(reason) : undefined;
}

/**
 * Creates the annotation handlers.
 *
 * @param ctx The handler context.
 * @returns PostAnnotations and ListAnnotations.
 *
 * @example List the annotations of an empty app
 * ```ts
 * import { annotationHandlers } from "./annotations.ts";
 * import { LocalStore } from "../store.ts";
 * import { create } from "@bufbuild/protobuf";
 * import { ListAnnotationsRequestSchema } from "../../../src/gen/clarifai/api/service_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const ctx = { store, contentUrl: (h: string) => h, onInputsStored() {}, onVersionCreated() {} };
 * const request = create(ListAnnotationsRequestSchema, {});
 * const listed = annotationHandlers(ctx).listAnnotations(request, { userId: "me", appId: "demo" } as never);
 * assertEquals((await listed).annotations.length, 0);
 * store.close();
 * ```
 */
export function annotationHandlers(
  ctx: HandlerContext,
): Handlers<"postAnnotations" | "listAnnotations"> {
  return {
    postAnnotations(req, u) {
      requireItems(req.annotations.length, "annotations");
      const idCounts = new Map<string, number>();
      for (const a of req.annotations) {
        if (a.id !== "") idCounts.set(a.id, (idCounts.get(a.id) ?? 0) + 1);
      }
      const now = Date.now();
      const results = ctx.store.transaction(() => {
        const app = appOf(ctx, u);
        return req.annotations.map((a): Annotation => {
          const refused = refusal(ctx, app, u, a, idCounts);
          if (refused) {
            return create(AnnotationSchema, { id: a.id, inputId: a.inputId, status: refused });
          }
          const data = clone(DataSchema, a.data!);
          assignRegionIds(data);
          const id = a.id || newId();
          const status = localStatus(StatusCode.ANNOTATION_SUCCESS);
          ctx.store.annotations.insert(app, {
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
        status: overallStatus(results.map((r) => r.status!)),
        annotations: results,
      });
    },

    listAnnotations(req, u) {
      const page = paging(req.page, req.perPage);
      const app = readAppOf(ctx, u);
      const filter = {
        ids: req.ids,
        inputIds: req.inputIds,
        statusCodes: req.statuses.map((s) => s.code).filter((c) => c !== 0),
      };
      const rows = app === undefined ? [] : ctx.store.annotations.list(app, filter, page);
      return create(V2.method.listAnnotations.output, {
        status: localStatus(StatusCode.SUCCESS),
        annotations: rows.map(annotationMessage),
      });
    },
  };
}
