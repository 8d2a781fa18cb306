/**
 * The local API's dataset version methods: PostDatasetVersions (versions start
 * `DATASET_VERSION_PENDING`; the version processor makes them ready), GetDatasetVersion,
 * ListDatasetVersions (newest first), DeleteDatasetVersions and ListDatasetVersionMetricsGroups
 * (empty until the version is ready, as the SDK's `get_upload_status` expects while it waits).
 *
 * @module
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type DatasetVersion,
  type DatasetVersionMetricsGroup,
  DatasetVersionSchema,
  type UserAppIDSet,
} from "../../../src/gen/clarifai/api/resources_pb.ts";
import {
  type ListDatasetVersionMetricsGroupsRequest,
  MultiDatasetVersionMetricsGroupResponseSchema,
  V2,
} from "../../../src/gen/clarifai/api/service_pb.ts";
import { StatusCode } from "../../../src/gen/clarifai/api/status/status_code_pb.ts";
import { localStatus } from "../local_status.ts";
import type { VersionRow } from "../store.ts";
import { idReason } from "../validation.ts";
import {
  Answer,
  type HandlerContext,
  type Handlers,
  invalid,
  missing,
  ms,
  newId,
  paging,
  requireItems,
} from "./common.ts";
import { requireDataset } from "./datasets.ts";

/** The metrics groups of a ready version (none before). */
function groupsOf(row: VersionRow): DatasetVersionMetricsGroup[] {
  if (row.metrics === null) return [];
  return fromBinary(MultiDatasetVersionMetricsGroupResponseSchema, row.metrics)
    .datasetVersionMetricsGroups;
}

/**
 * A version message from its row: the message as given, with status, times, owner and, once
 * ready, the root metrics under the key `"/"`.
 *
 * @param row The row.
 * @param u The caller's app IDs.
 * @returns The version.
 *
 * @example Usage
 * ```ts
 * import { versionMessage } from "./dataset_versions.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const v = versionMessage({ seq: 1, app: 1, datasetId: "ds", id: "v1", message: new Uint8Array(),
 *   statusCode: 64005, metrics: null, createdAt: 1, modifiedAt: 1 }, { userId: "me", appId: "demo" } as never);
 * assertEquals([v.id, v.datasetId, v.status?.code], ["v1", "ds", 64005]);
 * ```
 */
export function versionMessage(row: VersionRow, u: UserAppIDSet): DatasetVersion {
  const version = fromBinary(DatasetVersionSchema, row.message);
  version.id = row.id;
  version.datasetId = row.datasetId;
  version.appId = u.appId;
  version.userId = u.userId;
  version.createdAt = ms(row.createdAt);
  version.modifiedAt = ms(row.modifiedAt);
  version.status = localStatus(row.statusCode);
  const root = groupsOf(row).find((g) => g.value?.kind.value === "total");
  if (root?.metrics) version.metrics = { "/": root.metrics };
  return version;
}

/** Whether a group passes the request's filters. */
function selected(req: ListDatasetVersionMetricsGroupsRequest, g: DatasetVersionMetricsGroup) {
  if (req.parentPaths.length > 0 && !req.parentPaths.includes(g.parentPath)) return false;
  if (req.types.length > 0 && !req.types.includes(g.type)) return false;
  if (req.values.length > 0) {
    const value = g.value?.kind.value;
    if (!req.values.some((v) => v.kind.value === value)) return false;
  }
  return true;
}

/**
 * Creates the dataset version handlers.
 *
 * @param ctx The handler context.
 * @returns PostDatasetVersions, GetDatasetVersion, ListDatasetVersions, DeleteDatasetVersions
 * and ListDatasetVersionMetricsGroups.
 *
 * @example A version of a dataset that does not exist
 * ```ts
 * import { datasetVersionHandlers } from "./dataset_versions.ts";
 * import { LocalStore } from "../store.ts";
 * import { create } from "@bufbuild/protobuf";
 * import { PostDatasetVersionsRequestSchema } from "../../../src/gen/clarifai/api/service_pb.ts";
 * import { assertThrows } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const ctx = { store, contentUrl: (h: string) => h, onInputsStored() {}, onVersionCreated() {} };
 * const request = create(PostDatasetVersionsRequestSchema, { datasetId: "nope", datasetVersions: [{}] });
 * assertThrows(() => datasetVersionHandlers(ctx).postDatasetVersions(request, { userId: "me", appId: "demo" } as never));
 * store.close();
 * ```
 */
