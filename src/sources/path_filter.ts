/**
 * Include and exclude glob patterns, matched on paths relative to a folder the way rclone
 * matches them: {@linkcode PathFilter} decides which files a folder walk keeps, and which
 * folders it need not list at all.
 *
 * @module
 */

/** Options of {@linkcode PathFilter}. */
export interface PathFilterOptions {
  /** Keep only paths that match at least one of these (default: keep every path). */
  include?: readonly string[];
  /** Drop paths that match any of these; an exclusion wins over an inclusion. */
  exclude?: readonly string[];
}

/** A compiled pattern. */
interface Compiled {
  /** The pattern as given. */
  pattern: string;
  /** Matches a whole relative path. */
  regexp: RegExp;
  /** The pattern ends in `**` (or `/`): matching `dir/` means everything under dir matches. */
  subtree: boolean;
}

/** What {@linkcode PathFilter.check} says about a path. */
export type PathVerdict =
  | { keep: true }
  | { keep: false; reason: string };

function escapeRegExp(char: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(char) ? `\\${char}` : char;
}

const CLASSES: Record<string, string> = {
  alpha: "A-Za-z",
  digit: "0-9",
  alnum: "A-Za-z0-9",
  upper: "A-Z",
  lower: "a-z",
  space: "\\s",
  punct: "!-\\/:-@\\[-`{-~",
  xdigit: "0-9A-Fa-f",
};

/**
 * Compiles one glob pattern into a regular expression over `/`-separated relative paths, with
 * rclone's rules:
 *
 * - `*` matches any run of characters except `/`; `**` matches any run, `/` included; `?` one
 *   character except `/`;
 * - `[abc]`, `[a-z]`, `[!a-z]` (or `[^a-z]`) and `[[:alpha:]]`-style classes match one character;
 * - `{jpg,png}` matches one of the comma-separated alternatives (which may hold globs);
 * - `\` escapes the next character;
 * - a pattern starting with `/` matches from the folder's top; any other pattern matches a
 *   whole trailing part of the path (`*.jpg` matches `a.jpg` and `cats/a.jpg`, `cats/*.jpg`
 *   matches `cats/a.jpg` and `pets/cats/a.jpg`, never `bigcats/a.jpg`);
 * - a pattern ending with `/` means the folder and everything in it (`tmp/` is `tmp/**`).
 *
 * @param pattern The glob.
 * @returns The regular expression.
 * @throws {SyntaxError} When the pattern is empty or a `[` or `{` is not closed.
 *
 * @example Usage
 * ```ts
 * import { globToRegExp } from "./path_filter.ts";
 * import { assert } from "@std/assert";
 *
 * const re = globToRegExp("*.{jpg,png}");
 * assert(re.test("cats/01.jpg"));
 * assert(!re.test("cats/01.gif"));
 * assert(globToRegExp("/cats/**").test("cats/a/b.jpg"));
 * assert(!globToRegExp("/cats/**").test("pets/cats/b.jpg"));
 * ```
 */
export function globToRegExp(pattern: string): RegExp {
  return compile(pattern).regexp;
}

function compile(pattern: string): Compiled {
  if (typeof pattern !== "string" || pattern === "" || pattern === "/") {
    throw new SyntaxError(`Invalid pattern ${JSON.stringify(pattern)}: it is empty`);
  }
  let glob = pattern;
  const anchored = glob.startsWith("/");
  if (anchored) glob = glob.slice(1);
  if (glob.endsWith("/") && !glob.endsWith("\\/")) glob += "**";
  const body = translate(glob, pattern);
  return {
    pattern,
    regexp: new RegExp(`${anchored ? "^" : "(?:^|/)"}${body}$`, "u"),
    subtree: glob.endsWith("**") && !glob.endsWith("\\**"),
  };
}

function translate(glob: string, pattern: string): string {
  let out = "";
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i];
    if (char === "\\") {
      i++;
      if (i >= glob.length) {
        throw new SyntaxError(`Invalid pattern ${JSON.stringify(pattern)}: it ends with "\\"`);
      }
      out += escapeRegExp(glob[i]);
    } else if (char === "*") {
      if (glob[i + 1] === "*") {
        i++;
        out += ".*";
      } else {
        out += "[^/]*";
      }
    } else if (char === "?") {
      out += "[^/]";
    } else if (char === "[") {
      const end = classEnd(glob, i);
      if (end < 0) {
        throw new SyntaxError(`Invalid pattern ${JSON.stringify(pattern)}: "[" is not closed`);
      }
      out += characterClass(glob.slice(i + 1, end));
      i = end;
    } else if (char === "{") {
      braces++;
      out += "(?:";
    } else if (char === "}" && braces > 0) {
      braces--;
      out += ")";
    } else if (char === "," && braces > 0) {
      out += "|";
    } else {
      out += escapeRegExp(char);
    }
  }
  if (braces > 0) {
    throw new SyntaxError(`Invalid pattern ${JSON.stringify(pattern)}: "{" is not closed`);
  }
  return out;
}

