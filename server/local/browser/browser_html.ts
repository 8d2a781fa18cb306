/**
 * The local API browser's pages, rendered on the server with Hono's `html` helper (no script):
 * the apps, an app's inputs a page at a time with their regions drawn over them as SVG, and one
 * input in full (regions, concepts, metadata, geo point, video frames on a timeline).
 *
 * @module
 */
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { AppSummary, DatasetSummary } from "./browser_queries.ts";
import type { InputView, RegionView } from "./input_view.ts";

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** Names of the input status codes the local API uses. */
export const STATUS_NAMES: ReadonlyMap<number, string> = new Map([
  [30000, "processed"],
  [30001, "pending"],
  [30003, "in progress"],
  [30002, "failed"],
]);

function statusName(code: number): string {
  return STATUS_NAMES.get(code) ?? `status ${code}`;
}

function n(value: number): string {
  return Number.isFinite(value) ? String(Math.round(value * 100000) / 100000) : "0";
}

function layout(title: string, crumbs: Html, body: Html): Html {
  return html`
    <!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>${title}</title>
        <link rel="stylesheet" href="/local/browser.css">
      </head>
      <body>
        <header><h1>upflow local API</h1>${crumbs}</header>
        <main>${body}</main>
      </body>
    </html>
  `;
}

/**
 * The path of an app's page.
 *
 * @param userId The user ID.
 * @param appId The app ID.
 * @returns The path, its parts URL-encoded.
 *
 * @example Usage
 * ```ts
 * import { appPath } from "./browser_html.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(appPath("me", "my app"), "/browse/me/my%20app");
 * ```
 */
export function appPath(userId: string, appId: string): string {
  return `/browse/${encodeURIComponent(userId)}/${encodeURIComponent(appId)}`;
}

