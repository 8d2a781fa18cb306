/**
 * {@linkcode FailureStage}: where an input's upload failed. The pipeline reports it in `failed`
 * events and the journal records it, so it lives below both.
 *
 * @module
 */

/** Where an input or annotation failed. */
export type FailureStage = "upload" | "annotation" | "processing" | "dataset";
