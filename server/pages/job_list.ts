/**
 * {@linkcode listJobs}: the service's jobs, newest first, a page at a time: the answer of
 * `GET /v1/uploads`. Reads `job.json` of every job folder (ended jobs are read once and kept:
 * their records no longer change); a job running in this process answers its live record.
 *
 * @module
 */
import { Hono } from "hono";
import { join } from "node:path";
import { ApiError } from "../api_error.ts";
import { JOB_STATES, type JobRecord, type JobState } from "../jobs.ts";
import type { UploadService } from "../upload_service.ts";

/** What {@linkcode listJobs} takes. */
export interface JobListQuery {
  /** Jobs on one page, 1 to 500 (default 50). */
  limit?: number;
  /** The `nextPageToken` of the page before. */
  pageToken?: string;
  /** Only jobs in this state. */
  state?: JobState;
}

/** A page of jobs: the answer of `GET /v1/uploads`. */
export interface JobList {
  /** The jobs, newest first. */
  jobs: JobRecord[];
  /** Pass it as `page_token` to read the next page; absent on the last page. */
  nextPageToken?: string;
  /** Every job the service holds (all pages), by state. */
  totals: Record<JobState, number>;
}

const ID_PATTERN = /^[0-9a-f]{24}$/;
const ended = new WeakMap<UploadService, Map<string, JobRecord>>();

function encodeToken(record: JobRecord): string {
  return btoa(`${record.createdAt}|${record.id}`).replaceAll("=", "");
}

function decodeToken(token: string): { createdAt: string; id: string } {
  let text: string;
  try {
    text = atob(token);
  } catch {
    throw new RangeError(`page_token is not a token this service gave: ${JSON.stringify(token)}`);
  }
  const [createdAt, id] = text.split("|");
  if (!ID_PATTERN.test(id ?? "") || Number.isNaN(Date.parse(createdAt))) {
    throw new RangeError(`page_token is not a token this service gave: ${JSON.stringify(token)}`);
  }
  return { createdAt, id };
}

/** Newest first; the ID breaks ties. */
function newerFirst(a: { createdAt: string; id: string }, b: { createdAt: string; id: string }) {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

async function recordOf(
  service: UploadService,
  cache: Map<string, JobRecord>,
  id: string,
): Promise<JobRecord | undefined> {
  const known = cache.get(id);
  if (known) return known;
  let record: JobRecord;
  try {
    record = JSON.parse(await Deno.readTextFile(join(service.jobs.dir, id, "job.json")));
  } catch {
    return undefined; // being created, or not a job folder
  }
  if (record.state === "running") {
    // Running in this process (live counts), or left running by an earlier one (interrupted).
    const job = await service.jobs.get(id);
    if (!job) return undefined;
    record = job.record;
    if (record.state === "running") return record;
  }
  cache.set(id, record);
  return record;
}

/**
 * Lists the service's jobs, newest first, `limit` at a time.
 *
 * @param service The service.
 * @param query Page size, the token of the page before, and a state filter.
 * @returns The page, the token of the next one, and totals by state.
 * @throws {RangeError} When `limit` is out of range or `pageToken` is not one this gave.
 *
 * @example List the jobs of a fresh service
 * ```ts
 * import { listJobs } from "./job_list.ts";
 * import { UploadService } from "../upload_service.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const service = await UploadService.open({ root: ".", dataDir: await Deno.makeTempDir(), log: () => {} });
 * await service.jobs.create({ kind: "csv", source: "csv body", settings: { patFrom: "server" } });
 * const page = await listJobs(service, { limit: 10 });
 * assertEquals(page.jobs.map((job) => job.state), ["running"]);
 * assertEquals(page.totals.running, 1);
 * await service.close();
 * ```
 */
export async function listJobs(service: UploadService, query: JobListQuery = {}): Promise<JobList> {
  const limit = query.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw new RangeError(`limit must be an integer from 1 to 500: current value is ${limit}`);
  }
  if (query.state !== undefined && !JOB_STATES.includes(query.state)) {
    throw new RangeError(
      `state must be one of ${JOB_STATES.join(", ")}: current value is ${
        JSON.stringify(query.state)
      }`,
    );
  }
  const after = query.pageToken ? decodeToken(query.pageToken) : undefined;
  let cache = ended.get(service);
  if (!cache) ended.set(service, cache = new Map());
  const records: JobRecord[] = [];
  try {
    for await (const entry of Deno.readDir(service.jobs.dir)) {
      if (!entry.isDirectory || !ID_PATTERN.test(entry.name)) continue;
      const record = await recordOf(service, cache, entry.name);
      if (record) records.push(record);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const totals = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
  for (const record of records) totals[record.state] = (totals[record.state] ?? 0) + 1;
  const matching = records
    .filter((r) => query.state === undefined || r.state === query.state)
    .filter((r) => after === undefined || newerFirst(after, r) < 0)
    .sort(newerFirst);
  const jobs = matching.slice(0, limit);
  return {
    jobs,
    ...(matching.length > limit ? { nextPageToken: encodeToken(jobs[jobs.length - 1]) } : {}),
    totals,
  };
}

/**
 * The route `GET /` of the job list, to mount at `/v1/uploads` (behind the service's token):
 * query `limit`, `page_token`, `state`; answers a {@linkcode JobList}, or 400 for a bad query.
 *
 * @param service The service.
 * @returns A Hono app.
 *
 * @example A bad limit is refused
 * ```ts
 * import { jobListRoutes } from "./job_list.ts";
 * import { UploadService } from "../upload_service.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const service = await UploadService.open({ root: ".", dataDir: await Deno.makeTempDir(), log: () => {} });
 * const app = jobListRoutes(service);
 * assertEquals((await (await app.request("/?limit=5")).json()).jobs, []);
 * assertEquals((await app.request("/?limit=0")).status, 400);
 * await service.close();
 * ```
 */
export function jobListRoutes(service: UploadService): Hono {
  const app = new Hono();
  app.get("/", async (c) => {
    const { limit, page_token: pageToken, state, ...rest } = c.req.query();
    const unknown = Object.keys(rest);
    if (unknown.length > 0) {
      throw new ApiError(400, "bad_request", `Unknown query parameter ${unknown[0]}`);
    }
    try {
      return c.json(
        await listJobs(service, {
          ...(limit !== undefined ? { limit: /^\d+$/.test(limit) ? Number(limit) : NaN } : {}),
          ...(pageToken ? { pageToken } : {}),
          ...(state ? { state: state as JobState } : {}),
        }),
      );
    } catch (err) {
      if (err instanceof RangeError) throw new ApiError(400, "bad_request", err.message);
      throw err;
    }
  });
  return app;
}