function shapeSvg(region: RegionView): Html {
  const label = region.concepts.join(", ") || region.id;
  const common = `data-region-id="${escape(region.id)}" data-concepts="${
    escape(region.concepts.join(","))
  }"`;
  const s = region.shape;
  if (s.type === "box") {
    return html`${
      raw(
        `<rect class="box" ${common} x="${n(s.x)}" y="${n(s.y)}" width="${n(s.width)}" height="${
          n(s.height)
        }" vector-effect="non-scaling-stroke">`,
      )
    }<title>${label}</title></rect>`;
  }
  if (s.type === "polygon") {
    const points = s.points.map(([x, y]) => `${n(x)},${n(y)}`).join(" ");
    return html`${
      raw(
        `<polygon class="polygon" ${common} points="${points}" vector-effect="non-scaling-stroke">`,
      )
    }<title>${label}</title></polygon>`;
  }
  return html`${
    raw(
      `<ellipse class="point" ${common} cx="${n(s.x)}" cy="${
        n(s.y)
      }" rx="0.012" ry="0.012" vector-effect="non-scaling-stroke">`,
    )
  }<title>${label}</title></ellipse>`;
}

function escape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;");
}

function overlay(regions: RegionView[]): Html {
  return html`
    <svg class="overlay" viewBox="0 0 1 1" preserveAspectRatio="none"
      aria-hidden="true">${regions.map(shapeSvg)}</svg>
  `;
}

/** The picture of an input: its image with regions over it, or what stands for other kinds. */
function media(view: InputView, textPreview: string): Html {
  if (view.kind === "image" && view.contentHash) {
    return html`
      <div
        class="media"><img src="/local/blobs/${view.contentHash}" alt="${view
          .id}" loading="lazy">${overlay(view.regions)}</div>
    `;
  }
  if (view.kind === "text") {
    return html`<div class="text-snippet">${view.text || textPreview}</div>`;
  }
  const what = view.kind === "video"
    ? `video${view.frames.length ? `, ${view.frames.length} annotated frames` : ""}`
    : view.kind;
  return html`
    <div class="media">
      <div class="placeholder">${what}${view.url
        ? html`<br><span class="muted">${view.url}</span>`
        : ""}</div>
    </div>
  `;
}

function chips(concepts: string[], kind = ""): Html {
  return html`<div class="chips">${
    concepts.map((c) => html`<span class="chip${kind ? ` ${kind}` : ""}">${c}</span>`)
  }</div>`;
}

/**
 * The apps page.
 *
 * @param apps The apps.
 * @returns The HTML.
 *
 * @example Two apps
 * ```ts
 * import { appsPage } from "./browser_html.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * const page = String(await appsPage([
 *   { key: 1, userId: "me", appId: "pets", inputs: 12, datasets: 1 },
 *   { key: 2, userId: "me", appId: "cars", inputs: 3, datasets: 0 },
 * ]));
 * assertStringIncludes(page, 'href="/browse/me/pets"');
 * ```
 */
export function appsPage(apps: AppSummary[]): Html {
  const body = apps.length === 0
    ? html`
      <section>
        <p>No app holds anything yet. Upload something (for example <code>upflow folder samples/images --labels</code>) and reload.</p>
      </section>
    `
    : html`
      <section>
        <h2>Apps</h2>
        <table id="apps">
          <thead>
            <tr>
              <th>User</th>
              <th>App</th>
              <th>Inputs</th>
              <th>Datasets</th>
            </tr>
          </thead>
          <tbody>${apps.map((a) =>
            html`
              <tr>
                <td>${a.userId}</td>
                <td><a href="${appPath(a.userId, a.appId)}">${a.appId}</a></td>
                <td>${a.inputs}</td>
                <td>${a.datasets}</td>
              </tr>
            `
          )}</tbody>
        </table>
      </section>
    `;
  return layout("upflow local API", html`<span>apps</span>`, body);
}

/** What the app page shows. */
export interface AppPageModel {
  /** The app. */
  userId: string;
  /** The app. */
  appId: string;
  /** Its datasets. */
  datasets: DatasetSummary[];
  /** Counts by status code of the inputs listed (the app's, or the dataset's). */
  counts: Map<number, number>;
  /** The dataset shown, if one. */
  datasetId?: string;
  /** The status shown, if one. */
  statusCode?: number;
  /** The inputs of this page. */
  inputs: InputView[];
  /** Text previews of text inputs stored as bytes. */
  previews: Map<string, string>;
  /** Inputs matching, all pages. */
  total: number;
  /** The link to the page before, if any. */
  before?: string;
  /** The link to the page after, if any. */
  after?: string;
}

/**
 * An app's page: counts by status, datasets, and a page of inputs.
 *
 * @param m What to show.
 * @returns The HTML.
 *
 * @example An app with one image and its box
 * ```ts
 * import { appPage } from "./browser_html.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * const page = String(await appPage({
 *   userId: "me", appId: "pets", datasets: [], counts: new Map([[30000, 1]]), total: 1,
 *   previews: new Map(),
 *   inputs: [{
 *     id: "cat", kind: "image", contentHash: "ab".repeat(32), contentSize: 10, url: "", text: "",
 *     concepts: ["cat"], frames: [], createdAt: 0, status: { code: 30000, description: "", details: "" },
 *     regions: [{ id: "r", annotationId: "a", concepts: ["cat"], trackId: "",
 *       shape: { type: "box", x: 0.5, y: 0, width: 0.5, height: 1 } }],
 *   }],
 * }));
 * assertStringIncludes(page, '<rect class="box" data-region-id="r" data-concepts="cat" x="0.5" y="0" width="0.5" height="1"');
 * ```
 */
export function appPage(m: AppPageModel): Html {
  const base = appPath(m.userId, m.appId);
  const link = (dataset?: string, status?: number) => {
    const q = new URLSearchParams();
    if (dataset !== undefined) q.set("dataset", dataset);
    if (status !== undefined) q.set("status", String(status));
    const s = q.toString();
    return s ? `${base}?${s}` : base;
  };
  const all = [...m.counts.values()].reduce((a, b) => a + b, 0);
  const statusChips = html`
    <div class="chips"
      id="status-counts"><a class="chip${m.statusCode === undefined ? " on" : ""}" href="${link(
        m.datasetId,
      )}">all ${all}</a>${[
        ...STATUS_NAMES.keys(),
        ...[...m.counts.keys()].filter((c) => !STATUS_NAMES.has(c)),
      ].map((
        code,
      ) =>
        html`
          <a class="chip${m.statusCode === code ? " on" : ""}${code === 30002
            ? " status-failed"
            : ""}" data-status="${code}"
            href="${link(m.datasetId, code)}">${statusName(code)} ${m.counts.get(code) ?? 0}</a>
        `
      )}</div>
  `;
  const datasets = html`
    <div class="chips"
      id="datasets"><a class="chip${m.datasetId === undefined ? " on" : ""}" href="${link(
        undefined,
        m.statusCode,
      )}">whole app</a>${m.datasets.map((d) =>
        html`
          <a class="chip${m.datasetId === d.id ? " on" : ""}" data-dataset="${d.id}"
            href="${link(d.id, m.statusCode)}">${d.id} (${d.inputs})</a>
        `
      )}</div>
  `;
  const cards = m.inputs.map((v) =>
    html`
      <div class="card" data-input-id="${v.id}"
        data-kind="${v.kind}"><a href="${base}/inputs/${encodeURIComponent(v.id)}">${media(
          v,
          m.previews.get(v.id) ?? "",
        )}</a><div class="id"><a href="${base}/inputs/${encodeURIComponent(v.id)}">${v
          .id}</a></div><div class="muted">${v.kind} · ${statusName(
            v.status.code,
          )}${v.regions.length ? ` · ${v.regions.length} regions` : ""}</div>${chips(
            v.concepts,
          )}${chips(
            [...new Set(v.regions.flatMap((r) => r.concepts))],
            "region",
          )}</div>
    `
  );
  const body = html`<section><h2>${m.userId} / ${m.appId}${
    m.datasetId
      ? html`
        · dataset ${m.datasetId}
      `
      : ""
  }</h2>${statusChips}<h2>Datasets</h2>${datasets}</section>
