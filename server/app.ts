/**
 * {@linkcode createApp}: the upload service's Hono app: one sub-app per resource, joined with
 * `app.route()`, bearer auth on `/v1`, request metrics, and one `onError` that answers JSON
 * `{ "error": { "code", "message" } }`.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context, MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { HTTPException } from "hono/http-exception";
import { routePath } from "hono/route";
import { ApiError } from "./api_error.ts";
import { healthRoutes } from "./health.ts";
import { jobListRoutes } from "./pages/job_list.ts";
import { openApiRoutes } from "./pages/openapi.ts";
import { pageRoutes } from "./pages/page_routes.ts";
import { uploadRoutes } from "./uploads.ts";
import type { UploadService } from "./upload_service.ts";

const SEND_TOKEN = "Send Authorization: Bearer <token> (the service's UPFLOW_TOKEN)";

/**
 * Hono's bearer-auth middleware, answering as the rest of the service does: 401 with
 * `{ "error": { "code": "unauthorized", … } }` and `WWW-Authenticate: Bearer realm="upflow"`,
 * for a missing header, one that is not a bearer token, and a wrong token alike.
 */
function requireToken(token: string): MiddlewareHandler {
  const refuse = (message: string | ((c: Context) => string)) => ({
    wwwAuthenticateHeader: 'Bearer realm="upflow"',
    message: (c: Context) =>
      c.json(
        new ApiError(401, "unauthorized", typeof message === "string" ? message : message(c))
          .toJSON(),
        401,
        { "www-authenticate": 'Bearer realm="upflow"' },
      ),
  });
  return bearerAuth({
    token,
    realm: "upflow",
    noAuthenticationHeader: refuse(SEND_TOKEN),
    // A header that names the scheme but holds no valid token characters is a wrong token.
    invalidAuthenticationHeader: refuse((c) =>
      /^Bearer\s/i.test(c.req.header("authorization") ?? "")
        ? "The bearer token is not valid"
        : SEND_TOKEN
    ),
    invalidToken: refuse("The bearer token is not valid"),
  });
}

function codeOfStatus(status: number): string {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthorized";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 413:
      return "payload_too_large";
    case 415:
      return "unsupported_media_type";
    default:
      return status >= 500 ? "internal" : "error";
  }
}

/**
 * The upload service's app: a Hono app. Serve it with `Deno.serve(app.fetch)`, call
 * `app.request()` in tests, or mount it in an app of your own with `app.route()`.
 *
 * @internal
 */
export type UploadApp = Hono;

/**
 * Builds the service's HTTP app over an open {@linkcode UploadService}:
 *
 * - `GET /healthz`, `GET /metrics`, `GET /openapi.json`, and the web page `GET /` with its
 *   assets under `/assets/` (no token needed: the page asks for it and keeps it in the tab);
 * - `GET /v1/uploads` the jobs, newest first, a page at a time;
 * - `POST /v1/uploads` (a CSV body, a multipart upload of files, or JSON naming a folder or CSV
 *   under the root), answering NDJSON progress events; `GET /v1/uploads/:id`,
 *   `GET /v1/uploads/:id/events`, `GET /v1/uploads/:id/failures`,
 *   `POST /v1/uploads/:id/retry`, `DELETE /v1/uploads/:id`.
 *
 * Every `/v1` route needs `Authorization: Bearer <token>` when the service has a token.
 * Errors are JSON `{ "error": { "code", "message" } }`; an unexpected error answers 500
 * without its details (they go to the log).
 *
 * @param service The open service.
 * @returns The Hono app; serve it with `Deno.serve(app.fetch)` or call `app.request()`.
 *
 * @example A dry run of a CSV body
 * ```ts
 * import { createApp, UploadService } from "@upflow/upflow/server";
 * import { assertEquals } from "@std/assert";
 *
 * const service = await UploadService.open({
 *   root: ".", dataDir: await Deno.makeTempDir(), token: "t0ken", log: () => {},
 * });
 * const app = createApp(service);
 * assertEquals((await app.request("/v1/uploads", { method: "POST" })).status, 401);
 * const res = await app.request("/v1/uploads?dry_run=true", {
 *   method: "POST",
 *   headers: { authorization: "Bearer t0ken", "content-type": "text/csv" },
 *   body: "inputid,input,concepts\nr1,hello,greeting\nr2,bye,\n",
 * });
 * const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
 * assertEquals(lines[0].type, "job");
 * assertEquals(lines.at(-1).summary.uploaded, 2);
 * await service.close();
 * ```
 */
export function createApp(service: UploadService): UploadApp {
  const app = new Hono();

  app.use("*", async (c, next) => {
    const started = performance.now();
    await next();
    let route = routePath(c, -1);
    if (route === "*" || route === "/v1/*") route = "unmatched";
    service.metrics.observeRequest(
      c.req.method,
      route,
      c.res.status,
      (performance.now() - started) / 1000,
    );
  });

  if (service.token !== undefined) app.use("/v1/*", requireToken(service.token));

  app.route("/", healthRoutes(service));
  app.route("/", openApiRoutes());
  app.route("/", pageRoutes());
  app.route("/v1/uploads", jobListRoutes(service));
  app.route("/v1/uploads", uploadRoutes(service));

  app.notFound((c) =>
    c.json(
      { error: { code: "not_found", message: `No route for ${c.req.method} ${c.req.path}` } },
      404,
    )
  );

  app.onError((err: Error, c: Context) => {
    if (err instanceof ApiError) {
      const headers: Record<string, string> = {};
      if (err.status === 401) headers["www-authenticate"] = 'Bearer realm="upflow"';
      return c.json(err.toJSON(), err.status, headers);
    }
    if (err instanceof HTTPException) {
      if (err.status === 401 && err.res) return err.getResponse(); // bearer auth's own answer
      return c.json(
        { error: { code: codeOfStatus(err.status), message: err.message || "Request refused" } },
        err.status,
      );
    }
    service.log(`error on ${c.req.method} ${c.req.path}: ${err.name}: ${err.message}`);
    return c.json(
      { error: { code: "internal", message: "Internal error (see the service log)" } },
      500,
    );
  });

  return app;
}
