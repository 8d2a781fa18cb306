/**
 * The bad-input corpus, as a table: each case names its source (a fixture under
 * `tests/fixtures/bad/`, or files made at run time in a temporary folder), the CLI command, the
 * exit code, how many records the source holds, and the rejections (location and reason
 * substrings) the run must report.
 *
 * @module
 */
import { join } from "node:path";
import { REPO } from "./_harness.ts";
import { pngBytes } from "../sources/_png.ts";

/** The fixtures folder of the corpus. */
export const BAD = join(REPO, "tests/fixtures/bad");

/** One expected rejection (or failure): substrings of its location and reason. */
export interface Expected {
  /** Substring of the event's location. */
  location: string;
  /** Substring of the reason (case-insensitive). */
  reason: string;
}

/** One case of the corpus. */
export interface BadCase {
  /** Name (the step's name). */
  name: string;
  /** CLI arguments; `{bad}` is the fixtures folder, `{tmp}` the case's temporary folder. */
  args: string[];
  /** Makes files in the case's temporary folder first. */
  setup?: (tmp: string) => Promise<void>;
  /** The exit code. */
  exit: number;
  /**
   * Records in the source: the summary's rejected + uploaded + skipped + failed must add up to
   * it. `undefined` when the run stops before reading records (a usage or fatal error).
   */
  records?: number;
  /** Rejections or failures the run must report. */
  expect: Expected[];
  /** For runs that end without records: a substring of standard error or the fatal message. */
  message?: string;
  /** The run must end with a `done` summary whose `fatal` says why (exit 3). */
  fatalSummary?: boolean;
  /** A bug this case shows: the step is skipped (ignored) until it is fixed. */
  bug?: string;
}

const png = () => pngBytes(8, 8, 3);

