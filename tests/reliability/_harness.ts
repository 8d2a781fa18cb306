/**
 * Shared helpers of the reliability suite: running the CLI as a child process (with a clean
 * environment and a deadline), a local API to upload into, generated sources (text rows, small
 * PNG images, a COCO file with boxes), and reading back what the local API holds.
 *
 * @module
 */
import { DIGEST_KEY } from "../../src/inputs/content_digest.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startLocalApi } from "../../server/local/local_api.ts";
import type { LocalApi } from "../../server/local/local_api.ts";
import { createClarifaiClient } from "../../src/clarifai/client.ts";
import type { ClarifaiClient } from "../../src/clarifai/client.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import { pngBytes } from "../sources/_png.ts";

/** The repository's root folder. */
export const REPO = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
/** The CLI's entry point. */
export const CLI = join(REPO, "src/cli/main.ts");
/** The project's configuration (import map), for child processes run from other folders. */
export const CONFIG = join(REPO, "deno.json");

/** What a CLI run left behind. */
export interface CliResult {
  /** The exit code (`null` when it was killed or timed out). */
  code: number | null;
  /** The signal that ended it, if any. */
  signal: Deno.Signal | null;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
  /** Whether the deadline killed it. */
  timedOut: boolean;
  /** Wall time in milliseconds. */
  ms: number;
}

/** Options of {@linkcode runCli}. */
export interface RunCliOptions {
  /** Environment variables on top of the minimal one (PATH, HOME, DENO_DIR). */
  env?: Record<string, string>;
  /** Working folder (default: a folder that must exist; the caller's temp dir). */
  cwd?: string;
  /** Deadline in milliseconds (default 60 s); the child is killed with SIGKILL after it. */
  timeoutMs?: number;
}

/** The environment every child gets: enough for Deno to find its cache, nothing else. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** The command line of the CLI: `deno run -A --config deno.json src/cli/main.ts …args`. */
export function cliArgs(args: string[]): string[] {
  return ["run", "-A", "--quiet", "--config", CONFIG, CLI, ...args];
}

/**
 * Runs the CLI in a child process with a clean environment and a deadline.
 *
 * @param args The CLI's arguments.
 * @param options Environment, folder, deadline.
 * @returns Exit code, output and timing.
 */
export async function runCli(args: string[], options: RunCliOptions = {}): Promise<CliResult> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: cliArgs(args),
    cwd: options.cwd ?? REPO,
    clearEnv: true,
    env: { ...baseEnv(), ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, options.timeoutMs ?? 60_000);
  const output = await child.output();
  clearTimeout(timer);
  const decoder = new TextDecoder();
  return {
    code: output.signal ? null : output.code,
    signal: output.signal,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    timedOut,
    ms: Math.round(performance.now() - started),
  };
}

/**
 * Runs `tasks` with at most `limit` at once, keeping their order in the results.
 *
 * @param tasks Functions returning promises.
 * @param limit How many run at once.
 * @returns Promises of each task's result, in order (started as slots free up).
 */
export function pool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T>[] {
  const results: Promise<T>[] = [];
  let running = Promise.resolve();
  const slots: Promise<unknown>[] = [];
  for (const task of tasks) {
    const start = (async () => {
      await running;
      while (slots.length >= limit) await Promise.race(slots);
      const p = task();
      const slot = p.catch(() => {}).finally(() => slots.splice(slots.indexOf(slot), 1));
      slots.push(slot);
      return p;
    })();
    running = start.then(() => {}, () => {});
    results.push(start);
  }
  return results;
}

// deno-lint-ignore no-explicit-any
export type Json = any;

/**
 * Parses NDJSON output (`--json`), skipping lines that are not JSON.
 *
 * @param text Standard output of a `--json` run.
 * @returns The events.
 */
export function ndjsonEvents(text: string): Json[] {
  const events: Json[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      events.push(JSON.parse(line));
    } catch { /* not an event */ }
  }
  return events;
}

/** The `done` summary of a `--json` run, if it printed one. */
export function summaryOfOutput(text: string): Json | undefined {
  return ndjsonEvents(text).findLast((e) => e.type === "done")?.summary;
}

