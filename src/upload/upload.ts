/**
 * The one-call helpers: the stages pre-assembled for a folder, a CSV file, or any drafts, with
 * the target opened (Clarifai with a PAT; with none, the `local` factory's target, e.g. the
 * embedded local API) and the dataset checked or created first.
 *
 * @module
 */
import type { ClarifaiClient } from "../clarifai/client.ts";
import { FatalUploadError } from "../clarifai/errors.ts";
import { classifyStatus, statusCodeName } from "../clarifai/status_codes.ts";
import type { FolderSourceOptions } from "../sources/folder_source.ts";
import { countFolder, folderSource } from "../sources/folder_source.ts";
import { csvSource } from "../sources/csv_source.ts";
import type { CsvSourceOptions } from "../sources/csv_source.ts";
import { type ProgressEvent, zeroCounts } from "../pipeline/progress_event.ts";
import { type DraftSource, runUpload, type RunUploadOptions } from "./run_upload.ts";
import { openTarget, type Target, targetOf, type TargetOptions } from "./target.ts";

/** Options of the one-call helpers. */
export interface UploadOptions
  extends Omit<RunUploadOptions, "client" | "userAppId" | "target">, TargetOptions {
  /** The dataset the inputs join. */
  datasetId?: string;
  /** Create the dataset when it does not exist (default `false`: a missing dataset is fatal). */
  createDataset?: boolean;
  /** An open client to use instead of opening a target (the caller closes it). */
  client?: ClarifaiClient;
  /** An open target to use instead of opening one (the caller closes it). */
  target?: Target;
}

/**
 * Makes sure a dataset exists, creating it when asked.
 *
 * @param client The client.
 * @param datasetId The dataset's ID.
 * @param create Create it when missing.
 * @returns `"exists"` or `"created"`.
 * @throws {FatalUploadError} When the dataset is missing and `create` is false.
 *
 * @example Create a dataset on the embedded local API
 * ```ts
 * import { ensureDataset, openTarget } from "@upflow/upflow";
 * import { localTarget } from "@upflow/upflow/local";
 * import { assertEquals } from "@std/assert";
 *
 * const target = await openTarget({ env: null, local: localTarget({ dataDir: await Deno.makeTempDir() }) });
 * assertEquals(await ensureDataset(target.client, "demo", true), "created");
 * assertEquals(await ensureDataset(target.client, "demo", false), "exists");
 * await target.close();
 * ```
 */
export async function ensureDataset(
  client: ClarifaiClient,
  datasetId: string,
  create: boolean,
): Promise<"exists" | "created"> {
  const userAppId = client.userAppId;
  const got = await client.getDataset({ userAppId, datasetId });
  const kind = classifyStatus(got.status);
  if (kind === "fatal") throw FatalUploadError.fromStatus(got.status!);
  if (kind === "success" && got.dataset?.id === datasetId) return "exists";
  if (!create) {
    throw new FatalUploadError(
      `Dataset "${datasetId}" does not exist (${statusCodeName(got.status?.code ?? 0)})`,
      { statusCode: got.status?.code },
    );
  }
  const made = await client.postDatasets({ userAppId, datasets: [{ id: datasetId }] });
  const madeKind = classifyStatus(made.status);
  if (madeKind === "fatal") throw FatalUploadError.fromStatus(made.status!);
  if (madeKind !== "success") {
    // An attempt whose answer was lost may have made it: the retry then hears "already exists".
    const again = await client.getDataset({ userAppId, datasetId });
    if (classifyStatus(again.status) === "success" && again.dataset?.id === datasetId) {
      return "created";
    }
    throw new FatalUploadError(
      `Could not create dataset "${datasetId}": ${statusCodeName(made.status?.code ?? 0)} ${
        made.status?.description ?? ""
      } ${made.status?.details ?? ""}`.trim(),
      { statusCode: made.status?.code },
    );
  }
  return "created";
}

/**
 * Runs an upload of `source` with the target opened from `options` (and closed at the end).
 * A failure to open the target or to find the dataset ends the stream in a `done` event whose
 * summary is `fatal`, like any fatal outcome.
 *
 * @param source The drafts.
 * @param options Target, dataset and run options.
 * @param describe What the run reads, for the journal.
 * @param totals Counts the inputs for the progress bar before the run starts.
 * @returns The progress events.
 *
 * @example Upload two text inputs to the embedded local API
 * ```ts
 * import { summaryOf, uploadInputs } from "@upflow/upflow";
 * import { localTarget } from "@upflow/upflow/local";
 * import { assertEquals } from "@std/assert";
 *
 * const summary = await summaryOf(uploadInputs([
 *   { id: "t1", kind: "text", content: { type: "raw", text: "hello" }, location: "t1", concepts: ["greeting"] },
 *   { id: "t2", kind: "text", content: { type: "raw", text: "bye" }, location: "t2", concepts: [] },
 * ], { env: null, local: localTarget({ dataDir: await Deno.makeTempDir() }) }));
 * assertEquals(summary.uploaded, 2);
 * ```
 */