/** CSV cases (text unless the arguments say otherwise). */
const CSV: BadCase[] = [
  {
    name: "csv: unterminated quoted field (its row rejected, the rows after it read)",
    args: ["csv", "{bad}/csv/unterminated_quote.csv"],
    exit: 1,
    records: 3,
    expect: [{
      location: "unterminated_quote.csv:3",
      reason: "unterminated quoted field: the quote opened on line 3, column 4 is never closed",
    }],
  },
  {
    name: "csv: a row with more fields than the header",
    args: ["csv", "{bad}/csv/ragged_more_fields.csv"],
    exit: 1,
    records: 3,
    expect: [{ location: "ragged_more_fields.csv:3", reason: "field" }],
  },
  {
    name: "csv: a row with fewer fields than the header",
    args: ["csv", "{bad}/csv/ragged_fewer_fields.csv"],
    exit: 1,
    records: 3,
    expect: [{ location: "ragged_fewer_fields.csv:3", reason: "field" }],
  },
  {
    name: "csv: an unknown header",
    args: ["csv", "{bad}/csv/unknown_header.csv"],
    exit: 3,
    records: undefined,
    expect: [],
    message: 'unknown column "colour"',
    fatalSummary: true,
  },
  {
    name: "csv: no input column",
    args: ["csv", "{bad}/csv/missing_input_column.csv"],
    exit: 3,
    records: undefined,
    expect: [],
    message: 'the header has no "input" column',
    fatalSummary: true,
  },
  {
    name: "csv: metadata that does not parse",
    args: ["csv", "{bad}/csv/bad_metadata.csv"],
    exit: 1,
    records: 2,
    expect: [{ location: "bad_metadata.csv:2", reason: "metadata" }],
  },
  {
    name: "csv: metadata that is not an object",
    args: ["csv", "{bad}/csv/metadata_not_object.csv"],
    exit: 1,
    records: 2,
    expect: [{ location: "metadata_not_object.csv:2", reason: "object" }],
  },
  {
    name: "csv: a geo point out of range",
    args: ["csv", "{bad}/csv/geopoint_out_of_range.csv"],
    exit: 1,
    records: 2,
    expect: [{ location: "geopoint_out_of_range.csv:2", reason: "longitude" }],
  },
  {
    name: "csv: geo points that are not two numbers",
    args: ["csv", "{bad}/csv/geopoint_not_numbers.csv"],
    exit: 1,
    records: 3,
    expect: [
      { location: "geopoint_not_numbers.csv:2", reason: "geo" },
      { location: "geopoint_not_numbers.csv:3", reason: "geo" },
    ],
  },
  {
    name: "csv: a file path that does not exist",
    args: ["csv", "{bad}/csv/missing_file.csv", "--input-type", "image", "--csv-type", "file_path"],
    exit: 1,
    records: 2,
    expect: [{ location: "missing_file.csv:3", reason: "nope.png" }],
  },
  {
    name: "csv: file paths escaping the root",
    args: ["csv", "{bad}/csv/path_escape.csv", "--input-type", "image", "--csv-type", "file_path"],
    exit: 1,
    records: 3,
    expect: [{ location: "path_escape.csv:3", reason: "outside" }],
  },
  {
    name: "csv: an absolute file path outside the root",
    args: [
      "csv",
      "{bad}/csv/absolute_path.csv",
      "--input-type",
      "image",
      "--csv-type",
      "file_path",
    ],
    exit: 1,
    records: 2,
    expect: [{ location: "absolute_path.csv:2", reason: "outside" }],
  },
  {
    name: "csv: bytes that are not UTF-8",
    args: ["csv", "{bad}/csv/non_utf8.csv"],
    exit: 3,
    records: undefined,
    expect: [],
    message: "non_utf8.csv: the file is not valid UTF-8",
    fatalSummary: true,
  },
  {
    name: "csv: a 0-byte file",
    args: ["csv", "{bad}/csv/empty.csv"],
    exit: 3,
    records: undefined,
    expect: [],
    message: "the CSV is empty",
    fatalSummary: true,
  },
  {
    name: "csv: a header and no rows",
    args: ["csv", "{bad}/csv/header_only.csv"],
    exit: 0,
    records: 0,
    expect: [],
  },
  {
    name: "csv: invalid input IDs",
    args: ["csv", "{bad}/csv/bad_ids.csv"],
    exit: 1,
    records: 3,
    expect: [
      { location: "bad_ids.csv:2", reason: "ID" },
      { location: "bad_ids.csv:3", reason: "ID" },
    ],
  },
  {
    name: "csv: the same ID twice",
    args: ["csv", "{bad}/csv/duplicate_ids.csv"],
    exit: 1,
    records: 3,
    expect: [{ location: "duplicate_ids.csv:3", reason: "d1" }],
  },
  {
    name: "csv: empty and blank inputs",
    args: ["csv", "{bad}/csv/empty_input.csv"],
    exit: 1,
    records: 3,
    expect: [
      { location: "empty_input.csv:2", reason: "empty" },
      { location: "empty_input.csv:3", reason: "empty" },
    ],
  },
  {
    name: "csv: a quote inside an unquoted field is text, as Python reads it",
    args: ["csv", "{bad}/csv/quote_in_unquoted.csv"],
    exit: 0,
    records: 2,
    expect: [],
  },
  {
    name: "csv: invalid concept IDs",
    args: ["csv", "{bad}/csv/bad_concepts.csv"],
    exit: 1,
    records: 3,
    expect: [
      { location: "bad_concepts.csv:2", reason: "control characters" },
      { location: "bad_concepts.csv:3", reason: "255" },
    ],
  },
  {
    name: "csv: URLs that are not http(s)",
    args: ["csv", "{bad}/csv/bad_urls.csv", "--input-type", "image"],
    exit: 1,
    records: 3,
    expect: [
      { location: "bad_urls.csv:2", reason: "URL" },
      { location: "bad_urls.csv:3", reason: "URL" },
    ],
  },
  {
    name: "csv: NUL bytes in a text",
    args: ["csv", "{bad}/csv/nul_bytes.csv"],
    exit: 0,
    records: 2,
    expect: [],
  },
  {
    name: "csv: a 20 MB single line (a text over Clarifai's limit)",
    setup: async (tmp) => {
      const file = await Deno.open(join(tmp, "long.csv"), { write: true, create: true });
      const enc = new TextEncoder();
      await file.write(enc.encode('inputid,input,concepts\nbig,"'));
      const block = enc.encode("abcdefghijklmnop".repeat(65536));
      for (let i = 0; i < 20; i++) {
        let w = 0;
        while (w < block.length) w += await file.write(block.subarray(w));
      }
      await file.write(enc.encode('",huge\nsmall,a small record,ok\n'));
      file.close();
    },
    args: ["csv", "{tmp}/long.csv"],
    exit: 1,
    records: 2,
    expect: [{ location: "long.csv:2", reason: "20 MB" }],
  },
  {
    name: "csv: a file that does not exist",
    args: ["csv", "{bad}/csv/no_such_file.csv"],
    exit: 3,
    message: "no_such_file.csv",
    fatalSummary: true,
    expect: [],
  },
];

