/**
 * The house rules, read from the code itself (DESIGN.md "Layout" and "Conventions"):
 *
 * - no function or method in src/ or server/ is over 120 lines, unless a comment beside it says
 *   why (`// long-function: <reason>`) or it is in {@linkcode LONG_ALLOWED} with a reason;
 * - the layers import only downwards: the core never imports the service or the local API, the
 *   journal never imports the pipeline, the local API judges inputs by its own rules (never by the
 *   uploader's validators), and the upload core never imports the CLI.
 *
 * A new violation fails here; an exception is written down with its reason or not at all.
 */
import ts from "npm:typescript@5.4.5";
import { assert, assertEquals } from "@std/assert";

const ROOT = new URL("../", import.meta.url);

/** The most lines a function may span (its signature to its closing brace). */
const MAX_LINES = 120;

/** Long functions allowed for now, each with why: `"path#name": "reason"`. */
const LONG_ALLOWED: Record<string, string> = {};

/** One import rule: files under `from` never import files under `to`. */
interface ImportRule {
  from: string;
  to: string;
  why: string;
}

const IMPORT_RULES: ImportRule[] = [
  { from: "src/", to: "server/", why: "the core never imports the service or the local API" },
  { from: "src/journal/", to: "src/pipeline/", why: "the journal sits below the pipeline" },
  {
    from: "server/local/",
    to: "src/inputs/",
    why: "the local API judges inputs by its own rules, not the uploader's validators",
  },
  { from: "src/upload/", to: "src/cli/", why: "the upload core never imports the CLI" },
];

/** Imports that break a rule on purpose: `"importer -> imported": "reason"`. */
const IMPORTS_ALLOWED: Record<string, string> = {
  "src/cli/main.ts -> server/main.ts":
    "the CLI is a face: `upflow serve` starts the upload service (loaded only for that command)",
  "src/cli/main.ts -> server/local/main.ts":
    "the CLI is a face: `upflow local` starts the local API (loaded only for that command)",
  "src/cli/upload_command.ts -> server/local_target.ts":
    "the CLI is a face: it chooses the embedded local API as the target (DESIGN.md)",
  "src/cli/dataset_commands.ts -> server/local_target.ts":
    "the CLI is a face: it chooses the embedded local API as the target (DESIGN.md)",
};

/** A function found over the limit. */
interface LongFunction {
  /** `path#Class.method` or `path#name`. */
  key: string;
  lines: number;
  line: number;
  /** Whether a `// long-function: reason` comment stands beside it. */
  reasoned: boolean;
}

const REASON = /long-function:\s*\S/;

function functionName(node: ts.Node, source: ts.SourceFile): string {
  const named = (n: ts.Node): string | undefined => {
    const name = (n as { name?: ts.Node }).name;
    return name ? name.getText(source) : undefined;
  };
  let own = ts.isConstructorDeclaration(node) ? "constructor" : named(node);
  if (own === undefined) {
    // `const f = () => …`, `{ f: () => … }`, `x.f = function () …`
    const parent = node.parent;
    if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) own = named(parent);
    else if (ts.isBinaryExpression(parent)) own = parent.left.getText(source);
  }
  own ??= "<anonymous>";
  for (let up = node.parent; up; up = up.parent) {
    if (ts.isClassLike(up)) return `${up.name?.getText(source) ?? "<class>"}.${own}`;
  }
  return own;
}

function hasReason(node: ts.Node, text: string): boolean {
  // The comment may stand before the function or before what holds it (a variable, a property).
  for (let n: ts.Node | undefined = node, depth = 0; n && depth < 4; n = n.parent, depth++) {
    for (const range of ts.getLeadingCommentRanges(text, n.getFullStart()) ?? []) {
      if (REASON.test(text.slice(range.pos, range.end))) return true;
    }
    if (ts.isStatement(n) || ts.isClassElement(n)) break;
  }
  return false;
}

/** The functions of one source text that span more than {@linkcode MAX_LINES} lines. */
function longFunctions(path: string, text: string): LongFunction[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found: LongFunction[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && (node as { body?: ts.Node }).body !== undefined) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      if (lines > MAX_LINES) {
        found.push({
          key: `${path}#${functionName(node, source)}`,
          lines,
          line: start + 1,
          reasoned: hasReason(node, text),
        });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The relative module specifiers a source text imports or re-exports (static and dynamic). */
function importsOf(path: string, text: string): string[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const specifiers: string[] = [];
  const visit = (node: ts.Node) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)
    ) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments.length > 0 && ts.isStringLiteralLike(node.arguments[0])
    ) {
      specifiers.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers.filter((s) => s.startsWith("./") || s.startsWith("../"));
}

/** Resolves a relative specifier of `path` (both relative to the repo root). */
function resolve(path: string, specifier: string): string {
  const url = new URL(specifier, new URL(path, "file:///repo/"));
  return url.pathname.slice("/repo/".length);
}