/** A local API and a client of it for one user and app. */
export interface ApiHandle {
  /** The running API. */
  api: LocalApi;
  /** Its key. */
  key: string;
  /** Closes the API. */
  close(): Promise<void>;
}

/**
 * Starts a local API on a free loopback port.
 *
 * @param options Key, faults, data folder.
 * @returns The API.
 */
export async function startApi(
  options: { key?: string; faults?: string; dataDir?: string } = {},
): Promise<ApiHandle> {
  const key = options.key ?? "reliability-key";
  const api = await startLocalApi({
    port: 0,
    dataDir: options.dataDir ?? ":memory:",
    key,
    faults: options.faults,
  });
  return { api, key, close: () => api.close() };
}

/**
 * A client of the local API for one app.
 *
 * @param api The API.
 * @param appId The app.
 * @returns The client (close it).
 */
export function clientFor(api: ApiHandle, appId: string, userId = "rel"): ClarifaiClient {
  return createClarifaiClient({
    base: api.api.baseUrl,
    pat: api.key,
    userId,
    appId,
    timeoutMs: 60_000,
  });
}

/**
 * The environment that points the CLI at the local API, for one app.
 *
 * @param api The API.
 * @param appId The app.
 * @returns Variables for {@linkcode runCli}.
 */
export function cliEnv(api: ApiHandle, appId: string, userId = "rel"): Record<string, string> {
  return {
    CLARIFAI_PAT: api.key,
    CLARIFAI_GRPC_BASE: api.api.baseUrl,
    CLARIFAI_USER_ID: userId,
    CLARIFAI_APP_ID: appId,
  };
}

/** An input as the local API holds it, reduced to what the suite compares. */
export interface HeldInput {
  /** Its ID. */
  id: string;
  /** Its status code name. */
  status: string;
  /** Concept IDs. */
  concepts: string[];
  /** Metadata as a JSON object. */
  metadata: Json;
  /** Geo point, if any. */
  geo?: { longitude: number; latitude: number };
  /** How many times ListInputs listed it. */
  listed: number;
  /** Raw text, for text inputs. */
  text?: string;
}

/**
 * Lists every input of an app, counting IDs listed more than once.
 *
 * @param client A client of the app.
 * @returns The inputs by ID.
 */
export async function listAllInputs(client: ClarifaiClient): Promise<Map<string, HeldInput>> {
  const out = new Map<string, HeldInput>();
  for (let page = 1;; page++) {
    const r = await client.listInputs({ userAppId: client.userAppId, page, perPage: 1000 });
    if (r.status?.code !== StatusCode.SUCCESS) {
      throw new Error(`ListInputs failed: ${StatusCode[r.status?.code ?? 0]}`);
    }
    for (const input of r.inputs) {
      const known = out.get(input.id);
      if (known) {
        known.listed++;
        continue;
      }
      const geo = input.data?.geo?.geoPoint;
      out.set(input.id, {
        id: input.id,
        status: StatusCode[input.status?.code ?? 0] ?? String(input.status?.code),
        concepts: input.data?.concepts.map((c) => c.id) ?? [],
        // The content digest upflow adds is not part of the source's metadata.
        metadata: Object.fromEntries(
          Object.entries(input.data?.metadata ?? {}).filter(([k]) => k !== DIGEST_KEY),
        ),
        ...(geo ? { geo: { longitude: geo.longitude, latitude: geo.latitude } } : {}),
        listed: 1,
        ...(input.data?.text?.raw ? { text: input.data.text.raw } : {}),
      });
    }
    if (r.inputs.length < 1000) break;
  }
  return out;
}

/** A bounding box as read back. */
export interface HeldBox {
  /** Annotation ID. */
  id: string;
  /** Concept IDs. */
  concepts: string[];
  /** left, top, right, bottom. */
  box: [number, number, number, number];
}

/**
 * Lists every region annotation of an app, grouped by input ID.
 *
 * @param client A client of the app.
 * @returns Boxes by input ID, and how many annotation IDs were listed twice.
 */
