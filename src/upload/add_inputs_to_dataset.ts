/**
 * Adding inputs that are already uploaded to a dataset: PostDatasetInputs, 128 per request,
 * with a status per input.
 *
 * @module
 */
import { classifyStatus, statusCodeName } from "../clarifai/status_codes.ts";
import { FatalUploadError } from "../clarifai/errors.ts";
import type { ClarifaiClient } from "../clarifai/client.ts";

/** The result of {@linkcode addInputsToDataset}. */
export interface AddInputsResult {
  /** Inputs added. */
  added: number;
  /** Inputs refused, with the reason. */
  failed: { id: string; reason: string }[];
}

/**
 * Adds existing inputs to a dataset with PostDatasetInputs, 128 per request. The call is not
 * atomic on Clarifai: each input has its own status, and the refused ones are returned.
 *
 * @param client The client.
 * @param datasetId The dataset.
 * @param ids The input IDs.
 * @returns How many were added, and which failed.
 * @throws {FatalUploadError} On a fatal status.
 *
 * @example Add an uploaded input to a dataset on the embedded local API
 * ```ts
 * import {
 *   addInputsToDataset,
 *   ensureDataset,
 *   openTarget,
 *   summaryOf,
 *   uploadInputs,
 * } from "@upflow/upflow";
 * import { localTarget } from "@upflow/upflow/local";
 * import { assertEquals } from "@std/assert";
 *
 * const target = await openTarget({ env: null, local: localTarget({ dataDir: await Deno.makeTempDir() }) });
 * await summaryOf(uploadInputs([
 *   { id: "n1", kind: "text", content: { type: "raw", text: "note" }, location: "n1", concepts: [] },
 * ], { client: target.client }));
 * await ensureDataset(target.client, "notes", true);
 * const result = await addInputsToDataset(target.client, "notes", ["n1", "missing"]);
 * assertEquals(result.added, 1);
 * assertEquals(result.failed.map((f) => f.id), ["missing"]);
 * await target.close();
 * ```
 */
export async function addInputsToDataset(
  client: ClarifaiClient,
  datasetId: string,
  ids: string[],
): Promise<AddInputsResult> {
  const result: AddInputsResult = { added: 0, failed: [] };
  for (let i = 0; i < ids.length; i += 128) {
    const chunk = ids.slice(i, i + 128);
    const response = await client.postDatasetInputs({
      userAppId: client.userAppId,
      datasetId,
      datasetInputs: chunk.map((id) => ({ input: { id } })),
    });
    const top = classifyStatus(response.status);
    if (top === "fatal") throw FatalUploadError.fromStatus(response.status!);
    const byId = new Map(response.datasetInputs.map((d) => [d.input?.id ?? "", d]));
    for (const id of chunk) {
      const status = byId.get(id)?.input?.status;
      const kind = status && status.code !== 0 ? classifyStatus(status) : top;
      if (kind === "success" || kind === "pending") result.added++;
      else {
        const s = status && status.code !== 0 ? status : response.status;
        result.failed.push({
          id,
          reason: [statusCodeName(s?.code ?? 0), s?.description, s?.details].filter(Boolean)
            .join(": "),
        });
      }
    }
  }
  return result;
}
