// The schema checker itself: each keyword accepts what it should and refuses what it should.
import { assertEquals, assertStringIncludes } from "@std/assert";
import { checkSchema } from "./_json_schema.ts";

const root = {
  components: {
    schemas: {
      Pet: {
        type: "object",
        properties: {
          kind: { const: "pet" },
          name: { type: "string", pattern: "^[a-z]+$" },
          age: { type: "integer", minimum: 0 },
          born: { type: "string", format: "date-time" },
          tags: { type: "array", items: { enum: ["a", "b"] } },
        },
        required: ["kind", "name"],
        additionalProperties: false,
      },
      Either: { oneOf: [{ type: "string" }, { type: "integer" }] },
    },
  },
};
const pet = { $ref: "#/components/schemas/Pet" };

Deno.test("schema checker: a valid value passes", () => {
  assertEquals(
    checkSchema(pet, {
      kind: "pet",
      name: "rex",
      age: 3,
      born: "2026-01-02T03:04:05.678Z",
      tags: ["a"],
    }, root),
    [],
  );
});

Deno.test("schema checker: each keyword refuses what it should", () => {
  const cases: [unknown, string][] = [
    [{ kind: "dog", name: "rex" }, 'expected "pet"'],
    [{ kind: "pet" }, "missing required property name"],
    [{ kind: "pet", name: "Rex" }, "does not match"],
    [{ kind: "pet", name: "rex", age: -1 }, "below 0"],
    [{ kind: "pet", name: "rex", age: 1.5 }, "expected integer"],
    [{ kind: "pet", name: "rex", born: "yesterday" }, "not a date-time"],
    [{ kind: "pet", name: "rex", tags: ["c"] }, "$.tags[0]"],
    [{ kind: "pet", name: "rex", color: "red" }, "property color is not in the schema"],
    ["rex", "expected object"],
  ];
  for (const [value, message] of cases) {
    assertStringIncludes(checkSchema(pet, value, root).join("\n"), message);
  }
  assertEquals(checkSchema({ $ref: "#/components/schemas/Either" }, 3, root), []);
  assertStringIncludes(
    checkSchema({ $ref: "#/components/schemas/Either" }, true, root)[0],
    "no schema of oneOf",
  );
  assertStringIncludes(
    checkSchema({ $ref: "#/components/schemas/Nope" }, 1, root)[0],
    "unresolved",
  );
  assertStringIncludes(
    checkSchema({ allOf: [] }, 1, root)[0],
    "does not know schema keyword allOf",
  );
});
