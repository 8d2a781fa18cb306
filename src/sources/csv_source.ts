/**
 * The Clarifai CSV format as a source of drafts: {@linkcode csvSource} reads a CSV file (or a
 * stream of CSV bytes, such as an HTTP request body) with the columns the official SDKs accept,
 * `inputid,input,concepts,metadata,geopoints`, and turns each row into an input draft, or into a
 * rejection with the row's location (`data.csv:17`) and a reason a person can act on.
 *
 * The file is streamed (bytes → UTF-8 text → {@linkcode CsvRowStream} → drafts), never read
 * whole, and nothing is opened before the first read. File paths are checked, resolved and
 * `stat`ed, never read: the load stage reads them later.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { dirname, extname, isAbsolute, relative, resolve, sep } from "node:path";
import type {
  ContentSource,
  DraftOrRejection,
  GeoPointDraft,
  InputDraft,
  InputKind,
  JsonObject,
} from "../inputs/input_draft.ts";
import { INPUT_KINDS } from "../inputs/input_draft.ts";
import { cleanId, invalidIdReason } from "../inputs/ids.ts";
import { parseMetadataField } from "../inputs/metadata.ts";
import {
  invalidConceptReason,
  invalidDatasetIdReason,
  invalidUrlReason,
  parseGeoPoint,
  splitConcepts,
} from "../inputs/validate.ts";
import { type CsvRow, CsvRowStream } from "./csv_parse_stream.ts";

/** What the `input` column holds: a URL, a file path, or the text itself (text inputs only). */
export type CsvType = "url" | "file_path" | "raw";

/** Every {@linkcode CsvType}. */
export const CSV_TYPES: readonly CsvType[] = ["url", "file_path", "raw"];

/**
 * The `csv_type` rule of Clarifai's SDKs, kept here only: the `input` column of a text CSV holds
 * raw text unless told otherwise, that of other kinds URLs; raw text is for text inputs only.
 *
 * @param inputType The kind of every input.
 * @param csvType What the `input` column holds, when given.
 * @returns The `csvType` to use, or `undefined` when `"raw"` is asked for a kind other than text.
 *
 * @example Usage
 * ```ts
 * import { resolveCsvType } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(resolveCsvType("text"), "raw");
 * assertEquals(resolveCsvType("image"), "url");
 * assertEquals(resolveCsvType("image", "raw"), undefined);
 * ```
 */
export function resolveCsvType(inputType: InputKind, csvType?: CsvType): CsvType | undefined {
  const resolved = csvType ?? (inputType === "text" ? "raw" : "url");
  return resolved === "raw" && inputType !== "text" ? undefined : resolved;
}

/** The columns a Clarifai CSV may have, in their usual order; `input` is required. */
export const CSV_COLUMNS: readonly string[] = [
  "inputid",
  "input",
  "concepts",
  "metadata",
  "geopoints",
];

/** Options of {@linkcode csvSource}. */
export interface CsvSourceOptions {
  /** The kind of every input (the SDKs' `input_type`; default `"text"`). */
  inputType?: InputKind;
  /**
   * What the `input` column holds (the SDKs' `csv_type`): `"url"`, `"file_path"` or `"raw"`
   * (text inputs only). Default: `"raw"` for text, `"url"` for the other kinds.
   */
  csvType?: CsvType;
  /**
   * Read labels from the `concepts` column (default `true`, which requires the column); with
   * `false` the column may be present and is ignored.
   */
  labels?: boolean;
  /** The dataset every draft joins. */
  datasetId?: string;
  /**
   * File paths of `file_path` rows must resolve inside this folder, symlinks followed (default:
   * the folder the paths are relative to, {@linkcode CsvSourceOptions.baseDir}).
   */
  root?: string;
  /**
   * The folder relative file paths are resolved against (default: the CSV file's folder; for a
   * stream, `root`). Needed for `file_path` rows of a stream when `root` is not given.
   */
  baseDir?: string;
  /**
   * The name locations start with (`<name>:17`). Default: the CSV's path relative to the
   * current directory (as given when outside it); for a stream, `"csv"`.
   */
  name?: string;
  /**
   * Resolves the `input` of `file_path` rows somewhere else than on disk (a CSV in a bucket
   * names objects beside it): the content and the path relative to where paths start (for
   * IDs), or the reason it is refused. When given, `root` and `baseDir` are not used.
   */
  resolvePath?: (path: string) => Promise<{ content: ContentSource; relative: string } | string>;
}

