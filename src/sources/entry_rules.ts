/**
 * The rules a folder walk and a bucket listing share: their options, the kind of an entry from
 * its extension, and the draft an entry becomes (its ID from its name or path, its label from
 * its folder). `folderSource` and `s3FolderSource` differ only in where the entries come from.
 *
 * @module
 */
import type {
  ContentSource,
  DraftOrRejection,
  InputDraft,
  InputKind,
} from "../inputs/input_draft.ts";
import { INPUT_KINDS } from "../inputs/input_draft.ts";
import { cleanId, invalidIdReason } from "../inputs/ids.ts";
import { invalidConceptReason, invalidDatasetIdReason } from "../inputs/validate.ts";
import { PathFilter } from "./path_filter.ts";

/** The options every entry source takes, as given. */
export interface EntryOptionsInput {
  recursive?: boolean;
  inputTypes?: readonly InputKind[];
  labels?: boolean;
  idFrom?: "stem" | "path";
  datasetId?: string;
  include?: readonly string[];
  exclude?: readonly string[];
}

/** The options every entry source takes, checked. */
export interface EntryOptions {
  recursive: boolean;
  kinds: ReadonlySet<InputKind>;
  labels: boolean;
  idFrom: "stem" | "path";
  datasetId?: string;
  filter: PathFilter;
}

/** What the kinds' extensions are called in skip reasons. */
export const KIND_WORDS = "an image, text, video or audio extension";

const KIND_BY_EXTENSION: ReadonlyMap<string, InputKind> = new Map<string, InputKind>([
  ...["jpg", "jpeg", "png", "tiff", "tif", "webp", "bmp", "gif"].map((e) => [e, "image"] as const),
  ["txt", "text"],
  ...["mp4", "mov", "avi", "wmv", "3gp"].map((e) => [e, "video"] as const),
  ["wav", "audio"],
]);

/**
 * The input kind of a file extension, as the folder walk judges it (case-insensitive, without
 * the dot): images `jpg jpeg png tiff tif webp bmp gif`, text `txt`, video `mp4 mov avi wmv 3gp`,
 * audio `wav`.
 *
 * @param extension The extension, without the dot.
 * @returns The kind, or `undefined` for an extension of no input kind.
 *
 * @example Usage
 * ```ts
 * import { kindOfExtension } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(kindOfExtension("JPG"), "image");
 * assertEquals(kindOfExtension("md"), undefined);
 * ```
 */
export function kindOfExtension(extension: string): InputKind | undefined {
  return KIND_BY_EXTENSION.get(extension.toLowerCase());
}

/** An entry's name split at its last dot (a leading dot starts no extension). */
export function extensionOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1) : "";
}

/** Why an entry with this extension (and no kind) is skipped. */
export function noKindReason(extension: string): string {
  return extension === ""
    ? `no extension: not ${KIND_WORDS}`
    : `extension ".${extension}" is not ${KIND_WORDS}`;
}

/** Why an entry of this kind is skipped, or `undefined` when its kind is wanted. */
export function unwantedKindReason(
  kind: InputKind,
  kinds: ReadonlySet<InputKind>,
): string | undefined {
  return kinds.has(kind) ? undefined : `${kind} file: inputTypes is ${[...kinds].join(", ")}`;
}

/**
 * Checks the shared options (`where` names the caller in errors: `Cannot create folderSource:
 * …`) and the given boolean ones, and returns them with their defaults.
 */
