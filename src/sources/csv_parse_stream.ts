/**
 * Streaming CSV parsing (RFC 4180, read as Python's `csv` module reads it): {@linkcode
 * CsvParseStream} turns text chunks into rows of fields, with the shape of `@std/csv`'s stream of
 * the same name; {@linkcode CsvRowStream} does the same with the line each record starts on, for
 * sources that report locations. Both are thin wrappers over one incremental parser, so their
 * output never depends on how the text is split into chunks.
 *
 * Accepted: quoted fields with `""` escapes and line breaks inside, LF, CRLF and lone CR line
 * endings, a UTF-8 byte order mark at the very start (dropped), a missing final line ending and
 * empty fields; empty lines are skipped. Like Python's `csv` module (and pandas, which Clarifai's
 * SDK reads CSVs with), a quote inside an unquoted field is kept as it is (`a,Great 12" pizza`),
 * and text after a closing quote is appended to the field (`"a"b` reads `ab`). The one syntax
 * error is a quoted field never closed: {@linkcode CsvRowStream} reports the record it spoils
 * and reads the lines after the quote's line again as records; {@linkcode CsvParseStream} errors
 * with a `SyntaxError` naming the quote's line.
 *
 * @module
 */

/** Options of {@linkcode CsvParseStream} and {@linkcode CsvRowStream}. */
export interface CsvParseStreamOptions {
  /**
   * The field separator: one character other than `"`, CR and LF.
   *
   * @default {","}
   */
  separator?: string;
  /**
   * The longest record kept, in characters, so memory never grows without bound: a longer record
   * is read to its end without being kept; {@linkcode CsvRowStream} then emits it as a row with
   * an `error`, {@linkcode CsvParseStream} (which has no way to say so) errors with a
   * `SyntaxError` naming its line. The default, 64 Mi characters, is above every Clarifai input
   * limit.
   *
   * @default {67108864}
   */
  maxRecordLength?: number;
}

/** The default {@linkcode CsvParseStreamOptions.maxRecordLength}: 64 Mi characters. */
export const DEFAULT_MAX_RECORD_LENGTH = 64 * 1024 * 1024;

/** One parsed CSV record and the line of the input it starts on. */
export interface CsvRow {
  /** The 1-based line of the input on which the record starts. */
  line: number;
  /** The record's fields, unquoted and unescaped (none when `error` is set). */
  fields: string[];
  /**
   * Set instead of fields when the record could not be read: it was longer than
   * `maxRecordLength` (read to its end and dropped), or it holds a quoted field that is never
   * closed (the lines after the quote's line are then read again as records). Parsing goes on
   * with the next record.
   */
  error?: string;
}

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BOM = 0xfeff;

// Parser states between characters (and between chunks).
const START_RECORD = 0; // nothing of the next record read yet
const START_FIELD = 1; // right after a separator
const UNQUOTED = 2; // inside an unquoted field
const QUOTED = 3; // inside a quoted field
const QUOTE_SEEN = 4; // a quote inside a quoted field: an escape or the closing quote
const CR_SEEN = 5; // a CR ended a line: a following LF belongs to it

/**
 * The incremental parser behind both streams. It keeps the record in progress between chunks
 * (finished fields, the text of the current field so far, the state), slices ranges of each
 * chunk instead of building fields a character at a time, and takes a fast path for whole
 * lines without quotes: one native `split`.
 */
class CsvParserCore {
  readonly #sep: string;
  readonly #sepCode: number;
  readonly #emit: (fields: string[], line: number) => void;
  readonly #maxRecordLength: number;
  readonly #onBadRecord: ((line: number, message: string) => void) | undefined;
  /** Whether the record in progress went over the limit and is read without being kept. */
  #dropping = false;

  #state = START_RECORD;
  /** Characters of the record in progress kept so far (finished fields and the partial one). */
  #recordLength = 0;
  #fields: string[] = [];
  #partial = "";
  #started = false;
  /** Line number at the scanning position. */
  #line = 1;
  /** Absolute offset (UTF-16 units) where the current line starts, for columns. */
  #lineStart = 0;
  /** Absolute offset of the current chunk's first character. */
  #base = 0;
  /** Line on which the record in progress starts. */
  #recordLine = 1;
  /** Line and column on which the quoted field in progress starts. */
  #quoteLine = 1;
  #quoteColumn = 1;
  /** Whether the quoted text read so far ends with a CR (a CRLF split across pieces). */
  #quotedEndsWithCr = false;
  /**
   * Cached positions of the next quote, CR and LF in the current chunk (its length when there is
   * none; -1 before the first look), so that lines ended by lone CRs do not rescan the chunk for
   * each record.
   */
  #nextQuote = -1;
  #nextCr = -1;
  #nextLf = -1;

