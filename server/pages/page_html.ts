/**
 * {@linkcode servicePage}: the HTML of the service's web page, rendered on the server with
 * Hono's `html` helper. It holds no job data: the page asks for the token, keeps it in the
 * tab's memory, and reads the jobs from `/v1` with it.
 *
 * @module
 */
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

/**
 * Renders the page.
 *
 * @param title The page's title.
 * @returns The HTML.
 *
 * @example Usage
 * ```ts
 * import { servicePage } from "./page_html.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * assertStringIncludes(String(await servicePage("upflow")), '<form id="login-form"');
 * ```
 */
export function servicePage(title: string): HtmlEscapedString | Promise<HtmlEscapedString> {
  return html`
    <!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>${title}</title>
        <link rel="stylesheet" href="/assets/upflow.css">
        <script src="/assets/upflow.js" defer></script>
      </head>
      <body>
        <header><h1>${title}</h1><span class="muted">upload service</span><span id="who" class="muted"></span></header>
        <div id="login" hidden>
          <section>
            <h2>Sign in</h2>
            <form id="login-form" autocomplete="off">
              <label>Service token <input type="password" id="token" name="token" autocomplete="off" required></label>
              <button class="primary" type="submit">Open</button>
              <p
                class="muted">The token (UPFLOW_TOKEN) stays in this tab's memory: reloading the page asks again.</p>
              <p id="login-error" role="alert"></p>
            </form>
          </section>
        </div>
        <main id="app" hidden>
          <section>
            <h2>Upload</h2>
            <div id="drop" class="drop" tabindex="0">
          Drop files or a folder here, or
          <label>choose files<input type="file" id="pick-files" multiple></label> or
          <label>choose a folder<input type="file" id="pick-folder" webkitdirectory multiple></label>.
        </div>
            <div class="options">
              <label>Dataset <input type="text" id="dataset" placeholder="optional"></label>
              <label><input type="checkbox" id="create-dataset"> create it when missing</label>
              <label><input type="checkbox" id="folder-labels" checked> labels from folder names</label>
              <label>Batch size <input type="number" id="batch-size" min="1" max="128" placeholder="default"></label>
              <label>Requests/s <input type="number" id="rps" min="0" step="any" placeholder="default"></label>
              <label>Retries <input type="number" id="retries" min="1" max="100" placeholder="default"></label>
            </div>
            <p id="upload-status" class="muted" role="status"></p>
          </section>
          <section>
            <h2>Jobs <span id="totals" class="muted"></span></h2>
            <table id="jobs">
              <thead>
                <tr>
                  <th>Started</th>
                  <th>Source</th>
                  <th>State</th>
                  <th>Progress</th>
                  <th>Uploaded</th>
                  <th>Failed</th>
                  <th>Inputs/s</th>
                  <th>ETA</th>
                </tr>
              </thead>
              <tbody></tbody>
            </table>
            <p><button id="more" hidden>More jobs</button> <button id="refresh">Refresh</button></p>
          </section>
          <section id="detail" hidden>
            <h2>Job <code id="detail-id"></code> <span id="detail-state" class="badge"></span></h2>
            <p id="detail-source" class="muted"></p>
            <div class="counts" id="detail-counts"></div>
            <div class="actions">
              <button id="retry">Retry failures</button>
              <label><input type="checkbox" id="new-ids"> new IDs for duplicates</label>
              <button id="cancel">Cancel</button>
            </div>
            <p id="detail-fatal" class="bad"></p>
            <h2>Failures <span id="failure-count" class="muted"></span></h2>
            <table id="failures">
              <thead>
                <tr>
                  <th>Input</th>
                  <th>Location</th>
                  <th>Stage</th>
                  <th>Code</th>
                  <th>Reason</th>
                </tr>
              </thead>
              <tbody></tbody>
            </table>
          </section>
        </main>
      </body>
    </html>
  `;
}
