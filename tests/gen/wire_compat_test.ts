/**
 * Wire compatibility of the project's generated protobuf code (src/gen) with Clarifai's official
 * generated classes (npm:clarifai-nodejs-grpc, google-protobuf): messages encoded by one side
 * decode field for field on the other, in both directions.
 */
import { assert, assertEquals } from "@std/assert";
import { createRequire } from "node:module";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import theirResources from "npm:clarifai-nodejs-grpc@11.11.0/proto/clarifai/api/resources_pb";
import theirService from "npm:clarifai-nodejs-grpc@11.11.0/proto/clarifai/api/service_pb";
import theirStatus from "npm:clarifai-nodejs-grpc@11.11.0/proto/clarifai/api/status/status_pb";
import theirStatusCodes from "npm:clarifai-nodejs-grpc@11.11.0/proto/clarifai/api/status/status_code_pb";
import {
  type Annotation,
  DatasetVersionMetricsGroupType,
  DatasetVersionRequestOrigin,
  type Input,
  InputIDConflictResolution,
  Point_Visibility,
} from "../../src/gen/clarifai/api/resources_pb.ts";
import {
  DeleteAnnotationsRequestSchema,
  DeleteDatasetsRequestSchema,
  DeleteDatasetVersionsRequestSchema,
  GetDatasetVersionRequestSchema,
  ListAnnotationsRequestSchema,
  ListDatasetsRequestSchema,
  ListDatasetVersionMetricsGroupsRequestSchema,
  ListDatasetVersionsRequestSchema,
  MultiDatasetResponseSchema,
  MultiDatasetVersionMetricsGroupResponseSchema,
  MultiDatasetVersionResponseSchema,
  MultiInputResponseSchema,
  PatchAnnotationsRequestSchema,
  PatchDatasetsRequestSchema,
  PatchInputsRequestSchema,
  PostAnnotationsRequestSchema,
  PostDatasetVersionsRequestSchema,
  PostInputsRequestSchema,
  SingleDatasetVersionResponseSchema,
} from "../../src/gen/clarifai/api/service_pb.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";

const NONE = { permissions: "none" } as const;

// google-protobuf's Struct, from the very copy the official classes use.
const requireFromTheirs = createRequire(
  import.meta.resolve("npm:clarifai-nodejs-grpc@11.11.0/proto/clarifai/api/resources_pb"),
);
const { Struct: TheirStruct, Value: TheirValue } = requireFromTheirs(
  "google-protobuf/google/protobuf/struct_pb.js",
);
const { UInt64Value: TheirUInt64 } = requireFromTheirs(
  "google-protobuf/google/protobuf/wrappers_pb.js",
);

type TheirInput = InstanceType<typeof theirResources.Input>;
type TheirAnnotation = InstanceType<typeof theirResources.Annotation>;
type TheirRegion = InstanceType<typeof theirResources.Region>;

/** A float sent as a protobuf `float` reads back as its float32 rounding, on both sides. */
function assertFloat32(actual: number | undefined, expected: number, what: string): void {
  assertEquals(actual, Math.fround(expected), `${what}: ${actual} vs float32(${expected})`);
}

const IMAGE_BYTES = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x00, 0xff]);
const AUDIO_BYTES = new Uint8Array([0x52, 0x49, 0x46, 0x46, 0x00, 0x00, 0x01]);
const METADATA = {
  source: "camera-3",
  score: 0.5,
  count: 12,
  reviewed: true,
  missing: null,
  nested: { tags: ["a", "b", 3, false, null], deeper: { unicode: "café ✓", empty: {} } },
};
const GEO = { longitude: -122.4194155, latitude: 37.7749295 };
const TEXT = "hello, world ✓ — line 1\nline 2";
const BIG_COUNT = 2 ** 40 + 3; // needs more than 32 bits on the wire

/** The inputs of the PostInputsRequest, as our side describes them. */
function ourInputs() {
  return [
    {
      id: "img-bytes",
      datasetIds: ["ds-train", "ds-all"],
      data: {
        image: { base64: IMAGE_BYTES },
        concepts: [{ id: "cat", value: 1 }, { id: "pet", name: "Pet", value: 1 }],
        metadata: METADATA,
        geo: { geoPoint: GEO },
      },
    },
    { id: "txt-raw", data: { text: { raw: TEXT }, concepts: [{ id: "greeting", value: 1 }] } },
    { id: "vid-url", data: { video: { url: "https://example.com/clip.mp4" } } },
    {
      id: "img-url",
      data: { image: { url: "https://example.com/a.jpg", allowDuplicateUrl: true } },
    },
    { id: "aud-bytes", data: { audio: { base64: AUDIO_BYTES } } },
  ];
}

