/**
 * AWS Signature Version 4 for S3 requests, on WebCrypto: {@linkcode signV4} signs a request in
 * its headers, {@linkcode presignV4} makes a presigned URL. Written here rather than taken from a
 * package: the two forms upflow needs are ~150 lines, and the AWS SDK (or any client) would add a
 * runtime dependency to every install for them. Checked against the examples of the S3 SigV4
 * documentation (tests/sources/s3/sig_v4_test.ts) and against a real S3 server.
 *
 * @module
 */
import type { Secret } from "../../clarifai/secret.ts";

/** The credentials and scope a request is signed with. */
export interface SigV4Credentials {
  /** The access key ID (`AWS_ACCESS_KEY_ID`). */
  accessKeyId: string;
  /** The secret access key (`AWS_SECRET_ACCESS_KEY`), never printed. */
  secretAccessKey: Secret;
  /** A session token of temporary credentials (`AWS_SESSION_TOKEN`), never printed. */
  sessionToken?: Secret;
  /** The region (`AWS_REGION`), e.g. `us-east-1`. */
  region: string;
}

/** A request to sign with {@linkcode signV4}. */
export interface SigV4Request {
  /** The HTTP method, upper case. */
  method: string;
  /** The full URL; its path must already be percent-encoded as it goes on the wire. */
  url: URL;
  /** Headers to send and sign (`host` is taken from the URL). */
  headers?: Record<string, string>;
  /** Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD` (default: the hash of an empty body). */
  payloadHash?: string;
}

/** The hex SHA-256 of an empty body. */
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

const utf8 = new TextEncoder();

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256Hex(text: string): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", utf8.encode(text)));
}

async function hmac(key: ArrayBuffer | Uint8Array, text: string): Promise<ArrayBuffer> {
  const cryptoKey = await crypto.subtle.importKey(
    "raw",
    key as BufferSource,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return await crypto.subtle.sign("HMAC", cryptoKey, utf8.encode(text));
}

/** Percent-encodes everything but the unreserved characters, as SigV4 requires. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The path as signed: each segment decoded once and encoded by SigV4's rule. */
function canonicalPath(pathname: string): string {
  return pathname.split("/").map((segment) => uriEncode(decodeURIComponent(segment))).join("/");
}

function canonicalQuery(params: URLSearchParams): string {
  const pairs = [...params].map(([k, v]) => [uriEncode(k), uriEncode(v)]);
  pairs.sort(([ak, av], [bk, bv]) => ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0);
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

function amzDate(now: Date): string {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

async function signature(
  credentials: SigV4Credentials,
  date: string,
  stringToSign: string,
): Promise<string> {
  let key = await hmac(
    utf8.encode(`AWS4${credentials.secretAccessKey.reveal()}`),
    date.slice(0, 8),
  );
  for (const part of [credentials.region, "s3", "aws4_request"]) key = await hmac(key, part);
  return hex(await hmac(key, stringToSign));
}

async function sign(
  method: string,
  url: URL,
  headers: Record<string, string>,
  payloadHash: string,
  credentials: SigV4Credentials,
  date: string,
): Promise<{ signedHeaders: string; signature: string }> {
  const names = Object.keys(headers).map((h) => h.toLowerCase()).sort();
  const lower = Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v.trim().replace(/\s+/g, " ")]),
  );
  const canonicalRequest = [
    method,
    canonicalPath(url.pathname),
    canonicalQuery(url.searchParams),
    names.map((n) => `${n}:${lower[n]}\n`).join(""),
    names.join(";"),
    payloadHash,
  ].join("\n");
  const scope = `${date.slice(0, 8)}/${credentials.region}/s3/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${date}\n${scope}\n${await sha256Hex(canonicalRequest)}`;
  return {
    signedHeaders: names.join(";"),
    signature: await signature(credentials, date, stringToSign),
  };
}

