import { assert, assertEquals, assertThrows } from "@std/assert";
import {
  describeOptionProblem,
  type OptionProblem,
  parseUploadOptions,
  UPLOAD_OPTION_RULES,
} from "../../src/upload/upload_options.ts";
import { RetryPolicy } from "../../src/clarifai/retry_policy.ts";

Deno.test("parseUploadOptions reads text and JSON values by their rules", async (t) => {
  await t.step("numbers from text and from JSON", () => {
    const options = parseUploadOptions({
      batchSize: "64",
      concurrency: 8,
      rps: "0",
      maxBatchMegabytes: "0.5",
      retries: "3",
    });
    assertEquals(options.batchSize, 64);
    assertEquals(options.concurrency, 8);
    assertEquals(options.rps, 0);
    assertEquals(options.maxBatchBytes, 512 * 1024);
    assert(options.retry instanceof RetryPolicy);
    assertEquals(options.retry.maxAttempts, 3);
  });
  await t.step("booleans from flags, query text and JSON", () => {
    assertEquals(parseUploadOptions({ dryRun: true }).dryRun, true);
    assertEquals(parseUploadOptions({ dryRun: "" }).dryRun, true);
    assertEquals(parseUploadOptions({ wait: "no" }).wait, false);
  });
  await t.step("kinds: one for a CSV, several for a folder", () => {
    assertEquals(parseUploadOptions({ inputType: "Image" }).inputType, "image");
    assertEquals(parseUploadOptions({ inputTypes: "image, text" }).inputTypes, ["image", "text"]);
  });
  await t.step("absent stays absent", () => {
    assertEquals(parseUploadOptions({ batchSize: undefined }), {});
  });
});

Deno.test("parseUploadOptions resolves csvType by the SDKs' rule", () => {
  assertEquals(parseUploadOptions({ inputType: "text" }).csvType, "raw");
  assertEquals(parseUploadOptions({ inputType: "video" }).csvType, "url");
  assertEquals(
    parseUploadOptions({ inputType: "image", csvType: "file_path" }).csvType,
    "file_path",
  );
  assertThrows(
    () => parseUploadOptions({ inputType: "image", csvType: "raw" }),
    RangeError,
    'Cannot start upload: csvType "raw" holds text, so inputType must be "text": current value is "image"',
  );
});

Deno.test("parseUploadOptions: the engine's own messages name the neutral options", async (t) => {
  const cases: [string, Parameters<typeof parseUploadOptions>[0], ErrorConstructor, string][] = [
    [
      "integer out of range",
      { batchSize: "129" },
      RangeError,
      'batchSize must be an integer from 1 to 128: current value is "129"',
    ],
    [
      "not an integer",
      { concurrency: 2.5 },
      RangeError,
      "concurrency must be an integer from 1 to 64: current value is 2.5",
    ],
    [
      "boolean for a number",
      { rps: true },
      TypeError,
      "rps must be an integer from 0 to 100000: current value is true",
    ],
    [
      "megabytes",
      { maxBatchMegabytes: "128" },
      RangeError,
      'maxBatchMegabytes must be a number above 0 and under 128: current value is "128"',
    ],
    [
      "choice",
      { idFrom: "name" },
      RangeError,
      'idFrom must be stem or path: current value is "name"',
    ],
    [
      "csv type",
      { csvType: "json" },
      RangeError,
      'csvType must be url, file_path or raw: current value is "json"',
    ],
    [
      "kind",
      { inputType: "pdf" },
      RangeError,
      'inputType must be one of image, video, audio, text: current value is "pdf"',
    ],
    [
      "boolean",
      { wait: "maybe" },
      RangeError,
      'wait must be true or false: current value is "maybe"',
    ],
    [
      "empty string",
      { datasetId: "" },
      RangeError,
      'datasetId must be a non-empty string: current value is ""',
    ],
  ];
  for (const [name, values, type, message] of cases) {
    await t.step(name, () => {
      assertThrows(() => parseUploadOptions(values), type, `Cannot start upload: ${message}`);
    });
  }
});

Deno.test("parseUploadOptions lets a face word the problem in its own names", () => {
  const seen: OptionProblem[] = [];
  const err = assertThrows(() =>
    parseUploadOptions({ batchSize: "0" }, (problem) => {
      seen.push(problem);
      return new Error(describeOptionProblem(problem, (name) => `--${name}`));
    })
  );
  assertEquals((err as Error).message, '--batchSize must be an integer from 1 to 128: got "0"');
  assertEquals(seen, [{
    kind: "invalid",
    name: "batchSize",
    expected: "an integer from 1 to 128",
    value: "0",
  }]);
});

Deno.test("every option has a rule the parser knows", () => {
  for (const name of Object.keys(UPLOAD_OPTION_RULES)) {
    // A value of the wrong shape is refused by every rule with the option's name.
    assertThrows(
      () => parseUploadOptions({ [name]: Symbol("x") as unknown as string }),
      TypeError,
      `${name} must be`,
    );
  }
});