export async function listAllBoxes(
  client: ClarifaiClient,
): Promise<{ byInput: Map<string, HeldBox[]>; repeated: number; total: number }> {
  const byInput = new Map<string, HeldBox[]>();
  const seen = new Set<string>();
  let repeated = 0;
  let total = 0;
  for (let page = 1;; page++) {
    const r = await client.listAnnotations({ userAppId: client.userAppId, page, perPage: 1000 });
    if (r.status?.code !== StatusCode.SUCCESS) {
      throw new Error(`ListAnnotations failed: ${StatusCode[r.status?.code ?? 0]}`);
    }
    for (const a of r.annotations) {
      total++;
      if (seen.has(a.id)) {
        repeated++;
        continue;
      }
      seen.add(a.id);
      for (const region of a.data?.regions ?? []) {
        const b = region.regionInfo?.boundingBox;
        if (!b) continue;
        const list = byInput.get(a.inputId) ?? [];
        list.push({
          id: a.id,
          concepts: region.data?.concepts.map((c) => c.id) ?? [],
          box: [b.leftCol, b.topRow, b.rightCol, b.bottomRow],
        });
        byInput.set(a.inputId, list);
      }
    }
    if (r.annotations.length < 1000) break;
  }
  return { byInput, repeated, total };
}

/** A small seeded generator (mulberry32) for reproducible sources and timings. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Quotes a CSV field. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** What the generated source says about one input. */
export interface ExpectedInput {
  /** Its ID. */
  id: string;
  /** Which source holds it: `text`, `image` or `coco`. */
  source: "text" | "image" | "coco";
  /** Concept IDs. */
  concepts: string[];
  /** Metadata. */
  metadata?: Json;
  /** Geo point. */
  geo?: { longitude: number; latitude: number };
  /** Boxes (COCO inputs), normalised left, top, right, bottom, with their concept. */
  boxes?: { concept: string; box: [number, number, number, number] }[];
}

/** The generated sources of a soak or crash run. */
export interface GeneratedSources {
  /** Text CSV (raw text). */
  textCsv: string;
  /** Image CSV (file paths). */
  imageCsv?: string;
  /** COCO file with boxes. */
  cocoJson?: string;
  /** Every input, by ID. */
  expected: Map<string, ExpectedInput>;
}

const WORDS = ["cat", "dog", "bird", "fish", "tree", "car", "boat", "cloud", "red", "blue"];

/**
 * Writes generated sources into `dir`: `n` inputs, half text rows, 30 % PNG images listed in a
 * CSV, 20 % PNG images in a COCO file with one to three boxes each. IDs start with `prefix`.
 *
 * @param dir The folder to write in.
 * @param n How many inputs.
 * @param options Seed, ID prefix, shares.
 * @returns The paths and what each input should look like once uploaded.
 */
