/**
 * The local API's inputs-add job methods: GetInputsAddJob (progress counted from the job's
 * inputs) and CancelInputsAddJob (fails the job's unfinished inputs).
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { V2 } from "../../../src/gen/clarifai/api/service_pb.ts";
import { StatusCode } from "../../../src/gen/clarifai/api/status/status_code_pb.ts";
import { localStatus } from "../local_status.ts";
import { type HandlerContext, type Handlers, missing, readAppOf } from "./common.ts";
import { jobMessage } from "./messages.ts";

/**
 * Creates the job handlers.
 *
 * @param ctx The handler context.
 * @returns GetInputsAddJob and CancelInputsAddJob.
 *
 * @example Ask for a job that does not exist
 * ```ts
 * import { jobHandlers } from "./jobs.ts";
 * import { LocalStore } from "../store.ts";
 * import { create } from "@bufbuild/protobuf";
 * import { GetInputsAddJobRequestSchema } from "../../../src/gen/clarifai/api/service_pb.ts";
 * import { assertThrows } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const ctx = { store, contentUrl: (h: string) => h, onInputsStored() {}, onVersionCreated() {} };
 * const request = create(GetInputsAddJobRequestSchema, { id: "nope" });
 * assertThrows(() => jobHandlers(ctx).getInputsAddJob(request, { userId: "me", appId: "demo" } as never));
 * store.close();
 * ```
 */
export function jobHandlers(
  ctx: HandlerContext,
): Handlers<"getInputsAddJob" | "cancelInputsAddJob"> {
  const notFound = (id: string) => missing(`Inputs add job ${JSON.stringify(id)} does not exist.`);
  return {
    getInputsAddJob(req, u) {
      const app = readAppOf(ctx, u);
      const job = app === undefined ? undefined : jobMessage(ctx, app, req.id);
      if (!job) throw notFound(req.id);
      return create(V2.method.getInputsAddJob.output, {
        status: localStatus(StatusCode.SUCCESS),
        inputsAddJob: job,
      });
    },

    cancelInputsAddJob(req, u) {
      const app = readAppOf(ctx, u);
      if (app === undefined || !ctx.store.jobs.get(app, req.id)) throw notFound(req.id);
      ctx.store.cancelJob(app, req.id, Date.now());
      return create(V2.method.cancelInputsAddJob.output, {
        status: localStatus(StatusCode.SUCCESS),
        inputsAddJob: jobMessage(ctx, app, req.id),
      });
    },
  };
}