  constructor(
    separator: string,
    emit: (fields: string[], line: number) => void,
    maxRecordLength: number,
    onBadRecord?: (line: number, message: string) => void,
  ) {
    this.#maxRecordLength = maxRecordLength;
    this.#onBadRecord = onBadRecord;
    this.#sep = separator;
    this.#sepCode = separator.charCodeAt(0);
    this.#emit = emit;
  }

  push(chunk: string): void {
    let i = 0;
    if (!this.#started && chunk.length > 0) {
      this.#started = true;
      if (chunk.charCodeAt(0) === BOM) {
        i = 1;
        this.#lineStart = 1;
      }
    }
    this.#nextQuote = this.#nextCr = this.#nextLf = -1;
    while (i < chunk.length) {
      switch (this.#state) {
        case CR_SEEN:
          i = this.#afterCr(chunk, i);
          break;
        case START_RECORD:
          i = this.#startRecord(chunk, i);
          break;
        case START_FIELD:
          i = this.#startField(chunk, i);
          break;
        case UNQUOTED:
          i = this.#unquoted(chunk, i);
          break;
        case QUOTED:
          i = this.#quoted(chunk, i);
          break;
        case QUOTE_SEEN:
          i = this.#quoteSeen(chunk, i);
          break;
      }
    }
    this.#base += chunk.length;
  }

  // Each state's step below reads from chunk index `i` and returns the index it stopped at.