export async function writeSources(
  dir: string,
  n: number,
  options: { seed?: number; prefix?: string; textOnly?: boolean } = {},
): Promise<GeneratedSources> {
  const random = seeded(options.seed ?? 1);
  const prefix = options.prefix ?? "in";
  const expected = new Map<string, ExpectedInput>();
  const nText = options.textOnly ? n : Math.ceil(n * 0.5);
  const nImage = options.textOnly ? 0 : Math.floor(n * 0.3);
  const nCoco = n - nText - nImage;
  const pick = () => WORDS[Math.floor(random() * WORDS.length)];

  let text = "inputid,input,concepts,metadata,geopoints\n";
  for (let i = 0; i < nText; i++) {
    const id = `${prefix}-t${i}`;
    const concepts = [...new Set([pick(), pick()])];
    const metadata = { n: i, tag: pick(), ok: i % 3 === 0, nested: { k: [i % 5, "x"] } };
    const geo = i % 4 === 0
      ? { longitude: Math.round((random() * 360 - 180) * 1e4) / 1e4, latitude: 45.5 }
      : undefined;
    expected.set(id, { id, source: "text", concepts, metadata, geo });
    const body = `Text number ${i}, "quoted" ${pick()} ${random().toString(36).slice(2)}`;
    text += [
      id,
      csvField(body),
      csvField(concepts.join(",")),
      csvField(JSON.stringify(metadata)),
      geo ? csvField(`${geo.longitude},${geo.latitude}`) : "",
    ].join(",") + "\n";
  }
  const textCsv = join(dir, "texts.csv");
  await Deno.writeTextFile(textCsv, text);
  const result: GeneratedSources = { textCsv, expected };
  if (options.textOnly) return result;

  await Deno.mkdir(join(dir, "img"), { recursive: true });
  await Deno.mkdir(join(dir, "coco"), { recursive: true });
  let images = "inputid,input,concepts,metadata\n";
  const writes: Promise<void>[] = [];
  const flush = async () => {
    await Promise.all(writes);
    writes.length = 0;
  };
  for (let i = 0; i < nImage; i++) {
    const id = `${prefix}-i${i}`;
    const concepts = [pick()];
    const metadata = { n: i, camera: pick() };
    expected.set(id, { id, source: "image", concepts, metadata });
    const png = uniquePng(4 + (i % 5), 4, i, 1 + (options.seed ?? 1));
    writes.push(Deno.writeFile(join(dir, "img", `${id}.png`), png));
    if (writes.length >= 256) await flush();
    images += `${id},img/${id}.png,${concepts.join(",")},${csvField(JSON.stringify(metadata))}\n`;
  }
  const imageCsv = join(dir, "images.csv");
  await Deno.writeTextFile(imageCsv, images);

  const categories = WORDS.map((name, i) => ({ id: i + 1, name }));
  const cocoImages = [];
  const annotations = [];
  let annId = 1;
  for (let i = 0; i < nCoco; i++) {
    const id = `${prefix}-c${i}`;
    const w = 10 + (i % 7);
    const h = 8;
    const png = uniquePng(w, h, i, 100 + (options.seed ?? 1));
    writes.push(Deno.writeFile(join(dir, "coco", `${id}.png`), png));
    if (writes.length >= 256) await flush();
    cocoImages.push({ id: i + 1, file_name: `${id}.png`, width: w, height: h });
    const boxes: ExpectedInput["boxes"] = [];
    const count = 1 + (i % 3);
    for (let k = 0; k < count; k++) {
      const cat = categories[(i + k) % categories.length];
      const x = k, y = k % 4, bw = 3 + k, bh = 2 + (k % 3);
      annotations.push({
        id: annId++,
        image_id: i + 1,
        category_id: cat.id,
        bbox: [x, y, bw, bh],
        area: bw * bh,
        iscrowd: 0,
      });
      boxes.push({ concept: cat.name, box: [x / w, y / h, (x + bw) / w, (y + bh) / h] });
    }
    expected.set(id, { id, source: "coco", concepts: [], boxes });
  }
  await flush();
  const cocoJson = join(dir, "coco", "instances.json");
  await Deno.writeTextFile(
    cocoJson,
    JSON.stringify({ images: cocoImages, annotations, categories }),
  );
  return { ...result, imageCsv, cocoJson };
}

/** A tiny PNG whose bytes differ for every `(i, salt)`. */
function uniquePng(width: number, height: number, i: number, salt: number): Uint8Array {
  const base = pngBytes(width, height, (i * 7 + salt) % 251);
  // A tEXt chunk before IEND makes the bytes unique without a second deflate.
  const text = new TextEncoder().encode(`id\0${salt}-${i}`);
  const chunk = new Uint8Array(12 + text.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, text.length);
  chunk.set(new TextEncoder().encode("tEXt"), 4);
  chunk.set(text, 8);
  view.setUint32(8 + text.length, crc32(chunk.subarray(4, 8 + text.length)));
  const iend = base.length - 12;
  const out = new Uint8Array(base.length + chunk.length);
  out.set(base.subarray(0, iend), 0);
  out.set(chunk, iend);
  out.set(base.subarray(iend), iend + chunk.length);
  return out;
}

