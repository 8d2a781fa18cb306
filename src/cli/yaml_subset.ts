/**
 * A reader for the small part of YAML that configuration files such as Clarifai's CLI config
 * use: nested block mappings of scalars, as PyYAML's `safe_dump` writes them.
 *
 * @module
 */

/** A value of the YAML subset: a string, `null`, or a mapping of them. */
export type YamlValue = string | null | YamlMap;

/** A mapping of the YAML subset. */
export interface YamlMap {
  [key: string]: YamlValue;
}

interface Frame {
  /** Indentation of the mapping's keys; `undefined` until its first key is read. */
  indent: number | undefined;
  map: YamlMap;
}

const NULLS = new Set(["", "~", "null", "Null", "NULL"]);

function fail(where: string, line: number, message: string): never {
  throw new SyntaxError(`${where}:${line}: ${message}`);
}

/** The text of a line without a trailing comment (a `#` at the start or after a space). */
function stripComment(text: string): string {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') {
      if (i === 0 || /[\s:[{,]/.test(text[i - 1])) quote = c;
    } else if (c === "#" && (i === 0 || /\s/.test(text[i - 1]))) {
      return text.slice(0, i).trimEnd();
    }
  }
  return text.trimEnd();
}

const ESCAPES: Record<string, string> = {
  "0": "\0",
  a: "\x07",
  b: "\b",
  t: "\t",
  n: "\n",
  v: "\v",
  f: "\f",
  r: "\r",
  e: "\x1b",
  " ": " ",
  '"': '"',
  "/": "/",
  "\\": "\\",
  N: "\x85",
  _: "\xa0",
};

function unescapeDouble(body: string, where: string, line: number): string {
  let out = "";
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== "\\") {
      out += body[i];
      continue;
    }
    const c = body[++i];
    const hex = c === "x" ? 2 : c === "u" ? 4 : c === "U" ? 8 : 0;
    if (hex > 0) {
      const digits = body.slice(i + 1, i + 1 + hex);
      if (!/^[0-9a-fA-F]+$/.test(digits) || digits.length !== hex) {
        fail(where, line, `bad escape "\\${c}${digits}" in a double-quoted string`);
      }
      out += String.fromCodePoint(parseInt(digits, 16));
      i += hex;
    } else if (c !== undefined && c in ESCAPES) {
      out += ESCAPES[c];
    } else {
      fail(where, line, `unknown escape "\\${c ?? ""}" in a double-quoted string`);
    }
  }
  return out;
}

/** Where a quoted scalar that starts at `text[0]` ends (index of the closing quote), or -1. */
function closingQuote(text: string): number {
  const quote = text[0];
  for (let i = 1; i < text.length; i++) {
    if (quote === '"' && text[i] === "\\") {
      i++;
    } else if (text[i] === quote) {
      if (quote === "'" && text[i + 1] === "'") {
        i++;
        continue;
      }
      return i;
    }
  }
  return -1;
}

function quotedValue(text: string, where: string, line: number): string {
  const end = closingQuote(text);
  if (end < 0) fail(where, line, `a ${text[0] === '"' ? "double" : "single"} quote is not closed`);
  const rest = text.slice(end + 1).trim();
  if (rest !== "") fail(where, line, `unexpected text after a quoted value: ${rest}`);
  const body = text.slice(1, end);
  return text[0] === "'" ? body.replaceAll("''", "'") : unescapeDouble(body, where, line);
}

