/**
 * How PatchInputs and PatchAnnotations change a stored `Data` by action, as Clarifai documents
 * the three actions: `merge` (concepts matched by ID are replaced and new ones added, metadata
 * merged key by key and recursively, regions and frames matched by ID replaced and new ones
 * added, a geo point replaced), `overwrite` (each field the patch sets replaces the stored one)
 * and `remove` (concepts, regions and frames with the patch's IDs removed, metadata keys the
 * patch names removed, recursively into objects it names with keys, a geo point removed).
 * Content (image, video, audio, text) is never patched.
 *
 * @module
 */
import { clone, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { type Data, DataSchema } from "../../src/gen/clarifai/api/resources_pb.ts";

/** The actions of PatchInputs and PatchAnnotations. */
export type PatchAction = "merge" | "overwrite" | "remove";

/** The accepted actions. */
export const PATCH_ACTIONS: readonly PatchAction[] = ["merge", "overwrite", "remove"];

/**
 * Reads a request's action: `merge`, `overwrite` or `remove` (empty means `merge`).
 *
 * @param action The request's action.
 * @returns The action, or `undefined` when it is none of them.
 *
 * @example Usage
 * ```ts
 * import { patchActionOf } from "./data_patch.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(patchActionOf(""), "merge");
 * assertEquals(patchActionOf("Remove"), "remove");
 * assertEquals(patchActionOf("replace"), undefined);
 * ```
 */
export function patchActionOf(action: string): PatchAction | undefined {
  const a = (action === "" ? "merge" : action.toLowerCase()) as PatchAction;
  return PATCH_ACTIONS.includes(a) ? a : undefined;
}

const isObject = (v: JsonValue | undefined): v is JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function mergeJson(base: JsonObject, patch: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    out[key] = isObject(current) && isObject(value) ? mergeJson(current, value) : value;
  }
  return out;
}

function removeJson(base: JsonObject, patch: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    if (isObject(current) && isObject(value) && Object.keys(value).length > 0) {
      out[key] = removeJson(current, value);
    } else {
      delete out[key];
    }
  }
  return out;
}

/** Merges lists by key: items with a key already stored replace it, others are added. */
function mergeBy<T>(base: T[], patch: T[], key: (item: T) => string): T[] {
  const out = [...base];
  for (const item of patch) {
    const k = key(item);
    const at = k === "" ? -1 : out.findIndex((existing) => key(existing) === k);
    if (at >= 0) out[at] = item;
    else out.push(item);
  }
  return out;
}

const conceptKey = (c: { id: string; name: string }) => c.id || c.name;

/**
 * Applies a patch to stored data and returns the new data (the stored one is not changed).
 *
 * @param stored The stored data.
 * @param patch The patch's data.
 * @param action The action.
 * @returns The patched data.
 *
 * @example Merge, then remove a concept
 * ```ts
 * import { patchData } from "./data_patch.ts";
 * import { create } from "@bufbuild/protobuf";
 * import { DataSchema } from "../../src/gen/clarifai/api/resources_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const stored = create(DataSchema, { concepts: [{ id: "cat", value: 1 }], metadata: { a: 1, b: { c: 2 } } });
 * const merged = patchData(stored, create(DataSchema, { concepts: [{ id: "dog", value: 1 }], metadata: { b: { d: 3 } } }), "merge");
 * assertEquals(merged.concepts.map((c) => c.id), ["cat", "dog"]);
 * assertEquals(merged.metadata, { a: 1, b: { c: 2, d: 3 } });
 * const removed = patchData(merged, create(DataSchema, { concepts: [{ id: "cat" }], metadata: { b: { c: 0 } } }), "remove");
 * assertEquals(removed.concepts.map((c) => c.id), ["dog"]);
 * assertEquals(removed.metadata, { a: 1, b: { d: 3 } });
 * ```
 */
export function patchData(stored: Data, patch: Data, action: PatchAction): Data {
  const out = clone(DataSchema, stored);
  if (action === "overwrite") {
    if (patch.concepts.length > 0) out.concepts = patch.concepts;
    if (patch.metadata !== undefined) out.metadata = patch.metadata;
    if (patch.geo !== undefined) out.geo = patch.geo;
    if (patch.regions.length > 0) out.regions = patch.regions;
    if (patch.frames.length > 0) out.frames = patch.frames;
    return out;
  }
  if (action === "merge") {
    out.concepts = mergeBy(out.concepts, patch.concepts, conceptKey);
    if (patch.metadata !== undefined) out.metadata = mergeJson(out.metadata ?? {}, patch.metadata);
    if (patch.geo !== undefined) out.geo = patch.geo;
    out.regions = mergeBy(out.regions, patch.regions, (r) => r.id);
    out.frames = mergeBy(out.frames, patch.frames, (f) => f.id);
    return out;
  }
  const gone = new Set(patch.concepts.map(conceptKey));
  out.concepts = out.concepts.filter((c) => !gone.has(conceptKey(c)));
  if (patch.metadata !== undefined && out.metadata !== undefined) {
    out.metadata = removeJson(out.metadata, patch.metadata);
  }
  if (patch.geo !== undefined) out.geo = undefined;
  const regions = new Set(patch.regions.map((r) => r.id));
  out.regions = out.regions.filter((r) => !regions.has(r.id));
  const frames = new Set(patch.frames.map((f) => f.id));
  out.frames = out.frames.filter((f) => !frames.has(f.id));
  return out;
}

/**
 * Whether data carries no labels at all (no concepts, regions, frames, metadata or geo point).
 *
 * @param data The data.
 * @returns `true` when it is empty.
 *
 * @example Usage
 * ```ts
 * import { isEmptyData } from "./data_patch.ts";
 * import { create } from "@bufbuild/protobuf";
 * import { DataSchema } from "../../src/gen/clarifai/api/resources_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(isEmptyData(create(DataSchema, {})), true);
 * assertEquals(isEmptyData(create(DataSchema, { metadata: {} })), true);
 * ```
 */
export function isEmptyData(data: Data): boolean {
  return data.concepts.length === 0 && data.regions.length === 0 && data.frames.length === 0 &&
    (data.metadata === undefined || Object.keys(data.metadata).length === 0) &&
    data.geo === undefined;
}