/** Checks an official Input against what ourInputs() describes. */
function checkTheirInputs(inputs: TheirInput[]): void {
  assertEquals(inputs.map((i) => i.getId()), [
    "img-bytes",
    "txt-raw",
    "vid-url",
    "img-url",
    "aud-bytes",
  ]);
  const [img, txt, vid, url, aud] = inputs;
  assertEquals(img.getDatasetIdsList(), ["ds-train", "ds-all"]);
  const data = img.getData()!;
  assertEquals(data.getImage()!.getBase64_asU8(), IMAGE_BYTES);
  assertEquals(data.getConceptsList().map((c) => [c.getId(), c.getName(), c.getValue()]), [
    ["cat", "", 1],
    ["pet", "Pet", 1],
  ]);
  assertEquals(data.getMetadata()!.toJavaScript(), METADATA);
  assertFloat32(data.getGeo()!.getGeoPoint()!.getLongitude(), GEO.longitude, "longitude");
  assertFloat32(data.getGeo()!.getGeoPoint()!.getLatitude(), GEO.latitude, "latitude");
  assertEquals(txt.getData()!.getText()!.getRaw(), TEXT);
  assertEquals(txt.getData()!.getConceptsList().map((c) => [c.getId(), c.getValue()]), [
    ["greeting", 1],
  ]);
  assertEquals(vid.getData()!.getVideo()!.getUrl(), "https://example.com/clip.mp4");
  assert(!vid.getData()!.hasImage());
  assertEquals(url.getData()!.getImage()!.getUrl(), "https://example.com/a.jpg");
  assertEquals(url.getData()!.getImage()!.getAllowDuplicateUrl(), true);
  assertEquals(aud.getData()!.getAudio()!.getBase64_asU8(), AUDIO_BYTES);
}

/** Checks our decoded inputs against what ourInputs() describes. */
function checkOurInputs(inputs: Input[]): void {
  assertEquals(inputs.map((i) => i.id), [
    "img-bytes",
    "txt-raw",
    "vid-url",
    "img-url",
    "aud-bytes",
  ]);
  const [img, txt, vid, url, aud] = inputs;
  assertEquals(img.datasetIds, ["ds-train", "ds-all"]);
  assertEquals(img.data?.image?.base64, IMAGE_BYTES);
  assertEquals(img.data?.concepts.map((c) => [c.id, c.name, c.value]), [
    ["cat", "", 1],
    ["pet", "Pet", 1],
  ]);
  assertEquals(img.data?.metadata, METADATA);
  assertFloat32(img.data?.geo?.geoPoint?.longitude, GEO.longitude, "longitude");
  assertFloat32(img.data?.geo?.geoPoint?.latitude, GEO.latitude, "latitude");
  assertEquals(txt.data?.text?.raw, TEXT);
  assertEquals(txt.data?.concepts.map((c) => [c.id, c.value]), [["greeting", 1]]);
  assertEquals(vid.data?.video?.url, "https://example.com/clip.mp4");
  assertEquals(vid.data?.image, undefined);
  assertEquals(url.data?.image?.url, "https://example.com/a.jpg");
  assertEquals(url.data?.image?.allowDuplicateUrl, true);
  assertEquals(aud.data?.audio?.base64, AUDIO_BYTES);
}

/** Builds the same inputs with the official classes. */
function theirInputs(): TheirInput[] {
  const R = theirResources;
  const concept = (id: string, name = "") => new R.Concept().setId(id).setName(name).setValue(1);

  const img = new R.Input().setId("img-bytes").setDatasetIdsList(["ds-train", "ds-all"]);
  const imgData = new R.Data()
    .setImage(new R.Image().setBase64(IMAGE_BYTES))
    .setMetadata(TheirStruct.fromJavaScript(METADATA))
    .setGeo(
      new R.Geo().setGeoPoint(
        new R.GeoPoint().setLongitude(GEO.longitude).setLatitude(GEO.latitude),
      ),
    );
  imgData.addConcepts(concept("cat")); // returns the added child, not the parent
  imgData.addConcepts(concept("pet", "Pet"));
  img.setData(imgData);

  const txtData = new R.Data().setText(new R.Text().setRaw(TEXT));
  txtData.addConcepts(concept("greeting"));
  const txt = new R.Input().setId("txt-raw").setData(txtData);

  const vid = new R.Input().setId("vid-url").setData(
    new R.Data().setVideo(new R.Video().setUrl("https://example.com/clip.mp4")),
  );
  const url = new R.Input().setId("img-url").setData(
    new R.Data().setImage(
      new R.Image().setUrl("https://example.com/a.jpg").setAllowDuplicateUrl(true),
    ),
  );
  const aud = new R.Input().setId("aud-bytes").setData(
    new R.Data().setAudio(new R.Audio().setBase64(AUDIO_BYTES)),
  );
  return [img, txt, vid, url, aud];
}

