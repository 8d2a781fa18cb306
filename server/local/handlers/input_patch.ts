/**
 * PatchInputs on the local API: each input's concepts, metadata and geo point changed by the
 * request's action (`merge`, `overwrite`, `remove`; see `data_patch.ts`), its input-level
 * annotation kept in step with its concepts. Per-input status: `INPUT_MODIFY_SUCCESS`, or
 * `INPUT_DOES_NOT_EXIST` / `INPUT_INVALID_ARGUMENT`; SUCCESS, MIXED_STATUS or FAILURE overall.
 *
 * @module
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { DataSchema, type Input, InputSchema } from "../../../src/gen/clarifai/api/resources_pb.ts";
import { V2 } from "../../../src/gen/clarifai/api/service_pb.ts";
import type { Status } from "../../../src/gen/clarifai/api/status/status_pb.ts";
import { StatusCode } from "../../../src/gen/clarifai/api/status/status_code_pb.ts";
import { type PatchAction, patchActionOf, patchData } from "../data_patch.ts";
import { localStatus } from "../local_status.ts";
import { dataReason } from "../validation.ts";
import {
  appOf,
  type HandlerContext,
  type Handlers,
  invalid,
  overallStatus,
  requireItems,
} from "./common.ts";
import { syncInputLevelAnnotation } from "./input_level.ts";
import { inputMessage } from "./messages.ts";

/** Patches one input (inside the request's transaction). */
function patchOne(
  ctx: HandlerContext,
  app: number,
  appId: string,
  given: Input,
  action: PatchAction,
  now: number,
): Input {
  const refuse = (status: Status) => create(InputSchema, { id: given.id, status });
  if (given.id === "") {
    return refuse(localStatus(StatusCode.INPUT_INVALID_ARGUMENT, "input id is required"));
  }
  const row = ctx.store.inputs.get(app, given.id);
  if (!row) {
    return refuse(localStatus(
      StatusCode.INPUT_DOES_NOT_EXIST,
      `Input ${JSON.stringify(given.id)} does not exist in app ${appId}.`,
    ));
  }
  const patch = given.data ?? create(DataSchema, {});
  const reason = action === "remove" ? undefined : dataReason(patch, `input ${given.id}`);
  if (reason) return refuse(localStatus(StatusCode.INPUT_INVALID_ARGUMENT, reason));
  const data = patchData(fromBinary(DataSchema, row.data), patch, action);
  ctx.store.inputs.setData(app, given.id, toBinary(DataSchema, data), now);
  syncInputLevelAnnotation(ctx, app, given.id, data.concepts, now);
  const input = inputMessage(ctx, ctx.store.inputs.get(app, given.id)!);
  input.status = localStatus(StatusCode.INPUT_MODIFY_SUCCESS);
  return input;
}

/**
 * Creates the PatchInputs handler.
 *
 * @param ctx The handler context.
 * @returns PatchInputs.
 *
 * @example An unknown action is refused
 * ```ts
 * import { inputPatchHandlers } from "./input_patch.ts";
 * import { LocalStore } from "../store.ts";
 * import { create } from "@bufbuild/protobuf";
 * import { PatchInputsRequestSchema } from "../../../src/gen/clarifai/api/service_pb.ts";
 * import { assertThrows } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const ctx = { store, contentUrl: (h: string) => h, onInputsStored() {}, onVersionCreated() {} };
 * const request = create(PatchInputsRequestSchema, { action: "replace", inputs: [{ id: "a" }] });
 * assertThrows(() => inputPatchHandlers(ctx).patchInputs(request, { userId: "me", appId: "demo" } as never));
 * store.close();
 * ```
 */
export function inputPatchHandlers(ctx: HandlerContext): Handlers<"patchInputs"> {
  return {
    patchInputs(req, u) {
      requireItems(req.inputs.length, "inputs");
      const action = patchActionOf(req.action);
      if (!action) {
        throw invalid(
          `action must be merge, overwrite or remove: got ${JSON.stringify(req.action)}`,
        );
      }
      const now = Date.now();
      const inputs = ctx.store.transaction(() => {
        const app = appOf(ctx, u);
        return req.inputs.map((given) => patchOne(ctx, app, u.appId, given, action, now));
      });
      return create(V2.method.patchInputs.output, {
        status: overallStatus(inputs.map((i) => i.status!)),
        inputs,
      });
    },
  };
}
