/**
 * A reader for the subset of YAML the project's manifests use: block mappings and sequences by
 * indentation (`- ` items, also `- key: value` starting a mapping), comments, plain and quoted
 * scalars (double quotes with JSON escapes, single quotes), and flow sequences and mappings
 * written as JSON (`["sh", "-c"]`, `{}`). Anything else is a `SyntaxError` with its line.
 */

type Value = string | number | boolean | null | Value[] | { [key: string]: Value };

interface Line {
  no: number;
  indent: number;
  text: string;
}

/**
 * Parses a YAML document of the subset.
 *
 * @param text The document.
 * @returns Its value.
 */
export function parseYaml(text: string): Value {
  const lines: Line[] = [];
  text.split("\n").forEach((raw, i) => {
    const stripped = stripComment(raw).replace(/\s+$/, "");
    if (stripped.trim() === "" || stripped.trim() === "---") return;
    if (/\t/.test(stripped.match(/^\s*/)![0])) throw new SyntaxError(`Tab indent on line ${i + 1}`);
    lines.push({
      no: i + 1,
      indent: stripped.length - stripped.trimStart().length,
      text: stripped.trim(),
    });
  });
  let at = 0;

  function block(indent: number): Value {
    const first = lines[at];
    if (first.text.startsWith("- ") || first.text === "-") return sequence(first.indent);
    return mapping(indent);
  }

  function sequence(indent: number): Value[] {
    const out: Value[] = [];
    while (at < lines.length && lines[at].indent === indent && /^-( |$)/.test(lines[at].text)) {
      const line = lines[at];
      const rest = line.text.slice(1).trimStart();
      if (rest === "") {
        at++;
        out.push(block(lines[at].indent));
      } else if (isKey(rest)) {
        // "- key: value": a mapping whose keys sit at the column after "- ".
        const column = indent + (line.text.length - rest.length);
        lines[at] = { no: line.no, indent: column, text: rest };
        out.push(mapping(column));
      } else {
        at++;
        out.push(scalar(rest, line.no));
      }
    }
    return out;
  }

  function mapping(indent: number): Record<string, Value> {
    const out: Record<string, Value> = {};
    while (at < lines.length && lines[at].indent === indent && !/^-( |$)/.test(lines[at].text)) {
      const line = lines[at];
      const m = /^("(?:[^"\\]|\\.)*"|[^:"'{}\[\]]+?):(?:\s+(.*))?$/.exec(line.text);
      if (!m) throw new SyntaxError(`Syntax error on line ${line.no}: ${line.text}`);
      const key = m[1].startsWith('"') ? JSON.parse(m[1]) : m[1];
      if (key in out) throw new SyntaxError(`Duplicate key "${key}" on line ${line.no}`);
      at++;
      if (m[2] !== undefined && m[2] !== "") out[key] = scalar(m[2], line.no);
      else if (at < lines.length && lines[at].indent > indent) out[key] = block(lines[at].indent);
      else if (at < lines.length && lines[at].indent === indent && /^- /.test(lines[at].text)) {
        out[key] = sequence(indent);
      } else out[key] = null;
    }
    if (at < lines.length && lines[at].indent > indent) {
      throw new SyntaxError(`Bad indentation on line ${lines[at].no}`);
    }
    return out;
  }

  const value = lines.length === 0 ? null : block(lines[0].indent);
  if (at < lines.length) throw new SyntaxError(`Syntax error on line ${lines[at].no}`);
  return value;
}

function isKey(text: string): boolean {
  return /^("(?:[^"\\]|\\.)*"|[^:"'{}\[\]]+?):(\s|$)/.test(text);
}

function scalar(text: string, no: number): Value {
  if (text.startsWith('"') || text.startsWith("[") || text.startsWith("{")) {
    try {
      return JSON.parse(text);
    } catch {
      throw new SyntaxError(`Syntax error on line ${no}: ${text}`);
    }
  }
  if (text.startsWith("'")) {
    if (!text.endsWith("'") || text.length < 2) throw new SyntaxError(`Syntax error on line ${no}`);
    return text.slice(1, -1).replaceAll("''", "'");
  }
  if (text === "true" || text === "false") return text === "true";
  if (text === "null" || text === "~") return null;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}

/** The line without a comment (a `#` at the start or after a space, outside quotes). */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]))) return line.slice(0, i);
  }
  return line;
}