Deno.test("PostInputsRequest is wire compatible with the official classes", NONE, async (t) => {
  await t.step("ours → theirs", () => {
    const ours = create(PostInputsRequestSchema, {
      userAppId: { userId: "me", appId: "photos" },
      inputs: ourInputs(),
      inputsAddJobId: "job-123",
      inputIdConflictResolution: InputIDConflictResolution.SUFFIX,
    });
    const theirs = theirService.PostInputsRequest.deserializeBinary(
      toBinary(PostInputsRequestSchema, ours),
    );
    assertEquals(theirs.getUserAppId()!.getUserId(), "me");
    assertEquals(theirs.getUserAppId()!.getAppId(), "photos");
    assertEquals(theirs.getInputsAddJobId(), "job-123");
    assertEquals(
      theirs.getInputIdConflictResolution(),
      theirResources.InputIDConflictResolution.SUFFIX,
    );
    checkTheirInputs(theirs.getInputsList());
  });

  await t.step("theirs → ours", () => {
    const theirs = new theirService.PostInputsRequest()
      .setUserAppId(new theirResources.UserAppIDSet().setUserId("me").setAppId("photos"))
      .setInputsList(theirInputs())
      .setInputsAddJobId("job-123")
      .setInputIdConflictResolution(theirResources.InputIDConflictResolution.SUFFIX);
    const ours = fromBinary(PostInputsRequestSchema, theirs.serializeBinary());
    assertEquals(ours.userAppId?.userId, "me");
    assertEquals(ours.userAppId?.appId, "photos");
    assertEquals(ours.inputsAddJobId, "job-123");
    assertEquals(ours.inputIdConflictResolution, InputIDConflictResolution.SUFFIX);
    checkOurInputs(ours.inputs);
  });

  await t.step("the same message encodes to the same bytes on both sides", () => {
    // Field order and encodings agree (Struct map entries aside: leave metadata out).
    const inputs = ourInputs().map((input) => ({
      ...input,
      data: { ...input.data, metadata: undefined },
    }));
    const ours = toBinary(
      PostInputsRequestSchema,
      create(PostInputsRequestSchema, {
        userAppId: { userId: "me", appId: "photos" },
        inputs,
        inputsAddJobId: "job-123",
        inputIdConflictResolution: InputIDConflictResolution.SUFFIX,
      }),
    );
    const theirInputList = theirInputs();
    theirInputList[0].getData()!.clearMetadata();
    const theirs = new theirService.PostInputsRequest()
      .setUserAppId(new theirResources.UserAppIDSet().setUserId("me").setAppId("photos"))
      .setInputsList(theirInputList)
      .setInputsAddJobId("job-123")
      .setInputIdConflictResolution(theirResources.InputIDConflictResolution.SUFFIX)
      .serializeBinary();
    assertEquals(ours, theirs);
  });
});

const BOX = { topRow: 0.1, leftCol: 0.2, bottomRow: 0.85, rightCol: 0.9 };
const POLYGON = [
  { row: 0.1, col: 0.1 },
  { row: 0.15, col: 0.6 },
  { row: 0.7, col: 0.333333 },
];

function ourAnnotations() {
  return [
    {
      id: "ann-box",
      inputId: "img-bytes",
      data: {
        regions: [{
          id: "r1",
          regionInfo: { boundingBox: BOX },
          data: { concepts: [{ id: "cat", value: 1 }] },
        }, {
          id: "r2",
          regionInfo: {
            polygon: {
              points: POLYGON.map((p, i) => ({
                ...p,
                visibility: i === 2 ? Point_Visibility.NOT_VISIBLE : Point_Visibility.VISIBLE,
              })),
            },
          },
          data: { concepts: [{ id: "dog", value: 1 }] },
        }],
      },
    },
    {
      id: "ann-video",
      inputId: "vid-url",
      data: {
        frames: [{
          frameInfo: { number: 7, time: 2333 },
          data: {
            regions: [{
              regionInfo: { boundingBox: BOX },
              trackId: "track-1",
              data: { concepts: [{ id: "car", value: 1 }] },
            }],
          },
        }, {
          frameInfo: { number: 8, time: 2666 },
          data: {
            regions: [{
              regionInfo: { boundingBox: { ...BOX, topRow: 0.2 } },
              trackId: "track-1",
              data: { concepts: [{ id: "car", value: 1 }] },
            }],
          },
        }],
      },
    },
    {
      id: "ann-input-level",
      inputId: "txt-raw",
      inputLevel: true,
      data: { concepts: [{ id: "greeting", value: 1 }] },
    },
  ];
}

function checkTheirBox(region: TheirRegion, topRow = BOX.topRow): void {
  const box = region.getRegionInfo()!.getBoundingBox()!;
  assertFloat32(box.getTopRow(), topRow, "top_row");
  assertFloat32(box.getLeftCol(), BOX.leftCol, "left_col");
  assertFloat32(box.getBottomRow(), BOX.bottomRow, "bottom_row");
  assertFloat32(box.getRightCol(), BOX.rightCol, "right_col");
}

function checkTheirAnnotations(annotations: TheirAnnotation[]): void {
  assertEquals(annotations.map((a) => [a.getId(), a.getInputId(), a.getInputLevel()]), [
    ["ann-box", "img-bytes", false],
    ["ann-video", "vid-url", false],
    ["ann-input-level", "txt-raw", true],
  ]);
  const [boxes, video, inputLevel] = annotations;
  const [r1, r2] = boxes.getData()!.getRegionsList();
  assertEquals(r1.getId(), "r1");
  checkTheirBox(r1);
  assertEquals(r1.getData()!.getConceptsList().map((c) => [c.getId(), c.getValue()]), [
    ["cat", 1],
  ]);
  assertEquals(r2.getId(), "r2");
  const points = r2.getRegionInfo()!.getPolygon()!.getPointsList();
  assertEquals(points.length, POLYGON.length);
  points.forEach((point, i) => {
    assertFloat32(point.getRow(), POLYGON[i].row, `point ${i} row`);
    assertFloat32(point.getCol(), POLYGON[i].col, `point ${i} col`);
  });
  assertEquals(points.map((p) => p.getVisibility()), [
    theirResources.Point.Visibility.VISIBLE,
    theirResources.Point.Visibility.VISIBLE,
    theirResources.Point.Visibility.NOT_VISIBLE,
  ]);
  assertEquals(r2.getData()!.getConceptsList()[0].getId(), "dog");

  const frames = video.getData()!.getFramesList();
  assertEquals(
    frames.map((f) => [f.getFrameInfo()!.getNumber(), f.getFrameInfo()!.getTime()]),
    [[7, 2333], [8, 2666]],
  );
  frames.forEach((frame, i) => {
    const [region] = frame.getData()!.getRegionsList();
    assertEquals(region.getTrackId(), "track-1");
    checkTheirBox(region, i === 0 ? BOX.topRow : 0.2);
    assertEquals(region.getData()!.getConceptsList().map((c) => [c.getId(), c.getValue()]), [
      ["car", 1],
    ]);
  });

  assertEquals(inputLevel.getData()!.getConceptsList().map((c) => [c.getId(), c.getValue()]), [
    ["greeting", 1],
  ]);
}

