import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { cocoSource } from "../../src/sources/coco_source.ts";
import type { DraftOrRejection } from "../../src/inputs/input_draft.ts";
import { countAnnotations } from "../../src/sources/annotation_counts.ts";

const root = new URL("../fixtures/coco/", import.meta.url).pathname;
const file = `${root}instances.json`;
const images = `${root}images`;

/** One line per item: draft ID and location, or rejection location and reason. */
function summary(items: DraftOrRejection[]): string[] {
  return items.map((item) =>
    item.type === "draft"
      ? `draft ${item.draft.id} @ ${item.draft.location}: ${
        item.draft.regions?.length ?? 0
      } regions`
      : item.type === "rejected"
      ? `rejected ${item.rejection.location}: ${item.rejection.reason}`
      : `skipped ${item.skip.location}`
  );
}

const RLE =
  "RLE segmentation is not supported (Clarifai regions are boxes and polygons): the annotation is left out, its image uploads with its other annotations";

Deno.test({
  name: "cocoSource reads the fixture: boxes, polygons, crowd/RLE, awkward cases",
  permissions: { read: true },
  fn: async () => {
    const items = await Array.fromAsync(cocoSource(file, { imagesDir: images, datasetId: "pets" }));
    assertEquals(summary(items), [
      "rejected instances.json:annotation 19: category_id 42 is not in categories",
      "draft cat_01 @ instances.json:image 1 (cat_01.png): 3 regions",
      "rejected instances.json:annotation 13: bbox [10,10,0,5]: box has zero width: left 0.25 and right 0.25 must differ, left < right",
      "rejected instances.json:annotation 20: bbox [30,20,12,10]: box right 1.05 is outside [0, 1]",
      "draft dog_02 @ instances.json:image 2 (sub/dog 02.jpg): 3 regions",
      "draft empty @ instances.json:image 3 (empty.png): 0 regions",
      `rejected instances.json:annotation 14: iscrowd=1: ${RLE}`,
      `rejected instances.json:annotation 15: ${RLE}`,
      "draft crowd @ instances.json:image 7 (crowd.png): 1 regions",
      "draft nosize @ instances.json:image 8 (nosize.png): 1 regions",
      `rejected instances.json:image 9 (missing.png): image file not found: ${images}/missing.png`,
      "rejected instances.json:annotation 18: image_id 99 is in no image of the file",
    ]);
    const drafts = items.flatMap((item) => item.type === "draft" ? [item.draft] : []);
    const [cat, dog, empty, crowd, nosize] = drafts;
    assertEquals(cat, {
      id: "cat_01",
      kind: "image",
      content: {
        type: "file",
        path: `${images}/cat_01.png`,
        size: (await Deno.stat(`${images}/cat_01.png`)).size,
      },
      location: "instances.json:image 1 (cat_01.png)",
      concepts: [],
      datasetId: "pets",
      regions: [
        // touches the top, right and bottom borders
        { concepts: ["cat"], box: { left: 0.5, top: 0, right: 1, bottom: 1 } },
        {
          concepts: ["cat"],
          polygon: [{ row: 0, col: 0.5 }, { row: 0, col: 1 }, { row: 1, col: 1 }, {
            row: 1,
            col: 0.5,
          }],
        },
        { concepts: ["golden retriever"], box: { left: 0, top: 0, right: 0.25, bottom: 0.25 } },
      ],
    });
    assertEquals(dog.regions, [
      { concepts: ["猫 ünïcode ✓"], box: { left: 0.1, top: 0.1, right: 0.6, bottom: 0.6 } },
      {
        concepts: ["猫 ünïcode ✓"],
        polygon: [{ row: 0.1, col: 0.1 }, { row: 0.1, col: 0.6 }, { row: 0.6, col: 0.35 }],
      },
      {
        concepts: ["猫 ünïcode ✓"],
        polygon: [{ row: 20 / 30, col: 0.75 }, { row: 20 / 30, col: 1 }, { row: 1, col: 1 }],
      },
    ]);
    assertEquals(empty.regions, undefined);
    assertEquals(crowd.regions, [{
      concepts: ["golden retriever"],
      box: { left: 1.5 / 32, top: 2.25 / 32, right: 11.625 / 32, bottom: 23 / 32 },
    }]);
    // width and height missing from the file: read from the PNG header (20×10)
    assertEquals(nosize.regions, [{
      concepts: ["cat"],
      box: { left: 0.25, top: 0.25, right: 0.75, bottom: 0.75 },
    }]);
  },
});