export function datasetVersionHandlers(ctx: HandlerContext): Handlers<
  | "postDatasetVersions"
  | "getDatasetVersion"
  | "listDatasetVersions"
  | "deleteDatasetVersions"
  | "listDatasetVersionMetricsGroups"
> {
  const requireVersion = (u: UserAppIDSet, datasetId: string, id: string) => {
    const app = requireDataset(ctx, u, datasetId);
    if (id === "") throw invalid("dataset_version_id is required");
    const row = ctx.store.versions.get(app, datasetId, id);
    if (!row) {
      throw missing(
        `Dataset version ${JSON.stringify(id)} does not exist in dataset ${
          JSON.stringify(datasetId)
        }.`,
      );
    }
    return row;
  };
  return {
    postDatasetVersions(req, u) {
      requireItems(req.datasetVersions.length, "dataset versions");
      const app = requireDataset(ctx, u, req.datasetId);
      const now = Date.now();
      const seen = new Set<string>();
      const created = ctx.store.transaction(() =>
        req.datasetVersions.map((given) => {
          const id = given.id || newId();
          const reason = idReason(id, "dataset version");
          if (reason) throw invalid(reason);
          if (seen.has(id) || ctx.store.versions.get(app, req.datasetId, id)) {
            throw new Answer(localStatus(
              StatusCode.DATABASE_DUPLICATE_KEY,
              `Dataset version ${JSON.stringify(id)} already exists in dataset ${
                JSON.stringify(req.datasetId)
              }.`,
            ));
          }
          seen.add(id);
          const message = create(DatasetVersionSchema, {
            description: given.description,
            metadata: given.metadata,
            requestOrigin: given.requestOrigin,
          });
          const row: VersionRow = {
            seq: 0,
            app,
            datasetId: req.datasetId,
            id,
            message: toBinary(DatasetVersionSchema, message),
            statusCode: StatusCode.DATASET_VERSION_PENDING,
            metrics: null,
            createdAt: now,
            modifiedAt: now,
          };
          ctx.store.versions.insert(row);
          return versionMessage(row, u);
        })
      );
      ctx.onVersionCreated();
      return create(V2.method.postDatasetVersions.output, {
        status: localStatus(StatusCode.SUCCESS),
        datasetVersions: created,
      });
    },

    getDatasetVersion(req, u) {
      const row = requireVersion(u, req.datasetId, req.datasetVersionId);
      return create(V2.method.getDatasetVersion.output, {
        status: localStatus(StatusCode.SUCCESS),
        datasetVersion: versionMessage(row, u),
      });
    },

    listDatasetVersions(req, u) {
      const page = paging(req.page, req.perPage);
      const app = requireDataset(ctx, u, req.datasetId);
      return create(V2.method.listDatasetVersions.output, {
        status: localStatus(StatusCode.SUCCESS),
        datasetVersions: ctx.store.versions.list(app, req.datasetId, page).map((r) =>
          versionMessage(r, u)
        ),
      });
    },

    deleteDatasetVersions(req, u) {
      if (req.datasetVersionIds.length === 0) {
        throw invalid("dataset_version_ids must not be empty");
      }
      const app = requireDataset(ctx, u, req.datasetId);
      return ctx.store.transaction(() => {
        const absent = req.datasetVersionIds.filter((id) =>
          !ctx.store.versions.get(app, req.datasetId, id)
        );
        if (absent.length > 0) {
          throw missing(
            `${absent.length} dataset version(s) do not exist, nothing was deleted: ${
              absent.slice(0, 5).join(", ")
            }`,
          );
        }
        ctx.store.versions.delete(app, req.datasetId, req.datasetVersionIds);
        return create(V2.method.deleteDatasetVersions.output, {
          status: localStatus(StatusCode.SUCCESS),
        });
      });
    },

    listDatasetVersionMetricsGroups(req, u) {
      const page = paging(req.page, req.perPage);
      const row = requireVersion(u, req.datasetId, req.datasetVersionId);
      const groups = groupsOf(row).filter((g) => selected(req, g));
      return create(V2.method.listDatasetVersionMetricsGroups.output, {
        status: localStatus(StatusCode.SUCCESS),
        datasetVersionMetricsGroups: groups.slice(page.offset, page.offset + page.limit),
      });
    },
  };
}
