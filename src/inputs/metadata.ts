/**
 * Parsing input metadata written in a CSV field: JSON, or the Python-dict form the Clarifai
 * docs show (`{'source': 'web', 'ok': True, 'x': None}`). Unlike the official SDK, which
 * replaces every `'` with `"`, this is a real parser: a double-quoted string may hold an
 * apostrophe (`{'name': "O'Brien"}`).
 *
 * @module
 */
import type { JsonObject, JsonValue } from "./input_draft.ts";

/** How deeply objects and arrays may nest in metadata. */
export const MAX_METADATA_DEPTH = 64;

const LITERALS: Record<string, JsonValue> = {
  true: true,
  false: false,
  null: null,
  True: true,
  False: false,
  None: null,
};

const ESCAPES: Record<string, string> = {
  '"': '"',
  "'": "'",
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;

/** A recursive-descent parser over one metadata text. */
class MetadataParser {
  readonly #text: string;
  #pos = 0;

  constructor(text: string) {
    this.#text = text;
  }

  parse(): JsonObject {
    this.#skipSpace();
    if (this.#text.charAt(this.#pos) !== "{") {
      throw this.#error(
        this.#pos >= this.#text.length
          ? "metadata must be an object, like {'key': 'value'}: the text is empty"
          : "metadata must be an object, like {'key': 'value'}",
      );
    }
    const value = this.#object(1);
    this.#skipSpace();
    if (this.#pos < this.#text.length) {
      throw this.#error("unexpected text after the closing '}'");
    }
    return value;
  }

  #value(depth: number): JsonValue {
    const c = this.#text.charAt(this.#pos);
    if (c === "{") return this.#object(depth + 1);
    if (c === "[") return this.#array(depth + 1);
    if (c === '"' || c === "'") return this.#string();
    if (c === "-" || (c >= "0" && c <= "9")) return this.#number();
    const word = /[A-Za-z_]+/y;
    word.lastIndex = this.#pos;
    const match = word.exec(this.#text);
    if (match !== null && Object.hasOwn(LITERALS, match[0])) {
      this.#pos += match[0].length;
      return LITERALS[match[0]];
    }
    if (c === "") throw this.#error("unexpected end of text: expected a value");
    if (match !== null) {
      throw this.#error(
        `unknown word ${
          JSON.stringify(match[0])
        }: expected a value (quote strings; literals are true, false, null, True, False, None)`,
      );
    }
    throw this.#error(`unexpected ${describe(c)}: expected a value`);
  }

  #object(depth: number): JsonObject {
    this.#checkDepth(depth);
    this.#pos++; // "{"
    const object: JsonObject = {};
    this.#skipSpace();
    if (this.#text.charAt(this.#pos) === "}") {
      this.#pos++;
      return object;
    }
    for (;;) {
      this.#skipSpace();
      const c = this.#text.charAt(this.#pos);
      if (c !== '"' && c !== "'") {
        if (c === "}") throw this.#error("trailing comma before '}' is not allowed");
        if (c === "") throw this.#error("unexpected end of text: expected a quoted key");
        throw this.#error(`unexpected ${describe(c)}: expected a quoted key`);
      }
      const key = this.#string();
      this.#skipSpace();
      if (this.#text.charAt(this.#pos) !== ":") throw this.#error("expected ':' after key");
      this.#pos++;
      this.#skipSpace();
      const value = this.#value(depth);
      if (key === "__proto__") {
        Object.defineProperty(object, key, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        object[key] = value;
      }
      this.#skipSpace();
      const next = this.#text.charAt(this.#pos);
      this.#pos++;
      if (next === "}") return object;
      if (next !== ",") {
        this.#pos--;
        throw this.#error(
          next === "" ? "unexpected end of text: expected ',' or '}'" : "expected ',' or '}'",
        );
      }
    }
  }

  #array(depth: number): JsonValue[] {
    this.#checkDepth(depth);
    this.#pos++; // "["
    const array: JsonValue[] = [];
    this.#skipSpace();
    if (this.#text.charAt(this.#pos) === "]") {
      this.#pos++;
      return array;
    }
    for (;;) {
      this.#skipSpace();
      if (this.#text.charAt(this.#pos) === "]") {
        throw this.#error("trailing comma before ']' is not allowed");
      }
      array.push(this.#value(depth));
      this.#skipSpace();
      const next = this.#text.charAt(this.#pos);
      this.#pos++;
      if (next === "]") return array;
      if (next !== ",") {
        this.#pos--;
        throw this.#error(
          next === "" ? "unexpected end of text: expected ',' or ']'" : "expected ',' or ']'",
        );
      }
    }
  }

  #string(): string {
    const text = this.#text;
    const quote = text.charAt(this.#pos);
    const start = this.#pos;
    this.#pos++;
    let out = "";
    let from = this.#pos;
    for (;;) {
      if (this.#pos >= text.length) {
        this.#pos = start;
        throw this.#error(`unterminated string: expected a closing ${quote}`);
      }
      const c = text.charAt(this.#pos);
      if (c === quote) {
        out += text.slice(from, this.#pos);
        this.#pos++;
        return out;
      }
      if (c === "\\") {
        out += text.slice(from, this.#pos);
        const e = text.charAt(this.#pos + 1);
        if (e === "u") {
          const hex = text.slice(this.#pos + 2, this.#pos + 6);
          if (!HEX4.test(hex)) throw this.#error("invalid \\u escape: expected 4 hex digits");
          out += String.fromCharCode(parseInt(hex, 16));
          this.#pos += 6;
        } else if (Object.hasOwn(ESCAPES, e)) {
          out += ESCAPES[e];
          this.#pos += 2;
        } else {
          throw this.#error(
            e === "" ? "unterminated string: expected a closing " + quote : `invalid escape \\${e}`,
          );
        }
        from = this.#pos;
        continue;
      }
      if (c < " " && c !== "\t") {
        throw this.#error(`${describe(c)} inside a string: write it as an escape`);
      }
      this.#pos++;
    }
  }

  #number(): number {
    NUMBER.lastIndex = this.#pos;
    const match = NUMBER.exec(this.#text);
    if (match === null || match[0] === "-") throw this.#error("invalid number");
    const value = Number(match[0]);
    if (!Number.isFinite(value)) throw this.#error(`number ${match[0]} is out of range`);
    const next = this.#text.charAt(this.#pos + match[0].length);
    if (/[0-9A-Za-z_.]/.test(next)) throw this.#error("invalid number");
    this.#pos += match[0].length;
    return value;
  }

  #skipSpace(): void {
    const text = this.#text;
    for (;;) {
      const c = text.charCodeAt(this.#pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.#pos++;
      else return;
    }
  }

  #checkDepth(depth: number): void {
    if (depth > MAX_METADATA_DEPTH) {
      throw this.#error(`nesting deeper than ${MAX_METADATA_DEPTH} levels`);
    }
  }

  #error(message: string): SyntaxError {
    const before = this.#text.slice(0, this.#pos);
    const lineBreak = before.lastIndexOf("\n");
    const column = this.#pos - lineBreak;
    if (lineBreak === -1 && !this.#text.includes("\n")) {
      return new SyntaxError(`Syntax error at column ${column}: ${message}`);
    }
    const line = before.split("\n").length;
    return new SyntaxError(`Syntax error on line ${line}, column ${column}: ${message}`);
  }
}

function describe(c: string): string {
  if (c < " " || c === "\u007f") {
    return `control character U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
  }
  return `character ${JSON.stringify(c)}`;
}

/**
 * Parses metadata text into a JSON object. Accepts JSON, and the Python-dict form: strings in
 * single or double quotes (with backslash escapes, `\'` included), `True`/`False`/`None` as well
 * as `true`/`false`/`null`. The top level must be an object; trailing commas, unquoted keys,
 * `NaN` and numbers beyond the double range are refused. Nesting is limited to
 * {@linkcode MAX_METADATA_DEPTH} levels.
 *
 * @param text The metadata text.
 * @returns The parsed object.
 * @throws {SyntaxError} When the text is not an object in either form, with the column:
 * `Syntax error at column 14: expected ':' after key`.
 *
 * @example Python-dict metadata, as the Clarifai docs write it
 * ```ts
 * import { parseMetadata } from "./metadata.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(
 *   parseMetadata(`{'source': 'web', 'n': 3, 'ok': True, 'x': None, 'who': "O'Brien"}`),
 *   { source: "web", n: 3, ok: true, x: null, who: "O'Brien" },
 * );
 * ```
 *
 * @example Errors name the column
 * ```ts
 * import { parseMetadata } from "./metadata.ts";
 * import { assertThrows } from "@std/assert";
 *
 * assertThrows(
 *   () => parseMetadata(`{'source' 'web'}`),
 *   SyntaxError,
 *   "Syntax error at column 11: expected ':' after key",
 * );
 * ```
 */
export function parseMetadata(text: string): JsonObject {
  return new MetadataParser(text).parse();
}

/**
 * Parses a metadata field of a record: an empty or blank field means no metadata.
 *
 * @param text The field text.
 * @returns The parsed object, or `undefined` when the field is blank.
 * @throws {SyntaxError} When the field is not blank and not an object in JSON or Python-dict
 * form.
 *
 * @example Blank and filled fields
 * ```ts
 * import { parseMetadataField } from "./metadata.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(parseMetadataField("  "), undefined);
 * assertEquals(parseMetadataField('{"a": [1, "b"]}'), { a: [1, "b"] });
 * ```
 */
export function parseMetadataField(text: string): JsonObject | undefined {
  if (text.trim() === "") return undefined;
  return parseMetadata(text);
}
