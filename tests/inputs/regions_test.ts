import { assertEquals, assertThrows } from "@std/assert";
import {
  boxFromCenter,
  boxFromList,
  boxFromPixels,
  checkFrames,
  checkRegion,
  checkRegions,
  invalidBoxReason,
  invalidImageSizeReason,
  invalidPolygonReason,
  pointsFromPixels,
} from "../../src/inputs/regions.ts";
import type { BoxDraft, FrameDraft, RegionDraft } from "../../src/inputs/input_draft.ts";

const box = (left: number, top: number, right: number, bottom: number): BoxDraft => ({
  left,
  top,
  right,
  bottom,
});
const triangle = [{ row: 0, col: 0 }, { row: 0, col: 1 }, { row: 1, col: 0.5 }];

Deno.test("invalidBoxReason accepts boxes in [0, 1] and names what is wrong", async (t) => {
  const cases: [string, BoxDraft, string | undefined][] = [
    ["whole image", box(0, 0, 1, 1), undefined],
    ["tiny box", box(0.5, 0.5, 0.5000001, 0.5000001), undefined],
    ["left below 0", box(-0.01, 0, 1, 1), "box left -0.01 is outside [0, 1]"],
    ["bottom above 1", box(0, 0, 1, 1.5), "box bottom 1.5 is outside [0, 1]"],
    ["NaN", box(NaN, 0, 1, 1), "box left is not a finite number: got NaN"],
    ["Infinity", box(0, 0, Infinity, 1), "box right is not a finite number: got Infinity"],
    [
      "string",
      { ...box(0, 0, 1, 1), top: "0" as unknown as number },
      'box top is not a finite number: got "0"',
    ],
    [
      "zero width",
      box(0.3, 0, 0.3, 1),
      "box has zero width: left 0.3 and right 0.3 must differ, left < right",
    ],
    [
      "zero height",
      box(0, 0.7, 1, 0.7),
      "box has zero height: top 0.7 and bottom 0.7 must differ, top < bottom",
    ],
    [
      "swapped x",
      box(0.6, 0, 0.4, 1),
      "box left 0.6 is right of right 0.4: left < right is required",
    ],
    ["swapped y", box(0, 0.9, 1, 0.1), "box top 0.9 is below bottom 0.1: top < bottom is required"],
  ];
  for (const [name, input, expected] of cases) {
    await t.step(name, () => assertEquals(invalidBoxReason(input), expected));
  }
});

Deno.test("invalidPolygonReason needs 3 points in range and an area", async (t) => {
  const cases: [string, unknown, string | undefined][] = [
    ["triangle", triangle, undefined],
    ["two points", triangle.slice(0, 2), "polygon has 2 points: at least 3 are needed"],
    ["no points", [], "polygon has 0 points: at least 3 are needed"],
    [
      "point out of range",
      [...triangle, { row: 1.2, col: 0 }],
      "polygon point 4 row 1.2 is outside [0, 1]",
    ],
    [
      "collinear",
      [{ row: 0, col: 0 }, { row: 0.5, col: 0.5 }, { row: 1, col: 1 }],
      "polygon has zero area: its points are on one line",
    ],
    [
      "x/y names instead of row/col",
      [{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 1, y: 1 }],
      "polygon point 1 row is not a finite number: got undefined",
    ],
    ["not an array", "0,0,1,1", 'polygon must be an array of points: got "0,0,1,1"'],
  ];
  for (const [name, input, expected] of cases) {
    await t.step(
      name,
      () => assertEquals(invalidPolygonReason(input as typeof triangle), expected),
    );
  }
});