interface Settings {
  kind: InputKind;
  csvType: CsvType;
  labels: boolean;
  datasetId?: string;
  root?: string;
  baseDir?: string;
  name?: string;
  resolvePath?: CsvSourceOptions["resolvePath"];
}

const WHERE = "Cannot create csvSource";

function checkOptions(options: CsvSourceOptions): Settings {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${WHERE}: options must be an object`);
  }
  const { inputType = "text", labels = true, datasetId, root, baseDir, name } = options;
  if (!INPUT_KINDS.includes(inputType)) {
    throw new RangeError(
      `${WHERE}: inputType must be one of ${INPUT_KINDS.join(", ")}: current value is ${
        JSON.stringify(inputType)
      }`,
    );
  }
  if (options.csvType !== undefined && !CSV_TYPES.includes(options.csvType)) {
    throw new RangeError(
      `${WHERE}: csvType must be "url", "file_path" or "raw": current value is ${
        JSON.stringify(options.csvType)
      }`,
    );
  }
  const csvType = resolveCsvType(inputType, options.csvType);
  if (csvType === undefined) {
    throw new RangeError(
      `${WHERE}: csvType "raw" holds text, so inputType must be "text": current value is ${
        JSON.stringify(inputType)
      }`,
    );
  }
  if (typeof labels !== "boolean") {
    throw new TypeError(
      `${WHERE}: labels must be a boolean: current value is ${JSON.stringify(labels)}`,
    );
  }
  if (datasetId !== undefined) {
    const reason = typeof datasetId === "string"
      ? invalidDatasetIdReason(datasetId)
      : "dataset ID must be a string";
    if (reason !== undefined) throw new RangeError(`${WHERE}: ${reason}`);
  }
  for (const [key, value] of [["root", root], ["baseDir", baseDir], ["name", name]]) {
    if (value !== undefined && (typeof value !== "string" || value === "")) {
      throw new TypeError(
        `${WHERE}: ${key} must be a non-empty string: current value is ${JSON.stringify(value)}`,
      );
    }
  }
  const { resolvePath } = options;
  if (resolvePath !== undefined && typeof resolvePath !== "function") {
    throw new TypeError(`${WHERE}: resolvePath must be a function`);
  }
  return { kind: inputType, csvType, labels, datasetId, root, baseDir, name, resolvePath };
}

/** Column positions in the header; -1 when absent. */
interface Columns {
  width: number;
  inputid: number;
  input: number;
  concepts: number;
  metadata: number;
  geopoints: number;
}

function readHeader(header: CsvRow, name: string, labels: boolean): Columns {
  const at = `${name}:${header.line}`;
  if (header.error !== undefined) throw new SyntaxError(`${at}: the header: ${header.error}`);
  const allowed = CSV_COLUMNS.join(", ");
  const columns: Columns = {
    width: header.fields.length,
    inputid: -1,
    input: -1,
    concepts: -1,
    metadata: -1,
    geopoints: -1,
  };
  header.fields.forEach((field, index) => {
    const column = field.trim().toLowerCase();
    if (!CSV_COLUMNS.includes(column)) {
      throw new Error(
        `${at}: unknown column ${JSON.stringify(field)} in the header: allowed are ${allowed}`,
      );
    }
    const key = column as keyof Omit<Columns, "width">;
    if (columns[key] !== -1) {
      throw new Error(`${at}: column ${JSON.stringify(column)} appears twice in the header`);
    }
    columns[key] = index;
  });
  if (columns.input === -1) {
    throw new Error(`${at}: the header has no "input" column: allowed columns are ${allowed}`);
  }
  if (labels && columns.concepts === -1) {
    throw new Error(
      `${at}: labels are on but the header has no "concepts" column (turn labels off to upload without concepts)`,
    );
  }
  return columns;
}

/** Whether `path` is strictly inside `root` (both absolute, normalized). */
function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

function contentHashId(prefix: string, text: string): string {
  return prefix + createHash("sha256").update(text).digest("hex").slice(0, 20);
}

function fsReason(error: unknown, field: string): string {
  if (error instanceof Deno.errors.NotFound) return `file not found: ${field}`;
  if (error instanceof Deno.errors.PermissionDenied) return `permission denied: ${field}`;
  if (error instanceof Deno.errors.NotCapable) {
    return `not allowed by Deno's permissions (--allow-read): ${field}`;
  }
  if (error instanceof Deno.errors.FilesystemLoop) return `symlink loop: ${field}`;
  return `cannot open ${field}: ${error instanceof Error ? error.message : String(error)}`;
}