function checkOurAnnotations(annotations: Annotation[]): void {
  assertEquals(annotations.map((a) => [a.id, a.inputId, a.inputLevel]), [
    ["ann-box", "img-bytes", false],
    ["ann-video", "vid-url", false],
    ["ann-input-level", "txt-raw", true],
  ]);
  const [boxes, video, inputLevel] = annotations;
  const [r1, r2] = boxes.data!.regions;
  assertEquals(r1.id, "r1");
  const box = r1.regionInfo?.boundingBox;
  assertFloat32(box?.topRow, BOX.topRow, "top_row");
  assertFloat32(box?.leftCol, BOX.leftCol, "left_col");
  assertFloat32(box?.bottomRow, BOX.bottomRow, "bottom_row");
  assertFloat32(box?.rightCol, BOX.rightCol, "right_col");
  assertEquals(r1.data?.concepts.map((c) => [c.id, c.value]), [["cat", 1]]);
  const points = r2.regionInfo?.polygon?.points ?? [];
  assertEquals(points.length, POLYGON.length);
  points.forEach((point, i) => {
    assertFloat32(point.row, POLYGON[i].row, `point ${i} row`);
    assertFloat32(point.col, POLYGON[i].col, `point ${i} col`);
  });
  assertEquals(points.map((p) => p.visibility), [
    Point_Visibility.VISIBLE,
    Point_Visibility.VISIBLE,
    Point_Visibility.NOT_VISIBLE,
  ]);
  assertEquals(r2.data?.concepts[0].id, "dog");

  const frames = video.data!.frames;
  assertEquals(frames.map((f) => [f.frameInfo?.number, f.frameInfo?.time]), [
    [7, 2333],
    [8, 2666],
  ]);
  frames.forEach((frame, i) => {
    const [region] = frame.data!.regions;
    assertEquals(region.trackId, "track-1");
    assertFloat32(region.regionInfo?.boundingBox?.topRow, i === 0 ? BOX.topRow : 0.2, "top_row");
    assertFloat32(region.regionInfo?.boundingBox?.rightCol, BOX.rightCol, "right_col");
    assertEquals(region.data?.concepts.map((c) => [c.id, c.value]), [["car", 1]]);
  });
  assertEquals(inputLevel.data?.concepts.map((c) => [c.id, c.value]), [["greeting", 1]]);
}

function theirAnnotations(): TheirAnnotation[] {
  const R = theirResources;
  const concept = (id: string) => new R.Concept().setId(id).setValue(1);
  const boxInfo = (topRow = BOX.topRow) =>
    new R.RegionInfo().setBoundingBox(
      new R.BoundingBox().setTopRow(topRow).setLeftCol(BOX.leftCol).setBottomRow(BOX.bottomRow)
        .setRightCol(BOX.rightCol),
    );
  const conceptData = (id: string) => {
    const data = new R.Data();
    data.addConcepts(concept(id));
    return data;
  };

  const boxes = new R.Data();
  boxes.addRegions(new R.Region().setId("r1").setRegionInfo(boxInfo()).setData(conceptData("cat")));
  const polygon = new R.Polygon();
  POLYGON.forEach((p, i) => {
    polygon.addPoints(
      new R.Point().setRow(p.row).setCol(p.col).setVisibility(
        i === 2 ? R.Point.Visibility.NOT_VISIBLE : R.Point.Visibility.VISIBLE,
      ),
    );
  });
  boxes.addRegions(
    new R.Region().setId("r2").setRegionInfo(new R.RegionInfo().setPolygon(polygon)).setData(
      conceptData("dog"),
    ),
  );

  const video = new R.Data();
  for (const [number, time, topRow] of [[7, 2333, BOX.topRow], [8, 2666, 0.2]]) {
    const frameData = new R.Data();
    frameData.addRegions(
      new R.Region().setRegionInfo(boxInfo(topRow)).setTrackId("track-1").setData(
        conceptData("car"),
      ),
    );
    video.addFrames(
      new R.Frame().setFrameInfo(new R.FrameInfo().setNumber(number).setTime(time)).setData(
        frameData,
      ),
    );
  }

  return [
    new R.Annotation().setId("ann-box").setInputId("img-bytes").setData(boxes),
    new R.Annotation().setId("ann-video").setInputId("vid-url").setData(video),
    new R.Annotation().setId("ann-input-level").setInputId("txt-raw").setInputLevel(true)
      .setData(conceptData("greeting")),
  ];
}

