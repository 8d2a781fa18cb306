/**
 * What the load stage emits: {@linkcode LoadedInput}s (a draft with its content read and turned
 * into a protobuf `Input`) and, in their places, the rejections and skips that passed through.
 *
 * @module
 */
import type { ClarifaiInput } from "../clarifai/api_types.ts";
import type { InputDraft, Rejection, Skip } from "../inputs/input_draft.ts";

/** A draft whose content is loaded, as the `Input` to send in `PostInputs`. */
export interface LoadedInput {
  /** The draft the input was made from (its regions and frames are posted later). */
  draft: InputDraft;
  /** The input as sent in `PostInputs`. */
  input: ClarifaiInput;
  /** The input's exact encoded size in bytes, `toBinary(InputSchema, input).length`. */
  encodedSize: number;
  /** How many content bytes were read or carried (0 for URL content). */
  contentBytes: number;
  /**
   * Bytes this input holds in the load stage's `ByteBudget` (absent: none). The stage that is
   * done with the input (the upload stage once its request is answered, the batch stage when it
   * rejects it) gives them back.
   */
  heldBytes?: number;
}

/** An item of the load stage's output: a loaded input, or a rejection or skip passed through. */
export type LoadedItem =
  | { type: "loaded"; loaded: LoadedInput }
  | { type: "rejected"; rejection: Rejection }
  | { type: "skipped"; skip: Skip };

/**
 * Returns whether an item of a loaded stream carries a loaded input.
 *
 * @param item An item of a loaded stream.
 * @returns `true` when the item is a loaded input.
 *
 * @example Usage
 * ```ts
 * import { isLoaded } from "@upflow/upflow";
 * import { assert } from "@std/assert";
 *
 * assert(!isLoaded({ type: "rejected", rejection: { location: "a.jpg", reason: "empty file" } }));
 * ```
 */
export function isLoaded(item: LoadedItem): item is { type: "loaded"; loaded: LoadedInput } {
  return item.type === "loaded";
}