function displayName(path: string): string {
  try {
    const rel = relative(Deno.cwd(), resolve(path));
    if (isInside(Deno.cwd(), resolve(path))) return rel.replaceAll("\\", "/");
  } catch {
    // no read permission for the current directory: keep the path as given
  }
  return path;
}

/** Where file paths resolve, computed on the first read. */
interface Paths {
  baseDir: string;
  rootLexical: string;
  rootReal: string;
}

/** Turns the rows of one CSV into drafts and rejections. */
class CsvRecords {
  readonly #settings: Settings;
  readonly #name: string;
  readonly #columns: Columns;
  readonly #paths?: Paths;

  constructor(settings: Settings, name: string, columns: Columns, paths?: Paths) {
    this.#settings = settings;
    this.#name = name;
    this.#columns = columns;
    this.#paths = paths;
  }

  /** The row's draft or rejection; a promise only for `file_path` rows (they touch the disk). */
  item(row: CsvRow): DraftOrRejection | Promise<DraftOrRejection> {
    const location = `${this.#name}:${row.line}`;
    const fields = row.fields;
    const columns = this.#columns;
    let id: string | undefined;
    const reject = (reason: string): DraftOrRejection => ({
      type: "rejected",
      rejection: id === undefined ? { location, reason } : { location, reason, id },
    });
    if (row.error !== undefined) return reject(row.error);
    if (fields.length !== columns.width) {
      return reject(
        `the row has ${fields.length} field${
          fields.length === 1 ? "" : "s"
        } but the header has ${columns.width}`,
      );
    }
    if (columns.inputid !== -1) {
      const given = fields[columns.inputid].trim();
      if (given !== "") {
        const reason = invalidIdReason(given);
        if (reason !== undefined) return reject(`inputid: ${reason}`);
        id = given;
      }
    }
    let concepts: string[] = [];
    if (this.#settings.labels) {
      concepts = splitConcepts(fields[columns.concepts]);
      for (const concept of concepts) {
        const reason = invalidConceptReason(concept);
        if (reason !== undefined) return reject(`concepts: ${reason}`);
      }
    }
    let metadata: JsonObject | undefined;
    if (columns.metadata !== -1) {
      try {
        metadata = parseMetadataField(fields[columns.metadata]);
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
        return reject(`metadata: ${error.message}`);
      }
    }
    let geo: GeoPointDraft | undefined;
    if (columns.geopoints !== -1 && fields[columns.geopoints].trim() !== "") {
      const point = parseGeoPoint(fields[columns.geopoints]);
      if (typeof point === "string") {
        return reject(point.startsWith("geopoints") ? point : `geopoints: ${point}`);
      }
      geo = point;
    }
    const input = fields[columns.input];
    let content: ContentSource;
    switch (this.#settings.csvType) {
      case "url": {
        const url = input.trim();
        if (url === "") return reject("input: the URL is empty");
        const reason = invalidUrlReason(url);
        if (reason !== undefined) return reject(`input: ${reason}`);
        content = { type: "url", url };
        id ??= contentHashId("u-", url);
        break;
      }
      case "raw": {
        if (input.trim() === "") return reject("input: the text is empty");
        content = { type: "raw", text: input };
        id ??= contentHashId("t-", input);
        break;
      }
      case "file_path": {
        const path = input.trim();
        if (path === "") return reject("input: the file path is empty");
        const resolvePath = this.#settings.resolvePath;
        if (resolvePath !== undefined) {
          return resolvePath(path).then((found) => {
            if (typeof found === "string") return reject(found);
            const rel = found.relative;
            id ??= cleanId(rel.slice(0, rel.length - extname(rel).length));
            if (id === "") {
              return reject(
                `cannot derive an input ID from the path ${
                  JSON.stringify(path)
                }: add an inputid column`,
              );
            }
            return this.#draft(id, found.content, location, concepts, metadata, geo);
          });
        }
        return this.#resolveFile(path).then((file) => {
          if (typeof file === "string") return reject(file);
          if (id === undefined) {
            const rel = relative(this.#paths!.baseDir, resolve(this.#paths!.baseDir, path));
            const derived = cleanId(rel.slice(0, rel.length - extname(rel).length));
            if (derived === "") {
              return reject(
                `cannot derive an input ID from the path ${
                  JSON.stringify(path)
                }: add an inputid column`,
              );
            }
            id = derived;
          }
          const content: ContentSource = { type: "file", path: file.path, size: file.size };
          return this.#draft(id, content, location, concepts, metadata, geo);
        });
      }
    }
    return this.#draft(id, content, location, concepts, metadata, geo);
  }

  #draft(
    id: string,
    content: ContentSource,
    location: string,
    concepts: string[],
    metadata: JsonObject | undefined,
    geo: GeoPointDraft | undefined,
  ): DraftOrRejection {
    const draft: InputDraft = { id, kind: this.#settings.kind, content, location, concepts };
    if (metadata !== undefined) draft.metadata = metadata;
    if (geo !== undefined) draft.geo = geo;
    if (this.#settings.datasetId !== undefined) draft.datasetId = this.#settings.datasetId;
    return { type: "draft", draft };
  }

  /** Resolves a file path of the CSV inside the root: the real path and size, or a reason. */
  async #resolveFile(field: string): Promise<{ path: string; size: number } | string> {
    const { baseDir, rootLexical, rootReal } = this.#paths!;
    const lexical = resolve(baseDir, field);
    if (!isInside(rootLexical, lexical) && !isInside(rootReal, lexical)) {
      return `file path ${JSON.stringify(field)} is outside the root folder`;
    }
    let real: string;
    let info: Deno.FileInfo;
    try {
      real = await Deno.realPath(lexical);
      if (!isInside(rootReal, real)) {
        return `file path ${JSON.stringify(field)} leads outside the root folder through a symlink`;
      }
      info = await Deno.stat(real);
    } catch (error) {
      return fsReason(error, field);
    }
    if (!info.isFile) return `not a file: ${field}`;
    return { path: real, size: info.size };
  }
}

