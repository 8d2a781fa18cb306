/**
 * The upload options of every face in one schema: each option's neutral name and rule, and
 * {@linkcode parseUploadOptions}, which checks raw values (text from a command line or a query
 * string, or JSON values) against it. The CLI maps its flags onto these names and the upload
 * service its query parameters; each words the problems in its own names.
 *
 * @module
 */
import type { InputKind } from "../inputs/input_draft.ts";
import { INPUT_KINDS } from "../inputs/input_draft.ts";
import { RetryPolicy } from "../clarifai/retry_policy.ts";
import { CSV_TYPES, type CsvType, resolveCsvType } from "../sources/csv_source.ts";
import type { UploadOptions } from "./upload.ts";
import { MAX_SHARDS, parseShard } from "../inputs/shard.ts";
import { EXISTING_POLICIES } from "../pipeline/presence_stream.ts";
import { PathFilter } from "../sources/path_filter.ts";

/** What values an option takes. */
export type OptionRule =
  | { readonly type: "integer"; readonly min: number; readonly max: number }
  | { readonly type: "number"; readonly above: number; readonly below: number }
  | { readonly type: "boolean" }
  | { readonly type: "string" }
  | { readonly type: "choice"; readonly choices: readonly string[] }
  | { readonly type: "kinds"; readonly many: boolean }
  | { readonly type: "shard" }
  | { readonly type: "patterns" };

/**
 * Every upload option, by neutral name: the engine's options (dataset, batching, limits, run
 * mode), the sources' (kinds, CSV type, labels, walk), the retry's and the target's.
 */
export const UPLOAD_OPTION_RULES = {
  datasetId: { type: "string" },
  createDataset: { type: "boolean" },
  batchSize: { type: "integer", min: 1, max: 128 },
  maxBatchMegabytes: { type: "number", above: 0, below: 128 },
  concurrency: { type: "integer", min: 1, max: 64 },
  rps: { type: "integer", min: 0, max: 100_000 },
  retries: { type: "integer", min: 1, max: 100 },
  dryRun: { type: "boolean" },
  wait: { type: "boolean" },
  journal: { type: "string" },
  inputType: { type: "kinds", many: false },
  inputTypes: { type: "kinds", many: true },
  csvType: { type: "choice", choices: CSV_TYPES },
  labels: { type: "boolean" },
  recursive: { type: "boolean" },
  idFrom: { type: "choice", choices: ["stem", "path"] },
  newIdsForDuplicates: { type: "boolean" },
  base: { type: "string" },
  userId: { type: "string" },
  appId: { type: "string" },
  transport: { type: "choice", choices: ["grpc", "grpc-web"] },
  shard: { type: "shard" },
  existing: { type: "choice", choices: EXISTING_POLICIES },
  noDigest: { type: "boolean" },
  createVersion: { type: "boolean" },
  include: { type: "patterns" },
  exclude: { type: "patterns" },
} as const satisfies Record<string, OptionRule>;

/** The neutral name of an upload option. */
export type UploadOptionName = keyof typeof UPLOAD_OPTION_RULES;

/**
 * Raw option values by neutral name: text (`"64"`, `"true"`) or JSON values; a list of texts
 * for an option given more than once (`include`, `exclude`).
 */
export type RawUploadOptions = Partial<
  Record<UploadOptionName, string | number | boolean | readonly string[]>
>;

/** The options {@linkcode parseUploadOptions} returns: the engine's and the sources'. */
export interface ParsedUploadOptions extends UploadOptions {
  /** CSV: the kind of every input. */
  inputType?: InputKind;
  /** Folder: the kinds to upload. */
  inputTypes?: InputKind[];
  /** CSV: what the `input` column holds (resolved by the SDKs' rule when `inputType` is set). */
  csvType?: CsvType;
  /** CSV: read the concepts column. Folder: label by folder name. */
  labels?: boolean;
  /** Folder: walk subfolders. */
  recursive?: boolean;
  /** Folder: IDs from file stems or relative paths. */
  idFrom?: "stem" | "path";
  /** Retry: re-send duplicates under fresh IDs. */
  newIdsForDuplicates?: boolean;
  /** Folder: glob patterns of files to keep (see `PathFilter`). */
  include?: string[];
  /** Folder: glob patterns of files and folders to skip. */
  exclude?: string[];
}

/** A value that breaks its option's rule, for a face to word in its own names. */
export type OptionProblem =
  | {
    /** The value does not fit the rule. */
    readonly kind: "invalid";
    /** The option. */
    readonly name: UploadOptionName;
    /** What the rule wants, for people: `an integer from 1 to 128`. */
    readonly expected: string;
    /** The value given. */
    readonly value: unknown;
  }
  | {
    /** Raw text (`csvType: "raw"`) asked for inputs that are not text. */
    readonly kind: "rawNeedsText";
    /** The option. */
    readonly name: "csvType";
    /** The input type given. */
    readonly value: InputKind;
  }
  | {
    /** A dataset version was asked for, but no dataset named. */
    readonly kind: "versionNeedsDataset";
    /** The option. */
    readonly name: "createVersion";
    /** The value given. */
    readonly value: true;
  }
  | {
    /** A glob pattern that does not parse. */
    readonly kind: "badPattern";
    /** The option. */
    readonly name: "include" | "exclude";
    /** The pattern given. */
    readonly value: string;
    /** Why, for people: `Invalid pattern "[a": "[" is not closed`. */
    readonly reason: string;
  };