const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = CRC[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The result of comparing an app's contents with the source. */
export interface Comparison {
  /** Inputs in the source. */
  expected: number;
  /** Inputs held once with the right data. */
  exact: number;
  /** Inputs missing from the app and not explained by a journal failure. */
  lost: string[];
  /** Inputs missing from the app but recorded as failed (with a reason) in a journal. */
  explainedMissing: string[];
  /** IDs listed more than once, or held inputs the source does not have (copies under new IDs). */
  duplicated: string[];
  /** Inputs held with wrong data (concepts, metadata, geo, boxes), or annotations repeated. */
  unexplained: string[];
  /** Inputs held but failed in processing (their journal says why). */
  processingFailed: string[];
  /** Inputs held without (all) their boxes, the journal saying why (an annotation failure). */
  incompleteJournaled: string[];
}

/**
 * Compares what the app holds with the source.
 *
 * @param expected The source's inputs.
 * @param held ListInputs' view.
 * @param boxes ListAnnotations' view.
 * @param failures Journal failures by input ID (outcome and reason).
 * @returns The comparison.
 */
export function compare(
  expected: Map<string, ExpectedInput>,
  held: Map<string, HeldInput>,
  boxes: { byInput: Map<string, HeldBox[]>; repeated: number },
  failures: Map<string, { outcome: string; reason?: string }>,
): Comparison {
  const out: Comparison = {
    expected: expected.size,
    exact: 0,
    lost: [],
    explainedMissing: [],
    duplicated: [],
    unexplained: [],
    processingFailed: [],
    incompleteJournaled: [],
  };
  const close = (a: number, b: number) => Math.abs(a - b) < 1e-4;
  for (const [id, want] of expected) {
    const got = held.get(id);
    if (!got) {
      const f = failures.get(id);
      if (f && f.reason) out.explainedMissing.push(id);
      else out.lost.push(id);
      continue;
    }
    if (got.listed > 1) out.duplicated.push(id);
    const problems: string[] = [];
    let incomplete = false;
    if (JSON.stringify(got.concepts) !== JSON.stringify(want.concepts)) problems.push("concepts");
    if (want.metadata && JSON.stringify(got.metadata) !== JSON.stringify(want.metadata)) {
      problems.push("metadata");
    }
    if (want.geo) {
      if (
        !got.geo || !close(got.geo.longitude, want.geo.longitude) ||
        !close(got.geo.latitude, want.geo.latitude)
      ) problems.push("geo");
    }
    if (want.boxes) {
      const have = boxes.byInput.get(id) ?? [];
      const key = (concept: string, b: number[]) =>
        `${concept}:${b.map((v) => v.toFixed(4)).join(",")}`;
      const a = want.boxes.map((b) => key(b.concept, b.box)).sort();
      const b = have.map((h) => key(h.concepts[0] ?? "", h.box)).sort();
      if (JSON.stringify(a) !== JSON.stringify(b)) {
        const f = failures.get(id);
        if (f && f.reason) incomplete = true;
        else problems.push(`boxes ${JSON.stringify(b)} != ${JSON.stringify(a)}`);
      }
    }
    // One rule, whichever run stored the input: a processing failure is journaled as one
    // (`processing-failed`, with the server's reason), and only a processing failure is.
    const f = failures.get(id);
    if (/FAILED/.test(got.status)) {
      if (f?.reason && f.outcome === "processing-failed") out.processingFailed.push(id);
      else if (f) problems.push(`processing failed, journaled as ${f.outcome}`);
      else problems.push("processing failed without a journal line");
    } else if (f?.outcome === "processing-failed") {
      problems.push(`journaled processing-failed, held as ${got.status}`);
    }
    if (problems.length > 0) out.unexplained.push(`${id}: ${problems.join(", ")}`);
    else if (incomplete) out.incompleteJournaled.push(id);
    else if (!/FAILED/.test(got.status)) out.exact++;
  }
  for (const id of held.keys()) if (!expected.has(id)) out.duplicated.push(id);
  if (boxes.repeated > 0) out.unexplained.push(`${boxes.repeated} annotation IDs listed twice`);
  return out;
}