/** Gives stream errors the CSV's name: `data.csv:7: unterminated quoted field`. */
function withName(error: unknown, name: string): unknown {
  if (error instanceof SyntaxError) {
    const match = /^Syntax error on line (\d+): ([^]*)$/.exec(error.message);
    if (match !== null) {
      return new SyntaxError(`${name}:${match[1]}: ${match[2]}`, { cause: error });
    }
  }
  if (error instanceof TypeError && /encoded data|invalid.*utf|decode/i.test(error.message)) {
    return new TypeError(`${name}: the file is not valid UTF-8 text`, { cause: error });
  }
  return error;
}

/**
 * Reads a Clarifai CSV (the official SDKs' `upload_from_csv` format) as drafts. The header may
 * hold only `inputid, input, concepts, metadata, geopoints` (trimmed, any case; `input`
 * required, `concepts` too when `labels` is on); a bad header errors the stream, naming
 * `<file>:1`. Each data row becomes a draft, or a rejection located at `<file>:<line>`:
 *
 * - a row with another number of fields than the header is rejected;
 * - `inputid` is the ID when present and not empty (checked by Clarifai's rules); otherwise a
 *   file path gives the cleaned path relative to the CSV's folder without extension
 *   (`images/Cat 01.jpg` → `images_cat_01`), a URL gives `u-` and a text `t-` followed by 20 hex
 *   digits of the SHA-256 of the content, so re-runs get the same IDs;
 * - `concepts` are comma-separated; `metadata` is JSON or a Python dict
 *   ({@linkcode parseMetadataField}); `geopoints` is `"longitude,latitude"`;
 * - `input` is a http(s) URL, a file path (relative to the CSV's folder, or absolute; it must
 *   exist and stay inside `root` once symlinks are resolved; the draft holds its real path and
 *   size, the bytes are read later), or non-empty raw text.
 *
 * The text is read as Python's `csv` module (which Clarifai's SDK uses) reads it: a quote inside
 * an unquoted field is kept (`a1,Great 12" pizza,food`). A quote that is never closed rejects
 * the row it opens in (`data.csv:7: unterminated quoted field: the quote opened on line 7,
 * column 4 is never closed …`), and the lines after the quote's line are read again as rows.
 * Cancelling the stream closes the file.
 *
 * @param csv The CSV file's path, or a stream of its bytes (UTF-8).
 * @param options The input kind, what the `input` column holds, labels, dataset, root folder,
 * base folder and display name.
 * @returns A stream of drafts and rejections, one per data row, in file order.
 * @throws {RangeError} When an option is out of range (`csvType: "raw"` with a kind other
 * than text, an invalid dataset ID).
 * @throws {TypeError} When an option has the wrong type, or a stream of `file_path` rows has
 * neither `baseDir` nor `root`.
 *
 * @example Raw text rows with concepts and Python-dict metadata
 * ```ts
 * import { csvSource } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const csv = [
 *   "inputid,input,concepts,metadata",
 *   `review-1,"Great, would buy again","positive,short","{'stars': 5, 'ok': True}"`,
 *   "review-2,,negative,",
 * ].join("\n");
 * const bytes = ReadableStream.from([new TextEncoder().encode(csv)]);
 * const items = await Array.fromAsync(csvSource(bytes, { name: "reviews.csv" }));
 * assertEquals(items, [
 *   {
 *     type: "draft",
 *     draft: {
 *       id: "review-1",
 *       kind: "text",
 *       content: { type: "raw", text: "Great, would buy again" },
 *       location: "reviews.csv:2",
 *       concepts: ["positive", "short"],
 *       metadata: { stars: 5, ok: true },
 *     },
 *   },
 *   {
 *     type: "rejected",
 *     rejection: { location: "reviews.csv:3", reason: "input: the text is empty", id: "review-2" },
 *   },
 * ]);
 * ```
 *
 * @example Image files listed in a CSV
 * ```ts
 * import { csvSource } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.mkdir(`${dir}/images`);
 * await Deno.writeFile(`${dir}/images/Cat 01.jpg`, new Uint8Array(10));
 * await Deno.writeTextFile(
 *   `${dir}/data.csv`,
 *   'input,concepts,geopoints\nimages/Cat 01.jpg,cat,"-73.98,40.75"\n../secret.jpg,cat,\n',
 * );
 * const items = await Array.fromAsync(
 *   csvSource(`${dir}/data.csv`, { inputType: "image", csvType: "file_path", name: "data.csv" }),
 * );
 * assertEquals(items[0], {
 *   type: "draft",
 *   draft: {
 *     id: "images_cat_01",
 *     kind: "image",
 *     content: { type: "file", path: `${dir}/images/Cat 01.jpg`, size: 10 },
 *     location: "data.csv:2",
 *     concepts: ["cat"],
 *     geo: { longitude: -73.98, latitude: 40.75 },
 *   },
 * });
 * assertEquals(items[1], {
 *   type: "rejected",
 *   rejection: { location: "data.csv:3", reason: 'file path "../secret.jpg" is outside the root folder' },
 * });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function csvSource(
  csv: string | ReadableStream<Uint8Array>,
  options: CsvSourceOptions = {},
): ReadableStream<DraftOrRejection> {
  const settings = checkOptions(options);
  const isPath = typeof csv === "string";
  if (!isPath && !(csv instanceof ReadableStream)) {
    throw new TypeError(`${WHERE}: csv must be a path or a ReadableStream of bytes`);
  }
  if (isPath && csv === "") throw new TypeError(`${WHERE}: the CSV path is empty`);
  if (
    !isPath && settings.csvType === "file_path" && settings.baseDir === undefined &&
    settings.root === undefined && settings.resolvePath === undefined
  ) {
    throw new TypeError(
      `${WHERE}: file paths of a CSV stream need a folder to resolve in: give baseDir or root`,
    );
  }
  let rows: ReadableStreamDefaultReader<CsvRow> | undefined;
  let records: CsvRecords | undefined;
  let name = settings.name ?? (isPath ? csv : "csv");
  let cancelled = false;

  const open = async (): Promise<void> => {
    let bytes: ReadableStream<Uint8Array>;
    if (isPath) {
      name = settings.name ?? displayName(csv);
      bytes = (await Deno.open(csv)).readable;
    } else {
      bytes = csv;
    }
    rows = bytes
      .pipeThrough(new TextDecoderStream("utf-8", { fatal: true }))
      .pipeThrough(new CsvRowStream())
      .getReader();
    const header = await read();
    if (header === undefined) {
      throw new Error(
        `${name}: the CSV is empty: expected a header row such as ${CSV_COLUMNS.join(",")}`,
      );
    }
    const columns = readHeader(header, name, settings.labels);
    let paths: Paths | undefined;
    if (settings.csvType === "file_path" && settings.resolvePath === undefined) {
      const baseDir = resolve(
        settings.baseDir ?? (isPath ? dirname(resolve(csv)) : settings.root!),
      );
      const rootLexical = resolve(settings.root ?? baseDir);
      let rootReal: string;
      try {
        rootReal = await Deno.realPath(rootLexical);
      } catch (error) {
        throw new Error(`${name}: cannot use the root folder ${rootLexical}`, { cause: error });
      }
      paths = { baseDir, rootLexical, rootReal };
    }
    records = new CsvRecords(settings, name, columns, paths);
  };

  const read = async (): Promise<CsvRow | undefined> => {
    try {
      const { done, value } = await rows!.read();
      return done ? undefined : value;
    } catch (error) {
      throw withName(error, name);
    }
  };

  return new ReadableStream<DraftOrRejection>({
    async pull(controller) {
      try {
        if (records === undefined) await open();
        if (cancelled) { // cancelled while opening
          await rows?.cancel();
          return;
        }
        const row = await read();
        if (row === undefined) {
          controller.close();
          return;
        }
        const item = records!.item(row);
        controller.enqueue(item instanceof Promise ? await item : item);
      } catch (error) {
        // Close the file (a bad header leaves it open; a parse error has closed it already).
        await rows?.cancel(error).catch(() => {});
        throw error;
      }
    },
    async cancel(reason) {
      cancelled = true;
      if (rows !== undefined) await rows.cancel(reason);
      else if (!isPath) await csv.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
