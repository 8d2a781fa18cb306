import { assertEquals, assertThrows } from "@std/assert";
import { parseYoloNames } from "../../src/sources/yolo_names.ts";

Deno.test("parseYoloNames reads the names forms of data.yaml", async (t) => {
  const cases: [string, string, string[]][] = [
    ["flow list", "names: [cat, dog]", ["cat", "dog"]],
    ["flow list, quoted, commas inside", `names: ['a, b', "c \\"d\\"", e]`, ["a, b", 'c "d"', "e"]],
    ["flow list over lines with comments", "names: [cat, # first\n  dog,\n  bird]  # end\nnc: 3", [
      "cat",
      "dog",
      "bird",
    ]],
    ["block list", "train: images\nnames:\n  - cat\n  - 'golden retriever'\nval: x", [
      "cat",
      "golden retriever",
    ]],
    ["block list at column 0", "names:\n- cat\n- dog\n", ["cat", "dog"]],
    ["block map", "names:\n  0: person\n  1: traffic light\n  2: '猫 ünïcode ✓'\n", [
      "person",
      "traffic light",
      "猫 ünïcode ✓",
    ]],
    ["block map out of order", "names:\n  1: b\n  0: a\n", ["a", "b"]],
    ["flow map", "names: {0: a, 1: 'b: c'}", ["a", "b: c"]],
    ["CRLF and BOM", "\uFEFFnc: 1\r\nnames: ['x']\r\n", ["x"]],
    ["hash inside a name", "names: ['C#', 'a #b']", ["C#", "a #b"]],
  ];
  for (const [name, text, expected] of cases) {
    await t.step(name, () => assertEquals(parseYoloNames(text), expected));
  }
});

Deno.test("parseYoloNames refuses what it cannot read, with the line", async (t) => {
  const cases: [string, string, string][] = [
    ["no names", "nc: 2\ntrain: x", "Syntax error on line 1: no top-level names:"],
    [
      "nc disagrees",
      "names: [a, b]\nnc: 3",
      "Syntax error on line 2: nc: is 3 but names: lists 2 classes",
    ],
    ["unclosed flow", "names: [a, b\nnc: 2", "names: [ is never closed with ]"],
    ["map skips", "names:\n  0: a\n  2: c", "names: skips class 1"],
    ["map repeats", "names: {0: a, 0: b}", "names: gives class 0 twice"],
    [
      "bad key",
      "names:\n  zero: a",
      "Syntax error on line 2: names: map keys must be class indexes",
    ],
    ["mixed", "names:\n  - a\n  1: b", "mixes a list (- name) and a map (0: name)"],
    ["scalar", "names: cats", "names: must be a list or a map of class names: got cats"],
    ["empty block", "names:\nnc: 0", "names: is empty"],
    ["empty name", "names: ['', b]", "names: has an empty name"],
  ];
  for (const [name, text, message] of cases) {
    await t.step(name, () => {
      assertThrows(() => parseYoloNames(text), SyntaxError, message);
    });
  }
});