Deno.test(
  "PostAnnotationsRequest is wire compatible with the official classes",
  NONE,
  async (t) => {
    await t.step("ours → theirs", () => {
      const ours = create(PostAnnotationsRequestSchema, {
        userAppId: { userId: "me", appId: "photos" },
        annotations: ourAnnotations(),
      });
      const theirs = theirService.PostAnnotationsRequest.deserializeBinary(
        toBinary(PostAnnotationsRequestSchema, ours),
      );
      assertEquals(theirs.getUserAppId()!.getAppId(), "photos");
      checkTheirAnnotations(theirs.getAnnotationsList());
    });
    await t.step("theirs → ours", () => {
      const theirs = new theirService.PostAnnotationsRequest()
        .setUserAppId(new theirResources.UserAppIDSet().setUserId("me").setAppId("photos"))
        .setAnnotationsList(theirAnnotations());
      const ours = fromBinary(PostAnnotationsRequestSchema, theirs.serializeBinary());
      assertEquals(ours.userAppId?.userId, "me");
      checkOurAnnotations(ours.annotations);
    });
    await t.step("the same annotations encode to the same bytes on both sides", () => {
      const ours = toBinary(
        PostAnnotationsRequestSchema,
        create(PostAnnotationsRequestSchema, { annotations: ourAnnotations() }),
      );
      const theirs = new theirService.PostAnnotationsRequest()
        .setAnnotationsList(theirAnnotations())
        .serializeBinary();
      assertEquals(ours, theirs);
    });
  },
);

Deno.test("MultiInputResponse statuses and job progress are wire compatible", NONE, async (t) => {
  await t.step("theirs → ours (what a server sends)", () => {
    const R = theirResources;
    const S = theirStatusCodes.StatusCode;
    const status = (code: number, description: string, details = "") =>
      new theirStatus.Status().setCode(code).setDescription(description).setDetails(details);
    const response = new theirService.MultiInputResponse()
      .setStatus(
        status(S.MIXED_STATUS, "Mixed Success", "some failed")
          .setReqId("req-42")
          .setPercentCompleted(60)
          .setTimeRemaining(12)
          .setInternalDetails("internal")
          .setStackTraceList(["frame 1", "frame 2"]),
      )
      .setInputsList([
        new R.Input().setId("a").setStatus(status(S.INPUT_PENDING, "Download pending")),
        new R.Input().setId("b").setStatus(
          status(S.INPUT_DUPLICATE, "Input duplicate", "Input has a duplicate ID."),
        ),
        new R.Input().setId("c").setStatus(status(S.CONN_THROTTLED, "Throttled")),
      ])
      .setInputsAddJob(
        new R.InputsAddJob()
          .setId("job-123")
          .setCallBackUrl("https://example.com/cb")
          .setProgress(
            new R.InputsAddJobProgress()
              .setPendingCount(BIG_COUNT)
              .setInProgressCount(1)
              .setSuccessCount(0)
              .setFailedCount(2 ** 33),
          )
          .setStatus(status(S.JOB_RUNNING, "running")),
      );
    const ours = fromBinary(MultiInputResponseSchema, response.serializeBinary());
    assertEquals(ours.status?.code, StatusCode.MIXED_STATUS);
    assertEquals(ours.status?.description, "Mixed Success");
    assertEquals(ours.status?.details, "some failed");
    assertEquals(ours.status?.reqId, "req-42");
    assertEquals(ours.status?.percentCompleted, 60);
    assertEquals(ours.status?.timeRemaining, 12);
    assertEquals(ours.status?.internalDetails, "internal");
    assertEquals(ours.status?.stackTrace, ["frame 1", "frame 2"]);
    assertEquals(ours.inputs.map((i) => [i.id, i.status?.code, i.status?.details]), [
      ["a", StatusCode.INPUT_PENDING, ""],
      ["b", StatusCode.INPUT_DUPLICATE, "Input has a duplicate ID."],
      ["c", StatusCode.CONN_THROTTLED, ""],
    ]);
    const job = ours.inputsAddJob!;
    assertEquals(job.id, "job-123");
    assertEquals(job.callBackUrl, "https://example.com/cb");
    assertEquals(job.status?.code, StatusCode.JOB_RUNNING);
    assertEquals(job.progress?.pendingCount, BigInt(BIG_COUNT));
    assertEquals(job.progress?.inProgressCount, 1n);
    assertEquals(job.progress?.successCount, 0n);
    assertEquals(job.progress?.failedCount, 2n ** 33n);
  });

  await t.step("ours → theirs (what the local API sends)", () => {
    const ours = create(MultiInputResponseSchema, {
      status: { code: StatusCode.FAILURE, description: "Failure", details: "all failed" },
      inputs: [
        { id: "x", status: { code: StatusCode.INPUT_INVALID_URL, details: "bad url" } },
        { id: "y", status: { code: StatusCode.INPUT_SUCCESS } },
      ],
      inputsAddJob: {
        id: "job-9",
        progress: { pendingCount: BigInt(BIG_COUNT), successCount: 5n, failedCount: 1n },
      },
    });
    const theirs = theirService.MultiInputResponse.deserializeBinary(
      toBinary(MultiInputResponseSchema, ours),
    );
    const S = theirStatusCodes.StatusCode;
    assertEquals(theirs.getStatus()!.getCode(), S.FAILURE);
    assertEquals(theirs.getStatus()!.getDetails(), "all failed");
    assertEquals(
      theirs.getInputsList().map((i) => [i.getId(), i.getStatus()!.getCode()]),
      [["x", S.INPUT_INVALID_URL], ["y", S.INPUT_SUCCESS]],
    );
    const progress = theirs.getInputsAddJob()!.getProgress()!;
    assertEquals(theirs.getInputsAddJob()!.getId(), "job-9");
    assertEquals(progress.getPendingCount(), BIG_COUNT);
    assertEquals(progress.getInProgressCount(), 0);
    assertEquals(progress.getSuccessCount(), 5);
    assertEquals(progress.getFailedCount(), 1);
  });
});

