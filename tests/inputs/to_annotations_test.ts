import { assertEquals, assertMatch, assertNotEquals } from "@std/assert";
import { toBinary } from "@bufbuild/protobuf";
import official from "npm:clarifai-nodejs-grpc@11.11.0/proto/clarifai/api/resources_pb";
import { annotationId, toAnnotations } from "../../src/inputs/to_annotations.ts";
import type { InputDraft } from "../../src/inputs/input_draft.ts";
import { AnnotationSchema } from "../../src/gen/clarifai/api/resources_pb.ts";

const box = { left: 0.125, top: 0.25, right: 0.75, bottom: 0.875 };
const triangle = [{ row: 0.125, col: 0.25 }, { row: 0.5, col: 0.75 }, { row: 0.875, col: 0.25 }];

function image(fields: Partial<InputDraft> = {}): InputDraft {
  return {
    id: "img-1",
    kind: "image",
    content: { type: "file", path: "a.jpg" },
    location: "a.jpg",
    concepts: ["scene"],
    ...fields,
  };
}

function video(fields: Partial<InputDraft> = {}): InputDraft {
  return {
    id: "vid-1",
    kind: "video",
    content: { type: "file", path: "a.mp4" },
    location: "a.mp4",
    concepts: [],
    ...fields,
  };
}

Deno.test("toAnnotations() maps image regions", { permissions: {} }, async (t) => {
  await t.step("no regions, no annotations", () => {
    assertEquals(toAnnotations(image()), []);
    assertEquals(toAnnotations(image({ regions: [] })), []);
  });

  await t.step("a box: bounding_box, concepts with value 1, track ID", () => {
    const [a] = toAnnotations(image({
      regions: [{ concepts: ["cat", "pet"], box, trackId: "t1" }],
    }));
    assertEquals(a.inputId, "img-1");
    assertMatch(a.id, /^a-[0-9a-f]{20}$/);
    assertEquals(a.data!.regions.length, 1);
    const region = a.data!.regions[0];
    const bb = region.regionInfo!.boundingBox!;
    assertEquals([bb.topRow, bb.leftCol, bb.bottomRow, bb.rightCol], [0.25, 0.125, 0.875, 0.75]);
    assertEquals(region.regionInfo!.polygon, undefined);
    assertEquals(region.data!.concepts.map((c) => [c.id, c.value]), [["cat", 1], ["pet", 1]]);
    assertEquals(region.trackId, "t1");
    // Input-level concepts stay on the input, not on annotations.
    assertEquals(a.data!.concepts, []);
  });

  await t.step("a polygon: points as row/col", () => {
    const [a] = toAnnotations(image({ regions: [{ concepts: ["cat"], polygon: triangle }] }));
    const info = a.data!.regions[0].regionInfo!;
    assertEquals(info.boundingBox, undefined);
    assertEquals(
      info.polygon!.points.map((p) => [p.row, p.col]),
      triangle.map((p) => [p.row, p.col]),
    );
  });

  await t.step("one annotation per region, in order; a given ID is kept", () => {
    const list = toAnnotations(image({
      regions: [
        { concepts: ["cat"], box },
        { id: "my-box", concepts: ["dog"], box },
        { concepts: ["cat"], polygon: triangle },
      ],
    }));
    assertEquals(list.length, 3);
    assertEquals(list[1].id, "my-box");
    assertEquals(list.map((a) => a.data!.regions[0].data!.concepts[0].id), ["cat", "dog", "cat"]);
  });

  await t.step("decoded by the official Clarifai classes", () => {
    const [a] = toAnnotations(image({ regions: [{ concepts: ["cat"], box }] }));
    const decoded = official.Annotation.deserializeBinary(toBinary(AnnotationSchema, a));
    assertEquals(decoded.getInputId(), "img-1");
    const region = decoded.getData()!.getRegionsList()[0];
    const bb = region.getRegionInfo()!.getBoundingBox()!;
    assertEquals(
      [bb.getTopRow(), bb.getLeftCol(), bb.getBottomRow(), bb.getRightCol()],
      [0.25, 0.125, 0.875, 0.75],
    );
    assertEquals(region.getData()!.getConceptsList()[0].getValue(), 1);
  });
});

Deno.test("toAnnotations() maps video frame regions", { permissions: {} }, async (t) => {
  const draft = video({
    frames: [
      { number: 3, timeMs: 100, regions: [{ concepts: ["car"], box, trackId: "7" }] },
      {
        number: 4,
        timeMs: 133.4,
        regions: [{ concepts: ["car"], box, trackId: "7" }, {
          concepts: ["bus"],
          polygon: triangle,
        }],
      },
    ],
  });
  const list = toAnnotations(draft);

  await t.step("one annotation per frame region", () => {
    assertEquals(list.length, 3);
    for (const a of list) {
      assertEquals(a.inputId, "vid-1");
      assertEquals(a.data!.regions, []);
      assertEquals(a.data!.frames.length, 1);
      assertEquals(a.data!.frames[0].data!.regions.length, 1);
    }
    const infos = list.map((a) => a.data!.frames[0].frameInfo!);
    assertEquals(infos.map((i) => [i.number, i.time]), [[3, 100], [4, 133], [4, 133]]);
    const first = list[0].data!.frames[0].data!.regions[0];
    assertEquals(first.trackId, "7");
    assertEquals(first.regionInfo!.boundingBox!.rightCol, 0.75);
    assertEquals(list[2].data!.frames[0].data!.regions[0].regionInfo!.polygon!.points.length, 3);
  });

  await t.step("same region in two frames: two distinct IDs", () => {
    assertNotEquals(list[0].id, list[1].id);
  });

  await t.step("decoded by the official Clarifai classes", () => {
    const decoded = official.Annotation.deserializeBinary(toBinary(AnnotationSchema, list[1]));
    const frame = decoded.getData()!.getFramesList()[0];
    assertEquals(frame.getFrameInfo()!.getNumber(), 4);
    assertEquals(frame.getFrameInfo()!.getTime(), 133);
    assertEquals(frame.getData()!.getRegionsList()[0].getTrackId(), "7");
  });
});

Deno.test("toAnnotations() IDs are deterministic", { permissions: {} }, async (t) => {
  const regions = [{ concepts: ["cat"], box }, { concepts: ["cat"], box }];
  const ids = toAnnotations(image({ regions })).map((a) => a.id);

  await t.step("same draft, same IDs (a retry cannot duplicate a box)", () => {
    const again = toAnnotations(structuredClone(image({ regions }))).map((a) => a.id);
    assertEquals(again, ids);
  });

  await t.step("identical boxes at different positions get different IDs", () => {
    assertNotEquals(ids[0], ids[1]);
  });

  await t.step("another input, a moved box or other concepts: another ID", () => {
    const [other] = toAnnotations(image({ id: "img-2", regions }));
    const [moved] = toAnnotations(
      image({ regions: [{ concepts: ["cat"], box: { ...box, left: 0.1 } }] }),
    );
    const [relabelled] = toAnnotations(image({ regions: [{ concepts: ["dog"], box }] }));
    for (const id of [other.id, moved.id, relabelled.id]) assertNotEquals(id, ids[0]);
  });

  await t.step("key order in the region does not matter", () => {
    const reordered = { bottom: box.bottom, right: box.right, top: box.top, left: box.left };
    assertEquals(annotationId("x", { box }, [0]), annotationId("x", { box: reordered }, [0]));
  });

  await t.step("valid Clarifai IDs", () => {
    for (const id of ids) assertMatch(id, /^[a-z0-9][a-z0-9_-]{0,254}$/);
  });
});
