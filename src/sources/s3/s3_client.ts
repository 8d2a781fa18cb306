/**
 * A small S3 client for what upflow reads from a bucket: {@linkcode S3Client} lists objects
 * (ListObjectsV2, page by page), reads an object (whole, or a byte range, guarded by its ETag)
 * and presigns GET URLs, retrying throttling (503 SlowDown) and transient errors under the same
 * {@linkcode RetryPolicy} as the Clarifai calls. Requests are signed with SigV4
 * ({@linkcode signV4}); {@linkcode s3OptionsFromEnv} reads the AWS variables.
 *
 * @module
 */
import { Secret } from "../../clarifai/secret.ts";
import { parseRetryAfter, RetryPolicy } from "../../clarifai/retry_policy.ts";
import { parseXml, xmlChild, type XmlElement } from "../xml_element.ts";
import { presignV4, signV4, type SigV4Credentials } from "./sig_v4.ts";

/** Options of {@linkcode S3Client}. */
export interface S3ClientOptions {
  /** Access key ID (`AWS_ACCESS_KEY_ID`); with no keys, requests go unsigned (public buckets). */
  accessKeyId?: string;
  /** Secret access key (`AWS_SECRET_ACCESS_KEY`). */
  secretAccessKey?: string | Secret;
  /** Session token of temporary credentials (`AWS_SESSION_TOKEN`). */
  sessionToken?: string | Secret;
  /** Region (`AWS_REGION`, else `AWS_DEFAULT_REGION`; default `us-east-1`). */
  region?: string;
  /**
   * The endpoint of an S3-compatible store (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`): MinIO,
   * R2, Ceph, GCS's interoperability API. Default: AWS's regional endpoint.
   */
  endpoint?: string;
  /**
   * Path-style addressing (`endpoint/bucket/key`) instead of virtual-hosted
   * (`bucket.endpoint/key`). Default: on for an endpoint that is an IP address or `localhost`,
   * off otherwise.
   */
  pathStyle?: boolean;
  /** Retry policy for throttling and transient errors (default `new RetryPolicy()`). */
  retry?: RetryPolicy;
  /** The `fetch` to use (tests inject faults with it). */
  fetch?: typeof fetch;
}

/** Where {@linkcode s3OptionsFromEnv} reads variables (`Deno.env` has this shape). */
export interface S3EnvReader {
  /** Returns a variable's value, or `undefined`. */
  get(name: string): string | undefined;
}

/** An object or a common prefix ("subfolder") of a listing. */
export type S3ListItem =
  | { type: "object"; key: string; size: number; etag: string }
  | { type: "prefix"; prefix: string };

/**
 * An S3 error answer (or a transport failure after the retries), with S3's code when known.
 *
 * @example Usage
 * ```ts
 * import { S3Error } from "./s3_client.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const error = new S3Error("Cannot read s3://b/k: no such object", 404, "NoSuchKey");
 * assertEquals([error.status, error.code], [404, "NoSuchKey"]);
 * ```
 */
export class S3Error extends Error {
  /** The HTTP status (0 when the request got no answer). */
  readonly status: number;
  /** S3's error code (`NoSuchKey`, `SlowDown`, `PreconditionFailed`, …), or `""`. */
  readonly code: string;

  /**
   * Creates an S3 error.
   *
   * @param message What happened, in words a person can act on.
   * @param status The HTTP status, 0 for none.
   * @param code S3's error code, or `""`.
   */
  constructor(message: string, status: number, code: string) {
    super(message);
    this.name = "S3Error";
    this.status = status;
    this.code = code;
  }
}

const RETRYABLE_CODES = new Set([
  "SlowDown",
  "InternalError",
  "ServiceUnavailable",
  "RequestTimeout",
  "RequestTimeTooSkewed",
  "Throttling",
  "ThrottlingException",
]);

function isRetryableStatus(status: number, code: string): boolean {
  return status === 429 || status >= 500 || RETRYABLE_CODES.has(code);
}