Deno.test({
  name: "cocoSource options: shapes, clamping, IDs from paths, counts",
  permissions: { read: true },
  fn: async (t) => {
    await t.step("boxes only", async () => {
      const counts = await countAnnotations(
        cocoSource(file, { imagesDir: images, shapes: "boxes" }),
      );
      assertEquals([counts.images, counts.boxes, counts.polygons], [5, 5, 0]);
    });
    await t.step("polygons only", async () => {
      const counts = await countAnnotations(
        cocoSource(file, { imagesDir: images, shapes: "polygons" }),
      );
      assertEquals([counts.images, counts.boxes, counts.polygons], [5, 0, 3]);
      assertEquals(counts.imagesWithoutRegions, 3);
    });
    await t.step("both, with the counts a dry run prints", async () => {
      const counts = await countAnnotations(cocoSource(file, { imagesDir: images }));
      assertEquals(counts, {
        images: 5,
        imagesWithoutRegions: 1,
        otherInputs: 0,
        boxes: 5,
        polygons: 3,
        concepts: 3,
        regionsByConcept: { "cat": 3, "猫 ünïcode ✓": 3, "golden retriever": 2 },
        rejected: 7,
        skipped: 0,
      });
    });
    await t.step("clampBoxes keeps the box reaching outside, and says where", async () => {
      const clamped: string[] = [];
      const items = await Array.fromAsync(
        cocoSource(file, {
          imagesDir: images,
          clampBoxes: true,
          onClamped: (l) => clamped.push(l),
        }),
      );
      assertEquals(clamped, ["instances.json:annotation 20"]);
      const dog = items.find((i) => i.type === "draft" && i.draft.id === "dog_02");
      assert(dog?.type === "draft");
      assertEquals(dog.draft.regions?.at(-1), {
        concepts: ["cat"],
        box: { left: 0.75, top: 20 / 30, right: 1, bottom: 1 },
      });
    });
    await t.step("IDs from file_name paths", async () => {
      const items = await Array.fromAsync(cocoSource(file, { imagesDir: images, idFrom: "path" }));
      const ids = items.flatMap((i) => i.type === "draft" ? [i.draft.id] : []);
      assertEquals(ids, ["cat_01", "sub_dog_02", "empty", "crowd", "nosize"]);
    });
  },
});