/** The index of the `]` closing the class opened at `start`, or -1. */
function classEnd(glob: string, start: number): number {
  let i = start + 1;
  if (glob[i] === "!" || glob[i] === "^") i++;
  if (glob[i] === "]") i++;
  for (; i < glob.length; i++) {
    if (glob[i] === "[" && glob[i + 1] === ":") {
      const close = glob.indexOf(":]", i + 2);
      if (close > 0) {
        i = close + 1;
        continue;
      }
    }
    if (glob[i] === "]") return i;
  }
  return -1;
}

function characterClass(inner: string): string {
  let negate = false;
  let text = inner;
  if (text.startsWith("!") || text.startsWith("^")) {
    negate = true;
    text = text.slice(1);
  }
  let out = "";
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "[" && text[i + 1] === ":") {
      const close = text.indexOf(":]", i + 2);
      const name = text.slice(i + 2, close);
      const range = CLASSES[name];
      if (close < 0 || range === undefined) {
        throw new SyntaxError(`Invalid pattern: unknown character class "[:${name}:]"`);
      }
      out += range;
      i = close + 1;
    } else if (text[i] === "-" && i > 0 && i < text.length - 1) {
      out += "-";
    } else {
      out += /[\\\]^\-[]/.test(text[i]) ? `\\${text[i]}` : text[i];
    }
  }
  // A negated class never matches the separator, as `*` and `?` do not.
  return negate ? `[^/${out}]` : `[${out}]`;
}

/**
 * Decides which paths of a folder walk to keep from include and exclude glob patterns (see
 * {@linkcode globToRegExp} for the syntax), matched on the path relative to the folder with `/`:
 * a path is kept when it matches no exclude pattern and, if include patterns are given, at least
 * one of them. A folder whose whole contents an exclude pattern ending in `**` (or `/`) covers is
 * not walked at all.
 *
 * @example Keep the JPEGs, leave out a folder
 * ```ts
 * import { PathFilter } from "./path_filter.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const filter = new PathFilter({ include: ["*.jpg"], exclude: ["drafts/"] });
 * assertEquals(filter.check("cats/01.jpg"), { keep: true });
 * assertEquals(filter.check("cats/01.png"), {
 *   keep: false,
 *   reason: 'matches no include pattern ("*.jpg")',
 * });
 * assertEquals(filter.check("drafts/02.jpg"), {
 *   keep: false,
 *   reason: 'excluded by pattern "drafts/"',
 * });
 * assertEquals(filter.prunes("drafts"), 'excluded by pattern "drafts/"');
 * assertEquals(filter.prunes("cats"), undefined);
 * ```
 */
export class PathFilter {
  #include: Compiled[];
  #exclude: Compiled[];

  /**
   * Compiles the patterns.
   *
   * @param options The include and exclude patterns.
   * @throws {TypeError} When a pattern list is not an array of strings.
   * @throws {SyntaxError} When a pattern is invalid.
   */
  constructor(options: PathFilterOptions = {}) {
    this.#include = PathFilter.#compileAll("include", options.include);
    this.#exclude = PathFilter.#compileAll("exclude", options.exclude);
  }

  static #compileAll(name: string, patterns: readonly string[] | undefined): Compiled[] {
    if (patterns === undefined) return [];
    if (!Array.isArray(patterns) || patterns.some((p) => typeof p !== "string")) {
      throw new TypeError(
        `Cannot create PathFilter: ${name} must be an array of strings: current value is ${
          JSON.stringify(patterns)
        }`,
      );
    }
    return patterns.map(compile);
  }

  /** Whether the filter keeps every path (no patterns at all). */
  get empty(): boolean {
    return this.#include.length === 0 && this.#exclude.length === 0;
  }

  /**
   * Checks a file's path.
   *
   * @param location The path relative to the folder, with `/`.
   * @returns Whether to keep it and, if not, why.
   */
  check(location: string): PathVerdict {
    for (const rule of this.#exclude) {
      if (rule.regexp.test(location)) {
        return { keep: false, reason: `excluded by pattern ${JSON.stringify(rule.pattern)}` };
      }
    }
    if (this.#include.length > 0 && !this.#include.some((rule) => rule.regexp.test(location))) {
      return {
        keep: false,
        reason: `matches no include pattern (${
          this.#include.map((r) => JSON.stringify(r.pattern)).join(", ")
        })`,
      };
    }
    return { keep: true };
  }

  /**
   * Whether a folder need not be walked because an exclude pattern covers everything in it.
   *
   * @param location The folder's path relative to the walked folder, with `/`.
   * @returns Why it is left out, or `undefined` when it must be walked.
   */
  prunes(location: string): string | undefined {
    for (const rule of this.#exclude) {
      if (rule.subtree && rule.regexp.test(`${location}/`)) {
        return `excluded by pattern ${JSON.stringify(rule.pattern)}`;
      }
    }
    return undefined;
  }
}
