/**
 * {@linkcode jsonArrayElements}: reads a large JSON document of the shape
 * `{ "images": [ … ], "annotations": [ … ], … }` from a stream of text and yields the elements
 * of chosen top-level arrays one at a time, without holding the document in memory.
 *
 * @module
 */

/** One element of a top-level array. */
export interface JsonArrayElement {
  /** The top-level key of the array (`"annotations"`). */
  key: string;
  /** The element, parsed with `JSON.parse`. */
  value: unknown;
  /** The 1-based line the element starts on. */
  line: number;
  /** The element's 0-based position in its array. */
  index: number;
}

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** Scanning state of a value that may span chunks. */
interface ScanState {
  depth: number;
  inString: boolean;
  escape: boolean;
  newlines: number;
}

/**
 * Scans a string, object or array value from `i` (the state says where inside it the scan is)
 * and returns the index just past its end, or -1 when the buffer ends first.
 */
function scanCompound(buf: string, i: number, st: ScanState): number {
  const length = buf.length;
  for (; i < length; i++) {
    const c = buf.charCodeAt(i);
    if (st.inString) {
      if (st.escape) st.escape = false;
      else if (c === 0x5c) st.escape = true;
      else if (c === 0x22) {
        st.inString = false;
        if (st.depth === 0) return i + 1;
      } else if (c === 0x0a) st.newlines++;
      continue;
    }
    if (c === 0x22) st.inString = true;
    else if (c === 0x7b || c === 0x5b) st.depth++;
    else if (c === 0x7d || c === 0x5d) {
      st.depth--;
      if (st.depth <= 0) return i + 1;
    } else if (c === 0x0a) st.newlines++;
  }
  return -1;
}

/** Scans a primitive (number, `true`, `false`, `null`) up to a delimiter; -1 at buffer end. */
function scanPrimitive(buf: string, i: number): number {
  const length = buf.length;
  for (; i < length; i++) {
    const c = buf.charCodeAt(i);
    if (c === 0x2c || c === 0x5d || c === 0x7d || WHITESPACE.has(c)) return i;
  }
  return -1;
}

function describe(char: string | undefined): string {
  return char === undefined ? "the end of the text" : JSON.stringify(char);
}

/**
 * Yields the elements of the top-level arrays named in `keys`, in document order, from a JSON
 * object streamed as text chunks. Values of other top-level keys are skipped without being
 * built; only one element (and one chunk) is in memory at a time. Each element is parsed with
 * `JSON.parse`, so its content is checked exactly; the document's outer structure is checked as
 * it streams. Top-level keys not holding arrays are skipped too, whatever their name.
 *
 * @param chunks The document's text, in chunks split anywhere (e.g. a file piped through
 * `TextDecoderStream`).
 * @param keys The top-level keys whose array elements to yield.
 * @returns The elements, with their key, line and index.
 * @throws {SyntaxError} `Syntax error on line N: …` when the document is not a JSON object or
 * an element is not valid JSON.
 *
 * @example Usage
 * ```ts
 * import { jsonArrayElements } from "./json_array_elements.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const text = '{"info": {"v": [1, 2]}, "images": [{"id": 1},\n {"id": 2}], "n": 3}';
 * const chunks = [text.slice(0, 20), text.slice(20, 33), text.slice(33)];
 * const elements = await Array.fromAsync(jsonArrayElements(chunks, ["images"]));
 * assertEquals(elements, [
 *   { key: "images", value: { id: 1 }, line: 1, index: 0 },
 *   { key: "images", value: { id: 2 }, line: 2, index: 1 },
 * ]);
 * ```
 */
export async function* jsonArrayElements(
  chunks: AsyncIterable<string> | Iterable<string>,
  keys: readonly string[],
): AsyncGenerator<JsonArrayElement> {
  const wanted = new Set(keys);
  const reader = new JsonTextReader(chunks);
  await reader.expect("{", "at the start of the document");
  let first = true;
  while (true) {
    let next = await reader.peek();
    if (next === "}") {
      reader.pos++;
      break;
    }
    if (!first) {
      if (next !== ",") reader.fail(`expected "," or "}" after a member, found ${describe(next)}`);
      reader.pos++;
      next = await reader.peek();
    }
    first = false;
    const key = await reader.memberName(next);
    if (wanted.has(key) && await reader.peek() === "[") yield* arrayElements(reader, key);
    else await reader.scanValue(false);
  }
  const rest = await reader.peek();
  if (rest !== undefined) reader.fail(`unexpected ${describe(rest)} after the end of the document`);
}

