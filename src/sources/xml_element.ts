/**
 * A small, tolerant XML element reader for annotation files (Pascal VOC): {@linkcode parseXml}
 * builds a tree of elements with their text and line numbers, and {@linkcode xmlChild} /
 * {@linkcode xmlChildText} read it.
 *
 * @module
 */

/** One XML element. */
export interface XmlElement {
  /** The tag name as written (`bndbox`). */
  name: string;
  /** Attributes, values with entities decoded. */
  attributes: Record<string, string>;
  /** Child elements in document order. */
  children: XmlElement[];
  /** The element's own text (text and CDATA directly inside it), entities decoded. */
  text: string;
  /** The 1-based line the element starts on. */
  line: number;
}

const NAMED_ENTITIES: Record<string, string> = {
  lt: "<",
  gt: ">",
  amp: "&",
  quot: '"',
  apos: "'",
};

function decodeEntities(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);/g, (whole, body: string) => {
    if (body[0] === "#") {
      const code = body[1] === "x" ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[body] ?? whole;
  });
}

const NAME = /^[^\s/>"'=<]+/;
const ATTRIBUTE = /([^\s=/>"']+)\s*=\s*("([^"]*)"|'([^']*)')/g;

/**
 * Parses an XML document into its root element. Tolerant of what annotation tools write:
 * the XML declaration, processing instructions, comments, a DOCTYPE, CDATA sections, any
 * namespace prefixes (kept in names), unknown entities (kept as written). Refused with the
 * line: a closing tag that does not match the open element, an element never closed, text or
 * a second element outside the root, an unterminated tag, comment or CDATA section.
 *
 * @param text The document.
 * @returns The root element.
 * @throws {SyntaxError} `Syntax error on line N: …` when the document is malformed.
 *
 * @example Usage
 * ```ts
 * import { parseXml, xmlChildText } from "./xml_element.ts";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const root = parseXml('<?xml version="1.0"?>\n<annotation>\n  <filename>a &amp; b.jpg</filename>\n</annotation>');
 * assertEquals(root.name, "annotation");
 * assertEquals(xmlChildText(root, "filename"), "a & b.jpg");
 * assertEquals(root.children[0].line, 3);
 * assertThrows(
 *   () => parseXml("<a>\n<b></a>"),
 *   SyntaxError,
 *   "Syntax error on line 2: </a> closes <b> opened on line 2",
 * );
 * ```
 */
export function parseXml(text: string): XmlElement {
  let pos = 0;
  let counted = 0;
  let line = 1;
  const lineAt = (index: number): number => {
    for (; counted < index; counted++) if (text.charCodeAt(counted) === 0x0a) line++;
    return line;
  };
  const fail = (message: string, at: number): never => {
    throw new SyntaxError(`Syntax error on line ${lineAt(at)}: ${message}`);
  };
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const until = (start: number, end: string, what: string): number => {
    const found = text.indexOf(end, start);
    if (found < 0) fail(`${what} is never closed`, start);
    return found + end.length;
  };

  if (text.charCodeAt(0) === 0xfeff) pos = 1;
  while (pos < text.length) {
    const lt = text.indexOf("<", pos);
    const chunk = text.slice(pos, lt < 0 ? text.length : lt);
    if (stack.length > 0) stack[stack.length - 1].text += decodeEntities(chunk);
    else if (chunk.trim() !== "") {
      fail(`text ${JSON.stringify(chunk.trim().slice(0, 20))} outside the root element`, pos);
    }
    if (lt < 0) break;
    pos = lt;
    if (text.startsWith("<!--", pos)) {
      pos = until(pos + 4, "-->", "a comment");
    } else if (text.startsWith("<![CDATA[", pos)) {
      const end = until(pos + 9, "]]>", "a CDATA section");
      if (stack.length === 0) fail("CDATA outside the root element", pos);
      stack[stack.length - 1].text += text.slice(pos + 9, end - 3);
      pos = end;
    } else if (text.startsWith("<?", pos)) {
      pos = until(pos + 2, "?>", "a processing instruction");
    } else if (text.startsWith("<!", pos)) {
      const bracket = text.indexOf("[", pos);
      const close = text.indexOf(">", pos);
      pos = bracket >= 0 && bracket < close
        ? until(bracket, "]>", "a DOCTYPE")
        : until(pos + 2, ">", "a declaration");
    } else if (text.startsWith("</", pos)) {
      const end = until(pos + 2, ">", "a closing tag");
      const name = text.slice(pos + 2, end - 1).trim();
      const open = stack.pop();
      if (open === undefined) fail(`</${name}> closes no open element`, pos);
      if (open!.name !== name) {
        fail(`</${name}> closes <${open!.name}> opened on line ${open!.line}`, pos);
      }
      pos = end;
    } else {
      // A start tag: find its ">" outside quoted attribute values.
      let i = pos + 1;
      let quote = 0;
      for (; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (quote !== 0) {
          if (c === quote) quote = 0;
        } else if (c === 0x22 || c === 0x27) quote = c;
        else if (c === 0x3e) break;
        else if (c === 0x3c) fail("a tag is not closed with >", pos);
      }
      if (i >= text.length) fail("a tag is not closed with >", pos);
      let inner = text.slice(pos + 1, i);
      const selfClosing = inner.endsWith("/");
      if (selfClosing) inner = inner.slice(0, -1);
      const name = NAME.exec(inner)?.[0];
      if (name === undefined) fail(`a tag without a name: <${inner.slice(0, 20)}>`, pos);
      const attributes: Record<string, string> = {};
      for (const match of inner.slice(name!.length).matchAll(ATTRIBUTE)) {
        attributes[match[1]] = decodeEntities(match[3] ?? match[4]);
      }
      const element: XmlElement = {
        name: name!,
        attributes,
        children: [],
        text: "",
        line: lineAt(pos),
      };
      if (stack.length > 0) stack[stack.length - 1].children.push(element);
      else if (root !== undefined) fail(`a second root element <${name}>`, pos);
      else root = element;
      if (!selfClosing) stack.push(element);
      pos = i + 1;
    }
  }
  if (stack.length > 0) {
    const open = stack[stack.length - 1];
    fail(`<${open.name}> opened on line ${open.line} is never closed`, text.length);
  }
  if (root === undefined) fail("no root element", text.length);
  return root!;
}

/**
 * Returns the first child element named `name`, or `undefined`.
 *
 * @param element The parent.
 * @param name The child's tag name.
 * @returns The child, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { parseXml, xmlChild } from "./xml_element.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const root = parseXml("<size><width>640</width></size>");
 * assertEquals(xmlChild(root, "width")?.text, "640");
 * assertEquals(xmlChild(root, "height"), undefined);
 * ```
 */
export function xmlChild(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((child) => child.name === name);
}

/**
 * Returns the trimmed text of the first child element named `name`, or `undefined` when there
 * is no such child.
 *
 * @param element The parent.
 * @param name The child's tag name.
 * @returns The child's trimmed text, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { parseXml, xmlChildText } from "./xml_element.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(xmlChildText(parseXml("<object><name> dog </name></object>"), "name"), "dog");
 * ```
 */
export function xmlChildText(element: XmlElement, name: string): string | undefined {
  return xmlChild(element, name)?.text.trim();
}
