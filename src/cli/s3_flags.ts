/**
 * The flags of the upload commands that read from S3-compatible object stores (`s3://`
 * sources): where the store is, how content travels, and how long presigned URLs live.
 *
 * @module
 */
import { S3Client, s3OptionsFromEnv } from "../sources/s3/s3_client.ts";
import { parseS3Url } from "../sources/s3/s3_url.ts";
import type { RetryPolicy } from "../clarifai/retry_policy.ts";
import type { S3Via } from "../sources/s3/s3_object_opener.ts";

/** The S3 flags, for `parseArgs`. */
export const S3_FLAGS = {
  via: { type: "string" },
  "url-expiry": { type: "string" },
  "s3-endpoint": { type: "string" },
  "s3-path-style": { type: "boolean" },
} as const;

/** Help text of the S3 flags. */
export const S3_FLAGS_HELP = `From a bucket (s3://bucket/prefix sources):
  --via bytes|url        bytes: upflow reads each object and sends its bytes (default);
                         url: upflow sends a presigned GET URL and Clarifai fetches it
  --url-expiry TIME      how long presigned URLs stay valid: seconds, or 30m, 12h, 7d
                         (default 24h; at most 7d)
  --s3-endpoint URL      an S3-compatible store (MinIO, R2, Ceph…); AWS_ENDPOINT_URL
  --s3-path-style        path-style addressing (endpoint/bucket/key)
  Credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION
  (none: unsigned requests, for public buckets). They are never printed or journaled.`;

/** The parsed S3 flags. */
export interface S3FlagValues {
  /** `--via`. */
  via?: string;
  /** `--url-expiry`. */
  "url-expiry"?: string;
  /** `--s3-endpoint`. */
  "s3-endpoint"?: string;
  /** `--s3-path-style`. */
  "s3-path-style"?: boolean;
}

/** What the S3 flags configure. */
export interface S3Settings {
  /** The client, from the environment and the flags. */
  client: S3Client;
  /** How content travels. */
  via: S3Via;
  /** Lifetime of presigned URLs, seconds. */
  urlExpiresSeconds: number;
}

const UNITS: Record<string, number> = { "": 1, s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * Parses a duration: whole seconds, or a number with `s`, `m`, `h` or `d`.
 *
 * @param text The flag's value.
 * @returns Seconds.
 * @throws {RangeError} When it is not a duration from 1 second to 7 days.
 *
 * @example Usage
 * ```ts
 * import { parseExpiry } from "./s3_flags.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(parseExpiry("90"), 90);
 * assertEquals(parseExpiry("12h"), 43_200);
 * assertEquals(parseExpiry("7d"), 604_800);
 * ```
 */
export function parseExpiry(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  const seconds = match ? Number(match[1]) * UNITS[match[2]] : NaN;
  if (!(seconds >= 1 && seconds <= 604_800)) {
    throw new RangeError(
      `--url-expiry must be a duration from 1s to 7d (seconds, or with s, m, h, d): got "${text}"`,
    );
  }
  return seconds;
}

/**
 * Builds the S3 settings of a run from the AWS environment variables and the flags (a flag
 * wins over its variable).
 *
 * @param values The parsed flags.
 * @param env Where to read the AWS variables (default `Deno.env`).
 * @param retry The run's retry policy, which S3 calls share (default: the client's own).
 * @returns The client, `via` and the URLs' lifetime.
 * @throws {RangeError} When a flag's value is invalid.
 *
 * @example Usage
 * ```ts
 * import { s3SettingsFrom } from "./s3_flags.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const settings = s3SettingsFrom(
 *   { via: "url", "url-expiry": "2h", "s3-endpoint": "http://127.0.0.1:9000" },
 *   new Map(),
 * );
 * assertEquals([settings.via, settings.urlExpiresSeconds], ["url", 7200]);
 * assertEquals(settings.client.endpoint, "http://127.0.0.1:9000");
 * ```
 */
export function s3SettingsFrom(
  values: S3FlagValues,
  env: { get(name: string): string | undefined } = Deno.env,
  retry?: RetryPolicy,
): S3Settings {
  const via = values.via ?? "bytes";
  if (via !== "bytes" && via !== "url") {
    throw new RangeError(`--via must be bytes or url: got "${via}"`);
  }
  const urlExpiresSeconds = values["url-expiry"] === undefined
    ? 86_400
    : parseExpiry(values["url-expiry"]);
  const options = s3OptionsFromEnv(env);
  if (values["s3-endpoint"] !== undefined) options.endpoint = values["s3-endpoint"];
  if (values["s3-path-style"]) options.pathStyle = true;
  if (retry) options.retry = retry;
  let client: S3Client;
  try {
    client = new S3Client(options);
  } catch (error) {
    throw new RangeError((error as Error).message.replace("Cannot create S3Client: ", ""));
  }
  return { client, via, urlExpiresSeconds };
}

/**
 * Refuses S3 flags on a source that is not in a bucket. (The functions here throw `RangeError`s
 * worded for the command line; the commands turn them into usage errors.)
 *
 * @param values The parsed flags.
 * @throws {RangeError} When an S3 flag is given.
 */
export function refuseS3Flags(values: S3FlagValues): void {
  for (const name of Object.keys(S3_FLAGS) as (keyof S3FlagValues)[]) {
    if (values[name] !== undefined) {
      throw new RangeError(`--${name} works only with s3:// sources`);
    }
  }
}

/**
 * Checks an `s3://bucket/key` argument before a run starts.
 *
 * @param text The argument.
 * @throws {RangeError} When it is not a valid `s3://` address.
 *
 * @example Usage
 * ```ts
 * import { checkS3Address } from "./s3_flags.ts";
 * import { assertThrows } from "@std/assert";
 *
 * checkS3Address("s3://pets/cats");
 * assertThrows(() => checkS3Address("s3://x"), RangeError);
 * ```
 */
export function checkS3Address(text: string): void {
  try {
    parseS3Url(text);
  } catch (error) {
    throw new RangeError((error as Error).message);
  }
}
