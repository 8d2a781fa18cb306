/**
 * The local API's dataset methods: PostDatasets (all or nothing), GetDataset,
 * PostDatasetInputs (per-item status) and ListDatasetInputs.
 *
 * @module
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  DatasetInputSchema,
  DatasetSchema,
  InputSchema,
  type UserAppIDSet,
} from "../../../src/gen/clarifai/api/resources_pb.ts";
import { V2 } from "../../../src/gen/clarifai/api/service_pb.ts";
import { StatusCode } from "../../../src/gen/clarifai/api/status/status_code_pb.ts";
import { localStatus } from "../local_status.ts";
import { idReason } from "../validation.ts";
import {
  Answer,
  appOf,
  type HandlerContext,
  type Handlers,
  invalid,
  missing,
  ms,
  overallStatus,
  paging,
  readAppOf,
  requireItems,
} from "./common.ts";
import { inputMessage } from "./messages.ts";

/**
 * The key of the caller's app when the dataset exists in it.
 *
 * @param ctx The handler context.
 * @param u The caller's app IDs.
 * @param datasetId The dataset ID.
 * @returns The app's key.
 * @throws {Answer} `CONN_INVALID_REQUEST` without an ID, `CONN_DOES_NOT_EXIST` when missing.
 *
 * @example Usage
 * ```ts
 * import { requireDataset } from "./datasets.ts";
 * import { LocalStore } from "../store.ts";
 * import { assertThrows } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const ctx = { store, contentUrl: (h: string) => h, onInputsStored() {}, onVersionCreated() {} };
 * assertThrows(() => requireDataset(ctx, { userId: "me", appId: "demo" } as never, "ds"));
 * store.close();
 * ```
 */
export function requireDataset(ctx: HandlerContext, u: UserAppIDSet, datasetId: string): number {
  if (datasetId === "") throw invalid("dataset_id is required");
  const app = readAppOf(ctx, u);
  if (app === undefined || !ctx.store.datasets.get(app, datasetId)) {
    throw missing(`Dataset ${JSON.stringify(datasetId)} does not exist in app ${u.appId}.`);
  }
  return app;
}

/**
 * Creates the dataset handlers.
 *
 * @param ctx The handler context.
 * @returns PostDatasets, GetDataset, PostDatasetInputs and ListDatasetInputs.
 *
 * @example Create a dataset and read it back
 * ```ts
 * import { datasetHandlers } from "./datasets.ts";
 * import { LocalStore } from "../store.ts";
 * import { create } from "@bufbuild/protobuf";
 * import { GetDatasetRequestSchema, PostDatasetsRequestSchema } from "../../../src/gen/clarifai/api/service_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const ctx = { store, contentUrl: (h: string) => h, onInputsStored() {}, onVersionCreated() {} };
 * const u = { userId: "me", appId: "demo" } as never;
 * const handlers = datasetHandlers(ctx);
 * await handlers.postDatasets(create(PostDatasetsRequestSchema, { datasets: [{ id: "ds" }] }), u);
 * const got = await handlers.getDataset(create(GetDatasetRequestSchema, { datasetId: "ds" }), u);
 * assertEquals(got.dataset?.id, "ds");
 * store.close();
 * ```
 */
export function datasetHandlers(
  ctx: HandlerContext,
): Handlers<"postDatasets" | "getDataset" | "postDatasetInputs" | "listDatasetInputs"> {
  return {
    postDatasets(req, u) {
      requireItems(req.datasets.length, "datasets");
      const now = Date.now();
      const seen = new Set<string>();
      return ctx.store.transaction(() => {
        const app = appOf(ctx, u);
        const created = req.datasets.map((d) => {
          if (d.id === "") throw invalid("every dataset needs an id");
          const reason = idReason(d.id, "dataset");
          if (reason) throw invalid(reason);
          if (seen.has(d.id)) {
            throw invalid(`Dataset ID ${JSON.stringify(d.id)} appears twice in this request.`);
          }
          seen.add(d.id);
          if (ctx.store.datasets.get(app, d.id)) {
            throw new Answer(localStatus(
              StatusCode.DATABASE_DUPLICATE_KEY,
              `Dataset ${JSON.stringify(d.id)} already exists in app ${u.appId}.`,
            ));
          }
          const dataset = create(DatasetSchema, {
            id: d.id,
            description: d.description,
            metadata: d.metadata,
            appId: u.appId,
            userId: u.userId,
            createdAt: ms(now),
            modifiedAt: ms(now),
          });
          ctx.store.datasets.insert(app, {
            id: d.id,
            message: toBinary(DatasetSchema, dataset),
            createdAt: now,
            modifiedAt: now,
          });
          return dataset;
        });
        return create(V2.method.postDatasets.output, {
          status: localStatus(StatusCode.SUCCESS),
          datasets: created,
        });
      });
    },

    getDataset(req, u) {
      const app = requireDataset(ctx, u, req.datasetId);
      return create(V2.method.getDataset.output, {
        status: localStatus(StatusCode.SUCCESS),
        dataset: fromBinary(DatasetSchema, ctx.store.datasets.get(app, req.datasetId)!.message),
      });
    },

    postDatasetInputs(req, u) {
      requireItems(req.datasetInputs.length, "dataset inputs");
      const app = requireDataset(ctx, u, req.datasetId);
      const now = Date.now();
      const items = ctx.store.transaction(() =>
        req.datasetInputs.map((item) => {
          const id = item.input?.id ?? "";
          const row = id === "" ? undefined : ctx.store.inputs.get(app, id);
          if (!row) {
            const details = id === ""
              ? "input.id is required"
              : `Input ${JSON.stringify(id)} does not exist in app ${u.appId}.`;
            return create(DatasetInputSchema, {
              input: create(InputSchema, {
                id,
                status: localStatus(StatusCode.INPUT_DOES_NOT_EXIST, details),
              }),
            });
          }
          const addedAt = ctx.store.datasets.addInput(app, req.datasetId, id, now);
          const input = inputMessage(ctx, row);
          input.status = localStatus(StatusCode.DATASET_INPUT_SUCCESS);
          return create(DatasetInputSchema, { createdAt: ms(addedAt), input });
        })
      );
      return create(V2.method.postDatasetInputs.output, {
        status: overallStatus(items.map((i) => i.input!.status!)),
        datasetInputs: items,
      });
    },

    listDatasetInputs(req, u) {
      const page = paging(req.page, req.perPage);
      const app = requireDataset(ctx, u, req.datasetId);
      return create(V2.method.listDatasetInputs.output, {
        status: localStatus(StatusCode.SUCCESS),
        datasetInputs: ctx.store.datasets.listInputs(app, req.datasetId, page).map((r) =>
          create(DatasetInputSchema, {
            createdAt: ms(r.addedAt),
            input: inputMessage(ctx, r.input),
          })
        ),
      });
    },
  };
}