<section><h2>Inputs <span class="muted" id="total">${m.total}</span></h2>${
    m.inputs.length === 0 ? html`<p class="muted">No inputs here.</p>` : ""
  }<div class="grid" id="inputs">${cards}</div><div class="pager">${
    m.before ? html`<a id="prev" href="${m.before}">← previous</a>` : ""
  }${m.after ? html`<a id="next" href="${m.after}">next →</a>` : ""}</div></section>`;
  return layout(
    `${m.appId} · upflow local API`,
    html`<a href="/">apps</a><span>${m.userId} / ${m.appId}</span>`,
    body,
  );
}

function timeline(view: InputView): Html {
  if (view.frames.length === 0) return html``;
  const end = Math.max(...view.frames.map((f) => f.time), 1);
  const marks = view.frames.map((f) => {
    const x = 10 + (f.time / end) * 980;
    return html`${
      raw(
        `<rect class="frame-mark" data-time="${f.time}" x="${
          n(x - 2)
        }" y="6" width="4" height="28">`,
      )
    }<title>${f.time} ms: ${f.regions.length} regions</title></rect>`;
  });
  const frames = view.frames.map((f) =>
    html`
      <div class="card frame"
        data-frame-time="${f
          .time}"><div class="media"><svg viewBox="0 0 16 9" width="100%" aria-hidden="true"><rect class="frame-bg" width="16" height="9"></rect></svg>${overlay(
            f.regions,
          )}</div><div class="muted">frame ${f.index} · ${(f.time / 1000).toFixed(2)} s · ${f
          .regions.length} regions</div>${chips([
            ...new Set([...f.concepts, ...f.regions.flatMap((r) => r.concepts)]),
          ])}</div>
    `
  );
  return html`
    <section>
      <h2>Video frames</h2>
      <svg id="timeline" viewBox="0 0 1000 40" width="100%"
        aria-label="timeline"><rect class="timeline-bg" x="10" y="16" width="980" height="8" rx="4"></rect>${marks}</svg>
      <p class="muted">0 s to ${(end / 1000).toFixed(2)} s</p>
      <div class="frames">${frames}</div>
    </section>
  `;
}

function geoMap(geo: { latitude: number; longitude: number }): Html {
  const lines = [-120, -60, 0, 60, 120].map((x) =>
    raw(`<line class="geo-line" x1="${x + 180}" y1="0" x2="${x + 180}" y2="180"></line>`)
  ).concat(
    [-60, -30, 0, 30, 60].map((y) =>
      raw(`<line class="geo-line" x1="0" y1="${90 - y}" x2="360" y2="${90 - y}"></line>`)
    ),
  );
  return html`
    <svg id="geo" viewBox="0 0 360 180" width="240"
      aria-label="geo point">${raw(
        '<rect class="geo-bg" width="360" height="180"></rect>',
      )}${lines}${raw(
        `<circle class="geo-dot" cx="${n(geo.longitude + 180)}" cy="${
          n(90 - geo.latitude)
        }" r="4"></circle>`,
      )}</svg>
  `;
}

/** What the input page shows. */
export interface InputPageModel {
  /** The app. */
  userId: string;
  /** The app. */
  appId: string;
  /** The input. */
  view: InputView;
  /** Its datasets. */
  datasets: string[];
  /** A text preview, for text stored as bytes. */
  preview: string;
}

/**
 * One input in full.
 *
 * @param m What to show.
 * @returns The HTML.
 *
 * @example A text input with a geo point
 * ```ts
 * import { inputPage } from "./browser_html.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * const page = String(await inputPage({
 *   userId: "me", appId: "notes", datasets: [], preview: "",
 *   view: {
 *     id: "n1", kind: "text", contentHash: null, contentSize: 0, url: "", text: "hello",
 *     concepts: [], regions: [], frames: [], createdAt: 0, geo: { latitude: 10, longitude: 20 },
 *     status: { code: 30000, description: "", details: "" },
 *   },
 * }));
 * assertStringIncludes(page, "latitude 10, longitude 20");
 * ```
 */
export function inputPage(m: InputPageModel): Html {
  const v = m.view;
  const base = appPath(m.userId, m.appId);
  const regionRows = v.regions.map((r) => {
    const s = r.shape;
    const where = s.type === "box"
      ? `box x ${n(s.x)}, y ${n(s.y)}, w ${n(s.width)}, h ${n(s.height)}`
      : s.type === "polygon"
      ? `polygon of ${s.points.length} points`
      : `point ${n(s.x)}, ${n(s.y)}`;
    return html`
      <tr>
        <td>${r.concepts.join(", ")}</td>
        <td>${where}</td>
        <td class="muted">${r.id}</td>
      </tr>
    `;
  });
  const body = html`
    <div class="detail">
      <section>
        <div id="input-media">${media(v, m.preview)}</div>
      </section>
      <section><h2>${v.id}</h2>
    <p class="muted">${v.kind}${v.contentSize ? ` · ${v.contentSize} bytes` : ""} · ${statusName(
      v.status.code,
    )} (${v.status.code}) · added ${new Date(v.createdAt).toISOString()}</p>
    ${v.status.details ? html`<p>${v.status.details}</p>` : ""}
    ${v.url ? html`<p>URL: <code>${v.url}</code></p>` : ""}
    <h2>Concepts</h2>${v.concepts.length ? chips(v.concepts) : html`<p class="muted">none</p>`}
    <h2>Datasets</h2>${m.datasets.length
      ? html`<div class="chips">${
        m.datasets.map((d) =>
          html`<a class="chip" href="${base}?dataset=${encodeURIComponent(d)}">${d}</a>`
        )
      }</div>`
      : html`<p class="muted">none</p>`}
    <h2>Regions</h2>${v.regions.length
      ? html`
        <table id="regions">
          <thead>
            <tr>
              <th>Concepts</th>
              <th>Where (0..1)</th>
              <th>ID</th>
            </tr>
          </thead>
          <tbody>${regionRows}</tbody>
        </table>
      `
      : html`<p class="muted">none</p>`}
    ${v.geo
      ? html`<h2>Geo point</h2><p id="geo-text">latitude ${v.geo.latitude}, longitude ${v.geo.longitude}</p>${
        geoMap(v.geo)
      }`
      : ""}
    ${v.metadata
      ? html`
        <h2>Metadata</h2>
        <pre id="metadata">${JSON.stringify(v.metadata, null, 2)}</pre>
      `
      : ""}
      </section>
    </div>${timeline(v)}
  `;
  return layout(
    `${v.id} · upflow local API`,
    html`<a href="/">apps</a><a href="${base}">${m.userId} / ${m.appId}</a><span>${v.id}</span>`,
    body,
  );
}

/**
 * A page that says something is missing.
 *
 * @param message What is missing.
 * @returns The HTML.
 *
 * @example Usage
 * ```ts
 * import { notFoundPage } from "./browser_html.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * assertStringIncludes(String(await notFoundPage("No app x")), "<p>No app x</p>");
 * ```
 */
export function notFoundPage(message: string): Html {
  return layout(
    "not found · upflow local API",
    html`<a href="/">apps</a>`,
    html`
      <section>
        <p>${message}</p>
      </section>
    `,
  );
}