export function uploadInputs(
  source: DraftSource | (() => DraftSource),
  options: UploadOptions = {},
  describe?: string,
  totals?: () => Promise<{ inputs: number; bytes: number }>,
): ReadableStream<ProgressEvent> {
  let target: Target | undefined;
  let inner: ReadableStreamDefaultReader<ProgressEvent> | undefined;
  const closeTarget = async () => {
    const t = target;
    target = undefined;
    await t?.close();
  };
  return new ReadableStream<ProgressEvent>({
    async start(controller) {
      try {
        let client = options.target?.client ?? options.client;
        let description = options.target?.description ??
          (client ? targetOf(client).description : "dry run");
        if (!options.dryRun && !client) {
          target = await openTarget(options);
          client = target.client;
          description = target.description;
        }
        if (client && !options.dryRun && options.datasetId) {
          await ensureDataset(client, options.datasetId, options.createDataset ?? false);
        }
        const drafts = typeof source === "function" ? source() : source;
        const total = options.total ?? await totals?.();
        inner = runUpload(drafts, {
          ...options,
          total,
          client,
          userAppId: client?.userAppId
            ? { userId: client.userAppId.userId, appId: client.userAppId.appId }
            : undefined,
          target: description,
          source: describe,
        }).getReader();
      } catch (err) {
        await closeTarget();
        // A target that cannot be reached, a dataset that is missing, a folder that does not
        // exist: the run ends before it starts, with a summary that says why.
        const code = err instanceof FatalUploadError
          ? statusCodeName(err.statusCode ?? 0)
          : (err as Error)?.name ?? "ERROR";
        controller.enqueue({
          type: "done",
          summary: {
            runId: "",
            dryRun: options.dryRun ?? false,
            ...zeroCounts(),
            batches: 0,
            bytes: 0,
            durationMs: 0,
            inputsPerSecond: 0,
            megabytesPerSecond: 0,
            fatal: { code, message: (err as Error)?.message ?? String(err) },
          },
        });
        controller.close();
      }
    },
    async pull(controller) {
      if (!inner) return;
      try {
        const { value, done } = await inner.read();
        if (done) {
          await closeTarget();
          controller.close();
          return;
        }
        controller.enqueue(value);
      } catch (err) {
        await closeTarget();
        throw err;
      }
    },
    async cancel(reason) {
      await inner?.cancel(reason);
      await closeTarget();
    },
  });
}

/**
 * Uploads a folder: the SDK's `upload_from_folder`, streamed, with recursion, kinds by
 * extension, labels from folder names, and a pre-count for the progress bar.
 *
 * @param root The folder.
 * @param options Folder, target, dataset and run options.
 * @returns The progress events.
 *
 * @example Dry-run the sample images
 * ```ts
 * import { summaryOf, uploadFolder } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const summary = await summaryOf(
 *   uploadFolder("samples/images", { recursive: true, labels: true, dryRun: true }),
 * );
 * assertEquals(summary.uploaded, 12);
 * ```
 */
export function uploadFolder(
  root: string,
  options: UploadOptions & FolderSourceOptions = {},
): ReadableStream<ProgressEvent> {
  const folderOptions: FolderSourceOptions = {
    recursive: options.recursive,
    inputTypes: options.inputTypes,
    labels: options.labels,
    idFrom: options.idFrom,
    datasetId: options.datasetId,
    sort: options.sort,
    include: options.include,
    exclude: options.exclude,
  };
  return uploadInputs(
    () => folderSource(root, folderOptions),
    options,
    `folder ${root}`,
    async () => {
      const count = await countFolder(root, folderOptions);
      return { inputs: count.files, bytes: count.bytes };
    },
  );
}

/**
 * Uploads a CSV file in Clarifai's CSV format (`inputid,input,concepts,metadata,geopoints`):
 * the SDK's `upload_from_csv`, streamed.
 *
 * @param path The CSV file.
 * @param options CSV, target, dataset and run options.
 * @returns The progress events.
 *
 * @example Dry-run the sample text CSV
 * ```ts
 * import { summaryOf, uploadCsv } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const summary = await summaryOf(
 *   uploadCsv("samples/reviews.csv", { inputType: "text", csvType: "raw", dryRun: true }),
 * );
 * assertEquals(summary.uploaded, 5);
 * ```
 */
export function uploadCsv(
  path: string,
  options: UploadOptions & Omit<CsvSourceOptions, "datasetId"> = {},
): ReadableStream<ProgressEvent> {
  return uploadInputs(
    () => csvSource(path, { ...options, datasetId: options.datasetId }),
    options,
    `csv ${path}`,
  );
}
