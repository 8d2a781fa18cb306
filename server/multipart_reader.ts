/**
 * A streaming `multipart/form-data` reader: {@linkcode MultipartReader} yields the parts of a
 * body one at a time, each with its content as a stream of chunks read straight from the body,
 * so a file part can be written to disk as it arrives and nothing holds a whole body in memory.
 *
 * @module
 */

const CRLF = new Uint8Array([13, 10]);
const encoder = new TextEncoder();

/** Options of {@linkcode MultipartReader}. */
export interface MultipartReaderOptions {
  /** Bytes allowed for one part's header block (default 16 KiB). */
  maxHeaderBytes?: number;
}

/** One part of a multipart body. Read its {@linkcode MultipartPart.body} before the next part. */
export interface MultipartPart {
  /** The part's headers. */
  headers: Headers;
  /** The form field's name (`name` of `Content-Disposition`); `""` when absent. */
  name: string;
  /** The file name sent with a file part (`filename` or `filename*`), as sent. */
  filename?: string;
  /** The part's `Content-Type`, when given. */
  contentType?: string;
  /** The part's content, chunk by chunk, read from the body as it is iterated. One pass only. */
  body: AsyncIterable<Uint8Array>;
  /**
   * Reads the whole content as UTF-8 text, refusing more than `maxBytes`.
   *
   * @param maxBytes The most bytes to accept.
   * @returns The text.
   * @throws {RangeError} When the content is longer than `maxBytes`.
   */
  text(maxBytes: number): Promise<string>;
}

/**
 * Returns the boundary of a `multipart/form-data` content type.
 *
 * @param contentType The `Content-Type` header.
 * @returns The boundary.
 * @throws {TypeError} When the type is not multipart/form-data or has no valid boundary.
 *
 * @example Usage
 * ```ts
 * import { multipartBoundary } from "./multipart_reader.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(multipartBoundary('multipart/form-data; boundary="abc 1"'), "abc 1");
 * assertEquals(multipartBoundary("multipart/form-data; boundary=----x"), "----x");
 * ```
 */