function scalar(text: string, where: string, line: number): YamlValue {
  if (text.startsWith("'") || text.startsWith('"')) return quotedValue(text, where, line);
  if (text === "{}") return {};
  if (/^[[{]/.test(text)) {
    fail(where, line, "flow collections ([…], {…}) are not supported here; use block mappings");
  }
  if (/^[|>]/.test(text)) fail(where, line, "block scalars (| and >) are not supported here");
  if (/^[&*!]/.test(text)) fail(where, line, "anchors, aliases and tags are not supported here");
  return NULLS.has(text) ? null : text;
}

/** Splits `key: value` (the key possibly quoted); `undefined` when the line is no mapping entry. */
function splitEntry(
  text: string,
  where: string,
  line: number,
): { key: string; rest: string } | undefined {
  if (text.startsWith("'") || text.startsWith('"')) {
    const end = closingQuote(text);
    if (end < 0) fail(where, line, "a quoted key is not closed");
    const after = text.slice(end + 1);
    if (!/^\s*:(\s|$)/.test(after)) return undefined;
    return {
      key: quotedValue(text.slice(0, end + 1), where, line),
      rest: after.replace(/^\s*:/, "").trim(),
    };
  }
  const match = /^([^:]*?)\s*:(?:\s+|$)(.*)$/.exec(text);
  if (!match || match[1] === "") return undefined;
  return { key: match[1], rest: match[2].trim() };
}

/**
 * Parses the YAML subset that configuration files written by PyYAML's `safe_dump` use: block
 * mappings nested by indentation, with plain, single-quoted and double-quoted scalars (values
 * are kept as strings; `null`, `~` and empty values read as `null`), `{}` for an empty mapping,
 * comments, `---`, and plain or quoted scalars folded over several lines. Anything else (lists,
 * flow collections, block scalars, anchors, tabs in indentation) is a `SyntaxError` naming the
 * file and line.
 *
 * @param text The YAML text.
 * @param where The file's name, for error messages.
 * @returns The top-level mapping (empty for an empty document).
 * @throws {SyntaxError} `"<where>:<line>: <what>"` when the text is outside the subset.
 *
 * @example Usage
 * ```ts
 * import { parseYamlSubset } from "./yaml_subset.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const text = [
 *   "contexts:",
 *   "  default:",
 *   "    CLARIFAI_USER_ID: me   # a comment",
 *   "    CLARIFAI_API_BASE: 'https://api.clarifai.com'",
 *   "current_context: default",
 * ].join("\n");
 * assertEquals(parseYamlSubset(text, "config"), {
 *   contexts: {
 *     default: { CLARIFAI_USER_ID: "me", CLARIFAI_API_BASE: "https://api.clarifai.com" },
 *   },
 *   current_context: "default",
 * });
 * ```
 */
export function parseYamlSubset(text: string, where: string): YamlMap {
  const root: YamlMap = {};
  const stack: Frame[] = [{ indent: undefined, map: root }];
  /** A key read with no value: a nested mapping may follow, more indented. */
  let pending: { map: YamlMap; key: string; indent: number } | undefined;
  /** The last scalar read, which more-indented lines continue (folded with a space). */
  let last: { map: YamlMap; key: string; indent: number; open?: string; line: number } | undefined;
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = n + 1;
    const raw = lines[n];
    if (last?.open !== undefined) {
      // Inside a quoted scalar that spans lines: fold line breaks into spaces.
      last.open += " " + raw.trim();
      if (closingQuote(last.open) >= 0) {
        last.map[last.key] = quotedValue(last.open, where, last.line);
        last = undefined;
      }
      continue;
    }
    const indent = raw.length - raw.trimStart().length;
    if (/^ *\t/.test(raw) && raw.trim() !== "") {
      fail(where, line, "tabs are not allowed in indentation");
    }
    const content = stripComment(raw.slice(indent));
    if (content === "") continue;
    if (indent === 0 && (content === "---" || content === "...")) {
      last = undefined;
      continue;
    }
    if (last !== undefined && indent > last.indent && typeof last.map[last.key] === "string") {
      last.map[last.key] = `${last.map[last.key]} ${content}`;
      continue;
    }
    last = undefined;
    if (content.startsWith("- ") || content === "-") {
      fail(where, line, "lists are not supported here; use a mapping");
    }
    if (pending !== undefined) {
      if (indent > pending.indent) {
        const child: YamlMap = {};
        pending.map[pending.key] = child;
        stack.push({ indent, map: child });
      } else {
        pending.map[pending.key] = null;
      }
      pending = undefined;
    }
    while (stack.length > 1 && indent < stack[stack.length - 1].indent!) stack.pop();
    const frame = stack[stack.length - 1];
    frame.indent ??= indent;
    if (indent !== frame.indent) {
      fail(where, line, "the indentation does not match any mapping above");
    }
    const entry = splitEntry(content, where, line);
    if (entry === undefined) {
      fail(where, line, `expected "key: value", got ${JSON.stringify(content)}`);
    }
    const { key, rest } = entry;
    if (rest === "") {
      pending = { map: frame.map, key, indent };
      frame.map[key] = null;
      continue;
    }
    if ((rest.startsWith("'") || rest.startsWith('"')) && closingQuote(rest) < 0) {
      last = { map: frame.map, key, indent, open: rest, line };
      continue;
    }
    frame.map[key] = scalar(rest, where, line);
    last = { map: frame.map, key, indent, line };
  }
  if (last?.open !== undefined) {
    fail(where, last.line, `a ${last.open[0] === '"' ? "double" : "single"} quote is not closed`);
  }
  return root;
}
