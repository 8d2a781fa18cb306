/**
 * upflow uploads folders and CSV files of images, text, video and audio into Clarifai datasets,
 * through composable WHATWG streams: read → parse → validate → load → byte-bounded batching →
 * upload → progress. With no `CLARIFAI_PAT`, uploads go to an embedded Clarifai-compatible local
 * API.
 *
 * The one-call helpers ({@linkcode uploadFolder}, {@linkcode uploadCsv},
 * {@linkcode uploadInputs}, {@linkcode uploadCoco}, …) return a stream of progress events whose
 * last event is the summary; {@linkcode summaryOf} reads it to the end. The stages they are
 * made of ({@linkcode folderSource}, {@linkcode csvSource}, {@linkcode LoadStream},
 * {@linkcode BatchStream}, {@linkcode UploadStream}, …) compose into pipelines of your own.
 *
 * @example Dry-run the sample folder
 * ```ts
 * import { summaryOf, uploadFolder } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const summary = await summaryOf(
 *   uploadFolder("samples/images", { recursive: true, labels: true, dryRun: true }),
 * );
 * assertEquals(summary.uploaded, 12);
 * ```
 *
 * @module
 */

// Drafts and validation
export * from "./src/inputs/input_draft.ts";
export * from "./src/inputs/ids.ts";
export * from "./src/inputs/validate.ts";
export * from "./src/inputs/metadata.ts";
export * from "./src/inputs/regions.ts";
export * from "./src/inputs/validate_draft.ts";
export * from "./src/inputs/unique_ids_stream.ts";
export * from "./src/inputs/to_input.ts";
export * from "./src/inputs/to_annotations.ts";

// Sources
export * from "./src/sources/csv_parse_stream.ts";
export * from "./src/sources/csv_source.ts";
export * from "./src/sources/folder_source.ts";
export * from "./src/sources/coco_source.ts";
export * from "./src/sources/yolo_source.ts";
export * from "./src/sources/voc_source.ts";
export * from "./src/sources/annotation_counts.ts";

// Pipeline stages and events
export * from "./src/pipeline/loaded_input.ts";
export * from "./src/pipeline/load_stream.ts";
export * from "./src/pipeline/batch_stream.ts";
export * from "./src/pipeline/encoded_size.ts";
export * from "./src/pipeline/upload_stream.ts";
export * from "./src/pipeline/processing_wait_stream.ts";
export * from "./src/pipeline/progress_event.ts";

// Journal
export * from "./src/journal/journal.ts";
export * from "./src/journal/retry_drafts.ts";

// Clarifai client
export * from "./src/clarifai/client.ts";
export * from "./src/clarifai/errors.ts";
export * from "./src/clarifai/rate_limiter.ts";
export * from "./src/clarifai/retry_policy.ts";
export * from "./src/clarifai/secret.ts";
export * from "./src/clarifai/status_codes.ts";

// One-call helpers
export * from "./src/upload/run_upload.ts";
export * from "./src/upload/target.ts";
export * from "./src/upload/upload.ts";
export * from "./src/upload/upload_formats.ts";
export * from "./src/upload/add_inputs_to_dataset.ts";
export * from "./src/upload/upload_options.ts";

// The local Clarifai-compatible API
export { type LocalApi, type LocalApiOptions, startLocalApi } from "./server/local/local_api.ts";
export { type FaultCounts, type FaultOptions, parseFaults } from "./server/local/faults.ts";

// The upload service
export { createApp } from "./server/app.ts";
export { UploadService, type UploadServiceOptions } from "./server/upload_service.ts";
export { type RunningServer, startServer, type StartServerOptions } from "./server/start_server.ts";
export { type JobRecord, type JobState } from "./server/jobs.ts";