Deno.test("conversions: pixels, centers and SDK lists into normalized corners", async (t) => {
  await t.step("pixels, touching every border", () => {
    assertEquals(boxFromPixels([0, 0, 640, 480], { width: 640, height: 480 }), box(0, 0, 1, 1));
  });
  await t.step("pixels with rounding past the edge snap onto it", () => {
    const converted = boxFromPixels([0.1, 0, 0.1 + 639.9, 480], { width: 640, height: 480 });
    assertEquals(converted.right, 1);
    assertEquals(invalidBoxReason(converted), undefined);
  });
  await t.step("pixels beyond the tolerance stay outside, for the check to refuse", () => {
    const converted = boxFromPixels([600, 0, 650, 480], { width: 640, height: 480 });
    assertEquals(converted.right, 650 / 640);
  });
  await t.step("a zero size is refused", () => {
    assertThrows(
      () => boxFromPixels([0, 0, 1, 1], { width: 0, height: 1 }),
      RangeError,
      "image width 0 is not a positive number of pixels",
    );
  });
  await t.step("YOLO center box", () => {
    assertEquals(boxFromCenter(0.25, 0.75, 0.5, 0.5), box(0, 0.5, 0.5, 1));
  });
  await t.step("YOLO center box with 6-decimal rounding snaps to the border", () => {
    assertEquals(boxFromCenter(0.100001, 0.5, 0.200003, 1).left, 0);
  });
  await t.step("SDK list order [xmin, ymin, xmax, ymax]", () => {
    assertEquals(boxFromList([0.1, 0.2, 0.3, 0.4]), box(0.1, 0.2, 0.3, 0.4));
    assertThrows(() => boxFromList([0.1, 0.2, 0.3]), TypeError, "[xmin, ymin, xmax, ymax]");
  });
  await t.step("flat pixel polygons: row is y, col is x", () => {
    assertEquals(pointsFromPixels([10, 20, 30, 40], { width: 100, height: 200 }), [
      { row: 0.1, col: 0.1 },
      { row: 0.2, col: 0.3 },
    ]);
    assertThrows(() => pointsFromPixels([1, 2, 3], { width: 1, height: 1 }), RangeError, "odd");
  });
  await t.step("image size reasons", () => {
    assertEquals(
      invalidImageSizeReason({ width: 1, height: NaN }),
      "image height NaN is not a positive number of pixels",
    );
  });
});

Deno.test("checkRegion cleans, refuses and clamps", async (t) => {
  const cases: [string, unknown, boolean, ReturnType<typeof checkRegion>][] = [
    [
      "concepts trimmed and deduplicated",
      { concepts: [" cat", "cat ", "golden retriever"], box: box(0, 0, 1, 1) },
      false,
      { region: { concepts: ["cat", "golden retriever"], box: box(0, 0, 1, 1) }, clamped: false },
    ],
    [
      "no concepts",
      { concepts: [], box: box(0, 0, 1, 1) },
      false,
      { reason: "region has no concepts: give each region at least one" },
    ],
    [
      "missing concepts",
      { box: box(0, 0, 1, 1) },
      false,
      { reason: "concepts must be an array of concept IDs: got undefined" },
    ],
    ["empty concept", { concepts: [" "], box: box(0, 0, 1, 1) }, false, {
      reason: "empty concept",
    }],
    [
      "both shapes",
      { concepts: ["a"], box: box(0, 0, 1, 1), polygon: triangle },
      false,
      { reason: "region has both a box and a polygon: make them two regions" },
    ],
    [
      "no shape",
      { concepts: ["a"] },
      false,
      { reason: "region has neither a box nor a polygon" },
    ],
    [
      "unknown field",
      { concepts: ["a"], bbox: [0, 0, 1, 1] },
      false,
      { reason: 'region has an unknown field "bbox": use id, concepts, box, polygon, trackId' },
    ],
    [
      "box list given as box",
      { concepts: ["a"], box: [0, 0, 1, 1] },
      false,
      { reason: 'box has an unknown field "0": use left, top, right, bottom (normalized)' },
    ],
    [
      "bad annotation id",
      { id: "a b", concepts: ["a"], box: box(0, 0, 1, 1) },
      false,
      {
        reason:
          'region invalid annotation ID "a b": use letters, digits, "_" and "-", starting with a letter or digit',
      },
    ],
    [
      "empty track id",
      { concepts: ["a"], box: box(0, 0, 1, 1), trackId: "" },
      false,
      { reason: 'region track ID must be a non-empty string: got ""' },
    ],
    [
      "clamped box",
      { concepts: ["a"], box: box(-0.2, 0.5, 1.3, 1) },
      true,
      { region: { concepts: ["a"], box: box(0, 0.5, 1, 1) }, clamped: true },
    ],
    [
      "box wholly outside stays refused after clamping",
      { concepts: ["a"], box: box(1.1, 0, 1.3, 1) },
      true,
      {
        reason:
          "box has zero width: left 1 and right 1 must differ, left < right (after clamping into [0, 1])",
      },
    ],
    [
      "clamped polygon",
      { concepts: ["a"], polygon: [{ row: -0.1, col: 0 }, { row: 0, col: 1 }, { row: 1, col: 1 }] },
      true,
      {
        region: {
          concepts: ["a"],
          polygon: [{ row: 0, col: 0 }, { row: 0, col: 1 }, { row: 1, col: 1 }],
        },
        clamped: true,
      },
    ],
    [
      "in-range box is not counted as clamped",
      { concepts: ["a"], box: box(0, 0, 1, 1), trackId: "t-1", id: "ann-1" },
      true,
      {
        region: { concepts: ["a"], box: box(0, 0, 1, 1), trackId: "t-1", id: "ann-1" },
        clamped: false,
      },
    ],
  ];
  for (const [name, input, clampBoxes, expected] of cases) {
    await t.step(
      name,
      () => assertEquals(checkRegion(input as RegionDraft, { clampBoxes }), expected),
    );
  }
  await t.step("the input is not modified", () => {
    const region = { concepts: [" a "], box: box(-0.5, 0, 1, 1) };
    checkRegion(region, { clampBoxes: true });
    assertEquals(region, { concepts: [" a "], box: box(-0.5, 0, 1, 1) });
  });
  await t.step("checkRegions counts clamped regions and numbers the failing one", () => {
    const ok = { concepts: ["a"], box: box(0, 0, 1, 1) };
    const out = { concepts: ["a"], box: box(0, 0, 1.1, 1) };
    assertEquals(checkRegions([ok, out, out], { clampBoxes: true }), {
      regions: [ok, ok, ok],
      clamped: 2,
    });
    assertEquals(checkRegions([ok, out]), { reason: "region 2: box right 1.1 is outside [0, 1]" });
  });
});

