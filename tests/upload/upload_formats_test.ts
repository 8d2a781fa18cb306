/**
 * Round trip: each annotation fixture uploaded to the embedded local API and read back with
 * ListAnnotations equals what the files say, within float32 precision (the wire's `float`).
 */
import { assert, assertEquals } from "@std/assert";
import { openTarget } from "../../src/upload/target.ts";
import { localTarget } from "../../server/local_target.ts";
import { uploadCoco, uploadVoc, uploadYolo } from "../../src/upload/upload_formats.ts";
import { summaryOf } from "../../src/pipeline/progress_event.ts";
import type { ProgressEvent } from "../../src/pipeline/progress_event.ts";
import type { DraftOrRejection, InputDraft } from "../../src/inputs/input_draft.ts";
import { toAnnotations } from "../../src/inputs/to_annotations.ts";
import type { Annotation } from "../../src/gen/clarifai/api/resources_pb.ts";
import { cocoSource } from "../../src/sources/coco_source.ts";
import { yoloSource } from "../../src/sources/yolo_source.ts";
import { vocSource } from "../../src/sources/voc_source.ts";
import type { ClarifaiClient } from "../../src/clarifai/client.ts";

const fixtures = new URL("../fixtures/", import.meta.url).pathname;

/** A region as the API gives it back, or as the draft says, with float32 coordinates. */
function shape(annotation: Annotation): unknown {
  const region = annotation.data!.regions[0];
  const box = region.regionInfo?.boundingBox;
  return {
    inputId: annotation.inputId,
    concepts: region.data?.concepts.map((c) => [c.id, c.value]),
    box: box && [box.leftCol, box.topRow, box.rightCol, box.bottomRow],
    polygon: region.regionInfo?.polygon?.points.map((p) => [p.row, p.col]),
  };
}

function float32(annotation: Annotation): unknown {
  const s = shape(annotation) as {
    box?: number[];
    polygon?: number[][];
  };
  return {
    ...s,
    box: s.box?.map(Math.fround),
    polygon: s.polygon?.map((p) => p.map(Math.fround)),
  };
}

async function roundTrip(
  t: Deno.TestContext,
  name: string,
  source: () => ReadableStream<DraftOrRejection>,
  upload: (client: ClarifaiClient) => ReadableStream<ProgressEvent>,
  check: (byInput: Map<string, unknown[]>) => void,
) {
  await t.step(name, async () => {
    const dataDir = await Deno.makeTempDir();
    const target = await openTarget({ env: null, local: localTarget({ dataDir }) });
    try {
      const items = await Array.fromAsync(source());
      const drafts: InputDraft[] = items.flatMap((i) => i.type === "draft" ? [i.draft] : []);
      const rejected = items.filter((i) => i.type === "rejected").length;
      const expected = drafts.flatMap(toAnnotations);

      const summary = await summaryOf(upload(target.client));
      assertEquals(summary.fatal, undefined);
      assertEquals(summary.uploaded, drafts.length);
      assertEquals(summary.rejected, rejected);
      assertEquals(summary.failed, 0);
      assertEquals(summary.annotations, expected.length);

      const listed = await target.client.listAnnotations({
        userAppId: target.client.userAppId,
        inputIds: drafts.map((d) => d.id),
        perPage: 1000,
      });
      const actual = listed.annotations.filter((a) => !a.inputLevel && a.data?.regions.length);
      assertEquals(actual.length, expected.length);
      const byId = new Map(actual.map((a) => [a.id, a]));
      const byInput = new Map<string, unknown[]>();
      for (const want of expected) {
        const got = byId.get(want.id);
        assert(got !== undefined, `annotation ${want.id} of ${want.inputId} was not read back`);
        // The wire carries float32: what comes back is the draft's value rounded to float32.
        assertEquals(shape(got), float32(want));
        let list = byInput.get(want.inputId);
        if (list === undefined) byInput.set(want.inputId, list = []);
        list.push(shape(got));
      }
      check(byInput);
    } finally {
      await target.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  });
}

/** Asserts two numbers agree within float32 precision. */
function near(actual: number, expected: number) {
  assert(
    Math.abs(actual - expected) <= 1e-7,
    `${actual} is not ${expected} within float32 precision`,
  );
}

Deno.test({
  name: "COCO, YOLO and VOC fixtures round-trip through the local API",
  permissions: { read: true, write: true, net: true },
  fn: async (t) => {
    const common = { datasetId: "fixtures", createDataset: true, rps: 0 };
    await roundTrip(
      t,
      "COCO",
      () => cocoSource(`${fixtures}coco/instances.json`, { imagesDir: `${fixtures}coco/images` }),
      (client) =>
        uploadCoco(`${fixtures}coco/instances.json`, {
          ...common,
          client,
          imagesDir: `${fixtures}coco/images`,
        }),
      (byInput) => {
        assertEquals([...byInput.keys()], ["cat_01", "dog_02", "crowd", "nosize"]);
        // bbox [1.5, 2.25, 10.125, 20.75] on a 32×32 image
        const [crowd] = byInput.get("crowd") as { box: number[]; concepts: unknown }[];
        assertEquals(crowd.concepts, [["golden retriever", 1]]);
        [1.5 / 32, 2.25 / 32, 11.625 / 32, 23 / 32].forEach((v, i) => near(crowd.box[i], v));
        // polygon [30, 20, 40, 20, 40, 30] on a 40×30 image: rows y/30, cols x/40
        const dog = byInput.get("dog_02") as { polygon?: number[][]; concepts: unknown }[];
        assertEquals(dog[0].concepts, [["猫 ünïcode ✓", 1]]);
        const polygon = dog[2].polygon!;
        [[20 / 30, 0.75], [20 / 30, 1], [1, 1]].forEach(([row, col], i) => {
          near(polygon[i][0], row);
          near(polygon[i][1], col);
        });
      },
    );
    await roundTrip(
      t,
      "YOLO",
      () => yoloSource(`${fixtures}yolo`),
      (client) => uploadYolo(`${fixtures}yolo`, { ...common, client }),
      (byInput) => {
        assertEquals([...byInput.keys()], ["01", "02", "05"]);
        const [box] = byInput.get("05") as { box: number[] }[];
        [0.2, 0.2, 0.4, 0.4].forEach((v, i) => near(box.box[i], v));
      },
    );
    await roundTrip(
      t,
      "VOC",
      () => vocSource(`${fixtures}voc`),
      (client) => uploadVoc(`${fixtures}voc`, { ...common, client }),
      (byInput) => {
        assertEquals([...byInput.keys()], ["01", "02", "05"]);
        const [, retriever] = byInput.get("01") as { box: number[]; concepts: unknown }[];
        assertEquals(retriever.concepts, [["golden retriever", 1]]);
        [6 / 24, 12.5 / 24, 18 / 24, 1].forEach((v, i) => near(retriever.box[i], v));
        const [cat] = byInput.get("02") as { concepts: unknown }[];
        assertEquals(cat.concepts, [["猫 & ünïcode", 1]]);
      },
    );
  },
});
