/**
 * {@linkcode browserRoutes}: the local API's read-only browser, on the API's own port: `GET /`
 * (the apps), `GET /browse/{user}/{app}` (counts by status, datasets, inputs a page at a time,
 * `?dataset=`, `?status=`, `?after=`/`?before=`), `GET /browse/{user}/{app}/inputs/{id}` (one
 * input in full) and `GET /local/browser.css`. Server-rendered HTML, no script; pictures come
 * from the API's own `/local/blobs/{sha256}`.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { LocalStore } from "../store.ts";
import { BROWSER_CSS } from "./browser_css.ts";
import { appPage, appPath, appsPage, inputPage, notFoundPage } from "./browser_html.ts";
import { BrowserQueries } from "./browser_queries.ts";
import { type InputView, inputView } from "./input_view.ts";

/** Inputs on one page of the browser. */
export const PAGE_SIZE = 48;

const HEADERS = {
  "content-security-policy":
    "default-src 'none'; img-src 'self'; style-src 'self'; media-src 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

function preview(store: LocalStore, view: InputView): string {
  if (view.kind !== "text" || view.text || !view.contentHash) return "";
  const head = store.blobs.head(view.contentHash, 600);
  return head ? new TextDecoder().decode(head).replace(/\uFFFD+$/, "") : "";
}

function position(text: string | undefined): number | undefined {
  return text !== undefined && /^\d{1,15}$/.test(text) ? Number(text) : undefined;
}

/**
 * The browser's routes, to mount at `/` of the local API's HTTP app.
 *
 * @param store The local API's store (read through a read-only connection of the browser's own;
 *   a store kept in memory cannot be browsed, and the page says so).
 * @param options `pageSize`: inputs on one page (default 48).
 * @returns A Hono app.
 *
 * @example The apps page of an empty store
 * ```ts
 * import { browserRoutes } from "./browser_routes.ts";
 * import { LocalStore } from "../store.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * const store = new LocalStore(await Deno.makeTempDir());
 * const res = await browserRoutes(store).request("/");
 * assertStringIncludes(await res.text(), "No app holds anything yet");
 * store.close();
 * ```
 */
// deno-lint-ignore no-explicit-any
export function browserRoutes(store: LocalStore, options: { pageSize?: number } = {}): Hono<any> {
  const pageSize = options.pageSize ?? PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
    throw new RangeError(
      `Cannot create browserRoutes: pageSize must be an integer from 1 to 1000: current value is ${pageSize}`,
    );
  }
  const app = new Hono();
  const page = async (c: Context, status: 200 | 404, body: ReturnType<typeof appsPage>) =>
    c.html(await body, status, HEADERS);
  const withQueries = <T>(fn: (q: BrowserQueries) => T): T => {
    const queries = new BrowserQueries(store.location);
    try {
      return fn(queries);
    } finally {
      queries.close();
    }
  };

  app.get(
    "/local/browser.css",
    (c) => c.body(BROWSER_CSS, 200, { "content-type": "text/css; charset=utf-8" }),
  );

  app.get("/", (c) => {
    if (store.location === ":memory:") {
      return page(
        c,
        200,
        notFoundPage(
          "This local API keeps its data in memory, which the browser cannot read: start it with a data folder.",
        ),
      );
    }
    return page(c, 200, appsPage(withQueries((q) => q.apps())));
  });

  app.get("/browse/:user/:app", (c) => {
    const userId = c.req.param("user");
    const appId = c.req.param("app");
    const datasetId = c.req.query("dataset") || undefined;
    const statusCode = position(c.req.query("status"));
    const after = position(c.req.query("after"));
    const before = position(c.req.query("before"));
    return withQueries((q) => {
      const key = q.appKey(userId, appId);
      if (key === undefined) return page(c, 404, notFoundPage(`No app ${userId} / ${appId}.`));
      const datasets = q.datasets(key);
      if (datasetId !== undefined && !datasets.some((d) => d.id === datasetId)) {
        return page(c, 404, notFoundPage(`No dataset ${datasetId} in ${userId} / ${appId}.`));
      }
      const result = q.inputs(key, {
        ...(datasetId !== undefined ? { datasetId } : {}),
        ...(statusCode !== undefined ? { statusCode } : {}),
        ...(before !== undefined ? { before } : after !== undefined ? { after } : {}),
        limit: pageSize,
      });
      const counts = q.statusCounts(key, datasetId);
      const annotations = q.annotations(key, result.inputs.map((i) => i.input.id));
      const views = result.inputs.map(({ input }) =>
        inputView(input, annotations.filter((a) => a.inputId === input.id))
      );
      const link = (name: "after" | "before", value: number) => {
        const params = new URLSearchParams();
        if (datasetId !== undefined) params.set("dataset", datasetId);
        if (statusCode !== undefined) params.set("status", String(statusCode));
        params.set(name, String(value));
        return `${appPath(userId, appId)}?${params}`;
      };
      const first = result.inputs[0]?.position;
      const last = result.inputs.at(-1)?.position;
      return page(
        c,
        200,
        appPage({
          userId,
          appId,
          datasets,
          counts,
          ...(datasetId !== undefined ? { datasetId } : {}),
          ...(statusCode !== undefined ? { statusCode } : {}),
          inputs: views,
          previews: new Map(views.map((v) => [v.id, preview(store, v)])),
          total: statusCode !== undefined
            ? counts.get(statusCode) ?? 0
            : [...counts.values()].reduce((a, b) => a + b, 0),
          ...(result.hasBefore && first !== undefined ? { before: link("before", first) } : {}),
          ...(result.hasAfter && last !== undefined ? { after: link("after", last) } : {}),
        }),
      );
    });
  });

  app.get("/browse/:user/:app/inputs/:id", (c) => {
    const userId = c.req.param("user");
    const appId = c.req.param("app");
    const id = c.req.param("id");
    return withQueries((q) => {
      const key = q.appKey(userId, appId);
      const input = key === undefined ? undefined : q.input(key, id);
      if (key === undefined || !input) {
        return page(c, 404, notFoundPage(`No input ${id} in ${userId} / ${appId}.`));
      }
      const view = inputView(input, q.annotations(key, [id]));
      return page(
        c,
        200,
        inputPage({
          userId,
          appId,
          view,
          datasets: q.datasetsOf(key, id),
          preview: preview(store, view),
        }),
      );
    });
  });

  return app;
}
