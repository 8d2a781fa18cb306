/**
 * The input-level annotation the local API keeps for an input's concepts, as Clarifai does: "When
 * you add inputs to your app, we will create an input level annotation for each input" holding
 * the concepts given with it. PostInputs creates it, PatchInputs updates (or removes) it, and
 * DeleteInputs deletes it with the input.
 *
 * @module
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { type Concept, DataSchema } from "../../../src/gen/clarifai/api/resources_pb.ts";
import { StatusCode } from "../../../src/gen/clarifai/api/status/status_code_pb.ts";
import { localStatus } from "../local_status.ts";
import { type HandlerContext, newId } from "./common.ts";

/**
 * Makes the input's input-level annotation hold exactly `concepts`: creates it when the input has
 * none, updates the earliest one otherwise, deletes it when no concept is left.
 *
 * @param ctx The handler context.
 * @param app The app's key.
 * @param inputId The input ID.
 * @param concepts The input's concepts.
 * @param now Milliseconds since the epoch.
 *
 * @example Create, then remove
 * ```ts
 * import { syncInputLevelAnnotation } from "./input_level.ts";
 * import { LocalStore } from "../store.ts";
 * import { create } from "@bufbuild/protobuf";
 * import { ConceptSchema } from "../../../src/gen/clarifai/api/resources_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const ctx = { store, contentUrl: (h: string) => h, onInputsStored() {}, onVersionCreated() {} };
 * const app = store.appKey("me", "demo");
 * syncInputLevelAnnotation(ctx, app, "i1", [create(ConceptSchema, { id: "cat", value: 1 })], 1);
 * assertEquals(store.annotations.inputLevelOf(app, "i1")?.inputLevel, true);
 * syncInputLevelAnnotation(ctx, app, "i1", [], 2);
 * assertEquals(store.annotations.inputLevelOf(app, "i1"), undefined);
 * store.close();
 * ```
 */
export function syncInputLevelAnnotation(
  ctx: HandlerContext,
  app: number,
  inputId: string,
  concepts: Concept[],
  now: number,
): void {
  const existing = ctx.store.annotations.inputLevelOf(app, inputId);
  if (concepts.length === 0) {
    if (existing) ctx.store.annotations.delete(app, [existing.id]);
    return;
  }
  const data = toBinary(DataSchema, create(DataSchema, { concepts }));
  if (existing) {
    ctx.store.annotations.setData(app, existing.id, data, now);
    return;
  }
  const status = localStatus(StatusCode.ANNOTATION_SUCCESS);
  ctx.store.annotations.insert(app, {
    id: newId(),
    inputId,
    data,
    inputLevel: true,
    statusCode: status.code,
    statusDescription: status.description,
    createdAt: now,
    modifiedAt: now,
  });
}