  /** After a CR that ended a line: a LF right after it belongs to it. */
  #afterCr(chunk: string, i: number): number {
    if (chunk.charCodeAt(i) === LF) {
      i++;
      this.#lineStart = this.#base + i;
    }
    this.#state = START_RECORD;
    return i;
  }

  /** At the start of a line: an empty line, a whole plain line (fast path), or a record. */
  #startRecord(chunk: string, i: number): number {
    const c = chunk.charCodeAt(i);
    if (c === LF || c === CR) { // an empty line
      i++;
      this.#newLine(i);
      if (c === CR) this.#state = CR_SEEN;
      return i;
    }
    this.#recordLine = this.#line;
    const end = this.#plainLineEnd(chunk, i);
    if (end !== -1) {
      this.#emit(chunk.slice(i, end).split(this.#sep), this.#line);
      i = this.#nextLf + 1;
      this.#newLine(i);
      return i;
    }
    this.#state = START_FIELD;
    return i;
  }

  /**
   * Where the line that starts at `i` ends (before its LF or CRLF) when the whole line is in
   * this chunk with no quote and no lone CR, so one native `split` reads it; -1 otherwise.
   */
  #plainLineEnd(chunk: string, i: number): number {
    const n = chunk.length;
    if (this.#nextLf < i) this.#nextLf = indexOrEnd(chunk, "\n", i);
    const lf = this.#nextLf;
    if (lf === n) return -1;
    if (this.#nextQuote < i) this.#nextQuote = indexOrEnd(chunk, '"', i);
    if (this.#nextQuote < lf) return -1;
    if (this.#nextCr < i) this.#nextCr = indexOrEnd(chunk, "\r", i);
    if (this.#nextCr === lf - 1) return lf - 1;
    return this.#nextCr < lf ? -1 : lf; // a lone CR ends the line first: the slow path
  }

  /** Right after a separator (or at a record's start): a quoted or an unquoted field. */
  #startField(chunk: string, i: number): number {
    if (chunk.charCodeAt(i) !== QUOTE) {
      this.#state = UNQUOTED;
      return i;
    }
    this.#state = QUOTED;
    this.#quoteLine = this.#line;
    this.#quoteColumn = this.#column(i);
    this.#quotedEndsWithCr = false;
    return i + 1;
  }

  /** Inside an unquoted field: up to the next separator or line break. */
  #unquoted(chunk: string, i: number): number {
    const n = chunk.length;
    const sep = this.#sepCode;
    let j = i;
    let c = 0;
    for (; j < n; j++) {
      c = chunk.charCodeAt(j);
      if (c === sep || c === LF || c === CR) break;
    }
    if (j === n) {
      if (this.#grow(n - i)) this.#partial += chunk.slice(i);
      return n;
    }
    const value = !this.#grow(j - i)
      ? ""
      : this.#partial === ""
      ? chunk.slice(i, j)
      : this.#partial + chunk.slice(i, j);
    this.#partial = "";
    this.#fields.push(value);
    i = j + 1;
    this.#afterField(c === sep, c, i);
    return i;
  }

  /**
   * Inside a quoted field: up to its closing quote (or the chunk's end). Escaped quotes (`""`)
   * inside the chunk are taken in the same slice and unescaped at once, so a field of a million
   * escaped quotes costs one pass, not a million appends to the field's text.
   */
  #quoted(chunk: string, i: number): number {
    const n = chunk.length;
    let q = chunk.indexOf('"', i);
    let escaped = false;
    while (q !== -1 && q + 1 < n && chunk.charCodeAt(q + 1) === QUOTE) {
      escaped = true;
      q = chunk.indexOf('"', q + 2);
    }
    const end = q === -1 ? n : q;
    if (end > i) {
      const raw = chunk.slice(i, end);
      this.#countQuotedLines(raw, i);
      // split/join: V8's replaceAll is several times slower with many matches.
      const piece = escaped ? raw.split('""').join('"') : raw;
      if (this.#grow(piece.length)) this.#partial += piece;
    }
    if (q === -1) return n;
    this.#state = QUOTE_SEEN;
    return q + 1;
  }

  /** After a quote inside a quoted field: an escaped quote, or the field's end. */
  #quoteSeen(chunk: string, i: number): number {
    const c = chunk.charCodeAt(i);
    if (c === QUOTE) { // an escaped quote
      this.#partial += '"';
      this.#quotedEndsWithCr = false;
      this.#state = QUOTED;
      return i + 1;
    }
    if (c !== this.#sepCode && c !== LF && c !== CR) {
      // Text after the closing quote: appended to the field, as Python's csv module does.
      this.#state = UNQUOTED;
      return i;
    }
    this.#fields.push(this.#partial);
    this.#partial = "";
    i++;
    this.#afterField(c === this.#sepCode, c, i);
    return i;
  }

  /** After a field's last character `c` (a separator or a line end) at `i`: what comes next. */
  #afterField(separator: boolean, c: number, i: number): void {
    if (separator) {
      this.#state = START_FIELD;
    } else {
      this.#endRecord();
      this.#newLine(i);
      this.#state = c === CR ? CR_SEEN : START_RECORD;
    }
  }

  finish(): void {
    for (;;) {
      switch (this.#state) {
        case START_FIELD:
        case UNQUOTED:
        case QUOTE_SEEN:
          this.#fields.push(this.#partial);
          this.#partial = "";
          this.#endRecord();
          break;
        case QUOTED: {
          if (!this.#onBadRecord) throw this.#error(this.#quoteLine, "unterminated quoted field");
          const rest = this.#recoverFromUnclosedQuote();
          if (rest === "") break;
          this.push(rest);
          continue; // the rest may end inside another unclosed quote
        }
      }
      this.#state = START_RECORD;
      return;
    }
  }

  /**
   * At the end of the input inside a quoted field: reports the record it spoils and returns the
   * raw text that follows the line the quote opened on, to be parsed again (the state is reset
   * to the start of that line). Every quote read since the opening one came as an escaped pair
   * (a lone one would have closed the field), so that text is the field's with each quote
   * doubled again. Returns `""` when nothing follows, or when the field went over
   * `maxRecordLength` and was not kept.
   */
  #recoverFromUnclosedQuote(): string {
    const quoteLine = this.#quoteLine;
    const opened = `the quote opened on line ${quoteLine}, column ${this.#quoteColumn}`;
    const text = this.#partial;
    const kept = !this.#dropping;
    this.#fields = [];
    this.#partial = "";
    this.#recordLength = 0;
    this.#dropping = false;
    this.#state = START_RECORD;
    const lf = text.indexOf("\n");
    const cr = text.indexOf("\r");
    let next = cr !== -1 && (lf === -1 || cr < lf) ? (lf === cr + 1 ? lf + 1 : cr + 1) : lf + 1;
    if (next === 0) next = text.length; // no line break: the quote opened on the last line
    if (!kept) {
      this.#onBadRecord!(
        this.#recordLine,
        `unterminated quoted field: ${opened} is never closed, and the rest of the file is ` +
          `longer than ${describeLength(this.#maxRecordLength)} characters: it was skipped`,
      );
      return "";
    }
    const rest = text.slice(next);
    this.#onBadRecord!(
      this.#recordLine,
      `unterminated quoted field: ${opened} is never closed` +
        (rest === "" ? "" : ` (the lines after it are read as records)`),
    );
    this.#line = quoteLine + 1;
    this.#lineStart = 0;
    this.#base = 0;
    return rest.replaceAll('"', '""');
  }

  /**
   * Counts `n` more characters of the record in progress. Returns whether to keep them: past the
   * limit the record is dropped (or, with no `onBadRecord`, the parse fails).
   */
  #grow(n: number): boolean {
    if (this.#dropping) return false;
    this.#recordLength += n;
    if (this.#recordLength <= this.#maxRecordLength) return true;
    const message = `the record is longer than ${
      describeLength(this.#maxRecordLength)
    } characters (an unterminated quote, or not a CSV file?)`;
    this.#fields = [];
    this.#partial = "";
    if (!this.#onBadRecord) throw this.#error(this.#recordLine, message);
    this.#dropping = true;
    return false;
  }

  #endRecord(): void {
    const fields = this.#fields;
    this.#fields = [];
    this.#recordLength = 0;
    if (this.#dropping) {
      this.#dropping = false;
      this.#onBadRecord!(
        this.#recordLine,
        `the record is longer than ${
          describeLength(this.#maxRecordLength)
        } characters: it was skipped (an unterminated quote, or not a CSV file?)`,
      );
      return;
    }
    this.#emit(fields, this.#recordLine);
  }

  /** Moves to the next line, which starts at chunk index `i`. */
  #newLine(i: number): void {
    this.#line++;
    this.#lineStart = this.#base + i;
  }

  #column(i: number): number {
    return this.#base + i - this.#lineStart + 1;
  }

  /** Counts the line breaks in a piece of quoted text that starts at chunk index `start`. */
  #countQuotedLines(piece: string, start: number): void {
    let lf = piece.indexOf("\n");
    let cr = piece.indexOf("\r");
    if (lf === -1 && cr === -1) {
      this.#quotedEndsWithCr = false;
      return;
    }
    let lastBreakEnd = -1;
    // A LF right after a CR that ended the previous piece is part of that CRLF.
    if (lf === 0 && this.#quotedEndsWithCr) {
      lastBreakEnd = 1;
      lf = piece.indexOf("\n", 1);
    }
    while (lf !== -1 || cr !== -1) {
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        this.#line++;
        if (lf === cr + 1) {
          lastBreakEnd = lf + 1;
          lf = piece.indexOf("\n", lf + 1);
        } else {
          lastBreakEnd = cr + 1;
        }
        cr = piece.indexOf("\r", cr + 1);
      } else {
        this.#line++;
        lastBreakEnd = lf + 1;
        lf = piece.indexOf("\n", lf + 1);
      }
    }
    if (lastBreakEnd !== -1) this.#lineStart = this.#base + start + lastBreakEnd;
    this.#quotedEndsWithCr = piece.charCodeAt(piece.length - 1) === CR;
  }

  #error(line: number, message: string): SyntaxError {
    return new SyntaxError(`Syntax error on line ${line}: ${message}`);
  }
}

