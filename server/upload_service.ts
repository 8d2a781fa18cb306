/**
 * {@linkcode UploadService}: what the HTTP app serves from: the confined root, the jobs, the
 * metrics, the limits, and the target uploads go to (the same as the CLI's: Clarifai with a
 * PAT, else the embedded local API, opened once and shared by the jobs).
 *
 * @module
 */
import { join } from "node:path";
import { Secret } from "../src/clarifai/secret.ts";
import type { ClarifaiClient } from "../src/clarifai/client.ts";
import type { ProgressEvent } from "../src/pipeline/progress_event.ts";
import { openTarget, type Target, type TargetOptions } from "../src/upload/target.ts";
import { localTarget } from "./local_target.ts";
import { ApiError } from "./api_error.ts";
import { type Job, Jobs } from "./jobs.ts";
import { Metrics } from "./metrics.ts";

/** Options of {@linkcode UploadService.open}. */
export interface UploadServiceOptions {
  /** The folder JSON requests name paths under (and CSV `file_path` rows resolve in). */
  root: string;
  /** Where jobs are kept (default `.upflow/service`). */
  dataDir?: string;
  /** The bearer token every `/v1` request must carry; none disables the check. */
  token?: string;
  /** Bytes allowed in one request body (default 10 GiB). */
  maxBodyBytes?: number;
  /** Files allowed in one multipart upload (default 10,000). */
  maxFiles?: number;
  /** Bytes allowed in a non-file form field or a JSON request (default 1 MiB). */
  maxFieldBytes?: number;
  /**
   * The target, like the CLI's flags (`base`, `userId`, `appId`, `transport`, `localDataDir`,
   * `env`). A request's `x-clarifai-pat` header overrides the PAT for its job. With no PAT and
   * no base, jobs go to the embedded local API (data in `localDataDir`, default `.upflow/local`)
   * unless `local` says otherwise.
   */
  target?: ServiceTargetOptions;
  /** Where log lines go (default standard error). Lines never hold a credential. */
  log?: (line: string) => void;
  /** Milliseconds a cancelled run gets to end by itself (default 10 s). */
  cancelGraceMs?: number;
}

/** The service's target: {@linkcode TargetOptions} and the embedded local API's data folder. */
export interface ServiceTargetOptions extends TargetOptions {
  /** The embedded local API's data folder (default `.upflow/local`). */
  localDataDir?: string;
}

/** A target opened for one job: its client, for people, and how to let it go. */
export interface JobTarget {
  /** The client. */
  client: ClarifaiClient;
  /** Closes a per-request target; nothing for the shared one. */
  release(): Promise<void>;
}

/** What a request asks of the target. */
export interface TargetRequest {
  /** A PAT from the request's `x-clarifai-pat` header. */
  pat?: string;
  /** User ID from the request. */
  userId?: string;
  /** App ID from the request. */
  appId?: string;
}

/** What a bearer token may hold (RFC 6750's b64token), as `hono/bearer-auth` reads it. */
const BEARER_TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(
      `Cannot create UploadService: ${name} must be a positive integer: current value is ${value}`,
    );
  }
  return value;
}

/**
 * The state behind the HTTP app. Open it with {@linkcode UploadService.open}, serve it with
 * `createApp(service)`, and {@linkcode UploadService.close} it to cancel running jobs (their
 * journals are closed cleanly) and stop the shared target.
 *
 * @example Open and close
 * ```ts
 * import { UploadService } from "@upflow/upflow/server";
 * import { assertEquals } from "@std/assert";
 *
 * const root = await Deno.makeTempDir();
 * const service = await UploadService.open({ root, dataDir: await Deno.makeTempDir(), log: () => {} });
 * assertEquals(service.root, await Deno.realPath(root));
 * await service.close();
 * ```
 */

export class UploadService {
  /** The root's real path. */
  readonly root: string;
  /** The data folder. */
  readonly dataDir: string;
  /** The bearer token, when one is required. */
  readonly token?: string;
  /** Bytes allowed in one request body. */
  readonly maxBodyBytes: number;
  /** Files allowed in one multipart upload. */
  readonly maxFiles: number;
  /** Bytes allowed in a form field or JSON body. */
  readonly maxFieldBytes: number;
  /**
   * The jobs, kept in the data folder (the app's routes read and start them).
   *
   * @internal
   */
  readonly jobs: Jobs;
  /**
   * The counters `GET /metrics` renders.
   *
   * @internal
   */
  readonly metrics: Metrics;
  /** Writes a log line. */
  readonly log: (line: string) => void;
  #target: TargetOptions;
  #shared?: Promise<Target>;
  #running = new Set<Promise<void>>();