/** Yields the elements of the array at the reader's position (on its `[`), named `key`. */
async function* arrayElements(
  reader: JsonTextReader,
  key: string,
): AsyncGenerator<JsonArrayElement> {
  reader.pos++;
  for (let index = 0;; index++) {
    let c = await reader.peek();
    if (c === "]") {
      reader.pos++;
      return;
    }
    if (index > 0) {
      if (c !== ",") {
        reader.fail(
          `expected "," or "]" in the ${JSON.stringify(key)} array, found ${describe(c)}`,
        );
      }
      reader.pos++;
      c = await reader.peek();
    }
    if (c === undefined) reader.fail(`the text ends inside the ${JSON.stringify(key)} array`);
    const line = reader.line;
    const text = await reader.scanValue(true);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      reader.fail(
        `element ${index + 1} of ${JSON.stringify(key)}: ${(error as Error).message}`,
        line,
      );
    }
    yield { key, value, line, index };
  }
}

/**
 * JSON text read from chunks: a buffer holding the text from the value being scanned on, the
 * position in it, and the line there.
 */
class JsonTextReader {
  readonly #iterator: AsyncIterator<string> | Iterator<string>;
  #buf = "";
  #ended = false;
  /** The position in the buffer. */
  pos = 0;
  /** The 1-based line at {@linkcode pos}. */
  line = 1;

  constructor(chunks: AsyncIterable<string> | Iterable<string>) {
    this.#iterator =
      (Symbol.asyncIterator in chunks
        ? (chunks as AsyncIterable<string>)[Symbol.asyncIterator]()
        : (chunks as Iterable<string>)[Symbol.iterator]()) as
          | AsyncIterator<string>
          | Iterator<string>;
  }

  fail(message: string, at: number = this.line): never {
    throw new SyntaxError(`Syntax error on line ${at}: ${message}`);
  }

  /** Skips whitespace; returns the next character (not consumed), undefined at the end. */
  async peek(): Promise<string | undefined> {
    while (true) {
      const buf = this.#buf;
      while (this.pos < buf.length) {
        const c = buf.charCodeAt(this.pos);
        if (!WHITESPACE.has(c)) return buf[this.pos];
        if (c === 0x0a) this.line++;
        this.pos++;
      }
      if (!(await this.#more(this.pos))) return undefined;
    }
  }

  async expect(char: string, context: string): Promise<void> {
    const next = await this.peek();
    if (next !== char) {
      this.fail(`expected ${JSON.stringify(char)} ${context}, found ${describe(next)}`);
    }
    this.pos++;
  }

  /** Reads a member name (`next` is the character at the position) and the `:` after it. */
  async memberName(next: string | undefined): Promise<string> {
    if (next !== '"') this.fail(`expected a member name in double quotes, found ${describe(next)}`);
    const line = this.line;
    const text = await this.scanValue(true);
    let key: string;
    try {
      key = JSON.parse(text);
    } catch (error) {
      return this.fail((error as Error).message, line);
    }
    await this.expect(":", `after member name ${text}`);
    return key;
  }

  /**
   * Scans the value at the position and returns its text (or "" when `keepText` is false, in
   * which case the scanned text is dropped chunk by chunk, so a large skipped value costs
   * nothing).
   */
  async scanValue(keepText: boolean): Promise<string> {
    const first = await this.peek();
    if (first === undefined) this.fail("expected a value, found the end of the text");
    if (first === "{" || first === "[" || first === '"') return await this.#scanCompound(keepText);
    return await this.#scanPrimitive();
  }

  async #scanCompound(keepText: boolean): Promise<string> {
    const startLine = this.line;
    let start = this.pos;
    let i = this.pos;
    const st: ScanState = { depth: 0, inString: false, escape: false, newlines: 0 };
    while (true) {
      const end = scanCompound(this.#buf, i, st);
      if (end >= 0) {
        this.line += st.newlines;
        this.pos = end;
        return keepText ? this.#buf.slice(start, end) : "";
      }
      const keep = keepText ? start : this.#buf.length;
      i = this.#buf.length - keep;
      start -= keep;
      if (!(await this.#more(keep))) this.fail("the text ends inside a value", startLine);
    }
  }

  async #scanPrimitive(): Promise<string> {
    let start = this.pos;
    let i = this.pos;
    while (true) {
      const end = scanPrimitive(this.#buf, i);
      if (end >= 0) {
        this.pos = end;
        return this.#buf.slice(start, end);
      }
      i = this.#buf.length - start;
      const keep = start;
      start = 0;
      if (!(await this.#more(keep))) {
        // The text ends in the primitive: the buffer was not cut, so it starts at `keep`.
        this.pos = this.#buf.length;
        return this.#buf.slice(keep);
      }
    }
  }

  /** Reads another chunk, keeping the text from `keep` on; false at the end of the input. */
  async #more(keep: number): Promise<boolean> {
    while (!this.#ended) {
      const next = await this.#iterator.next();
      if (next.done) {
        this.#ended = true;
        return false;
      }
      if (next.value.length === 0) continue;
      this.#buf = this.#buf.slice(keep) + next.value;
      this.pos -= keep;
      return true;
    }
    return false;
  }
}