Deno.test("enum values match the official ones", NONE, async (t) => {
  const theirCodes = theirStatusCodes.StatusCode as unknown as Record<string, number>;
  for (const [name, value] of Object.entries(StatusCode)) {
    if (typeof value !== "number") continue;
    await t.step(`StatusCode.${name}`, () => assertEquals(theirCodes[name], value, name));
  }
  await t.step("InputIDConflictResolution", () => {
    const theirs = theirResources.InputIDConflictResolution as unknown as Record<string, number>;
    for (const [name, value] of Object.entries(InputIDConflictResolution)) {
      if (typeof value === "number") assertEquals(theirs[name], value, name);
    }
  });
  await t.step("DatasetVersionMetricsGroupType", () => {
    const theirs = theirResources.DatasetVersionMetricsGroupType as unknown as Record<
      string,
      number
    >;
    for (const [name, value] of Object.entries(DatasetVersionMetricsGroupType)) {
      if (typeof value === "number") assertEquals(theirs[name], value, name);
    }
  });
  await t.step("DatasetVersionRequestOrigin", () => {
    const theirs = theirResources.DatasetVersionRequestOrigin as unknown as Record<
      string,
      number
    >;
    for (const [name, value] of Object.entries(DatasetVersionRequestOrigin)) {
      if (typeof value === "number") assertEquals(theirs[name], value, name);
    }
  });
  await t.step("Point.Visibility", () => {
    const theirs = theirResources.Point.Visibility as unknown as Record<string, number>;
    for (const [name, value] of Object.entries(Point_Visibility)) {
      if (typeof value === "number") assertEquals(theirs[name], value, name);
    }
  });
});

const UA = () => new theirResources.UserAppIDSet().setUserId("me").setAppId("photos");

