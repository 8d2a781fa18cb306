/**
 * ListDatasets, PatchDatasets and DeleteDatasets on the local API. ListDatasets pages the app's
 * datasets, newest first by default (`sort_ascending`, `sort_by_id`, `sort_by_modified_at`,
 * `sort_by_created_at`), filtered by `search` (a part of the ID, any case). PatchDatasets changes
 * description and metadata (`merge`: metadata merged, a description given replaces;
 * `overwrite`: both replaced); all or nothing. DeleteDatasets deletes datasets with their
 * memberships and versions, never their inputs; an unknown ID deletes nothing.
 *
 * @module
 */
import { clone, create, fromBinary, type JsonObject, toBinary } from "@bufbuild/protobuf";
import {
  DataSchema,
  type Dataset,
  DatasetSchema,
} from "../../../src/gen/clarifai/api/resources_pb.ts";
import { type ListDatasetsRequest, V2 } from "../../../src/gen/clarifai/api/service_pb.ts";
import { StatusCode } from "../../../src/gen/clarifai/api/status/status_code_pb.ts";
import { patchActionOf, patchData } from "../data_patch.ts";
import { localStatus } from "../local_status.ts";
import type { DatasetOrder } from "../store.ts";
import {
  appOf,
  type HandlerContext,
  type Handlers,
  invalid,
  missing,
  ms,
  paging,
  readAppOf,
  requireItems,
} from "./common.ts";

function orderOf(req: ListDatasetsRequest): DatasetOrder {
  const by = req.sortBy.case === "sortById"
    ? "id"
    : req.sortBy.case === "sortByModifiedAt"
    ? "modified"
    : "created";
  return { by, ascending: req.sortAscending };
}

/** Merges metadata the way `merge` merges an input's (recursively). */
function mergedMetadata(stored: JsonObject | undefined, patch: JsonObject | undefined) {
  const data = patchData(
    create(DataSchema, { metadata: stored }),
    create(DataSchema, { metadata: patch }),
    "merge",
  );
  return data.metadata;
}

/** The dataset a patch makes of the stored one. */
function patched(
  stored: Dataset,
  given: Dataset,
  action: "merge" | "overwrite",
  now: number,
): Dataset {
  const out = clone(DatasetSchema, stored);
  if (action === "overwrite") {
    out.description = given.description;
    out.metadata = given.metadata;
  } else {
    if (given.description !== "") out.description = given.description;
    if (given.metadata !== undefined) {
      out.metadata = mergedMetadata(stored.metadata, given.metadata);
    }
  }
  out.modifiedAt = ms(now);
  return out;
}

/**
 * Creates the ListDatasets, PatchDatasets and DeleteDatasets handlers.
 *
 * @param ctx The handler context.
 * @returns The handlers.
 *
 * @example List the datasets of an empty app
 * ```ts
 * import { datasetChangeHandlers } from "./dataset_changes.ts";
 * import { LocalStore } from "../store.ts";
 * import { create } from "@bufbuild/protobuf";
 * import { ListDatasetsRequestSchema } from "../../../src/gen/clarifai/api/service_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const ctx = { store, contentUrl: (h: string) => h, onInputsStored() {}, onVersionCreated() {} };
 * const listed = await datasetChangeHandlers(ctx).listDatasets(create(ListDatasetsRequestSchema, {}), { userId: "me", appId: "demo" } as never);
 * assertEquals(listed.datasets.length, 0);
 * store.close();
 * ```
 */
export function datasetChangeHandlers(
  ctx: HandlerContext,
): Handlers<"listDatasets" | "patchDatasets" | "deleteDatasets"> {
  return {
    listDatasets(req, u) {
      const page = paging(req.page, req.perPage);
      const app = readAppOf(ctx, u);
      const rows = app === undefined
        ? []
        : ctx.store.datasets.list(app, req.search, orderOf(req), page);
      return create(V2.method.listDatasets.output, {
        status: localStatus(StatusCode.SUCCESS),
        datasets: rows.map((r) => fromBinary(DatasetSchema, r.message)),
      });
    },

    patchDatasets(req, u) {
      requireItems(req.datasets.length, "datasets");
      const action = patchActionOf(req.action);
      if (action === undefined || action === "remove") {
        throw invalid(`action must be merge or overwrite: got ${JSON.stringify(req.action)}`);
      }
      const now = Date.now();
      return ctx.store.transaction(() => {
        const app = appOf(ctx, u);
        const datasets = req.datasets.map((given) => {
          const row = given.id === "" ? undefined : ctx.store.datasets.get(app, given.id);
          if (!row) {
            throw missing(`Dataset ${JSON.stringify(given.id)} does not exist in app ${u.appId}.`);
          }
          const dataset = patched(fromBinary(DatasetSchema, row.message), given, action, now);
          ctx.store.datasets.setMessage(app, given.id, toBinary(DatasetSchema, dataset), now);
          return dataset;
        });
        return create(V2.method.patchDatasets.output, {
          status: localStatus(StatusCode.SUCCESS),
          datasets,
        });
      });
    },

    deleteDatasets(req, u) {
      if (req.datasetIds.length === 0) throw invalid("dataset_ids must not be empty");
      const app = appOf(ctx, u);
      return ctx.store.transaction(() => {
        const absent = req.datasetIds.filter((id) => !ctx.store.datasets.get(app, id));
        if (absent.length > 0) {
          throw missing(
            `${absent.length} dataset(s) do not exist, nothing was deleted: ${
              absent.slice(0, 5).join(", ")
            }`,
          );
        }
        for (const id of new Set(req.datasetIds)) {
          ctx.store.versions.delete(app, id);
          ctx.store.datasets.delete(app, id);
        }
        return create(V2.method.deleteDatasets.output, { status: localStatus(StatusCode.SUCCESS) });
      });
    },
  };
}
