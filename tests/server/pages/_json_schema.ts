// A checker for the JSON Schema subset openapi.ts uses: $ref (to #/components/schemas/…), type
// (one or a list), const, enum, properties, required, additionalProperties (false or a
// schema), items, oneOf (exactly one), pattern, minimum, format date-time. Anything else in a
// schema is an error of the schema itself, so the subset cannot grow unnoticed.

// deno-lint-ignore no-explicit-any
export type Json = any;

const KNOWN = new Set([
  "$ref",
  "type",
  "const",
  "enum",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "oneOf",
  "pattern",
  "minimum",
  "format",
  "description",
  "contentMediaType",
]);

function typeOf(value: Json): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function typeMatches(want: string, value: Json): boolean {
  const got = typeOf(value);
  return got === want || (want === "number" && got === "integer");
}

/**
 * Checks `value` against `schema`; returns the errors, each with its JSON path (empty: valid).
 * `root` is the document holding `components.schemas`.
 */
export function checkSchema(schema: Json, value: Json, root: Json, path = "$"): string[] {
  for (const key of Object.keys(schema)) {
    if (!KNOWN.has(key)) return [`${path}: the checker does not know schema keyword ${key}`];
  }
  if (schema.$ref !== undefined) {
    const name = /^#\/components\/schemas\/(.+)$/.exec(schema.$ref)?.[1];
    const target = name && root.components?.schemas?.[name];
    if (!target) return [`${path}: unresolved $ref ${schema.$ref}`];
    return checkSchema(target, value, root, path);
  }
  const errors: string[] = [];
  if (schema.type !== undefined) {
    const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => typeMatches(t, value))) {
      return [`${path}: expected ${types.join(" or ")}, got ${typeOf(value)}`];
    }
  }
  if ("const" in schema && JSON.stringify(schema.const) !== JSON.stringify(value)) {
    errors.push(`${path}: expected ${JSON.stringify(schema.const)}, got ${JSON.stringify(value)}`);
  }
  if (schema.enum && !schema.enum.some((e: Json) => JSON.stringify(e) === JSON.stringify(value))) {
    errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  }
  if (typeof value === "string") {
    if (schema.pattern && !new RegExp(schema.pattern, "u").test(value)) {
      errors.push(`${path}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
    }
    if (
      schema.format === "date-time" &&
      !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value)
    ) {
      errors.push(`${path}: ${JSON.stringify(value)} is not a date-time`);
    }
  }
  if (typeof value === "number" && schema.minimum !== undefined && value < schema.minimum) {
    errors.push(`${path}: ${value} is below ${schema.minimum}`);
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) =>
      errors.push(...checkSchema(schema.items, item, root, `${path}[${i}]`))
    );
  }
  if (typeOf(value) === "object") {
    const properties = schema.properties ?? {};
    for (const name of schema.required ?? []) {
      if (!(name in value)) errors.push(`${path}: missing required property ${name}`);
    }
    for (const [name, item] of Object.entries(value)) {
      if (name in properties) {
        errors.push(...checkSchema(properties[name], item, root, `${path}.${name}`));
      } else if (schema.additionalProperties === false) {
        errors.push(`${path}: property ${name} is not in the schema`);
      } else if (typeof schema.additionalProperties === "object") {
        errors.push(...checkSchema(schema.additionalProperties, item, root, `${path}.${name}`));
      }
    }
  }
  if (schema.oneOf) {
    const results = schema.oneOf.map((s: Json) => checkSchema(s, value, root, path));
    const passing = results.filter((r: string[]) => r.length === 0).length;
    if (passing !== 1) {
      if (passing > 1) errors.push(`${path}: matches ${passing} schemas of oneOf`);
      else {
        // Name the closest branch: the one with the fewest errors.
        const best = results.reduce((a: string[], b: string[]) => (b.length < a.length ? b : a));
        errors.push(`${path}: matches no schema of oneOf; closest: ${best.join("; ")}`);
      }
    }
  }
  return errors;
}