  private constructor(root: string, options: UploadServiceOptions) {
    this.root = root;
    this.dataDir = options.dataDir ?? ".upflow/service";
    if (options.token !== undefined && options.token.trim() === "") {
      throw new TypeError("Cannot create UploadService: token must not be blank");
    }
    if (options.token !== undefined && !BEARER_TOKEN.test(options.token)) {
      throw new TypeError(
        "Cannot create UploadService: token may hold only letters, digits and -._~+/ (then = " +
          "padding), as a bearer token does (RFC 6750)",
      );
    }
    this.token = options.token;
    this.maxBodyBytes = positive("maxBodyBytes", options.maxBodyBytes, 10 * 1024 ** 3);
    this.maxFiles = positive("maxFiles", options.maxFiles, 10_000);
    this.maxFieldBytes = positive("maxFieldBytes", options.maxFieldBytes, 1024 * 1024);
    this.metrics = new Metrics();
    this.jobs = new Jobs({
      dataDir: this.dataDir,
      metrics: this.metrics,
      cancelGraceMs: options.cancelGraceMs,
    });
    this.log = options.log ?? ((line) => console.error(line));
    const { localDataDir, ...target } = options.target ?? {};
    this.#target = { ...target, local: target.local ?? localTarget({ dataDir: localDataDir }) };
  }

  /**
   * Checks the options, resolves the root (it must be a folder) and creates the data folder.
   *
   * @param options Root, data folder, token, limits, target.
   * @returns The service.
   * @throws {TypeError} When the root is not a folder or an option has the wrong shape.
   * @throws {RangeError} When a limit is out of range.
   */
  static async open(options: UploadServiceOptions): Promise<UploadService> {
    if (typeof options?.root !== "string" || options.root === "") {
      throw new TypeError("Cannot create UploadService: root must be a non-empty string");
    }
    let root: string;
    try {
      root = await Deno.realPath(options.root);
    } catch {
      throw new TypeError(`Cannot create UploadService: root ${options.root} does not exist`);
    }
    if (!(await Deno.stat(root)).isDirectory) {
      throw new TypeError(`Cannot create UploadService: root ${options.root} is not a folder`);
    }
    const service = new UploadService(root, options);
    await Deno.mkdir(join(service.dataDir, "jobs"), { recursive: true });
    return service;
  }

  #openShared(): Promise<Target> {
    this.#shared ??= openTarget(this.#target).catch((err) => {
      this.#shared = undefined;
      throw err;
    });
    return this.#shared;
  }

  /**
   * Opens the target for a job: a client of its own when the request brings a PAT (or a user
   * and app), else the shared target (opened on first use).
   *
   * @param request The request's PAT, user and app.
   * @returns The client and how to release it.
   * @throws {ApiError} 400 when a user or app is given but uploads go to the local API.
   *
   * @internal
   */
  async target(request: TargetRequest): Promise<JobTarget> {
    const own = request.pat !== undefined || request.userId !== undefined ||
      request.appId !== undefined;
    if (!own) {
      const shared = await this.#openShared();
      return { client: shared.client, release: () => Promise.resolve() };
    }
    if (request.pat === undefined) {
      const shared = await this.#openShared();
      if (shared.local) {
        throw new ApiError(
          400,
          "bad_request",
          "user_id and app_id need a Clarifai PAT (x-clarifai-pat) or a server started with one",
        );
      }
    }
    let target: Target;
    try {
      target = await openTarget({
        ...this.#target,
        ...(request.pat !== undefined ? { pat: new Secret(request.pat) } : {}),
        ...(request.userId !== undefined ? { userId: request.userId } : {}),
        ...(request.appId !== undefined ? { appId: request.appId } : {}),
      });
    } catch (err) {
      // Option errors name the option, never its value.
      throw new ApiError(400, "bad_target", `Cannot open the target: ${(err as Error).message}`);
    }
    return { client: target.client, release: () => target.close() };
  }

  /**
   * Runs a job in the background: independent of any response, released when it ends.
   *
   * @param job The job.
   * @param events Its run's events.
   * @param target The target to release at the end.
   *
   * @internal
   */
  start(job: Job, events: ReadableStream<ProgressEvent>, target?: JobTarget): void {
    this.log(`job ${job.id} started: ${job.record.kind} ${job.record.source}`);
    const done = job.run(events)
      .catch((err) => this.log(`job ${job.id}: the events log failed: ${(err as Error).message}`))
      .finally(async () => {
        await target?.release().catch(() => {});
        const { state, counts } = job.record;
        this.log(
          `job ${job.id} ${state}: ${counts.uploaded} uploaded, ${counts.failed} failed, ${counts.rejected} rejected`,
        );
        this.#running.delete(done);
      });
    this.#running.add(done);
  }

  /**
   * Cancels running jobs, waits for them to end, and closes the shared target.
   *
   * @returns A promise that settles when everything is closed.
   */
  async close(): Promise<void> {
    await this.jobs.close();
    await Promise.all([...this.#running]);
    const shared = this.#shared;
    this.#shared = undefined;
    if (shared) await (await shared.catch(() => undefined))?.close();
  }
}
