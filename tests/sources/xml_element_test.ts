import { assertEquals, assertThrows } from "@std/assert";
import { parseXml, xmlChild, xmlChildText } from "../../src/sources/xml_element.ts";

Deno.test("parseXml reads what annotation tools write", async (t) => {
  await t.step("declaration, comments, DOCTYPE, CDATA, entities, attributes, self-closing", () => {
    const root = parseXml(
      '\uFEFF<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE annotation [ <!ENTITY x "y"> ]>\n' +
        "<!-- made by a tool -->\n" +
        `<annotation verified='yes' note="a &gt; b">\n` +
        "  <name><![CDATA[cat <1>]]></name>\n" +
        "  <label>A &amp; B &#233; &#x732B; &unknown;</label>\n" +
        "  <empty/>\n" +
        '  <ns:thing a="1"/>\n' +
        "</annotation>\n",
    );
    assertEquals(root.name, "annotation");
    assertEquals(root.attributes, { verified: "yes", note: "a > b" });
    assertEquals(root.line, 4);
    assertEquals(xmlChildText(root, "name"), "cat <1>");
    assertEquals(xmlChildText(root, "label"), "A & B é 猫 &unknown;");
    assertEquals(xmlChild(root, "empty")?.children, []);
    assertEquals(xmlChild(root, "ns:thing")?.attributes, { a: "1" });
    assertEquals(root.children.map((c) => [c.name, c.line]), [
      ["name", 5],
      ["label", 6],
      ["empty", 7],
      ["ns:thing", 8],
    ]);
  });
  await t.step("nested elements with the same name keep their parents", () => {
    const root = parseXml(
      "<object><bndbox><xmin>1</xmin></bndbox><part><bndbox><xmin>9</xmin></bndbox></part></object>",
    );
    assertEquals(xmlChildText(xmlChild(root, "bndbox")!, "xmin"), "1");
    assertEquals(xmlChildText(xmlChild(xmlChild(root, "part")!, "bndbox")!, "xmin"), "9");
  });
});

Deno.test("parseXml refuses malformed XML with the line", async (t) => {
  const cases: [string, string, string][] = [
    ["mismatched", "<a>\n  <b>\n</a>", "Syntax error on line 3: </a> closes <b> opened on line 2"],
    [
      "never closed",
      "<a>\n<b></b>",
      "Syntax error on line 2: <a> opened on line 1 is never closed",
    ],
    ["stray close", "<a></a></b>", "Syntax error on line 1: </b> closes no open element"],
    ["two roots", "<a/>\n<b/>", "Syntax error on line 2: a second root element <b>"],
    ["text outside", "hello <a/>", 'Syntax error on line 1: text "hello" outside the root element'],
    ["unterminated comment", "<a><!-- x</a>", "Syntax error on line 1: a comment is never closed"],
    ["unterminated tag", "<a><b</a>", "Syntax error on line 1: a tag is not closed with >"],
    ["empty", "  ", "Syntax error on line 1: no root element"],
    ["nameless tag", "<a>< ></a>", "a tag without a name"],
  ];
  for (const [name, text, message] of cases) {
    await t.step(name, () => {
      assertThrows(() => parseXml(text), SyntaxError, message);
    });
  }
});