async function sourceFiles(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(new URL(dir, ROOT))) {
      const path = `${dir}${entry.name}`;
      if (entry.isDirectory && path !== "src/gen") await walk(`${path}/`);
      else if (entry.isFile && entry.name.endsWith(".ts")) {
        files.set(path, await Deno.readTextFile(new URL(path, ROOT)));
      }
    }
  };
  await walk("src/");
  await walk("server/");
  return new Map([...files].sort(([a], [b]) => a.localeCompare(b)));
}

Deno.test("the scanner measures functions of every kind", async (t) => {
  const body = (n: number) => Array.from({ length: n - 2 }, (_, i) => `  x += ${i};`).join("\n");
  const fn = (head: string, n: number) => `${head} {\n${body(n)}\n}`;
  await t.step("a function of 120 lines passes, one of 121 does not", () => {
    assertEquals(longFunctions("a.ts", fn("function ok()", 120)), []);
    const found = longFunctions("a.ts", fn("function tooLong()", 121));
    assertEquals(found.map((f) => [f.key, f.lines, f.reasoned]), [["a.ts#tooLong", 121, false]]);
  });
  await t.step("methods, constructors and arrows are named by where they stand", () => {
    const text = [
      `class Walker {`,
      fn("  constructor()", 130),
      fn("  step()", 125),
      `}`,
      `const pull = ${fn("() =>", 122)};`,
    ].join("\n");
    assertEquals(longFunctions("b.ts", text).map((f) => f.key), [
      "b.ts#Walker.constructor",
      "b.ts#Walker.step",
      "b.ts#pull",
    ]);
  });
  await t.step("a comment beside the function gives the reason", () => {
    const text = `/** Docs. */\n// long-function: a table, one line a case\n${
      fn("function t()", 150)
    }`;
    assertEquals(longFunctions("c.ts", text).map((f) => f.reasoned), [true]);
    const held = `// long-function: one switch\nexport const f = ${fn("function ()", 150)};`;
    assertEquals(longFunctions("d.ts", held).map((f) => [f.key, f.reasoned]), [["d.ts#f", true]]);
  });
  await t.step("imports are read from declarations, re-exports and dynamic imports", () => {
    const text = [
      `import { a } from "../server/app.ts";`,
      `import type { B } from "./b.ts";`,
      `export { c } from "../journal/c.ts";`,
      `import x from "npm:hono@4";`,
      `// import { no } from "../server/comment.ts";`,
      `const d = await import("../pipeline/d.ts");`,
    ].join("\n");
    const imported = importsOf("src/upload/u.ts", text).map((s) => resolve("src/upload/u.ts", s));
    assertEquals(imported, [
      "src/server/app.ts",
      "src/upload/b.ts",
      "src/journal/c.ts",
      "src/pipeline/d.ts",
    ]);
  });
});

Deno.test("no function in src/ or server/ is over 120 lines without a reason beside it", async () => {
  const files = await sourceFiles();
  const found = [...files].flatMap(([path, text]) => longFunctions(path, text));
  const unexplained = found
    .filter((f) => !f.reasoned && !(f.key in LONG_ALLOWED))
    .map((f) => `${f.key} (line ${f.line}): ${f.lines} lines`);
  assertEquals(
    unexplained,
    [],
    `split these (or write "// long-function: <reason>" beside them):\n${unexplained.join("\n")}`,
  );
  const stale = Object.keys(LONG_ALLOWED).filter((key) => !found.some((f) => f.key === key));
  assertEquals(stale, [], "these are short now: remove them from LONG_ALLOWED");
  for (const reason of Object.values(LONG_ALLOWED)) assert(reason.trim().length > 0);
});

Deno.test("the layers import only downwards", async (t) => {
  const files = await sourceFiles();
  const edges = [...files].flatMap(([path, text]) =>
    importsOf(path, text).map((specifier) => ({ from: path, to: resolve(path, specifier) }))
  );
  assert(edges.length > 100, `read the imports of src/ and server/ (${edges.length})`);
  const used = new Set<string>();
  for (const rule of IMPORT_RULES) {
    await t.step(`${rule.from} never imports ${rule.to}: ${rule.why}`, () => {
      const broken = edges
        .filter((e) => e.from.startsWith(rule.from) && e.to.startsWith(rule.to))
        .map((e) => `${e.from} -> ${e.to}`)
        .filter((edge) => {
          if (!(edge in IMPORTS_ALLOWED)) return true;
          used.add(edge);
          return false;
        });
      assertEquals(broken, []);
    });
  }
  const stale = Object.keys(IMPORTS_ALLOWED).filter((edge) => !used.has(edge));
  assertEquals(stale, [], "these imports are gone: remove them from IMPORTS_ALLOWED");
});
