/**
 * {@linkcode pageRoutes}: the service's web page at `GET /` and its two assets,
 * `/assets/upflow.css` and `/assets/upflow.js`, served by the app itself (no CDN, no build).
 *
 * @module
 */
import { Hono } from "hono";
import { PAGE_CSS } from "./page_css.ts";
import { servicePage } from "./page_html.ts";
import { PAGE_JS } from "./page_js.ts";

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/**
 * The page's routes, to mount at `/`. None needs the token: the page holds no job data and
 * asks for the token itself.
 *
 * @returns A Hono app.
 *
 * @example Usage
 * ```ts
 * import { pageRoutes } from "./page_routes.ts";
 * import { assertEquals, assertStringIncludes } from "@std/assert";
 *
 * const app = pageRoutes();
 * assertStringIncludes(await (await app.request("/")).text(), 'id="drop"');
 * assertEquals((await app.request("/assets/upflow.js")).headers.get("content-type"), "text/javascript; charset=utf-8");
 * ```
 */
export function pageRoutes(): Hono {
  const app = new Hono();
  app.get("/", async (c) => c.html(await servicePage("upflow"), 200, SECURITY_HEADERS));
  app.get(
    "/assets/upflow.css",
    (c) =>
      c.body(PAGE_CSS, 200, {
        "content-type": "text/css; charset=utf-8",
        "cache-control": "no-cache",
      }),
  );
  app.get("/assets/upflow.js", (c) =>
    c.body(PAGE_JS, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "no-cache",
    }));
  return app;
}