/**
 * Signs an S3 request in its headers: returns the headers to send (the given ones, `host`,
 * `x-amz-date`, `x-amz-content-sha256`, `x-amz-security-token` with a session token, and
 * `authorization`).
 *
 * @param request Method, URL, headers and payload hash.
 * @param credentials Keys and region.
 * @param now The signing time (default: now).
 * @returns The headers to send, `authorization` included.
 *
 * @example Sign a GET
 * ```ts
 * import { signV4 } from "./sig_v4.ts";
 * import { Secret } from "../../clarifai/secret.ts";
 * import { assertMatch } from "@std/assert";
 *
 * const headers = await signV4(
 *   { method: "GET", url: new URL("http://127.0.0.1:9000/bucket/cats/01.jpg") },
 *   { accessKeyId: "AKID", secretAccessKey: new Secret("secret"), region: "us-east-1" },
 * );
 * assertMatch(headers.authorization, /^AWS4-HMAC-SHA256 Credential=AKID\/\d{8}\/us-east-1\/s3\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/);
 * ```
 */
export async function signV4(
  request: SigV4Request,
  credentials: SigV4Credentials,
  now: Date = new Date(),
): Promise<Record<string, string>> {
  const date = amzDate(now);
  const payloadHash = request.payloadHash ?? EMPTY_SHA256;
  const headers: Record<string, string> = {
    ...request.headers,
    host: request.url.host,
    "x-amz-date": date,
    "x-amz-content-sha256": payloadHash,
  };
  if (credentials.sessionToken) {
    headers["x-amz-security-token"] = credentials.sessionToken.reveal();
  }
  const signed = await sign(request.method, request.url, headers, payloadHash, credentials, date);
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${
    date.slice(0, 8)
  }/${credentials.region}/s3/aws4_request, SignedHeaders=${signed.signedHeaders}, Signature=${signed.signature}`;
  delete headers.host; // fetch sets it from the URL
  return headers;
}

/**
 * Makes a presigned URL: anyone holding it may send `method` to `url` until it expires, with no
 * other credentials. The access key ID (and a session token, when the credentials have one) are
 * part of the URL, as S3 requires; the secret key is not.
 *
 * @param method The HTTP method the URL allows (`GET`).
 * @param url The object's URL.
 * @param credentials Keys and region.
 * @param options `expiresSeconds` (1 to 604,800, S3's limit) and the signing time.
 * @returns The presigned URL.
 * @throws {RangeError} When `expiresSeconds` is out of range.
 *
 * @example Presign a GET for an hour
 * ```ts
 * import { presignV4 } from "./sig_v4.ts";
 * import { Secret } from "../../clarifai/secret.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const url = await presignV4(
 *   "GET",
 *   new URL("https://bucket.s3.amazonaws.com/cats/01.jpg"),
 *   { accessKeyId: "AKID", secretAccessKey: new Secret("secret"), region: "us-east-1" },
 *   { expiresSeconds: 3600 },
 * );
 * assertEquals(url.searchParams.get("X-Amz-Expires"), "3600");
 * assertEquals(url.searchParams.get("X-Amz-Signature")?.length, 64);
 * ```
 */
export async function presignV4(
  method: string,
  url: URL,
  credentials: SigV4Credentials,
  options: { expiresSeconds: number; now?: Date },
): Promise<URL> {
  const { expiresSeconds } = options;
  if (!Number.isInteger(expiresSeconds) || expiresSeconds < 1 || expiresSeconds > 604_800) {
    throw new RangeError(
      `Cannot presign: expiresSeconds must be an integer from 1 to 604800 (7 days): current value is ${expiresSeconds}`,
    );
  }
  const date = amzDate(options.now ?? new Date());
  const out = new URL(url);
  const q = out.searchParams;
  q.set("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
  q.set(
    "X-Amz-Credential",
    `${credentials.accessKeyId}/${date.slice(0, 8)}/${credentials.region}/s3/aws4_request`,
  );
  q.set("X-Amz-Date", date);
  q.set("X-Amz-Expires", String(expiresSeconds));
  if (credentials.sessionToken) q.set("X-Amz-Security-Token", credentials.sessionToken.reveal());
  q.set("X-Amz-SignedHeaders", "host");
  const signed = await sign(
    method,
    out,
    { host: out.host },
    "UNSIGNED-PAYLOAD",
    credentials,
    date,
  );
  out.search = `${canonicalQuery(q)}&X-Amz-Signature=${signed.signature}`;
  return out;
}
