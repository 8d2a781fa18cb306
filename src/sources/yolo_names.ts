/**
 * {@linkcode parseYoloNames}: the class names of a YOLO dataset from its `data.yaml`, reading
 * the small YAML subset these files use, without a YAML library.
 *
 * @module
 */

function stripComment(text: string): string {
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== "") {
      if (c === quote) quote = "";
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(text[i - 1]))) return text.slice(0, i);
  }
  return text;
}

/** Parses one scalar: single-quoted (`''` is a quote), double-quoted (JSON escapes) or plain. */
function scalar(raw: string, fail: (message: string) => never): string {
  const text = raw.trim();
  if (text.startsWith("'")) {
    if (!text.endsWith("'") || text.length < 2) fail(`unterminated quoted name ${text}`);
    return text.slice(1, -1).replaceAll("''", "'");
  }
  if (text.startsWith('"')) {
    try {
      return JSON.parse(text);
    } catch {
      return fail(`cannot read the double-quoted name ${text}`);
    }
  }
  return text;
}

/** Splits a flow collection's body on commas outside quotes. */
function splitFlow(body: string): string[] {
  const items: string[] = [];
  let quote = "";
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (quote !== "") {
      if (c === quote) quote = "";
    } else if (c === "'" || c === '"') quote = c;
    else if (c === ",") {
      items.push(body.slice(start, i));
      start = i + 1;
    }
  }
  items.push(body.slice(start));
  return items.map((item) => item.trim()).filter((item) => item !== "");
}

/** Splits `key: value` on the first colon outside quotes; undefined when there is none. */
function splitPair(text: string): [string, string] | undefined {
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== "") {
      if (c === quote) quote = "";
    } else if (c === "'" || c === '"') quote = c;
    else if (c === ":") return [text.slice(0, i).trim(), text.slice(i + 1).trim()];
  }
  return undefined;
}

/**
 * Reads the class names of a YOLO `data.yaml`: the top-level `names:` as a flow list
 * (`names: ['cat', dog]`, possibly over several lines), a block list (`- cat` lines), or a map
 * from class index to name, block (`0: cat` lines) or flow (`{0: cat, 1: dog}`). Names may be
 * plain, single- or double-quoted; comments are ignored. When `nc:` is given it must equal the
 * number of names. Other keys (`path`, `train`, `val`, …) are ignored.
 *
 * @param text The `data.yaml` text.
 * @returns The names, index = class number.
 * @throws {SyntaxError} `Syntax error on line N: …` when there is no `names:` or it cannot be
 * read, when a map skips a class index, or when `nc` disagrees.
 *
 * @example Usage
 * ```ts
 * import { parseYoloNames } from "./yolo_names.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(parseYoloNames("nc: 2\nnames: ['cat', golden retriever]\n"), ["cat", "golden retriever"]);
 * assertEquals(parseYoloNames("names:\n  0: cat\n  1: 'it''s'\n"), ["cat", "it's"]);
 * assertEquals(parseYoloNames("names:\n- cat # a comment\n- \"猫\"\n"), ["cat", "猫"]);
 * ```
 */
export function parseYoloNames(text: string): string[] {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  let namesLine = -1;
  let nc: { value: number; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const match = /^names\s*:(.*)$/.exec(lines[i]);
    if (match && namesLine < 0) namesLine = i;
    const count = /^nc\s*:\s*([^#]*)/.exec(lines[i]);
    if (count) nc = { value: Number(count[1].trim()), line: i + 1 };
  }
  if (namesLine < 0) {
    throw new SyntaxError("Syntax error on line 1: no top-level names: (the class names)");
  }
  let lineNumber = namesLine + 1;
  const fail = (message: string): never => {
    throw new SyntaxError(`Syntax error on line ${lineNumber}: ${message}`);
  };
  const rest = stripComment(lines[namesLine].replace(/^names\s*:/, "")).trim();
  let names: string[];
  if (rest.startsWith("[") || rest.startsWith("{")) {
    const close = rest[0] === "[" ? "]" : "}";
    let body = rest;
    let i = namesLine;
    while (!stripComment(body).trimEnd().endsWith(close)) {
      i++;
      if (i >= lines.length) fail(`names: ${rest[0]} is never closed with ${close}`);
      body += " " + stripComment(lines[i]).trim();
    }
    body = stripComment(body).trim().slice(1, -1);
    const items = splitFlow(body);
    if (close === "]") names = items.map((item) => scalar(item, fail));
    else names = fromPairs(items.map((item) => pairOf(item, fail)), fail);
  } else if (rest === "") {
    const items: string[] = [];
    for (let i = namesLine + 1; i < lines.length; i++) {
      const line = stripComment(lines[i]);
      if (line.trim() === "") continue;
      if (!/^\s/.test(line) && !line.startsWith("-")) break;
      lineNumber = i + 1;
      items.push(line.trim());
    }
    if (items.length === 0) fail("names: is empty");
    if (items.every((item) => item.startsWith("-"))) {
      names = items.map((item) => scalar(item.slice(1), fail));
    } else if (items.every((item) => !item.startsWith("-"))) {
      names = fromPairs(items.map((item) => pairOf(item, fail)), fail);
    } else fail("names: mixes a list (- name) and a map (0: name)");
  } else {
    return fail(`names: must be a list or a map of class names: got ${rest}`);
  }
  if (names!.some((name) => name.trim() === "")) {
    lineNumber = namesLine + 1;
    fail("names: has an empty name");
  }
  if (nc !== undefined && nc.value !== names!.length) {
    lineNumber = nc.line;
    fail(`nc: is ${nc.value} but names: lists ${names!.length} classes`);
  }
  return names!;
}

function pairOf(item: string, fail: (message: string) => never): [number, string] {
  const pair = splitPair(item);
  if (pair === undefined) return fail(`expected "index: name" in names:, got ${item}`);
  const index = Number(scalar(pair[0], fail));
  if (!Number.isInteger(index) || index < 0) {
    return fail(`names: map keys must be class indexes 0, 1, …: got ${pair[0]}`);
  }
  return [index, scalar(pair[1], fail)];
}

function fromPairs(pairs: [number, string][], fail: (message: string) => never): string[] {
  const names: string[] = [];
  for (const [index, name] of pairs) {
    if (names[index] !== undefined) fail(`names: gives class ${index} twice`);
    names[index] = name;
  }
  for (let i = 0; i < names.length; i++) {
    if (names[i] === undefined) fail(`names: skips class ${i}`);
  }
  return names;
}
