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
  const iterator =
    (Symbol.asyncIterator in chunks
      ? (chunks as AsyncIterable<string>)[Symbol.asyncIterator]()
      : (chunks as Iterable<string>)[Symbol.iterator]()) as
        | AsyncIterator<string>
        | Iterator<string>;
  let buf = "";
  let pos = 0;
  let line = 1;
  let ended = false;

  /** Reads another chunk, keeping the text from `keep` on; false at the end of the input. */
  const more = async (keep: number): Promise<boolean> => {
    while (!ended) {
      const next = await iterator.next();
      if (next.done) {
        ended = true;
        return false;
      }
      if (next.value.length === 0) continue;
      buf = buf.slice(keep) + next.value;
      pos -= keep;
      return true;
    }
    return false;
  };
  const fail = (message: string, at = line): never => {
    throw new SyntaxError(`Syntax error on line ${at}: ${message}`);
  };
  /** Skips whitespace; returns the next character (not consumed), undefined at the end. */
  const peek = async (): Promise<string | undefined> => {
    while (true) {
      while (pos < buf.length) {
        const c = buf.charCodeAt(pos);
        if (!WHITESPACE.has(c)) return buf[pos];
        if (c === 0x0a) line++;
        pos++;
      }
      if (!(await more(pos))) return undefined;
    }
  };
  const expect = async (char: string, context: string) => {
    const next = await peek();
    if (next !== char) fail(`expected ${JSON.stringify(char)} ${context}, found ${describe(next)}`);
    pos++;
  };
  /**
   * Scans the value at `pos` and returns its text (or "" when `keepText` is false, in which
   * case the scanned text is dropped chunk by chunk, so a large skipped value costs nothing).
   */
  const scanValue = async (keepText: boolean): Promise<string> => {
    const first = await peek();
    if (first === undefined) fail("expected a value, found the end of the text");
    const startLine = line;
    let start = pos;
    let i = pos;
    if (first === "{" || first === "[" || first === '"') {
      const st: ScanState = { depth: 0, inString: false, escape: false, newlines: 0 };
      while (true) {
        const end = scanCompound(buf, i, st);
        if (end >= 0) {
          line += st.newlines;
          pos = end;
          return keepText ? buf.slice(start, end) : "";
        }
        const keep = keepText ? start : buf.length;
        i = buf.length - keep;
        start -= keep;
        if (!(await more(keep))) fail("the text ends inside a value", startLine);
      }
    }
    while (true) {
      const end = scanPrimitive(buf, i);
      if (end >= 0) {
        pos = end;
        return buf.slice(start, end);
      }
      i = buf.length - start;
      const keep = start;
      start = 0;
      if (!(await more(keep))) {
        pos = buf.length;
        return buf.slice(start);
      }
    }
  };

  await expect("{", "at the start of the document");
  let first = true;
  while (true) {
    let next = await peek();
    if (next === "}") {
      pos++;
      break;
    }
    if (!first) {
      if (next !== ",") fail(`expected "," or "}" after a member, found ${describe(next)}`);
      pos++;
      next = await peek();
    }
    first = false;
    if (next !== '"') fail(`expected a member name in double quotes, found ${describe(next)}`);
    const keyLine = line;
    const keyText = await scanValue(true);
    let key: string;
    try {
      key = JSON.parse(keyText);
    } catch (error) {
      return fail((error as Error).message, keyLine);
    }
    await expect(":", `after member name ${keyText}`);
    const valueStart = await peek();
    if (!wanted.has(key) || valueStart !== "[") {
      await scanValue(false);
      continue;
    }
    pos++;
    let index = 0;
    while (true) {
      let c = await peek();
      if (c === "]") {
        pos++;
        break;
      }
      if (index > 0) {
        if (c !== ",") {
          fail(`expected "," or "]" in the ${JSON.stringify(key)} array, found ${describe(c)}`);
        }
        pos++;
        c = await peek();
      }
      if (c === undefined) fail(`the text ends inside the ${JSON.stringify(key)} array`);
      const elementLine = line;
      const text = await scanValue(true);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        fail(
          `element ${index + 1} of ${JSON.stringify(key)}: ${(error as Error).message}`,
          elementLine,
        );
      }
      yield { key, value, line: elementLine, index };
      index++;
    }
  }
  const rest = await peek();
  if (rest !== undefined) fail(`unexpected ${describe(rest)} after the end of the document`);
}