/** The index of `search` in `text` from `from`, or the text's length when there is none. */
function indexOrEnd(text: string, search: string, from: number): number {
  const index = text.indexOf(search, from);
  return index === -1 ? text.length : index;
}

/** A character count as error messages say it: `64 Mi` or `100`. */
function describeLength(limit: number): string {
  return limit >= 1024 * 1024 ? `${limit / (1024 * 1024)} Mi` : String(limit);
}

function checkMaxRecordLength(className: string, value: number | undefined): number {
  const length = value ?? DEFAULT_MAX_RECORD_LENGTH;
  if (!Number.isInteger(length) || length < 1) {
    throw new RangeError(
      `Cannot create ${className}: maxRecordLength must be a positive integer: current value is ${length}`,
    );
  }
  return length;
}

function checkSeparator(className: string, separator: unknown): string {
  if (typeof separator !== "string") {
    throw new TypeError(
      `Cannot create ${className}: separator must be a string: current value is ${typeof separator}`,
    );
  }
  if (separator.length !== 1 || separator === '"' || separator === "\r" || separator === "\n") {
    throw new RangeError(
      `Cannot create ${className}: separator must be one character other than '"', CR and LF: current value is ${
        JSON.stringify(separator)
      }`,
    );
  }
  return separator;
}