/** Words an {@linkcode OptionProblem} as an error, in a face's own names. */
export type OptionProblemError = (problem: OptionProblem) => Error;

/**
 * The problem as a sentence, with each option named by `nameOf`.
 *
 * @param problem The problem.
 * @param nameOf A face's name for an option (default: the neutral name).
 * @returns `batch_size must be an integer from 1 to 128: got "0"`, and so on.
 *
 * @example A query parameter's wording
 * ```ts
 * import { describeOptionProblem } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const snake = (name: string) => name.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
 * assertEquals(
 *   describeOptionProblem(
 *     { kind: "invalid", name: "batchSize", expected: "an integer from 1 to 128", value: "0" },
 *     snake,
 *   ),
 *   'batch_size must be an integer from 1 to 128: got "0"',
 * );
 * ```
 */
export function describeOptionProblem(
  problem: OptionProblem,
  nameOf: (name: UploadOptionName) => string = (name) => name,
): string {
  if (problem.kind === "versionNeedsDataset") {
    return `${nameOf("createVersion")} needs ${
      nameOf("datasetId")
    }: a version is made of a dataset`;
  }
  if (problem.kind === "rawNeedsText") {
    return `${nameOf("csvType")} raw works only with ${nameOf("inputType")} text: got ${
      JSON.stringify(problem.value)
    }`;
  }
  if (problem.kind === "badPattern") return `${nameOf(problem.name)}: ${problem.reason}`;
  return `${nameOf(problem.name)} must be ${problem.expected}: got ${
    JSON.stringify(problem.value)
  }`;
}

/**
 * The engine's own wording, in the style of the stages' constructors:
 * `RangeError("Cannot start upload: batchSize must be an integer from 1 to 128: current value is 0")`.
 */
function neutralError(problem: OptionProblem): Error {
  const where = "Cannot start upload";
  if (problem.kind === "versionNeedsDataset") {
    return new TypeError(`${where}: createVersion needs datasetId: a version is made of a dataset`);
  }
  if (problem.kind === "badPattern") return new SyntaxError(`${where}: ${problem.reason}`);
  if (problem.kind === "rawNeedsText") {
    return new RangeError(
      `${where}: csvType "raw" holds text, so inputType must be "text": current value is ${
        JSON.stringify(problem.value)
      }`,
    );
  }
  const message = `${where}: ${problem.name} must be ${problem.expected}: current value is ${
    JSON.stringify(problem.value)
  }`;
  return shapeFits(UPLOAD_OPTION_RULES[problem.name], problem.value)
    ? new RangeError(message)
    : new TypeError(message);
}

/** Whether a value has a shape the rule can read (then a misfit is out of range, not shape). */
function shapeFits(rule: OptionRule, value: unknown): boolean {
  if (typeof value === "string") return true;
  if (typeof value === "number") return rule.type === "integer" || rule.type === "number";
  if (typeof value === "boolean") return rule.type === "boolean";
  return false;
}

function expectation(rule: OptionRule): string {
  switch (rule.type) {
    case "integer":
      return `an integer from ${rule.min} to ${rule.max}`;
    case "number":
      return `a number above ${rule.above} and under ${rule.below}`;
    case "boolean":
      return "true or false";
    case "string":
      return "a non-empty string";
    case "choice":
      return rule.choices.length === 2
        ? `${rule.choices[0]} or ${rule.choices[1]}`
        : `${rule.choices.slice(0, -1).join(", ")} or ${rule.choices.at(-1)}`;
    case "shard":
      return `K/N with N from 1 to ${MAX_SHARDS} and K from 0 to N-1 (e.g. 0/4)`;
    case "kinds":
      return rule.many
        ? `input types, comma-separated, from ${INPUT_KINDS.join(", ")}`
        : `one of ${INPUT_KINDS.join(", ")}`;
    case "patterns":
      return "glob patterns: a string or a list of strings";
  }
}

const TRUE = new Set(["", "true", "1", "yes"]);
const FALSE = new Set(["false", "0", "no"]);