function secretOf(value: string | Secret | undefined): Secret | undefined {
  if (value === undefined || value === "") return undefined;
  return value instanceof Secret ? value : new Secret(value);
}

/** Percent-encodes one key segment for a URL path (SigV4 encodes it the same way). */
function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * Reads S3 options from AWS's environment variables: `AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` (or `AWS_DEFAULT_REGION`),
 * `AWS_ENDPOINT_URL_S3` (or `AWS_ENDPOINT_URL`) and `AWS_S3_FORCE_PATH_STYLE`. The keys are
 * wrapped in {@linkcode Secret}s, so the options never print them.
 *
 * @param env Where to read (default `Deno.env`).
 * @returns The options found.
 *
 * @example Usage
 * ```ts
 * import { s3OptionsFromEnv } from "./s3_client.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const env = new Map([
 *   ["AWS_ACCESS_KEY_ID", "AKID"],
 *   ["AWS_SECRET_ACCESS_KEY", "shh"],
 *   ["AWS_ENDPOINT_URL", "http://127.0.0.1:9000"],
 * ]);
 * const options = s3OptionsFromEnv(env);
 * assertEquals(options.endpoint, "http://127.0.0.1:9000");
 * assertEquals(JSON.stringify(options).includes("shh"), false);
 * ```
 */
export function s3OptionsFromEnv(env: S3EnvReader = Deno.env): S3ClientOptions {
  const get = (name: string) => {
    const value = env.get(name);
    return value === undefined || value === "" ? undefined : value;
  };
  const pathStyle = get("AWS_S3_FORCE_PATH_STYLE");
  return {
    accessKeyId: get("AWS_ACCESS_KEY_ID"),
    secretAccessKey: secretOf(get("AWS_SECRET_ACCESS_KEY")),
    sessionToken: secretOf(get("AWS_SESSION_TOKEN")),
    region: get("AWS_REGION") ?? get("AWS_DEFAULT_REGION"),
    endpoint: get("AWS_ENDPOINT_URL_S3") ?? get("AWS_ENDPOINT_URL"),
    ...(pathStyle === undefined ? {} : { pathStyle: pathStyle === "true" || pathStyle === "1" }),
  };
}

/**
 * An S3 client for listing, reading and presigning. Credentials stay in private fields as
 * {@linkcode Secret}s; error messages name the bucket and key, never a credential.
 *
 * @example List a bucket (a stand-in S3 answering one page here)
 * ```ts
 * import { S3Client } from "./s3_client.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const page = `<ListBucketResult><IsTruncated>false</IsTruncated>
 *   <Contents><Key>cats/01.jpg</Key><Size>2048</Size><ETag>"abc"</ETag></Contents>
 *   <CommonPrefixes><Prefix>cats/kittens/</Prefix></CommonPrefixes>
 * </ListBucketResult>`;
 * const s3 = new S3Client({
 *   endpoint: "http://127.0.0.1:9000",
 *   accessKeyId: "AKID",
 *   secretAccessKey: "shh",
 *   fetch: () => Promise.resolve(new Response(page)),
 * });
 * assertEquals(await Array.fromAsync(s3.listObjects("pets", "cats/", { delimiter: "/" })), [
 *   { type: "object", key: "cats/01.jpg", size: 2048, etag: '"abc"' },
 *   { type: "prefix", prefix: "cats/kittens/" },
 * ]);
 * ```
 */
export class S3Client {
  /** The region requests are signed for. */
  readonly region: string;
  /** The endpoint's origin (`https://s3.us-east-1.amazonaws.com`, `http://127.0.0.1:9000`). */
  readonly endpoint: string;
  /** Whether requests use path-style addressing. */
  readonly pathStyle: boolean;
  #credentials?: SigV4Credentials;
  #retry: RetryPolicy;
  #fetch: typeof fetch;