Deno.test("dataset version messages are wire compatible", NONE, async (t) => {
  await t.step("PostDatasetVersionsRequest: theirs → ours", () => {
    const version = new theirResources.DatasetVersion()
      .setId("v1")
      .setDescription("SDK Upload Status")
      .setMetadata(TheirStruct.fromJavaScript({ origin: "sdk" }))
      .setRequestOrigin(theirResources.DatasetVersionRequestOrigin.MANUAL);
    const theirs = new theirService.PostDatasetVersionsRequest()
      .setUserAppId(UA())
      .setDatasetId("ds")
      .setDatasetVersionsList([version]);
    const ours = fromBinary(PostDatasetVersionsRequestSchema, theirs.serializeBinary());
    assertEquals(ours.userAppId?.appId, "photos");
    assertEquals(ours.datasetId, "ds");
    assertEquals(ours.datasetVersions.length, 1);
    assertEquals(ours.datasetVersions[0].id, "v1");
    assertEquals(ours.datasetVersions[0].description, "SDK Upload Status");
    assertEquals(ours.datasetVersions[0].metadata, { origin: "sdk" });
    assertEquals(ours.datasetVersions[0].requestOrigin, DatasetVersionRequestOrigin.MANUAL);
  });

  await t.step("MultiDatasetVersionResponse: ours → theirs", () => {
    const ours = create(MultiDatasetVersionResponseSchema, {
      status: { code: StatusCode.SUCCESS },
      datasetVersions: [{
        id: "v1",
        datasetId: "ds",
        appId: "photos",
        userId: "me",
        description: "first",
        createdAt: { seconds: 1_700_000_000n, nanos: 5_000_000 },
        status: { code: StatusCode.DATASET_VERSION_READY, description: "Ready" },
        metrics: {
          "/": { inputsCount: BigInt(BIG_COUNT), positiveInputTagsCount: 3n, polygonsCount: 0n },
        },
      }],
    });
    const theirs = theirService.MultiDatasetVersionResponse.deserializeBinary(
      toBinary(MultiDatasetVersionResponseSchema, ours),
    );
    const [v] = theirs.getDatasetVersionsList();
    assertEquals(v.getId(), "v1");
    assertEquals(v.getDatasetId(), "ds");
    assertEquals(v.getAppId(), "photos");
    assertEquals(v.getUserId(), "me");
    assertEquals(v.getDescription(), "first");
    assertEquals(v.getCreatedAt()!.getSeconds(), 1_700_000_000);
    assertEquals(v.getStatus()!.getCode(), theirStatusCodes.StatusCode.DATASET_VERSION_READY);
    const root = v.getMetricsMap().get("/");
    assert(root !== undefined);
    assertEquals(root.getInputsCount()!.getValue(), BIG_COUNT);
    assertEquals(root.getPositiveInputTagsCount()!.getValue(), 3);
    // A zero wrapper is present, not absent: readers that index the field find it.
    assert(root.hasPolygonsCount());
    assertEquals(root.getPolygonsCount()!.getValue(), 0);
    assert(!root.hasBoundingBoxesCount());
  });

  await t.step("SingleDatasetVersionResponse: ours → theirs", () => {
    const ours = create(SingleDatasetVersionResponseSchema, {
      status: { code: StatusCode.SUCCESS },
      datasetVersion: { id: "v2", status: { code: StatusCode.DATASET_VERSION_PENDING } },
    });
    const theirs = theirService.SingleDatasetVersionResponse.deserializeBinary(
      toBinary(SingleDatasetVersionResponseSchema, ours),
    );
    assertEquals(theirs.getDatasetVersion()!.getId(), "v2");
    assertEquals(
      theirs.getDatasetVersion()!.getStatus()!.getCode(),
      theirStatusCodes.StatusCode.DATASET_VERSION_PENDING,
    );
  });

  await t.step("MultiDatasetVersionMetricsGroupResponse: ours → theirs", () => {
    const ours = create(MultiDatasetVersionMetricsGroupResponseSchema, {
      status: { code: StatusCode.SUCCESS },
      datasetVersionMetricsGroups: [
        {
          parentPath: "/",
          value: { kind: { case: "stringValue", value: "total" } },
          metrics: { inputsCount: 12n, inputsWithMetadataCount: 2n, inputsWithGeoCount: 1n },
        },
        {
          parentPath: "/",
          type: DatasetVersionMetricsGroupType.CONCEPT_ID,
          value: { kind: { case: "stringValue", value: "cat" } },
          metrics: {
            positiveInputTagsCount: 4n,
            boundingBoxesCount: 7n,
            polygonsCount: 1n,
            framesCount: 2n,
            regionsCount: 8n,
          },
        },
        {
          type: DatasetVersionMetricsGroupType.BOUNDING_BOXES_COUNT,
          value: { kind: { case: "numberValue", value: 3 } },
          metrics: { inputsCount: 2n },
        },
      ],
    });
    const theirs = theirService.MultiDatasetVersionMetricsGroupResponse.deserializeBinary(
      toBinary(MultiDatasetVersionMetricsGroupResponseSchema, ours),
    );
    const T = theirResources.DatasetVersionMetricsGroupType;
    const groups = theirs.getDatasetVersionMetricsGroupsList();
    assertEquals(
      groups.map((g) => [g.getParentPath(), g.getType(), g.getValue()!.toJavaScript()]),
      [
        ["/", T.DATASET_VERSION_METRICS_GROUP_TYPE_NOT_SET, "total"],
        ["/", T.CONCEPT_ID, "cat"],
        ["", T.BOUNDING_BOXES_COUNT, 3],
      ],
    );
    const total = groups[0].getMetrics()!;
    assertEquals(total.getInputsCount()!.getValue(), 12);
    assertEquals(total.getInputsWithMetadataCount()!.getValue(), 2);
    assertEquals(total.getInputsWithGeoCount()!.getValue(), 1);
    const cat = groups[1].getMetrics()!;
    assertEquals(cat.getPositiveInputTagsCount()!.getValue(), 4);
    assertEquals(cat.getBoundingBoxesCount()!.getValue(), 7);
    assertEquals(cat.getPolygonsCount()!.getValue(), 1);
    assertEquals(cat.getFramesCount()!.getValue(), 2);
    assertEquals(cat.getRegionsCount()!.getValue(), 8);
  });

  await t.step("version requests: theirs → ours", () => {
    const get = fromBinary(
      GetDatasetVersionRequestSchema,
      new theirService.GetDatasetVersionRequest().setUserAppId(UA()).setDatasetId("ds")
        .setDatasetVersionId("v1").serializeBinary(),
    );
    assertEquals([get.userAppId?.userId, get.datasetId, get.datasetVersionId], ["me", "ds", "v1"]);

    const list = fromBinary(
      ListDatasetVersionsRequestSchema,
      new theirService.ListDatasetVersionsRequest().setUserAppId(UA()).setDatasetId("ds")
        .setPage(2).setPerPage(16)
        .setRequestOriginsList([theirResources.DatasetVersionRequestOrigin.TRAINING])
        .serializeBinary(),
    );
    assertEquals([list.datasetId, list.page, list.perPage], ["ds", 2, 16]);
    assertEquals(list.requestOrigins, [DatasetVersionRequestOrigin.TRAINING]);

    const del = fromBinary(
      DeleteDatasetVersionsRequestSchema,
      new theirService.DeleteDatasetVersionsRequest().setUserAppId(UA()).setDatasetId("ds")
        .setDatasetVersionIdsList(["v1", "v2"]).serializeBinary(),
    );
    assertEquals([del.datasetId, del.datasetVersionIds], ["ds", ["v1", "v2"]]);

    const metrics = fromBinary(
      ListDatasetVersionMetricsGroupsRequestSchema,
      new theirService.ListDatasetVersionMetricsGroupsRequest().setUserAppId(UA())
        .setDatasetId("ds").setDatasetVersionId("v1").setPage(1).setPerPage(50)
        .setParentPathsList(["/"])
        .setTypesList([theirResources.DatasetVersionMetricsGroupType.CONCEPT_ID])
        .setValuesList([TheirValue.fromJavaScript("cat")])
        .serializeBinary(),
    );
    assertEquals([metrics.datasetId, metrics.datasetVersionId], ["ds", "v1"]);
    assertEquals([metrics.page, metrics.perPage], [1, 50]);
    assertEquals(metrics.parentPaths, ["/"]);
    assertEquals(metrics.types, [DatasetVersionMetricsGroupType.CONCEPT_ID]);
    assertEquals(metrics.values.map((v) => v.kind), [{ case: "stringValue", value: "cat" }]);
  });

  await t.step("UInt64Value wrapper: theirs → ours", () => {
    const m = new theirResources.DatasetVersionMetrics().setInputsCount(
      new TheirUInt64().setValue(BIG_COUNT),
    );
    const theirs = new theirService.MultiDatasetVersionMetricsGroupResponse()
      .setDatasetVersionMetricsGroupsList([
        new theirResources.DatasetVersionMetricsGroup().setMetrics(m),
      ]);
    const ours = fromBinary(
      MultiDatasetVersionMetricsGroupResponseSchema,
      theirs.serializeBinary(),
    );
    assertEquals(ours.datasetVersionMetricsGroups[0].metrics?.inputsCount, BigInt(BIG_COUNT));
    assertEquals(ours.datasetVersionMetricsGroups[0].metrics?.polygonsCount, undefined);
  });
});