/**
 * Parses CSV text into records with the line each one starts on: the variant of
 * {@linkcode CsvParseStream} for sources that report where a record came from (`data.csv:17`).
 *
 * @example Rows with their lines
 * ```ts
 * import { CsvRowStream } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const rows = await Array.fromAsync(
 *   ReadableStream.from(['id,text\n1,"two\nlines"\n', "\n2,x"]).pipeThrough(new CsvRowStream()),
 * );
 * assertEquals(rows, [
 *   { line: 1, fields: ["id", "text"] },
 *   { line: 2, fields: ["1", "two\nlines"] },
 *   { line: 5, fields: ["2", "x"] },
 * ]);
 * ```
 */
export class CsvRowStream extends TransformStream<string, CsvRow> {
  /**
   * Creates a stream that parses CSV text chunks into {@linkcode CsvRow}s.
   *
   * @param options The separator (default `,`).
   * @throws {RangeError} When the separator is not one character other than `"`, CR and LF.
   *
   * @example Semicolon-separated values
   * ```ts
   * import { CsvRowStream } from "@upflow/upflow";
   * import { assertEquals } from "@std/assert";
   *
   * const rows = await Array.fromAsync(
   *   ReadableStream.from(["a;b\r\n"]).pipeThrough(new CsvRowStream({ separator: ";" })),
   * );
   * assertEquals(rows, [{ line: 1, fields: ["a", "b"] }]);
   * ```
   */
  constructor(options: CsvParseStreamOptions = {}) {
    const separator = checkSeparator("CsvRowStream", options.separator ?? ",");
    let controller!: TransformStreamDefaultController<CsvRow>;
    const core = new CsvParserCore(
      separator,
      (fields, line) => controller.enqueue({ line, fields }),
      checkMaxRecordLength("CsvRowStream", options.maxRecordLength),
      (line, error) => controller.enqueue({ line, fields: [], error }),
    );
    super({
      start(c) {
        controller = c;
      },
      transform(chunk) {
        core.push(chunk);
      },
      flush() {
        core.finish();
      },
    });
  }
}

/**
 * Parses CSV text into records (arrays of fields), like `@std/csv`'s `CsvParseStream`. The
 * output is the same however the text is split into chunks. Malformed input errors the stream
 * with a `SyntaxError` such as `Syntax error on line 7: unterminated quoted field`.
 *
 * @example Parse a CSV file's text
 * ```ts
 * import { CsvParseStream } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const text = '\uFEFFinput,concepts\r\n"a, b",cat\r\n\r\nc,"say ""hi"""';
 * const rows = await Array.fromAsync(
 *   ReadableStream.from([text.slice(0, 9), text.slice(9)]).pipeThrough(new CsvParseStream()),
 * );
 * assertEquals(rows, [["input", "concepts"], ["a, b", "cat"], ["c", 'say "hi"']]);
 * ```
 *
 * @example Errors name the line
 * ```ts
 * import { CsvParseStream } from "@upflow/upflow";
 * import { assertRejects } from "@std/assert";
 *
 * await assertRejects(
 *   () => Array.fromAsync(ReadableStream.from(['a\nb\n"c']).pipeThrough(new CsvParseStream())),
 *   SyntaxError,
 *   "Syntax error on line 3: unterminated quoted field",
 * );
 * ```
 */
export class CsvParseStream extends TransformStream<string, string[]> {
  /**
   * Creates a stream that parses CSV text chunks into records.
   *
   * @param options The separator (default `,`).
   * @throws {RangeError} When the separator is not one character other than `"`, CR and LF.
   *
   * @example Tab-separated values
   * ```ts
   * import { CsvParseStream } from "@upflow/upflow";
   * import { assertEquals } from "@std/assert";
   *
   * const rows = await Array.fromAsync(
   *   ReadableStream.from(["a\tb\n1\t2\n"]).pipeThrough(new CsvParseStream({ separator: "\t" })),
   * );
   * assertEquals(rows, [["a", "b"], ["1", "2"]]);
   * ```
   */
  constructor(options: CsvParseStreamOptions = {}) {
    const separator = checkSeparator("CsvParseStream", options.separator ?? ",");
    let controller!: TransformStreamDefaultController<string[]>;
    const core = new CsvParserCore(
      separator,
      (fields) => controller.enqueue(fields),
      checkMaxRecordLength("CsvParseStream", options.maxRecordLength),
    );
    super({
      start(c) {
        controller = c;
      },
      transform(chunk) {
        core.push(chunk);
      },
      flush() {
        core.finish();
      },
    });
  }
}
