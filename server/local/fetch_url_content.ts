/**
 * {@linkcode checkUrlContent}: the local API's stand-in for Clarifai fetching a URL input (on
 * with `--fetch-urls`): the URL is fetched, its size bounded, its first bytes sniffed, and the
 * input's outcome given as Clarifai's status.
 *
 * @module
 */
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import { type ContentKind, contentMismatchReason } from "./sniff_content.ts";

/** What fetching a URL input came to: success, or a failure status with its details. */
export type UrlContentOutcome =
  | { ok: true; bytes: number }
  | { ok: false; code: StatusCode; details: string };

/** Options of {@linkcode checkUrlContent}. */
export interface CheckUrlContentOptions {
  /** Milliseconds before the fetch is given up (default 30,000). */
  timeoutMs?: number;
  /** The `fetch` to use (default the global one). */
  fetch?: typeof fetch;
}

const MB = 1024 * 1024;

/** The largest content Clarifai takes by URL, by kind (videos by URL up to 300 MB). */
const URL_LIMIT: Record<ContentKind, number> = {
  image: 20 * MB,
  text: 20 * MB,
  audio: 20 * MB,
  video: 300 * MB,
};

/**
 * Fetches a URL input's content as Clarifai would, reading it to the end (up to the kind's
 * limit) without keeping it: the first bytes are sniffed for the claimed kind (a text input is
 * read whole to check it is UTF-8). Anything wrong ends as `INPUT_FAILED` (`INPUT_DOWNLOAD_FAILED`, 30002) with details
 * that say what: the HTTP status, the network error, the size, or the kind found.
 *
 * @param url The input's URL.
 * @param kind The kind the input claims.
 * @param options Timeout and `fetch`.
 * @returns The outcome.
 *
 * @example A URL that answers 404
 * ```ts
 * import { checkUrlContent } from "./fetch_url_content.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const fetch = () => Promise.resolve(new Response("no", { status: 404, statusText: "Not Found" }));
 * assertEquals(await checkUrlContent("https://example.com/a.jpg", "image", { fetch }), {
 *   ok: false,
 *   code: 30002,
 *   details: "could not fetch https://example.com/a.jpg: HTTP 404 Not Found",
 * });
 * ```
 */
export async function checkUrlContent(
  url: string,
  kind: ContentKind,
  options: CheckUrlContentOptions = {},
): Promise<UrlContentOutcome> {
  const failed = (details: string): UrlContentOutcome => ({
    ok: false,
    code: StatusCode.INPUT_FAILED,
    details,
  });
  // The URL as shown: without its query, which may hold a presigned URL's signature.
  const shown = url.split("?")[0];
  const signal = AbortSignal.timeout(options.timeoutMs ?? 30_000);
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, { signal, redirect: "follow" });
  } catch (error) {
    return failed(`could not fetch ${shown}: ${(error as Error)?.message ?? error}`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    return failed(
      `could not fetch ${shown}: HTTP ${response.status}${
        response.statusText ? ` ${response.statusText}` : ""
      }`,
    );
  }
  const limit = URL_LIMIT[kind];
  const keep = kind === "text" ? limit : 64;
  const head: Uint8Array[] = [];
  let kept = 0;
  let total = 0;
  try {
    for await (const chunk of response.body ?? ReadableStream.from<Uint8Array>([])) {
      total += chunk.length;
      if (total > limit) {
        await response.body?.cancel().catch(() => {});
        return failed(
          `${shown} is larger than the ${limit / MB} MB Clarifai takes for ${
            kind === "image" || kind === "audio" ? "an" : "a"
          } ${kind}`,
        );
      }
      if (kept < keep) {
        head.push(chunk.subarray(0, keep - kept));
        kept += Math.min(chunk.length, keep - kept);
      }
    }
  } catch (error) {
    return failed(`could not fetch ${shown}: ${(error as Error)?.message ?? error}`);
  }
  const bytes = new Uint8Array(kept);
  let at = 0;
  for (const part of head) {
    bytes.set(part, at);
    at += part.length;
  }
  if (total === 0) return failed(`${shown} is empty`);
  const mismatch = contentMismatchReason(kind, bytes);
  if (mismatch !== undefined) return failed(`${shown}: ${mismatch}`);
  return { ok: true, bytes: total };
}