Deno.test(
  "dataset, input and annotation management requests are wire compatible",
  NONE,
  async (t) => {
    await t.step("ListDatasetsRequest with a sort field", () => {
      const ours = fromBinary(
        ListDatasetsRequestSchema,
        new theirService.ListDatasetsRequest().setUserAppId(UA()).setPage(3).setPerPage(5)
          .setSortAscending(true).setSortById(true).setSearch("cats").serializeBinary(),
      );
      assertEquals([ours.page, ours.perPage, ours.sortAscending, ours.search], [
        3,
        5,
        true,
        "cats",
      ]);
      assertEquals(ours.sortBy, { case: "sortById", value: true });
      const back = theirService.ListDatasetsRequest.deserializeBinary(
        toBinary(
          ListDatasetsRequestSchema,
          create(ListDatasetsRequestSchema, {
            sortBy: { case: "sortByModifiedAt", value: true },
          }),
        ),
      );
      assertEquals(back.getSortByModifiedAt(), true);
      assertEquals(
        back.getSortByCase(),
        theirService.ListDatasetsRequest.SortByCase.SORT_BY_MODIFIED_AT,
      );
    });

    await t.step("PatchDatasetsRequest, DeleteDatasetsRequest, MultiDatasetResponse", () => {
      const patch = fromBinary(
        PatchDatasetsRequestSchema,
        new theirService.PatchDatasetsRequest().setUserAppId(UA()).setAction("overwrite")
          .setDatasetsList([
            new theirResources.Dataset().setId("ds").setDescription("new words")
              .setMetadata(TheirStruct.fromJavaScript({ a: 1 })),
          ]).serializeBinary(),
      );
      assertEquals(patch.action, "overwrite");
      assertEquals(patch.datasets.map((d) => [d.id, d.description, d.metadata]), [
        ["ds", "new words", { a: 1 }],
      ]);
      const del = fromBinary(
        DeleteDatasetsRequestSchema,
        new theirService.DeleteDatasetsRequest().setUserAppId(UA())
          .setDatasetIdsList(["a", "b"]).serializeBinary(),
      );
      assertEquals(del.datasetIds, ["a", "b"]);
      const listed = theirService.MultiDatasetResponse.deserializeBinary(
        toBinary(
          MultiDatasetResponseSchema,
          create(MultiDatasetResponseSchema, {
            status: { code: StatusCode.SUCCESS },
            datasets: [{ id: "ds", version: { id: "v1", datasetId: "ds" } }],
          }),
        ),
      );
      assertEquals(listed.getDatasetsList()[0].getVersion()!.getId(), "v1");
    });

    await t.step("PatchInputsRequest with an action", () => {
      const data = new theirResources.Data().setMetadata(TheirStruct.fromJavaScript({ k: "v" }));
      data.addConcepts(new theirResources.Concept().setId("dog").setValue(1));
      const ours = fromBinary(
        PatchInputsRequestSchema,
        new theirService.PatchInputsRequest().setUserAppId(UA()).setAction("remove")
          .setInputsList([new theirResources.Input().setId("i1").setData(data)])
          .serializeBinary(),
      );
      assertEquals(ours.action, "remove");
      assertEquals(ours.inputs[0].id, "i1");
      assertEquals(ours.inputs[0].data?.concepts.map((c) => [c.id, c.value]), [["dog", 1]]);
      assertEquals(ours.inputs[0].data?.metadata, { k: "v" });
    });

    await t.step(
      "PatchAnnotationsRequest, DeleteAnnotationsRequest, ListAnnotationsRequest",
      () => {
        const data = new theirResources.Data();
        data.addConcepts(new theirResources.Concept().setId("cat").setValue(1));
        const patch = fromBinary(
          PatchAnnotationsRequestSchema,
          new theirService.PatchAnnotationsRequest().setUserAppId(UA()).setAction("merge")
            .setDeleteIfEmptyData(true)
            .setAnnotationsList([
              new theirResources.Annotation().setId("a1").setInputId("i1").setData(data),
            ]).serializeBinary(),
        );
        assertEquals([patch.action, patch.deleteIfEmptyData], ["merge", true]);
        assertEquals(patch.annotations.map((a) => [a.id, a.inputId, a.data?.concepts[0].id]), [
          ["a1", "i1", "cat"],
        ]);
        const del = fromBinary(
          DeleteAnnotationsRequestSchema,
          new theirService.DeleteAnnotationsRequest().setUserAppId(UA()).setIdsList(["a1"])
            .setInputIdsList(["i1"]).serializeBinary(),
        );
        assertEquals([del.ids, del.inputIds], [["a1"], ["i1"]]);
        const list = fromBinary(
          ListAnnotationsRequestSchema,
          new theirService.ListAnnotationsRequest().setUserAppId(UA()).setInputIdsList(["i1"])
            .setListAllAnnotations(true).setPage(2).setPerPage(7).serializeBinary(),
        );
        assertEquals([list.inputIds, list.listAllAnnotations, list.page, list.perPage], [
          ["i1"],
          true,
          2,
          7,
        ]);
      },
    );
  },
);