/** A value by its rule, or `undefined` when it does not fit. */
function read(rule: OptionRule, raw: string | number | boolean): unknown {
  switch (rule.type) {
    case "integer":
    case "number": {
      if (typeof raw === "boolean" || (typeof raw === "string" && raw.trim() === "")) return;
      const n = Number(raw);
      if (rule.type === "integer") {
        return Number.isInteger(n) && n >= rule.min && n <= rule.max ? n : undefined;
      }
      return n > rule.above && n < rule.below ? n : undefined;
    }
    case "boolean":
      if (typeof raw === "boolean") return raw;
      if (typeof raw !== "string") return;
      return TRUE.has(raw.toLowerCase()) ? true : FALSE.has(raw.toLowerCase()) ? false : undefined;
    case "string":
      return typeof raw === "string" && raw !== "" ? raw : undefined;
    case "choice":
      return typeof raw === "string" && rule.choices.includes(raw) ? raw : undefined;
    case "shard":
      if (typeof raw !== "string") return;
      try {
        return parseShard(raw);
      } catch {
        return;
      }
    case "kinds": {
      if (typeof raw !== "string") return;
      const kinds = raw.split(",").map((k) => k.trim().toLowerCase());
      if (!kinds.every((k) => (INPUT_KINDS as readonly string[]).includes(k))) return;
      if (!rule.many) return kinds.length === 1 ? kinds[0] : undefined;
      return kinds;
    }
    case "patterns":
      return typeof raw === "string" ? [raw] : undefined;
  }
}

/**
 * Glob patterns (one text, or a list of texts), each checked as `PathFilter` reads it; a bad one
 * is a `badPattern` problem with `PathFilter`'s reason.
 */
function readPatterns(
  name: "include" | "exclude",
  raw: unknown,
  wordError: OptionProblemError,
): string[] | undefined {
  const patterns = typeof raw === "string" ? [raw] : raw;
  if (!Array.isArray(patterns) || !patterns.every((p) => typeof p === "string")) return;
  for (const pattern of patterns) {
    try {
      new PathFilter({ include: [pattern] });
    } catch (error) {
      throw wordError({
        kind: "badPattern",
        name,
        value: pattern,
        reason: (error as Error).message,
      });
    }
  }
  return [...patterns];
}

/**
 * Checks raw upload options against {@linkcode UPLOAD_OPTION_RULES} and turns them into the
 * engine's and the sources' options (`maxBatchMegabytes` into `maxBatchBytes`, `retries` into a
 * {@linkcode RetryPolicy}, `noDigest` into `digest: false`, `shard` text into a shard; `csvType` resolved by the SDKs' rule when `inputType` is given).
 * Absent (`undefined`) values stay absent.
 *
 * @param values Raw values by neutral name.
 * @param wordError Words a problem as the error to throw (default: `RangeError` or `TypeError`
 * naming the neutral option).
 * @returns The options.
 * @throws {RangeError} By default, for a value out of its range or choices.
 * @throws {TypeError} By default, for a value that is not a boolean where one is wanted.
 *
 * @example Text from a command line
 * ```ts
 * import { parseUploadOptions } from "@upflow/upflow";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const options = parseUploadOptions({ batchSize: "64", maxBatchMegabytes: "8", dryRun: true });
 * assertEquals(options.batchSize, 64);
 * assertEquals(options.maxBatchBytes, 8 * 1024 * 1024);
 * assertEquals(options.dryRun, true);
 * assertThrows(
 *   () => parseUploadOptions({ batchSize: "0" }),
 *   RangeError,
 *   'batchSize must be an integer from 1 to 128: current value is "0"',
 * );
 * assertEquals(parseUploadOptions({ inputType: "image" }).csvType, "url");
 * ```
 */
export function parseUploadOptions(
  values: RawUploadOptions,
  wordError: OptionProblemError = neutralError,
): ParsedUploadOptions {
  const checked: Partial<Record<UploadOptionName, unknown>> = {};
  for (const [name, raw] of Object.entries(values) as [UploadOptionName, unknown][]) {
    if (raw === undefined) continue;
    const rule: OptionRule | undefined = UPLOAD_OPTION_RULES[name];
    if (rule === undefined) continue;
    const value = rule.type === "patterns"
      ? readPatterns(name as "include" | "exclude", raw, wordError)
      : typeof raw === "string" || typeof raw === "number" || typeof raw === "boolean"
      ? read(rule, raw)
      : undefined;
    if (value === undefined) {
      throw wordError({ kind: "invalid", name, expected: expectation(rule), value: raw });
    }
    checked[name] = value;
  }
  const { maxBatchMegabytes, retries, noDigest, ...rest } = checked as Record<string, unknown>;
  const options = { ...rest } as ParsedUploadOptions;
  if (noDigest === true) options.digest = false;
  if (maxBatchMegabytes !== undefined) {
    options.maxBatchBytes = Math.floor((maxBatchMegabytes as number) * 1024 * 1024);
  }
  if (retries !== undefined) options.retry = new RetryPolicy({ maxAttempts: retries as number });
  if (options.inputType !== undefined) {
    const csvType = resolveCsvType(options.inputType, options.csvType);
    if (csvType === undefined) {
      throw wordError({ kind: "rawNeedsText", name: "csvType", value: options.inputType });
    }
    options.csvType = csvType;
  }
  if (options.createVersion && options.datasetId === undefined) {
    throw wordError({ kind: "versionNeedsDataset", name: "createVersion", value: true });
  }
  return options;
}
