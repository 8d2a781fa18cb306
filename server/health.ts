/**
 * The service's operational routes: `GET /healthz` and `GET /metrics` (Prometheus text).
 *
 * @module
 */
import { Hono } from "hono";
import type { UploadService } from "./upload_service.ts";
import { VERSION } from "../src/version.ts";

/**
 * Routes `GET /healthz` (`{ "status": "ok", "version": "0.1.0", "jobs": { running, … } }`) and `GET /metrics`
 * (the Prometheus text format: jobs by state, inputs by outcome, bytes, retries, request
 * latency). Neither needs the token: they hold no job IDs, paths or credentials.
 *
 * @param service The service.
 * @returns A Hono app to mount at `/`.
 *
 * @example Usage
 * ```ts
 * import { healthRoutes } from "./health.ts";
 * import { UploadService } from "./upload_service.ts";
 * import { assertEquals, assertStringIncludes } from "@std/assert";
 *
 * const service = await UploadService.open({ root: ".", dataDir: await Deno.makeTempDir(), log: () => {} });
 * const app = healthRoutes(service);
 * assertEquals((await (await app.request("/healthz")).json()).status, "ok");
 * assertStringIncludes(await (await app.request("/metrics")).text(), "# TYPE upflow_jobs gauge");
 * await service.close();
 * ```
 */
export function healthRoutes(service: UploadService): Hono {
  const app = new Hono();
  app.get(
    "/healthz",
    (c) => c.json({ status: "ok", version: VERSION, jobs: service.jobs.countByState() }),
  );
  app.get("/metrics", (c) =>
    c.body(service.metrics.render(service.jobs.countByState()), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    }));
  return app;
}