async function withCoco(
  document: unknown,
  files: string[],
  test: (path: string, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    for (const name of files) await Deno.writeFile(`${dir}/${name}`, new Uint8Array([1]));
    const text = typeof document === "string" ? document : JSON.stringify(document);
    await Deno.writeTextFile(`${dir}/c.json`, text);
    await test(`${dir}/c.json`, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "cocoSource handles any key order and refuses bad images",
  permissions: { read: true, write: true },
  fn: async (t) => {
    await t.step("categories first, annotations before images", async () => {
      await withCoco(
        '{"categories": [{"id": 1, "name": "  padded  "}], "annotations": [' +
          '{"id": 1, "image_id": "a", "category_id": 1, "bbox": [0, 0, 5, 5]}], ' +
          '"images": [{"id": "a", "file_name": "a.png", "width": 10, "height": 10}]}',
        ["a.png"],
        async (path) => {
          const items = await Array.fromAsync(cocoSource(path));
          assertEquals(items.length, 1);
          assert(items[0].type === "draft");
          assertEquals(items[0].draft.regions, [{
            concepts: ["padded"],
            box: { left: 0, top: 0, right: 0.5, bottom: 0.5 },
          }]);
        },
      );
    });
    await t.step("bad images and annotations", async () => {
      await withCoco(
        {
          images: [
            { id: 1, file_name: "a.png", width: 10, height: 10 },
            { id: 1, file_name: "b.png", width: 10, height: 10 },
            { id: 2, file_name: "../escape.png", width: 10, height: 10 },
            { id: 3, file_name: "noext", width: 10, height: 10 },
            { file_name: "c.png" },
            { id: 4, width: 1, height: 1 },
            { id: 5, file_name: "bad.png", width: 0 },
            "not an object",
          ],
          annotations: [
            { id: 1, image_id: 1, category_id: 1, bbox: [0, 0, "5", 5] },
            { id: 2, image_id: 1, category_id: 1, segmentation: [[0, 0, 5, 0]] },
            { id: 3, image_id: 1, category_id: 1, segmentation: [[0, 0, 5, 0, 5]] },
            { id: 4, image_id: 1, category_id: 1 },
            { id: 5, image_id: 1, category_id: 1, segmentation: "x" },
            { id: 6, category_id: 1, bbox: [0, 0, 1, 1] },
            { id: 7, image_id: 5, category_id: 1, bbox: [0, 0, 1, 1] },
          ],
          categories: [{ id: 1, name: "cat" }, { id: 2 }],
        },
        ["a.png", "b.png", "bad.png"],
        async (path) => {
          const items = await Array.fromAsync(cocoSource(path));
          assertEquals(summary(items), [
            "rejected c.json:images[4]: image has no id (a number or string): got undefined",
            'rejected c.json:images[7]: not an object: got "not an object"',
            "rejected c.json:annotation 6: annotation has no image_id: got undefined",
            'rejected c.json:categories[1]: category needs an id and a name: got {"id":2}',
            'rejected c.json:annotation 1: bbox must be [x, y, width, height] in pixels: got [0,0,"5",5]',
            "rejected c.json:annotation 2: polygon 1: polygon has 2 points: at least 3 are needed",
            "rejected c.json:annotation 3: polygon 1 must be a flat list [x1, y1, x2, y2, …] in pixels: got [0,0,5,0,5]",
            "rejected c.json:annotation 4: annotation has neither a bbox nor a segmentation",
            'rejected c.json:annotation 5: segmentation must be a list of polygons or an RLE object: got "x"',
            "draft a @ c.json:image 1 (a.png): 0 regions",
            "rejected c.json:image 1 (b.png): duplicate image id 1: also on line 1",
            'rejected c.json:image 2 (../escape.png): file_name "../escape.png" must stay inside the images folder',
            'rejected c.json:image 3 (noext): file_name "noext" has no image extension',
            "rejected c.json:image 4 (?): image has no file_name: got undefined",
            "rejected c.json:image 5 (bad.png): image width/height are missing or invalid (0×undefined) and cannot be read from the file",
          ]);
        },
      );
    });
  },
});

Deno.test({
  name: "cocoSource errors for files that are not COCO, and checks options",
  permissions: { read: true, write: true },
  fn: async (t) => {
    const cases: [string, string, string][] = [
      [
        "not JSON",
        '{"images": [\n{"id": 1,}]}',
        'c.json: Syntax error on line 2: element 1 of "images"',
      ],
      [
        "an array",
        "[]",
        'c.json: Syntax error on line 1: expected "{" at the start of the document',
      ],
      ["no images", '{"info": {}}', "c.json: no images, annotations or categories"],
    ];
    for (const [name, text, message] of cases) {
      await t.step(name, async () => {
        await withCoco(text, [], async (path) => {
          await assertRejects(() => Array.fromAsync(cocoSource(path)), SyntaxError, message);
        });
      });
    }
    await t.step("missing file", async () => {
      await assertRejects(
        () => Array.fromAsync(cocoSource("/nonexistent/c.json")),
        Deno.errors.NotFound,
        'Cannot read COCO file "/nonexistent/c.json": it does not exist',
      );
    });
    await t.step("options", () => {
      assertThrows(
        () => cocoSource(file, { shapes: "masks" as "boxes" }),
        RangeError,
        'Cannot create cocoSource: shapes must be "boxes", "polygons" or "both": current value is "masks"',
      );
      assertThrows(() => cocoSource(file, { idFrom: "name" as "stem" }), RangeError, "idFrom");
      assertThrows(() => cocoSource(file, { datasetId: "a b" }), RangeError, "invalid dataset ID");
      assertThrows(() => cocoSource(""), TypeError, "path must be a non-empty string");
    });
    await t.step("cancelling after the first item closes the file", async () => {
      const reader = cocoSource(file, { imagesDir: images }).getReader();
      const first = await reader.read();
      assertEquals(first.done, false);
      await reader.cancel();
    });
  },
});