/** Folder cases, made at run time. */
const FOLDER: BadCase[] = [
  {
    name: "folder: a symlink loop",
    setup: async (tmp) => {
      await Deno.mkdir(join(tmp, "f/sub"), { recursive: true });
      await Deno.writeFile(join(tmp, "f/a.png"), png());
      await Deno.symlink("..", join(tmp, "f/sub/loop"));
    },
    args: ["folder", "{tmp}/f", "--recursive"],
    exit: 1,
    records: 2,
    expect: [{ location: "sub/loop", reason: "symlink loop" }],
  },
  {
    name: "folder: a FIFO named like an image (reading it would block)",
    setup: async (tmp) => {
      await Deno.mkdir(join(tmp, "f"));
      await Deno.writeFile(join(tmp, "f/a.png"), png());
      const mk = await new Deno.Command("mkfifo", { args: [join(tmp, "f/pipe.png")] }).output();
      if (!mk.success) throw new Error("mkfifo failed");
    },
    args: ["folder", "{tmp}/f"],
    exit: 0,
    records: 2,
    expect: [],
  },
  {
    name: "folder: a dangling symlink",
    setup: async (tmp) => {
      await Deno.mkdir(join(tmp, "f"));
      await Deno.writeFile(join(tmp, "f/a.png"), png());
      await Deno.symlink(join(tmp, "gone.png"), join(tmp, "f/b.png"));
    },
    args: ["folder", "{tmp}/f"],
    exit: 1,
    records: 2,
    expect: [{ location: "b.png", reason: "" }],
  },
  {
    name: "folder: a file without read permission",
    setup: async (tmp) => {
      await Deno.mkdir(join(tmp, "f"));
      await Deno.writeFile(join(tmp, "f/a.png"), png());
      await Deno.writeFile(join(tmp, "f/locked.png"), png());
      await Deno.chmod(join(tmp, "f/locked.png"), 0o000);
    },
    args: ["folder", "{tmp}/f"],
    // Root reads any file: there the locked file uploads.
    exit: Deno.uid() === 0 ? 0 : 1,
    records: 2,
    expect: Deno.uid() === 0 ? [] : [{ location: "locked.png", reason: "" }],
  },
  {
    name: "folder: two files with the same stem (ID collision)",
    setup: async (tmp) => {
      await Deno.mkdir(join(tmp, "f/a"), { recursive: true });
      await Deno.mkdir(join(tmp, "f/b"), { recursive: true });
      await Deno.writeFile(join(tmp, "f/a/x.png"), pngBytes(8, 8, 1));
      await Deno.writeFile(join(tmp, "f/b/x.png"), pngBytes(8, 8, 2));
    },
    args: ["folder", "{tmp}/f", "--recursive"],
    exit: 1,
    records: 2,
    expect: [{ location: "b/x.png", reason: "x" }],
  },
  {
    name: "folder: a huge (sparse) image over the 20 MB limit",
    setup: async (tmp) => {
      await Deno.mkdir(join(tmp, "f"));
      await Deno.writeFile(join(tmp, "f/a.png"), png());
      await Deno.writeFile(join(tmp, "f/huge.png"), png());
      await Deno.truncate(join(tmp, "f/huge.png"), 3 * 1024 ** 3);
    },
    args: ["folder", "{tmp}/f"],
    exit: 1,
    records: 2,
    expect: [{ location: "huge.png", reason: "MB" }],
  },
  {
    name: "folder: a 0-byte image",
    setup: async (tmp) => {
      await Deno.mkdir(join(tmp, "f"));
      await Deno.writeFile(join(tmp, "f/a.png"), png());
      await Deno.writeFile(join(tmp, "f/empty.png"), new Uint8Array());
    },
    args: ["folder", "{tmp}/f"],
    exit: 1,
    records: 2,
    expect: [{ location: "empty.png", reason: "empty" }],
  },
  {
    name: "folder: hidden files and unknown extensions are skipped, not lost",
    setup: async (tmp) => {
      await Deno.mkdir(join(tmp, "f"));
      await Deno.writeFile(join(tmp, "f/a.png"), png());
      await Deno.writeTextFile(join(tmp, "f/.hidden.png"), "x");
      await Deno.writeTextFile(join(tmp, "f/notes.xyz"), "x");
    },
    args: ["folder", "{tmp}/f"],
    exit: 0,
    records: 3,
    expect: [],
  },
  {
    name: "folder: a path that does not exist",
    args: ["folder", "{tmp}/nothing-here"],
    exit: 3,
    message: "nothing-here",
    fatalSummary: true,
    expect: [],
  },
];