export function multipartBoundary(contentType: string): string {
  const [type, ...params] = splitParams(contentType);
  if (type.toLowerCase() !== "multipart/form-data") {
    throw new TypeError(`Expected multipart/form-data: got "${type}"`);
  }
  const boundary = params.find(([key]) => key === "boundary")?.[1];
  if (boundary === undefined || !/^[0-9A-Za-z'()+_,\-./:=? ]{1,70}$/.test(boundary)) {
    throw new TypeError("multipart/form-data needs a boundary of 1 to 70 allowed characters");
  }
  return boundary;
}

/** Splits `type; a=1; b="x; y"` into the type and its (lower-cased key) parameters. */
function splitParams(header: string): [string, ...[string, string][]] {
  const semi = header.indexOf(";");
  const type = (semi === -1 ? header : header.slice(0, semi)).trim();
  const params: [string, string][] = [];
  const re = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/gy;
  re.lastIndex = semi === -1 ? header.length : semi;
  let match: RegExpExecArray | null;
  while ((match = re.exec(header)) !== null) {
    const value = match[2] !== undefined ? match[2].replace(/\\(.)/g, "$1") : match[3].trim();
    params.push([match[1].toLowerCase(), value]);
  }
  return [type, ...params];
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0];
  const last = haystack.length - needle.length;
  for (
    let i = haystack.indexOf(first, from);
    i !== -1 && i <= last;
    i = haystack.indexOf(first, i + 1)
  ) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Reads a `multipart/form-data` body as a stream of parts. Each part's content comes straight
 * from the body as the part's `body` is iterated (nothing is buffered beyond one chunk and a
 * boundary's length); a part not read to its end is skipped when the next part is asked for.
 * Iterating ends at the closing boundary (the epilogue is not read) and releases the body.
 *
 * Malformed bodies (no boundary, a part header without a blank line, a body that ends before
 * the closing boundary) throw a `SyntaxError`; a header block over the limit throws a
 * `RangeError`. Errors of the body itself (a byte limit, a dropped connection) pass through.
 *
 * @example Read a field and a file
 * ```ts
 * import { MultipartReader } from "./multipart_reader.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const form = new FormData();
 * form.append("labels", "cat");
 * form.append("file", new File(["hello"], "a.txt", { type: "text/plain" }));
 * const request = new Request("http://x/", { method: "POST", body: form });
 * const boundary = request.headers.get("content-type")!.split("boundary=")[1];
 *
 * const seen: string[] = [];
 * for await (const part of new MultipartReader(request.body!, boundary)) {
 *   seen.push(`${part.name}:${part.filename ?? ""}:${await part.text(100)}`);
 * }
 * assertEquals(seen, ["labels::cat", "file:a.txt:hello"]);
 * ```
 */
export class MultipartReader implements AsyncIterable<MultipartPart> {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #delimiter: Uint8Array;
  #maxHeaderBytes: number;
  /** Unread bytes; starts with CRLF so that a boundary on the first line is found like others. */
  #buffer: Uint8Array = CRLF;
  #inPart = false;
  #used = false;

  /**
   * Creates a reader over a body.
   *
   * @param body The request body.
   * @param boundary The boundary, from {@linkcode multipartBoundary}.
   * @param options Limits.
   * @throws {RangeError} When `maxHeaderBytes` is not a positive integer.
   */
  constructor(
    body: ReadableStream<Uint8Array>,
    boundary: string,
    options: MultipartReaderOptions = {},
  ) {
    const { maxHeaderBytes = 16 * 1024 } = options;
    if (!Number.isSafeInteger(maxHeaderBytes) || maxHeaderBytes < 1) {
      throw new RangeError(
        `Cannot create MultipartReader: maxHeaderBytes must be a positive integer: current value is ${maxHeaderBytes}`,
      );
    }
    if (boundary === "") {
      throw new TypeError("Cannot create MultipartReader: boundary must not be empty");
    }
    this.#reader = body.getReader();
    this.#delimiter = encoder.encode(`\r\n--${boundary}`);
    this.#maxHeaderBytes = maxHeaderBytes;
  }

  async #fill(): Promise<boolean> {
    const { value, done } = await this.#reader.read();
    if (done) return false;
    this.#buffer = concat(this.#buffer, value);
    return true;
  }

  async #need(bytes: number): Promise<void> {
    while (this.#buffer.length < bytes) {
      if (!await this.#fill()) {
        throw new SyntaxError(
          "Syntax error in multipart body: it ends before the closing boundary",
        );
      }
    }
  }

  /** The next chunk of the current part, or null at its end (the delimiter is consumed). */
  async #nextChunk(): Promise<Uint8Array | null> {
    if (!this.#inPart) return null;
    const delimiter = this.#delimiter;
    while (true) {
      const at = indexOf(this.#buffer, delimiter);
      if (at > 0) {
        const out = this.#buffer.subarray(0, at);
        this.#buffer = this.#buffer.subarray(at);
        return out;
      }
      if (at === 0) {
        this.#buffer = this.#buffer.subarray(delimiter.length);
        this.#inPart = false;
        return null;
      }
      const safe = this.#buffer.length - (delimiter.length - 1);
      if (safe > 0) {
        const out = this.#buffer.subarray(0, safe);
        this.#buffer = this.#buffer.subarray(safe);
        return out;
      }
      if (!await this.#fill()) {
        throw new SyntaxError(
          "Syntax error in multipart body: it ends before the closing boundary",
        );
      }
    }
  }

  /** After a delimiter: `true` for the closing one, else consumes the line end. */
  async #afterDelimiter(): Promise<boolean> {
    await this.#need(2);
    if (this.#buffer[0] === 45 && this.#buffer[1] === 45) return true;
    let i = 0;
    while (true) {
      await this.#need(i + 2);
      const b = this.#buffer[i];
      if (b === 32 || b === 9) {
        i++;
        if (i > 256) break;
        continue;
      }
      if (b === 13 && this.#buffer[i + 1] === 10) {
        this.#buffer = this.#buffer.subarray(i + 2);
        return false;
      }
      break;
    }
    throw new SyntaxError("Syntax error in multipart body: a boundary line has trailing garbage");
  }

  async #readHeaders(): Promise<Headers> {
    await this.#need(2);
    if (this.#buffer[0] === 13 && this.#buffer[1] === 10) {
      this.#buffer = this.#buffer.subarray(2);
      return new Headers();
    }
    const end = new Uint8Array([13, 10, 13, 10]);
    let at: number;
    while ((at = indexOf(this.#buffer, end)) === -1) {
      if (this.#buffer.length > this.#maxHeaderBytes) break;
      await this.#need(this.#buffer.length + 1);
    }
    if (at === -1 || at > this.#maxHeaderBytes) {
      throw new RangeError(
        `A multipart part's headers exceed the limit of ${this.#maxHeaderBytes} bytes`,
      );
    }
    const text = new TextDecoder().decode(this.#buffer.subarray(0, at));
    this.#buffer = this.#buffer.subarray(at + 4);
    const headers = new Headers();
    for (const line of text.split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon <= 0) {
        throw new SyntaxError(`Syntax error in multipart part header: "${line.slice(0, 80)}"`);
      }
      try {
        headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      } catch {
        throw new SyntaxError(`Syntax error in multipart part header: "${line.slice(0, 80)}"`);
      }
    }
    return headers;
  }

  #part(headers: Headers): MultipartPart {
    const disposition = headers.get("content-disposition") ?? "";
    const [, ...params] = splitParams(disposition);
    const get = (key: string) => params.find(([k]) => k === key)?.[1];
    let filename = get("filename");
    const extended = get("filename*");
    if (extended !== undefined) {
      const match = /^utf-8'[^']*'(.*)$/i.exec(extended);
      if (match) {
        try {
          filename = decodeURIComponent(match[1]);
        } catch {
          throw new SyntaxError(`Syntax error in multipart filename*: "${extended.slice(0, 80)}"`);
        }
      }
    }
    const next = () => this.#nextChunk();
    const body: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          const value = await next();
          return value === null ? { done: true, value: undefined } : { done: false, value };
        },
        return: () => Promise.resolve({ done: true, value: undefined }),
      }),
    };
    const contentType = headers.get("content-type") ?? undefined;
    return {
      headers,
      name: get("name") ?? "",
      ...(filename !== undefined ? { filename } : {}),
      ...(contentType !== undefined ? { contentType } : {}),
      body,
      text: async (maxBytes: number) => {
        const chunks: Uint8Array[] = [];
        let size = 0;
        for await (const chunk of body) {
          size += chunk.length;
          if (size > maxBytes) {
            throw new RangeError(`The form field "${get("name") ?? ""}" exceeds ${maxBytes} bytes`);
          }
          chunks.push(chunk);
        }
        const all = new Uint8Array(size);
        let offset = 0;
        for (const chunk of chunks) {
          all.set(chunk, offset);
          offset += chunk.length;
        }
        return new TextDecoder().decode(all);
      },
    };
  }

  /**
   * Iterates the parts. A reader can be iterated once.
   *
   * @returns The parts, in body order.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<MultipartPart> {
    if (this.#used) throw new TypeError("A MultipartReader can be iterated only once");
    this.#used = true;
    try {
      // The preamble is read like a part's body and dropped.
      this.#inPart = true;
      while (await this.#nextChunk() !== null) { /* preamble */ }
      while (!await this.#afterDelimiter()) {
        const headers = await this.#readHeaders();
        this.#inPart = true;
        yield this.#part(headers);
        while (await this.#nextChunk() !== null) { /* what the consumer left unread */ }
      }
    } finally {
      await this.#reader.cancel().catch(() => {});
    }
  }
}
