/**
 * What the local API's resource handlers share: the handler context (store, app lookup, content
 * URLs), request-level answers as exceptions, paging, whole-request status from per-item
 * statuses, IDs and timestamps.
 *
 * @module
 */
import type { MessageShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { UserAppIDSet } from "../../../src/gen/clarifai/api/resources_pb.ts";
import type { V2 } from "../../../src/gen/clarifai/api/service_pb.ts";
import type { Status } from "../../../src/gen/clarifai/api/status/status_pb.ts";
import { StatusCode } from "../../../src/gen/clarifai/api/status/status_code_pb.ts";
import { localStatus } from "../local_status.ts";
import type { LocalStore } from "../store.ts";

/** The most inputs one PostInputs request may carry. */
export const MAX_INPUTS_PER_REQUEST = 128;
/** The most annotations, datasets or dataset inputs one request may carry. */
export const MAX_ITEMS_PER_REQUEST = 128;
/** The default page size of the list methods. */
export const DEFAULT_PER_PAGE = 128;
/** The largest page size of the list methods. */
export const MAX_PER_PAGE = 1000;

/** The lower-camel-case names of the V2 methods (`postInputs`, …). */
export type V2MethodName = keyof typeof V2.method;

/** The request message of a method. */
export type RequestOf<M extends V2MethodName> = MessageShape<(typeof V2.method)[M]["input"]>;
/** The response message of a method. */
export type ResponseOf<M extends V2MethodName> = MessageShape<(typeof V2.method)[M]["output"]>;

/** Handlers of some methods: each takes the request and the caller's app IDs. */
export type Handlers<K extends V2MethodName> = {
  [M in K]: (
    request: RequestOf<M>,
    userAppId: UserAppIDSet,
  ) => ResponseOf<M> | Promise<ResponseOf<M>>;
};

/** What every handler works with. */
export interface HandlerContext {
  /** The store. */
  store: LocalStore;
  /** Returns the URL where content bytes with a given SHA-256 can be downloaded. */
  contentUrl(hash: string): string;
  /** Called after inputs were stored, so the background processor picks them up. */
  onInputsStored(): void;
  /** Called after a dataset version was created, so the version processor picks it up. */
  onVersionCreated(): void;
}

/** A request failure answered as the response's status (thrown by handlers). */
export class Answer extends Error {
  /**
   * Creates the answer.
   *
   * @param status The status the response carries.
   */
  constructor(readonly status: Status) {
    super(status.details || status.description);
    this.name = "Answer";
  }
}

/**
 * A request-level `CONN_INVALID_REQUEST` answer.
 *
 * @param details What is wrong.
 * @returns The answer to throw.
 *
 * @example Usage
 * ```ts
 * import { invalid } from "./common.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(invalid("ids must not be empty").status.code, 11102);
 * ```
 */
export function invalid(details: string): Answer {
  return new Answer(localStatus(StatusCode.CONN_INVALID_REQUEST, details));
}

/**
 * A `CONN_DOES_NOT_EXIST` answer.
 *
 * @param details What does not exist.
 * @returns The answer to throw.
 *
 * @example Usage
 * ```ts
 * import { missing } from "./common.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(missing('Dataset "x" does not exist.').status.code, 11101);
 * ```
 */
export function missing(details: string): Answer {
  return new Answer(localStatus(StatusCode.CONN_DOES_NOT_EXIST, details));
}

/**
 * Throws when a request carries no items or more than allowed.
 *
 * @param count How many items it carries.
 * @param what The field, for the message (`inputs`, `annotations`, …).
 * @param max The most allowed.
 *
 * @example Usage
 * ```ts
 * import { requireItems } from "./common.ts";
 * import { assertThrows } from "@std/assert";
 *
 * requireItems(3, "inputs");
 * assertThrows(() => requireItems(0, "inputs"));
 * assertThrows(() => requireItems(129, "inputs"));
 * ```
 */
export function requireItems(count: number, what: string, max = MAX_ITEMS_PER_REQUEST): void {
  if (count === 0) throw invalid(`${what} must not be empty`);
  if (count > max) throw invalid(`at most ${max} ${what} per request: got ${count}`);
}

/**
 * Turns `page` (from 1) and `per_page` (default 128, at most 1000) into an offset and a limit.
 *
 * @param page The page number (0 means 1).
 * @param perPage The page size (0 means the default).
 * @returns Rows to skip and to return.
 * @throws {Answer} When `per_page` is above 1000.
 *
 * @example Usage
 * ```ts
 * import { paging } from "./common.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(paging(0, 0), { offset: 0, limit: 128 });
 * assertEquals(paging(3, 10), { offset: 20, limit: 10 });
 * ```
 */
export function paging(page: number, perPage: number): { offset: number; limit: number } {
  if (perPage > MAX_PER_PAGE) {
    throw invalid(`per_page must be at most ${MAX_PER_PAGE}: got ${perPage}`);
  }
  const limit = perPage === 0 ? DEFAULT_PER_PAGE : perPage;
  return { offset: (Math.max(page, 1) - 1) * limit, limit };
}

const OK_CODES = new Set<number>([
  StatusCode.SUCCESS,
  StatusCode.INPUT_PENDING,
  StatusCode.INPUT_SUCCESS,
  StatusCode.INPUT_MODIFY_SUCCESS,
  StatusCode.ANNOTATION_SUCCESS,
  StatusCode.ANNOTATION_MODIFY_SUCCESS,
  StatusCode.DATASET_INPUT_SUCCESS,
  StatusCode.DATASET_VERSION_PENDING,
]);

/**
 * The whole-request status from per-item statuses: SUCCESS when every item succeeded,
 * FAILURE when none did, MIXED_STATUS otherwise.
 *
 * @param statuses The items' statuses.
 * @returns The request's status.
 *
 * @example Usage
 * ```ts
 * import { overallStatus } from "./common.ts";
 * import { localStatus } from "../local_status.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(overallStatus([localStatus(30001), localStatus(30100)]).code, 10010);
 * ```
 */
export function overallStatus(statuses: Status[]): Status {
  const ok = statuses.filter((s) => OK_CODES.has(s.code)).length;
  if (ok === statuses.length) return localStatus(StatusCode.SUCCESS);
  if (ok === 0) return localStatus(StatusCode.FAILURE);
  return localStatus(StatusCode.MIXED_STATUS);
}

/**
 * A new 32-hex-digit ID.
 *
 * @returns The ID.
 *
 * @example Usage
 * ```ts
 * import { newId } from "./common.ts";
 * import { assertMatch } from "@std/assert";
 *
 * assertMatch(newId(), /^[0-9a-f]{32}$/);
 * ```
 */
export function newId(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

/**
 * A protobuf timestamp from milliseconds since the epoch.
 *
 * @param t Milliseconds since the epoch.
 * @returns The timestamp.
 *
 * @example Usage
 * ```ts
 * import { ms } from "./common.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(ms(1500).seconds, 1n);
 * ```
 */
export function ms(t: number): Timestamp {
  return timestampFromMs(t);
}

/**
 * The key of the caller's app, creating the app (for writes).
 *
 * @param ctx The handler context.
 * @param u The caller's app IDs.
 * @returns The app's key.
 *
 * @example Usage
 * ```ts
 * import { appOf, readAppOf } from "./common.ts";
 * import { LocalStore } from "../store.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const ctx = { store, contentUrl: (h: string) => h, onInputsStored() {}, onVersionCreated() {} };
 * const u = { userId: "me", appId: "demo" } as Parameters<typeof appOf>[1];
 * assertEquals(readAppOf(ctx, u), undefined);
 * assertEquals(appOf(ctx, u), readAppOf(ctx, u));
 * store.close();
 * ```
 */
export function appOf(ctx: HandlerContext, u: UserAppIDSet): number {
  return ctx.store.appKey(u.userId, u.appId);
}

/**
 * The key of the caller's app, or `undefined` when nothing was ever stored in it (for reads).
 *
 * @param ctx The handler context.
 * @param u The caller's app IDs.
 * @returns The app's key.
 *
 * @example Usage
 * ```ts
 * import { readAppOf } from "./common.ts";
 * import { LocalStore } from "../store.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const ctx = { store, contentUrl: (h: string) => h, onInputsStored() {}, onVersionCreated() {} };
 * assertEquals(readAppOf(ctx, { userId: "me", appId: "demo" } as never), undefined);
 * store.close();
 * ```
 */
export function readAppOf(ctx: HandlerContext, u: UserAppIDSet): number | undefined {
  return ctx.store.findApp(u.userId, u.appId);
}
