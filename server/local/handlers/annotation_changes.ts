/**
 * PatchAnnotations and DeleteAnnotations on the local API. PatchAnnotations changes each
 * annotation's data by the request's action (`merge`, `overwrite`, `remove`; see
 * `data_patch.ts`) and, with `delete_if_empty_data`, deletes an annotation a `remove` left empty
 * (never an input-level one). DeleteAnnotations deletes by `ids` (paired with `input_ids` when
 * both are given, as Clarifai pairs them) or every annotation of `input_ids` but their
 * input-level ones; anything missing deletes nothing.
 *
 * @module
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type Annotation,
  AnnotationSchema,
  DataSchema,
} from "../../../src/gen/clarifai/api/resources_pb.ts";
import { type DeleteAnnotationsRequest, V2 } from "../../../src/gen/clarifai/api/service_pb.ts";
import type { Status } from "../../../src/gen/clarifai/api/status/status_pb.ts";
import { StatusCode } from "../../../src/gen/clarifai/api/status/status_code_pb.ts";
import { isEmptyData, type PatchAction, patchActionOf, patchData } from "../data_patch.ts";
import { localStatus } from "../local_status.ts";
import { dataReason } from "../validation.ts";
import {
  appOf,
  type HandlerContext,
  type Handlers,
  invalid,
  missing,
  overallStatus,
  requireItems,
} from "./common.ts";
import { assignRegionIds } from "./inputs.ts";
import { annotationMessage } from "./messages.ts";

interface PatchRequest {
  app: number;
  action: PatchAction;
  deleteIfEmpty: boolean;
  now: number;
}

/** Patches one annotation (inside the request's transaction). */
function patchOne(ctx: HandlerContext, given: Annotation, r: PatchRequest): Annotation {
  const refuse = (status: Status) =>
    create(AnnotationSchema, { id: given.id, inputId: given.inputId, status });
  const bad = (details: string) =>
    refuse(localStatus(StatusCode.ANNOTATION_INVALID_ARGUMENT, details));
  if (given.id === "") return bad("annotation id is required");
  const row = ctx.store.annotations.get(r.app, given.id);
  if (!row || (given.inputId !== "" && given.inputId !== row.inputId)) {
    return refuse(localStatus(
      StatusCode.CONN_DOES_NOT_EXIST,
      `Annotation ${JSON.stringify(given.id)} does not exist${
        given.inputId ? ` on input ${JSON.stringify(given.inputId)}` : ""
      }.`,
    ));
  }
  const patch = given.data ?? create(DataSchema, {});
  if (r.action !== "remove") {
    const reason = dataReason(patch, `annotation ${given.id}`);
    if (reason) return bad(reason);
  }
  const data = patchData(fromBinary(DataSchema, row.data), patch, r.action);
  assignRegionIds(data);
  if (r.action === "remove" && r.deleteIfEmpty && !row.inputLevel && isEmptyData(data)) {
    ctx.store.annotations.delete(r.app, [row.id]);
    return create(AnnotationSchema, {
      id: row.id,
      inputId: row.inputId,
      status: localStatus(StatusCode.ANNOTATION_SUCCESS, "deleted: its data was empty"),
    });
  }
  ctx.store.annotations.setData(r.app, row.id, toBinary(DataSchema, data), r.now);
  return annotationMessage(ctx.store.annotations.get(r.app, row.id)!);
}

/** The annotation IDs a DeleteAnnotations request names, checked to exist. */
function idsToDelete(ctx: HandlerContext, app: number, req: DeleteAnnotationsRequest): string[] {
  if (req.ids.length > 0) {
    if (req.inputIds.length > 0 && req.inputIds.length !== req.ids.length) {
      throw invalid("ids and input_ids must have the same length when both are given");
    }
    const absent = req.ids.filter((id, i) => {
      const row = ctx.store.annotations.get(app, id);
      return !row || (req.inputIds.length > 0 && row.inputId !== req.inputIds[i]);
    });
    if (absent.length > 0) {
      throw missing(
        `${absent.length} annotation(s) do not exist, nothing was deleted: ${
          absent.slice(0, 5).join(", ")
        }`,
      );
    }
    return [...new Set(req.ids)];
  }
  if (req.inputIds.length === 0) {
    throw invalid("give ids or input_ids: deleting every annotation is not supported");
  }
  const absent = req.inputIds.filter((id) => !ctx.store.inputs.exists(app, id));
  if (absent.length > 0) {
    throw missing(
      `${absent.length} input(s) do not exist, nothing was deleted: ${
        absent.slice(0, 5).join(", ")
      }`,
    );
  }
  return ctx.store.annotations.list(app, { inputIds: req.inputIds }, {
    offset: 0,
    limit: Number.MAX_SAFE_INTEGER,
  })
    .filter((a) => !a.inputLevel).map((a) => a.id);
}

/**
 * Creates the PatchAnnotations and DeleteAnnotations handlers.
 *
 * @param ctx The handler context.
 * @returns PatchAnnotations and DeleteAnnotations.
 *
 * @example Deleting every annotation of an app is refused
 * ```ts
 * import { annotationChangeHandlers } from "./annotation_changes.ts";
 * import { LocalStore } from "../store.ts";
 * import { create } from "@bufbuild/protobuf";
 * import { DeleteAnnotationsRequestSchema } from "../../../src/gen/clarifai/api/service_pb.ts";
 * import { assertThrows } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const ctx = { store, contentUrl: (h: string) => h, onInputsStored() {}, onVersionCreated() {} };
 * const request = create(DeleteAnnotationsRequestSchema, {});
 * assertThrows(() => annotationChangeHandlers(ctx).deleteAnnotations(request, { userId: "me", appId: "demo" } as never));
 * store.close();
 * ```
 */
export function annotationChangeHandlers(
  ctx: HandlerContext,
): Handlers<"patchAnnotations" | "deleteAnnotations"> {
  return {
    patchAnnotations(req, u) {
      requireItems(req.annotations.length, "annotations");
      const action = patchActionOf(req.action);
      if (!action) {
        throw invalid(
          `action must be merge, overwrite or remove: got ${JSON.stringify(req.action)}`,
        );
      }
      const now = Date.now();
      const annotations = ctx.store.transaction(() => {
        const r = { app: appOf(ctx, u), action, deleteIfEmpty: req.deleteIfEmptyData, now };
        return req.annotations.map((given) => patchOne(ctx, given, r));
      });
      return create(V2.method.patchAnnotations.output, {
        status: overallStatus(annotations.map((a) => a.status!)),
        annotations,
      });
    },

    deleteAnnotations(req, u) {
      const app = appOf(ctx, u);
      return ctx.store.transaction(() => {
        ctx.store.annotations.delete(app, idsToDelete(ctx, app, req));
        return create(V2.method.deleteAnnotations.output, {
          status: localStatus(StatusCode.SUCCESS),
        });
      });
    },
  };
}