export function checkEntryOptions(
  where: string,
  options: EntryOptionsInput,
  booleans: Record<string, unknown> = {},
): EntryOptions {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`Cannot create ${where}: options must be an object`);
  }
  const { recursive = false, labels = false, idFrom = "stem", datasetId } = options;
  for (const [name, value] of Object.entries({ recursive, labels, ...booleans })) {
    if (typeof value !== "boolean") {
      throw new TypeError(
        `Cannot create ${where}: ${name} must be a boolean: current value is ${
          JSON.stringify(value)
        }`,
      );
    }
  }
  if (idFrom !== "stem" && idFrom !== "path") {
    throw new RangeError(
      `Cannot create ${where}: idFrom must be "stem" or "path": current value is ${
        JSON.stringify(idFrom)
      }`,
    );
  }
  const inputTypes = options.inputTypes ?? INPUT_KINDS;
  if (!Array.isArray(inputTypes) || inputTypes.length === 0) {
    throw new RangeError(
      `Cannot create ${where}: inputTypes must be a non-empty array of ${
        INPUT_KINDS.join(", ")
      }: current value is ${JSON.stringify(inputTypes)}`,
    );
  }
  for (const kind of inputTypes) {
    if (!INPUT_KINDS.includes(kind)) {
      throw new RangeError(
        `Cannot create ${where}: inputTypes may hold only ${
          INPUT_KINDS.join(", ")
        }: current value holds ${JSON.stringify(kind)}`,
      );
    }
  }
  if (datasetId !== undefined) {
    const reason = typeof datasetId === "string"
      ? invalidDatasetIdReason(datasetId)
      : "dataset ID must be a string";
    if (reason !== undefined) throw new RangeError(`Cannot create ${where}: ${reason}`);
  }
  let filter: PathFilter;
  try {
    filter = new PathFilter({ include: options.include, exclude: options.exclude });
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw new SyntaxError(`Cannot create ${where}: ${error.message}`);
    }
    throw new TypeError(`Cannot create ${where}: ${(error as Error).message}`);
  }
  return { recursive, labels, idFrom, datasetId, kinds: new Set(inputTypes), filter };
}

/** An entry found by a walk or a listing, ready to become a draft. */
export interface Entry {
  /** Where it is, for messages (`cats/01.jpg`, `s3://bucket/key`). */
  location: string;
  /** Its name without the extension (the ID's source with `idFrom: "stem"`). */
  stem: string;
  /** Its path relative to the root without the extension (the source with `"path"`). */
  path: string;
  /** What `stem` and `path` are called in messages: `["file name", "path"]`. */
  words: readonly [stem: string, path: string];
  /** The name of the folder holding it (its label with `labels`). */
  folderName: string;
  kind: InputKind;
  content: ContentSource;
}

/**
 * The input ID an entry gets and, with `labels`, its concepts; or the rejection that says why
 * it gets none.
 */
export function entryIdAndConcepts(
  entry: Omit<Entry, "kind" | "content">,
  options: EntryOptions,
): { id: string; concepts: string[] } | Extract<DraftOrRejection, { type: "rejected" }> {
  const { location } = entry;
  const idSource = options.idFrom === "stem" ? entry.stem : entry.path;
  const id = cleanId(idSource);
  if (id === "") {
    const what = options.idFrom === "stem" ? entry.words[0] : entry.words[1];
    return {
      type: "rejected",
      rejection: {
        location,
        reason: `${what} ${
          JSON.stringify(idSource)
        } gives an empty input ID: use letters or digits in it`,
      },
    };
  }
  const idReason = invalidIdReason(id);
  if (idReason !== undefined) {
    return { type: "rejected", rejection: { location, reason: idReason, id } };
  }
  if (!options.labels) return { id, concepts: [] };
  const label = entry.folderName.trim();
  const reason = invalidConceptReason(label);
  if (reason === undefined) return { id, concepts: [label] };
  return {
    type: "rejected",
    rejection: {
      location,
      id,
      reason: `cannot label by folder name ${JSON.stringify(entry.folderName)}: ${reason}`,
    },
  };
}

/** The draft an entry becomes, or the rejection that says why it becomes none. */
export function entryDraft(entry: Entry, options: EntryOptions): DraftOrRejection {
  const named = entryIdAndConcepts(entry, options);
  if ("type" in named) return named;
  const draft: InputDraft = {
    id: named.id,
    kind: entry.kind,
    content: entry.content,
    location: entry.location,
    concepts: named.concepts,
  };
  if (options.datasetId !== undefined) draft.datasetId = options.datasetId;
  return { type: "draft", draft };
}