/** Annotation files (COCO, YOLO, VOC). */
const ANNOTATIONS: BadCase[] = [
  {
    name: "coco: a box reaching outside its image",
    args: ["coco", "{bad}/coco/box_out_of_range.json", "--images", "{bad}/coco/images"],
    exit: 1,
    records: 2,
    expect: [{ location: "box_out_of_range.json:annotation 1", reason: "outside [0, 1]" }],
  },
  {
    name: "coco: a polygon of 2 points",
    args: ["coco", "{bad}/coco/polygon_two_points.json", "--images", "{bad}/coco/images"],
    exit: 1,
    records: 2,
    expect: [{ location: "polygon_two_points.json:annotation 1", reason: "2 points" }],
  },
  {
    name: "coco: a truncated JSON file",
    args: ["coco", "{bad}/coco/truncated.json", "--images", "{bad}/coco/images"],
    exit: 3,
    records: undefined,
    expect: [],
    message: "truncated.json: Syntax error on line 1",
  },
  {
    name: "coco: a file that is not JSON",
    args: ["coco", "{bad}/coco/not_json.json", "--images", "{bad}/coco/images"],
    exit: 3,
    records: undefined,
    expect: [],
    message: "not_json.json: Syntax error on line 1",
  },
  {
    name: "coco: an unknown category",
    args: ["coco", "{bad}/coco/unknown_category.json", "--images", "{bad}/coco/images"],
    exit: 1,
    records: 2,
    expect: [{ location: "unknown_category.json:annotation 1", reason: "category_id 99" }],
  },
  {
    name: "coco: a file_name escaping the images folder",
    args: ["coco", "{bad}/coco/file_name_escape.json", "--images", "{bad}/coco/images"],
    exit: 1,
    records: 2,
    expect: [{ location: "file_name_escape.json:image 2", reason: "inside the images folder" }],
  },
  {
    name: "coco: an image file that is missing",
    args: ["coco", "{bad}/coco/missing_image_file.json", "--images", "{bad}/coco/images"],
    exit: 1,
    records: 2,
    expect: [{ location: "missing_image_file.json:image 2", reason: "not found" }],
  },
  {
    name: "coco: a box of negative width",
    args: ["coco", "{bad}/coco/negative_size_box.json", "--images", "{bad}/coco/images"],
    exit: 1,
    records: 2,
    expect: [{ location: "negative_size_box.json:annotation 1", reason: "left < right" }],
  },
  ...["box_out_of_range", "polygon_two_points", "malformed_line", "unknown_class"].map((
    name,
  ): BadCase => ({
    name: `yolo: ${name.replaceAll("_", " ")}`,
    args: ["yolo", `{bad}/yolo/${name}`],
    exit: 1,
    // The image uploads; its one label line is refused.
    records: 2,
    expect: [{
      location: "labels/a.txt:1",
      reason: {
        box_out_of_range: "outside [0, 1]",
        polygon_two_points: "5 values after the class",
        malformed_line: "not a number",
        unknown_class: "class 7 is not in data.yaml",
      }[name]!,
    }],
  })),
  ...["malformed_xml", "box_out_of_range", "missing_bndbox", "inverted_box"].map((
    name,
  ): BadCase => ({
    name: `voc: ${name.replaceAll("_", " ")}`,
    args: ["voc", `{bad}/voc/${name}`],
    exit: 1,
    // A malformed file refuses the image; otherwise the image uploads and one object is refused.
    records: name === "malformed_xml" ? 1 : 2,
    expect: [{
      location: "a.xml",
      reason: {
        malformed_xml: "malformed XML",
        box_out_of_range: "outside [0, 1]",
        missing_bndbox: "no <bndbox>",
        inverted_box: "left < right",
      }[name]!,
    }],
  })),
];

/** Every CLI case. */
export const BAD_CASES: BadCase[] = [...CSV, ...FOLDER, ...ANNOTATIONS];