Deno.test("checkFrames: numbers and times, strictly increasing", async (t) => {
  const region: RegionDraft = { concepts: ["car"], box: box(0.1, 0.1, 0.2, 0.2), trackId: "1" };
  const cases: [string, unknown, string | undefined][] = [
    ["numbers and times", [{ number: 0, timeMs: 0, regions: [region] }, {
      number: 1,
      timeMs: 33,
      regions: [region],
    }], undefined],
    ["times only", [{ timeMs: 0, regions: [region] }, { timeMs: 1000, regions: [] }], undefined],
    ["no frames", [], undefined],
    [
      "out of order",
      [{ number: 5, regions: [region] }, { number: 2, regions: [region] }],
      "frames out of order: frame 2 has number 2 after number 5 (frame 1)",
    ],
    [
      "duplicate number",
      [{ number: 5, regions: [region] }, { number: 5, regions: [region] }],
      "duplicate frame: frame 2 repeats number 5 of frame 1",
    ],
    [
      "duplicate time",
      [{ timeMs: 40, regions: [region] }, { timeMs: 40, regions: [region] }],
      "duplicate frame: frame 2 repeats time 40 ms of frame 1",
    ],
    [
      "time out of order",
      [{ timeMs: 80, regions: [region] }, { number: 3, timeMs: 40, regions: [region] }],
      "frames out of order: frame 2 has time 40 ms after time 80 ms (frame 1)",
    ],
    [
      "negative",
      [{ number: -1, regions: [] }],
      "frame 1 number must be a non-negative integer: got -1",
    ],
    [
      "fraction",
      [{ timeMs: 1.5, regions: [] }],
      "frame 1 time (timeMs) must be a non-negative integer: got 1.5",
    ],
    [
      "too large",
      [{ number: 2 ** 32, regions: [] }],
      "frame 1 number must be a non-negative integer: got 4294967296",
    ],
    ["neither", [{ regions: [region] }], "frame 1 has neither a number nor a time (timeMs)"],
    [
      "region without concepts",
      [{ number: 0, regions: [{ ...region, concepts: [] }] }],
      "frame 1: region 1: region has no concepts: give each region at least one",
    ],
    [
      "unknown field",
      [{ index: 0, regions: [] }],
      'frame 1 has an unknown field "index": use number, timeMs, regions',
    ],
    ["not an array", { number: 0 }, 'frames must be an array: got {"number":0}'],
  ];
  for (const [name, frames, expected] of cases) {
    await t.step(name, () => {
      const result = checkFrames(frames as FrameDraft[]);
      if (expected === undefined) assertEquals("frames" in result, true, JSON.stringify(result));
      else assertEquals(result, { reason: expected });
    });
  }
});
