/**
 * The local API's SQLite store: persistence across reopening, content stored once by hash,
 * deletion that takes memberships, annotations and unused content with it, job cancellation,
 * counts, filters and paging, and transactions that roll back.
 */
import { assert, assertEquals, assertThrows } from "@std/assert";
import { existsSync, writeFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { DATABASE_FILE, type InputRow, LocalStore } from "../../../server/local/store.ts";
import { HEAD_BYTES, STAGED_BYTES } from "../../../server/local/store/blob_store.ts";

const PAGE = { offset: 0, limit: 100 };

/** The files in a store's blob folder. */
function blobFiles(dir: string): string[] {
  return [...Deno.readDirSync(join(dir, "blobs"))].map((e) => e.name).sort();
}

function input(app: number, id: string, extra: Partial<InputRow> = {}): Omit<InputRow, "seq"> {
  return {
    app,
    id,
    kind: "image",
    data: new Uint8Array([1, 2]),
    contentHash: null,
    contentSize: 0,
    statusCode: 30001,
    statusDescription: "Download pending",
    statusDetails: "",
    createdAt: 1,
    modifiedAt: 1,
    jobId: "job-1",
    ...extra,
  };
}

function annotation(id: string, inputId: string) {
  return {
    id,
    inputId,
    data: new Uint8Array(),
    inputLevel: true,
    statusCode: 24150,
    statusDescription: "Annotation success",
    createdAt: 1,
    modifiedAt: 1,
  };
}

Deno.test("LocalStore keeps everything across reopening, content as files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "upflow-store-" });
  try {
    const first = new LocalStore(dir);
    const app = first.appKey("me", "demo");
    first.blobs.put("h1", new Uint8Array([9, 8, 7]));
    first.inputs.insert(input(app, "a", { contentHash: "h1", contentSize: 3 }));
    first.datasets.insert(app, {
      id: "ds",
      message: new Uint8Array([5]),
      createdAt: 2,
      modifiedAt: 2,
    });
    first.datasets.addInput(app, "ds", "a", 3);
    first.annotations.insert(app, annotation("an1", "a"));
    first.jobs.upsert(app, "job-1", 1);
    first.close();
    assertEquals(blobFiles(dir).map((n) => n.slice(0, 5)), ["pack-"], "small content is packed");

    const second = new LocalStore(dir);
    assertEquals(second.findApp("me", "demo"), app);
    assertEquals(second.inputs.get(app, "a")?.contentHash, "h1");
    assertEquals(second.blobs.get("h1"), new Uint8Array([9, 8, 7]));
    assertEquals(second.datasets.get(app, "ds")?.message, new Uint8Array([5]));
    assertEquals(second.datasets.listInputs(app, "ds", PAGE).map((r) => [r.input.id, r.addedAt]), [
      ["a", 3],
    ]);
    assertEquals(second.annotations.list(app, {}, PAGE).map((r) => r.id), ["an1"]);
    assertEquals(second.jobs.get(app, "job-1")?.cancelled, false);
    second.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LocalStore apps are separate", () => {
  const store = new LocalStore(":memory:");
  const a = store.appKey("me", "one");
  const b = store.appKey("me", "two");
  assert(a !== b);
  assertEquals(store.appKey("me", "one"), a);
  store.inputs.insert(input(a, "x"));
  assertEquals(store.inputs.exists(a, "x"), true);
  assertEquals(store.inputs.exists(b, "x"), false);
  assertEquals(store.inputs.counts(b), { pending: 0, inProgress: 0, success: 0, failed: 0 });
  store.close();
});

Deno.test("LocalStore stores content once per hash", async () => {
  const dir = await Deno.makeTempDir({ prefix: "upflow-store-" });
  try {
    const store = new LocalStore(dir);
    store.blobs.put("h", new Uint8Array([1, 2, 3, 4]));
    store.blobs.put("h", new Uint8Array([7, 7])); // same hash: the first bytes stay
    assertEquals(store.blobs.get("h"), new Uint8Array([1, 2, 3, 4]));
    assertEquals(store.blobs.head("h", 2), new Uint8Array([1, 2]));
    assertEquals(store.blobs.get("nope"), undefined);
    assertEquals(store.blobs.head("nope", 2), undefined);
    assertEquals(blobFiles(dir).length, 1, "one pack: the second put wrote nothing");
    store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("BlobStore: a file no row points to is never read", async () => {
  const dir = await Deno.makeTempDir({ prefix: "upflow-store-" });
  try {
    const store = new LocalStore(dir);
    // What a crash in the middle of a write, or a rolled-back request, leaves behind.
    writeFileSync(join(dir, "blobs", "h"), new Uint8Array([1, 2]));
    assertEquals(store.blobs.get("h"), undefined);
    assertEquals(store.blobs.head("h", 2), undefined);
    assertThrows(() =>
      store.transaction(() => {
        store.blobs.put("h", new Uint8Array([3, 4, 5]));
        throw new Error("rolled back");
      })
    );
    assertEquals(store.blobs.get("h"), undefined, "the row went with the transaction");
    store.blobs.put("h", new Uint8Array([6, 7, 8, 9]));
    assertEquals(store.blobs.get("h"), new Uint8Array([6, 7, 8, 9]));
    store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("BlobStore.head answers from the row, and from the file beyond it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "upflow-store-" });
  try {
    const store = new LocalStore(dir);
    const long = Uint8Array.from({ length: HEAD_BYTES * 2 }, (_, i) => i);
    store.blobs.putAll([
      { hash: "long", bytes: long },
      { hash: "short", bytes: new Uint8Array([1, 2, 3]) },
    ]);
    assertEquals(store.blobs.head("long", HEAD_BYTES + 8), long.subarray(0, HEAD_BYTES + 8));
    for (const name of blobFiles(dir)) Deno.removeSync(join(dir, "blobs", name));
    assertEquals(store.blobs.head("long", 16), long.subarray(0, 16), "no file needed");
    assertEquals(store.blobs.head("short", 16), new Uint8Array([1, 2, 3]));
    assertEquals(store.blobs.head("long", HEAD_BYTES + 1), undefined, "more than kept: the file");
    store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("BlobStore reads a store written before packs and heads, and adds to it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "upflow-store-" });
  try {
    const long = Uint8Array.from({ length: 300 }, (_, i) => i & 255);
    Deno.mkdirSync(join(dir, "blobs"));
    const old = new DatabaseSync(join(dir, DATABASE_FILE));
    old.exec("CREATE TABLE blobs (hash TEXT PRIMARY KEY, bytes BLOB NOT NULL)");
    old.exec("INSERT INTO blobs (hash, bytes) VALUES ('old', x'')");
    old.close();
    writeFileSync(join(dir, "blobs", "old"), long);
    const store = new LocalStore(dir);
    assertEquals(store.blobs.head("old", 16), long.subarray(0, 16));
    assertEquals(store.blobs.get("old"), long);
    store.blobs.put("new", long);
    assertEquals(store.blobs.get("new"), long);
    const app = store.appKey("me", "demo");
    store.inputs.insert(input(app, "a", { contentHash: "old" }));
    store.deleteInputs(app, ["a"]);
    assertEquals(store.blobs.get("old"), undefined);
    assert(!existsSync(join(dir, "blobs", "old")), "its own file is gone");
    store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("BlobStore: a pack file goes once no content in it is used", async () => {
  const dir = await Deno.makeTempDir({ prefix: "upflow-store-" });
  try {
    const store = new LocalStore(dir);
    const app = store.appKey("me", "demo");
    store.blobs.putAll([
      { hash: "x", bytes: new Uint8Array([1, 1]) },
      { hash: "y", bytes: new Uint8Array([2, 2, 2]) },
      { hash: "x", bytes: new Uint8Array([1, 1]) }, // twice in one request: stored once
    ]);
    store.inputs.insert(input(app, "a", { contentHash: "x" }));
    store.inputs.insert(input(app, "b", { contentHash: "y" }));
    const [pack] = blobFiles(dir);
    assertEquals(Deno.statSync(join(dir, "blobs", pack)).size, 5);
    store.deleteInputs(app, ["a"]);
    assertEquals(store.blobs.get("x"), undefined);
    assertEquals(store.blobs.get("y"), new Uint8Array([2, 2, 2]), "still in the pack");
    assertEquals(blobFiles(dir), [pack]);
    store.deleteInputs(app, ["b"]);
    assertEquals(blobFiles(dir), [], "nothing in it is used: gone");
    store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("BlobStore.stage writes large content ahead; put renames it, unstage drops the unused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "upflow-store-" });
  try {
    const store = new LocalStore(dir);
    const large = new Uint8Array(STAGED_BYTES).fill(5);
    assertEquals(await store.blobs.stage("small", new Uint8Array(10)), undefined);
    const first = await store.blobs.stage("big", large);
    const second = await store.blobs.stage("big", large); // the same content, at the same time
    assert(first !== undefined && second !== undefined && first !== second);
    store.transaction(() => store.blobs.put("big", large, first));
    store.transaction(() => store.blobs.put("big", large, second)); // already stored: unused
    store.blobs.unstage(first);
    store.blobs.unstage(second);
    assertEquals(blobFiles(dir), ["big"]);
    assertEquals(store.blobs.get("big"), large);
    assertEquals(await store.blobs.stage("big", large), undefined, "stored: nothing to write");
    store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LocalStore.deleteInputs takes memberships, annotations and unused content", async () => {
  const dir = await Deno.makeTempDir({ prefix: "upflow-store-" });
  try {
    const store = new LocalStore(dir);
    const app = store.appKey("me", "demo");
    store.blobs.put("shared", new Uint8Array([1]));
    store.blobs.put("own", new Uint8Array([2]));
    store.inputs.insert(input(app, "a", { contentHash: "shared" }));
    store.inputs.insert(input(app, "b", { contentHash: "shared" }));
    store.inputs.insert(input(app, "c", { contentHash: "own" }));
    store.datasets.insert(app, {
      id: "ds",
      message: new Uint8Array(),
      createdAt: 1,
      modifiedAt: 1,
    });
    for (const id of ["a", "b", "c"]) store.datasets.addInput(app, "ds", id, 1);
    store.annotations.insert(app, annotation("an-a", "a"));
    store.annotations.insert(app, annotation("an-b", "b"));

    assertEquals(store.deleteInputs(app, ["a", "c", "missing"]), 2);
    assertEquals(store.inputs.exists(app, "a"), false);
    assertEquals(store.inputs.exists(app, "b"), true);
    assertEquals(store.datasets.listInputs(app, "ds", PAGE).map((r) => r.input.id), ["b"]);
    assertEquals(store.annotations.list(app, {}, PAGE).map((r) => r.id), ["an-b"]);
    assertEquals(store.blobs.get("shared"), new Uint8Array([1]), "still used by b");
    assertEquals(store.blobs.get("own"), undefined);
    assertEquals(blobFiles(dir).length, 1, "the pack of shared stays");
    store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LocalStore.cancelJob fails the job's unfinished inputs only", () => {
  const store = new LocalStore(":memory:");
  const app = store.appKey("me", "demo");
  store.jobs.upsert(app, "j", 1);
  store.inputs.insert(input(app, "pending", { jobId: "j" }));
  store.inputs.insert(input(app, "done", { jobId: "j", statusCode: 30000 }));
  store.inputs.insert(input(app, "other", { jobId: "k" }));
  assertEquals(store.cancelJob(app, "j", 5), 1);
  assertEquals(store.jobs.get(app, "j")?.cancelled, true);
  assertEquals(store.inputs.get(app, "pending")?.statusCode, 30002);
  assertEquals(
    store.inputs.get(app, "pending")?.statusDetails,
    "The inputs add job was cancelled.",
  );
  assertEquals(store.inputs.get(app, "done")?.statusCode, 30000);
  assertEquals(store.inputs.get(app, "other")?.statusCode, 30001);
  assertEquals(store.inputs.jobProgress(app, "j"), {
    pending: 0,
    inProgress: 0,
    success: 1,
    failed: 1,
  });
  store.close();
});

Deno.test("LocalStore lists with filters and pages, counts by state", () => {
  const store = new LocalStore(":memory:");
  const app = store.appKey("me", "demo");
  for (let i = 0; i < 5; i++) store.inputs.insert(input(app, `i${i}`));
  const [first] = store.inputs.pending(1);
  store.inputs.setStatus(first.seq, { code: 30000, description: "ok", details: "" }, 9);
  const second = store.inputs.pending(10)[0];
  store.inputs.setStatus(second.seq, { code: 30101, description: "bad", details: "why" }, 9);
  assertEquals(store.inputs.counts(app), { pending: 3, inProgress: 0, success: 1, failed: 1 });
  assertEquals(store.inputs.list(app, {}, { offset: 1, limit: 2 }).map((r) => r.id), ["i1", "i2"]);
  assertEquals(store.inputs.list(app, { ids: ["i4", "i0"] }, PAGE).map((r) => r.id), ["i0", "i4"]);
  assertEquals(store.inputs.list(app, { statusCode: 30000 }, PAGE).map((r) => r.id), ["i0"]);
  assertEquals(
    store.inputs.list(app, { ids: ["i0", "i2", "i3"], statusCode: 30001 }, PAGE).map((r) => r.id),
    ["i2", "i3"],
  );
  assertEquals(store.inputs.get(app, "i1")?.statusDetails, "why");
  assertEquals(store.inputs.pending(10).map((p) => p.id), ["i2", "i3", "i4"]);

  store.annotations.insert(app, annotation("x1", "i1"));
  store.annotations.insert(app, { ...annotation("x2", "i2"), statusCode: 24151 });
  assertEquals(store.annotations.list(app, { inputIds: ["i2"] }, PAGE).map((a) => a.id), ["x2"]);
  assertEquals(store.annotations.list(app, { statusCodes: [24150] }, PAGE).map((a) => a.id), [
    "x1",
  ]);
  assertEquals(store.annotations.exists(app, "x1"), true);
  store.close();
});

Deno.test("LocalStore.transaction rolls back every table on error", () => {
  const store = new LocalStore(":memory:");
  const app = store.appKey("me", "demo");
  assertThrows(() =>
    store.transaction(() => {
      store.inputs.insert(input(app, "a"));
      store.transaction(() => store.jobs.upsert(app, "j", 1)); // nested: joins the outer one
      throw new Error("abort");
    })
  );
  assertEquals(store.inputs.exists(app, "a"), false);
  assertEquals(store.jobs.get(app, "j"), undefined);
  assertThrows(() => new LocalStore(""), TypeError);
  store.close();
});