  /**
   * Creates a client.
   *
   * @param options Credentials, region, endpoint, addressing, retry policy.
   * @throws {TypeError} When the endpoint is not an http(s) URL, or only one of the two keys is
   * given.
   *
   * @example Usage
   * ```ts
   * import { S3Client } from "./s3_client.ts";
   * import { assertEquals, assertThrows } from "@std/assert";
   *
   * const s3 = new S3Client({ region: "eu-west-1" });
   * assertEquals(s3.endpoint, "https://s3.eu-west-1.amazonaws.com");
   * assertEquals(s3.objectUrl("pets", "cats/Tabby 01.jpg").href, "https://pets.s3.eu-west-1.amazonaws.com/cats/Tabby%2001.jpg");
   * assertEquals(new S3Client({ endpoint: "http://127.0.0.1:9000" }).pathStyle, true);
   * assertThrows(() => new S3Client({ endpoint: "ftp://x" }), TypeError);
   * ```
   */
  constructor(options: S3ClientOptions = {}) {
    this.region = options.region ?? "us-east-1";
    let endpoint: URL;
    try {
      endpoint = new URL(options.endpoint ?? `https://s3.${this.region}.amazonaws.com`);
    } catch {
      throw new TypeError(
        `Cannot create S3Client: endpoint must be an http(s) URL: current value is ${
          JSON.stringify(options.endpoint)
        }`,
      );
    }
    if (endpoint.protocol !== "http:" && endpoint.protocol !== "https:") {
      throw new TypeError(
        `Cannot create S3Client: endpoint must be an http(s) URL: current value is ${
          JSON.stringify(options.endpoint)
        }`,
      );
    }
    this.endpoint = endpoint.origin;
    const host = endpoint.hostname;
    this.pathStyle = options.pathStyle ??
      (host === "localhost" || /^[\d.]+$/.test(host) || host.startsWith("["));
    const secret = secretOf(options.secretAccessKey);
    if ((options.accessKeyId === undefined) !== (secret === undefined)) {
      throw new TypeError(
        "Cannot create S3Client: give both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither",
      );
    }
    if (options.accessKeyId !== undefined && secret !== undefined) {
      this.#credentials = {
        accessKeyId: options.accessKeyId,
        secretAccessKey: secret,
        sessionToken: secretOf(options.sessionToken),
        region: this.region,
      };
    }
    this.#retry = options.retry ?? new RetryPolicy();
    this.#fetch = options.fetch ?? fetch;
  }

  /**
   * The URL of a bucket, or of an object in it.
   *
   * @param bucket The bucket.
   * @param key The object's key (omit for the bucket itself).
   * @returns The URL.
   *
   * @example Path-style and virtual-hosted
   * ```ts
   * import { S3Client } from "./s3_client.ts";
   * import { assertEquals } from "@std/assert";
   *
   * assertEquals(
   *   new S3Client({ endpoint: "http://127.0.0.1:9000" }).objectUrl("pets", "a b.jpg").href,
   *   "http://127.0.0.1:9000/pets/a%20b.jpg",
   * );
   * assertEquals(
   *   new S3Client({ endpoint: "https://minio.example" }).objectUrl("pets", "a.jpg").href,
   *   "https://pets.minio.example/a.jpg",
   * );
   * ```
   */
  objectUrl(bucket: string, key = ""): URL {
    const path = key.split("/").map(encodeSegment).join("/");
    const endpoint = new URL(this.endpoint);
    if (this.pathStyle) return new URL(`${endpoint.origin}/${bucket}/${path}`);
    return new URL(`${endpoint.protocol}//${bucket}.${endpoint.host}/${path}`);
  }

  /**
   * Lists the objects under `prefix`, one page (≤1,000 keys) of ListObjectsV2 at a time: only
   * the current page is held. With `delimiter: "/"`, the "subfolders" come out as `prefix`
   * items in the listing's order.
   *
   * @param bucket The bucket.
   * @param prefix Keys start with this.
   * @param options `delimiter`, the page size and an abort signal.
   * @returns The objects and common prefixes, in key order.
   * @throws {S3Error} When a page cannot be listed (no such bucket, access denied, retries
   * exhausted).
   *
   * @example Pages follow their continuation tokens (a stand-in S3 here)
   * ```ts
   * import { S3Client } from "./s3_client.ts";
   * import { assertEquals } from "@std/assert";
   *
   * const pages = [
   *   "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>t1</NextContinuationToken><Contents><Key>a</Key><Size>1</Size><ETag>e</ETag></Contents></ListBucketResult>",
   *   "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>b</Key><Size>2</Size><ETag>f</ETag></Contents></ListBucketResult>",
   * ];
   * const asked: string[] = [];
   * const s3 = new S3Client({
   *   endpoint: "http://127.0.0.1:9",
   *   fetch: (input) => {
   *     asked.push(new URL(String(input)).searchParams.get("continuation-token") ?? "");
   *     return Promise.resolve(new Response(pages.shift()));
   *   },
   * });
   * const keys = [];
   * for await (const item of s3.listObjects("b", "", { pageSize: 1 })) {
   *   if (item.type === "object") keys.push(item.key);
   * }
   * assertEquals([keys, asked], [["a", "b"], ["", "t1"]]);
   * ```
   */
  async *listObjects(
    bucket: string,
    prefix: string,
    options: { delimiter?: string; pageSize?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<S3ListItem> {
    let token: string | undefined;
    do {
      const url = this.objectUrl(bucket);
      url.searchParams.set("list-type", "2");
      url.searchParams.set("prefix", prefix);
      url.searchParams.set("encoding-type", "url");
      if (options.delimiter) url.searchParams.set("delimiter", options.delimiter);
      if (options.pageSize) url.searchParams.set("max-keys", String(options.pageSize));
      if (token !== undefined) url.searchParams.set("continuation-token", token);
      const what = `list s3://${bucket}/${prefix}`;
      const text = await this.#request(
        "GET",
        url,
        {},
        what,
        options.signal,
        async (r) => await r.text(),
      );
      let root: XmlElement;
      try {
        root = parseXml(text);
      } catch (error) {
        throw new S3Error(
          `Cannot ${what}: the answer is not XML: ${(error as Error).message}`,
          200,
          "",
        );
      }
      const encoded = xmlChild(root, "EncodingType")?.text.trim() === "url";
      const decode = (s: string) => encoded ? decodeURIComponent(s.replace(/\+/g, " ")) : s;
      for (const child of root.children) {
        if (child.name === "Contents") {
          const key = xmlChild(child, "Key")?.text;
          if (key === undefined) continue;
          yield {
            type: "object",
            key: decode(key),
            size: Number(xmlChild(child, "Size")?.text ?? 0),
            etag: (xmlChild(child, "ETag")?.text ?? "").trim(),
          };
        } else if (child.name === "CommonPrefixes") {
          const p = xmlChild(child, "Prefix")?.text;
          if (p !== undefined) yield { type: "prefix", prefix: decode(p) };
        }
      }
      const truncated = xmlChild(root, "IsTruncated")?.text.trim() === "true";
      token = truncated ? xmlChild(root, "NextContinuationToken")?.text : undefined;
      if (truncated && token === undefined) {
        throw new S3Error(`Cannot ${what}: a truncated page gave no continuation token`, 200, "");
      }
    } while (token !== undefined);
  }

  /**
   * Reads an object whole (or a byte range of it) into one buffer. With `ifMatch`, S3 answers
   * only while the object still has that ETag; otherwise the read fails with an
   * {@linkcode S3Error} whose code is `PreconditionFailed` and whose message says the object
   * changed since it was listed.
   *
   * @param bucket The bucket.
   * @param key The key.
   * @param options `ifMatch` (an ETag), `range` (`[start, end]`, inclusive), abort signal.
   * @returns The bytes.
   * @throws {S3Error} When the object is missing, changed, unreadable, or the retries run out.
   *
   * @example An object rewritten since it was listed (a stand-in S3 here)
   * ```ts
   * import { S3Client, S3Error } from "./s3_client.ts";
   * import { assertRejects } from "@std/assert";
   *
   * const s3 = new S3Client({
   *   endpoint: "http://127.0.0.1:9",
   *   fetch: () => Promise.resolve(new Response("new bytes", { headers: { etag: '"new"' } })),
   * });
   * await assertRejects(
   *   () => s3.getObject("pets", "a.jpg", { ifMatch: '"old"' }),
   *   S3Error,
   *   "the object changed since it was listed",
   * );
   * ```
   */
  async getObject(
    bucket: string,
    key: string,
    options: { ifMatch?: string; range?: [number, number]; signal?: AbortSignal } = {},
  ): Promise<Uint8Array> {
    const headers: Record<string, string> = {};
    const { ifMatch } = options;
    if (ifMatch) headers["if-match"] = ifMatch;
    const what = `read s3://${bucket}/${key}`;
    if (options.range) headers.range = `bytes=${options.range[0]}-${options.range[1]}`;
    return await this.#request(
      "GET",
      this.objectUrl(bucket, key),
      headers,
      what,
      options.signal,
      async (response, signal) => {
        // Some S3-compatible stores ignore If-Match: the ETag of the answer is checked too.
        const etag = response.headers.get("etag");
        if (ifMatch && etag && etag !== ifMatch) {
          await response.body?.cancel();
          throw new S3Error(
            `Cannot ${what}: ${errorWords(412, "PreconditionFailed", "")}`,
            412,
            "PreconditionFailed",
          );
        }
        return await readBody(response, signal);
      },
    );
  }

  /**
   * Opens an object's bytes as a stream, for objects read once from start to end (a CSV, a
   * COCO file). Throttling and transient errors are retried until the body starts; a body cut
   * off later errors the stream.
   *
   * @param bucket The bucket.
   * @param key The key.
   * @param options An abort signal.
   * @returns The body.
   * @throws {S3Error} When the object cannot be opened.
   *
   * @example Stream an object (a stand-in S3 here)
   * ```ts
   * import { S3Client } from "./s3_client.ts";
   * import { assertEquals } from "@std/assert";
   *
   * const client = new S3Client({
   *   endpoint: "http://127.0.0.1:9",
   *   fetch: () => Promise.resolve(new Response("a,b\n1,2\n")),
   * });
   * const body = await client.getObjectStream("data", "table.csv");
   * assertEquals(await new Response(body).text(), "a,b\n1,2\n");
   * ```
   */
  async getObjectStream(
    bucket: string,
    key: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<ReadableStream<Uint8Array>> {
    return await this.#request(
      "GET",
      this.objectUrl(bucket, key),
      {},
      `read s3://${bucket}/${key}`,
      options.signal,
      (response) => Promise.resolve(response.body ?? ReadableStream.from<Uint8Array>([])),
    );
  }

  /**
   * Makes a presigned GET URL of an object: whoever holds it can read the object, with no other
   * credential, until it expires.
   *
   * @param bucket The bucket.
   * @param key The key.
   * @param expiresSeconds Seconds the URL stays valid, 1 to 604,800 (7 days).
   * @returns The URL (the plain object URL when the client has no credentials: a public
   * bucket).
   *
   * @example Usage
   * ```ts
   * import { S3Client } from "./s3_client.ts";
   * import { assertEquals } from "@std/assert";
   *
   * const s3 = new S3Client({ endpoint: "http://127.0.0.1:9000", accessKeyId: "AKID", secretAccessKey: "shh" });
   * const url = new URL(await s3.presignGet("pets", "a.jpg", 600));
   * assertEquals(url.searchParams.get("X-Amz-Expires"), "600");
   * assertEquals(url.href.includes("shh"), false);
   * ```
   */
  async presignGet(bucket: string, key: string, expiresSeconds: number): Promise<string> {
    const url = this.objectUrl(bucket, key);
    if (!this.#credentials) return url.href; // a public bucket: the plain URL is enough
    return (await presignV4("GET", url, this.#credentials, { expiresSeconds })).href;
  }

  async #request<T>(
    method: string,
    url: URL,
    headers: Record<string, string>,
    what: string,
    signal: AbortSignal | undefined,
    read: (response: Response, signal?: AbortSignal) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1;; attempt++) {
      signal?.throwIfAborted();
      const signed = this.#credentials
        ? await signV4({ method, url, headers }, this.#credentials)
        : headers;
      let retryAfterMs: number | undefined;
      let failure: S3Error;
      try {
        const response = await this.#fetch(url, { method, headers: signed, signal });
        if (response.ok) {
          try {
            return await read(response, signal);
          } catch (error) {
            if (signal?.aborted || error instanceof S3Error) throw error;
            // The body broke off mid-way: a transient failure, retried.
            failure = new S3Error(
              `Cannot ${what}: ${(error as Error).message}`,
              response.status,
              "",
            );
          }
        } else {
          const text = await response.text().catch(() => "");
          const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? "";
          const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? response.statusText;
          retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
          failure = new S3Error(
            `Cannot ${what}: ${errorWords(response.status, code, message)}`,
            response.status,
            code,
          );
          if (!isRetryableStatus(response.status, code)) throw failure;
        }
      } catch (error) {
        if (error instanceof S3Error) throw error;
        if (signal?.aborted) throw error;
        failure = new S3Error(`Cannot ${what}: ${(error as Error)?.message ?? error}`, 0, "");
      }
      if (attempt >= this.#retry.maxAttempts) {
        throw new S3Error(
          `${failure.message} (after ${attempt} attempt${attempt === 1 ? "" : "s"})`,
          failure.status,
          failure.code,
        );
      }
      if (retryAfterMs !== undefined && retryAfterMs > this.#retry.maxRetryAfterMs) throw failure;
      await this.#retry.sleep(this.#retry.delayMs(attempt - 1, retryAfterMs), signal);
    }
  }
}

function errorWords(status: number, code: string, message: string): string {
  switch (code) {
    case "PreconditionFailed":
      return "the object changed since it was listed (its ETag differs): list it again";
    case "NoSuchKey":
      return "no such object (deleted since it was listed?)";
    case "NoSuchBucket":
      return "no such bucket";
    case "AccessDenied":
      return `access denied (${message}): check the credentials and the bucket policy`;
    case "SignatureDoesNotMatch":
    case "InvalidAccessKeyId":
      return `${code}: check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION`;
  }
  if (status === 412) return "the object changed since it was listed (its ETag differs)";
  return `HTTP ${status}${code ? ` ${code}` : ""}: ${message}`;
}

/** Reads a body into one buffer of its Content-Length (growing only when that is absent). */
async function readBody(response: Response, signal?: AbortSignal): Promise<Uint8Array> {
  const length = Number(response.headers.get("content-length") ?? NaN);
  if (!response.body) return new Uint8Array(0);
  if (!Number.isSafeInteger(length)) return new Uint8Array(await response.arrayBuffer());
  const out = new Uint8Array(length);
  let offset = 0;
  const reader = response.body.getReader();
  try {
    while (true) {
      signal?.throwIfAborted();
      const { value, done } = await reader.read();
      if (done) break;
      if (offset + value.length > length) throw new Error("the body is longer than announced");
      out.set(value, offset);
      offset += value.length;
    }
  } finally {
    reader.releaseLock();
  }
  if (offset !== length) {
    throw new Error(`the body ended after ${offset} of ${length} bytes`);
  }
  return out;
}
