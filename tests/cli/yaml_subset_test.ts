import { assertEquals, assertThrows } from "@std/assert";
import { parseYamlSubset } from "../../src/cli/yaml_subset.ts";

// Written by PyYAML's safe_dump (as `clarifai login` writes its config), folded long line included.
const DUMPED = `contexts:
  _empty_: {}
  default:
    CLARIFAI_API_BASE: https://api.clarifai.com
    CLARIFAI_PAT: ''
    CLARIFAI_UI: https://clarifai.com
    CLARIFAI_USER_ID: ''
  work:
    CLARIFAI_API_BASE: http://127.0.0.1:8710
    CLARIFAI_PAT: 0123456789abcdef0123456789abcdef
    CLARIFAI_USER_ID: '123'
    empty: {}
    note: a long value with spaces that PyYAML will fold because it is longer than
      eighty columns wide, see
    quote: it's
current_context: work
`;

Deno.test("parseYamlSubset reads what PyYAML's safe_dump writes", () => {
  assertEquals(parseYamlSubset(DUMPED, "config"), {
    contexts: {
      _empty_: {},
      default: {
        CLARIFAI_API_BASE: "https://api.clarifai.com",
        CLARIFAI_PAT: "",
        CLARIFAI_UI: "https://clarifai.com",
        CLARIFAI_USER_ID: "",
      },
      work: {
        CLARIFAI_API_BASE: "http://127.0.0.1:8710",
        CLARIFAI_PAT: "0123456789abcdef0123456789abcdef",
        CLARIFAI_USER_ID: "123",
        empty: {},
        note:
          "a long value with spaces that PyYAML will fold because it is longer than eighty columns wide, see",
        quote: "it's",
      },
    },
    current_context: "work",
  });
});

Deno.test("parseYamlSubset: quoting, comments, nulls, documents", async (t) => {
  const cases: [string, string, unknown][] = [
    ["single quotes double up", "a: 'it''s'", { a: "it's" }],
    ["double-quote escapes", 'a: "x\\ty\\u00e9\\"z"', { a: 'x\ty\u00e9"z' }],
    ["hash inside quotes", "a: 'x # y' # comment", { a: "x # y" }],
    ["hash inside a word", "a: x#y", { a: "x#y" }],
    ["null forms", "a:\nb: ~\nc: null", { a: null, b: null, c: null }],
    ["document markers and comments", "---\n# top\na: 1\n...", { a: "1" }],
    ["quoted keys", "'a b': 1\n\"c\": 2", { "a b": "1", c: "2" }],
    ["quoted value over two lines", "a: 'one\n  two'\nb: 3", { a: "one two", b: "3" }],
    ["CRLF and BOM", "\uFEFFa: 1\r\nb:\r\n  c: 2\r\n", { a: "1", b: { c: "2" } }],
    ["dedent to the top", "a:\n  b:\n    c: 1\nd: 2", { a: { b: { c: "1" } }, d: "2" }],
    ["empty document", "# nothing\n", {}],
  ];
  for (const [name, text, expected] of cases) {
    await t.step(name, () => assertEquals(parseYamlSubset(text, "f"), expected));
  }
});

Deno.test("parseYamlSubset names the file and line of what it cannot read", async (t) => {
  const cases: [string, string, string][] = [
    ["a list", "a:\n  - x", "f:2: lists are not supported"],
    ["a flow list", "a: [1, 2]", "f:1: flow collections"],
    ["a block scalar", "a: |\n  x", "f:1: block scalars"],
    ["an unclosed quote", "a: 'x", "f:1: a single quote is not closed"],
    ["a tab", "a:\n\tb: 1", "f:2: tabs"],
    ["bad indentation", "a:\n    b: 1\n  c: 2", "f:3: the indentation"],
    ["no colon", "just words", 'f:1: expected "key: value"'],
    ["an anchor", "a: &x 1", "f:1: anchors"],
  ];
  for (const [name, text, message] of cases) {
    await t.step(name, () => {
      assertThrows(() => parseYamlSubset(text, "f"), SyntaxError, message);
    });
  }
});
