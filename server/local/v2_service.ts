/**
 * The local implementation of the `clarifai.api.V2` subset, independent of the protocol: every
 * call goes through {@linkcode LocalV2Service.prototype.call} with the request message and the
 * caller's `authorization` header, and answers the response message with an in-body status, as
 * Clarifai does (errors travel as `status` with transport OK). The methods themselves live in
 * one handler module per resource (`handlers/`).
 *
 * @module
 */
import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import type { UserAppIDSet } from "../../src/gen/clarifai/api/resources_pb.ts";
import { V2 } from "../../src/gen/clarifai/api/service_pb.ts";
import type { Status } from "../../src/gen/clarifai/api/status/status_pb.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import { dropsAfterCommit, throttledStatus } from "./fault_layer.ts";
import type { FaultInjector } from "./faults.ts";
import { annotationChangeHandlers } from "./handlers/annotation_changes.ts";
import { annotationHandlers } from "./handlers/annotations.ts";
import {
  Answer,
  type HandlerContext,
  type Handlers,
  newId,
  type V2MethodName,
} from "./handlers/common.ts";
import { datasetChangeHandlers } from "./handlers/dataset_changes.ts";
import { datasetVersionHandlers } from "./handlers/dataset_versions.ts";
import { datasetHandlers } from "./handlers/datasets.ts";
import { inputPatchHandlers } from "./handlers/input_patch.ts";
import { inputHandlers } from "./handlers/inputs.ts";
import { jobHandlers } from "./handlers/jobs.ts";
import { localStatus } from "./local_status.ts";
import type { LocalStore } from "./store.ts";

export {
  DEFAULT_PER_PAGE,
  MAX_INPUTS_PER_REQUEST,
  MAX_ITEMS_PER_REQUEST,
  MAX_PER_PAGE,
  type V2MethodName,
} from "./handlers/common.ts";

/** What the service knows of the caller and its connection. */
export interface CallContext {
  /** The `authorization` header (gRPC metadata), or `null`. */
  authorization: string | null;
  /** Destroys the caller's connection without an answer (the drop-after-commit fault). */
  drop(): void;
}

/** Thrown by {@linkcode LocalV2Service.prototype.call} after it dropped the connection. */
export class ConnectionDroppedError extends Error {
  /**
   * Creates the error.
   *
   * @param method The method whose answer was dropped.
   */
  constructor(method: string) {
    super(`dropped the connection after committing ${method} (drop-after-commit fault)`);
    this.name = "ConnectionDroppedError";
  }
}

/** Options of {@linkcode LocalV2Service}. */
export interface LocalV2ServiceOptions {
  /** The store. */
  store: LocalStore;
  /** The accepted API key (PAT). */
  key: string;
  /** The fault injector. */
  faults: FaultInjector;
  /** Called after inputs were stored, so the background processor picks them up. */
  onInputsStored?: () => void;
  /** Called after a dataset version was created, so the version processor picks it up. */
  onVersionCreated?: () => void;
  /** Returns the URL where content bytes with a given SHA-256 can be downloaded. */
  contentUrl?: (hash: string) => string;
}

/** Every method's handler, from the resource modules. */
function allHandlers(ctx: HandlerContext): Handlers<V2MethodName> {
  return {
    ...inputHandlers(ctx),
    ...jobHandlers(ctx),
    ...annotationHandlers(ctx),
    ...datasetHandlers(ctx),
    ...inputPatchHandlers(ctx),
    ...annotationChangeHandlers(ctx),
    ...datasetChangeHandlers(ctx),
    ...datasetVersionHandlers(ctx),
  };
}

/**
 * Checks the `authorization` header against the key.
 *
 * @param authorization The header, or `null`.
 * @param key The accepted key.
 * @returns The refusal, or `undefined` when the key matches.
 *
 * @example Usage
 * ```ts
 * import { authStatus } from "./v2_service.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(authStatus("Key k", "k"), undefined);
 * assertEquals(authStatus(null, "k")?.code, 11002);
 * assertEquals(authStatus("Key nope", "k")?.code, 11008);
 * ```
 */
export function authStatus(authorization: string | null, key: string): Status | undefined {
  const match = /^Key\s+(\S+)\s*$/i.exec(authorization ?? "");
  if (!match) {
    return localStatus(
      StatusCode.CONN_CREDENTIALS_INVALID,
      "send the header 'authorization: Key <your PAT>'",
    );
  }
  if (match[1] !== key) {
    return localStatus(StatusCode.CONN_KEY_INVALID, "the API key or PAT is not valid");
  }
  return undefined;
}

/**
 * The V2 subset over a {@linkcode LocalStore}, with Clarifai's semantics and the request-level
 * faults (auth, rate limit, throttle, drop after commit).
 *
 * @example Post an input and read it back
 * ```ts
 * import { LocalV2Service } from "./v2_service.ts";
 * import { LocalStore } from "./store.ts";
 * import { FaultInjector } from "./faults.ts";
 * import { create } from "@bufbuild/protobuf";
 * import { PostInputsRequestSchema } from "../../src/gen/clarifai/api/service_pb.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const service = new LocalV2Service({ store, key: "k", faults: new FaultInjector() });
 * const ctx = { authorization: "Key k", drop() {} };
 * const request = create(PostInputsRequestSchema, {
 *   userAppId: { userId: "me", appId: "demo" },
 *   inputs: [{ id: "t1", data: { text: { raw: "hello" } } }],
 * });
 * const response = await service.call("postInputs", request, ctx);
 * assertEquals(response.status?.code, 10000);
 * assertEquals(response.inputs[0].status?.code, 30001);
 * store.close();
 * ```
 */
export class LocalV2Service {
  #key: string;
  #faults: FaultInjector;
  #handlers: Handlers<V2MethodName>;

  /**
   * Creates the service.
   *
   * @param options The store, key and faults.
   */
  constructor(options: LocalV2ServiceOptions) {
    this.#key = options.key;
    this.#faults = options.faults;
    this.#handlers = allHandlers({
      store: options.store,
      onInputsStored: options.onInputsStored ?? (() => {}),
      onVersionCreated: options.onVersionCreated ?? (() => {}),
      contentUrl: options.contentUrl ?? ((hash) => `/local/blobs/${hash}`),
    });
  }

  /**
   * Answers one call: checks the key, applies the rate limit and throttling faults, runs the
   * method, and drops the connection after a committed write when the fault says so.
   *
   * @param method The method's lower-camel-case name.
   * @param request The request message.
   * @param ctx The caller.
   * @returns The response message (errors as its `status`).
   * @throws {ConnectionDroppedError} After dropping the connection.
   */
  async call<M extends V2MethodName>(
    method: M,
    request: MessageShape<(typeof V2.method)[M]["input"]>,
    ctx: CallContext,
  ): Promise<MessageShape<(typeof V2.method)[M]["output"]>> {
    type Output = MessageShape<(typeof V2.method)[M]["output"]>;
    const reqId = newId();
    const answer = (response: Output): Output => {
      if (response.status) response.status.reqId = reqId;
      return response;
    };
    const fail = (status: Status) =>
      answer(create(V2.method[method].output as DescMessage, { status }) as Output);

    const refused = authStatus(ctx.authorization, this.#key) ?? throttledStatus(this.#faults);
    if (refused) return fail(refused);
    const userAppId = (request as { userAppId?: UserAppIDSet }).userAppId;
    if (!userAppId?.userId || !userAppId?.appId) {
      return fail(localStatus(
        StatusCode.CONN_INVALID_REQUEST,
        "user_app_id with user_id and app_id is required with a personal access token",
      ));
    }
    let response: Output;
    try {
      const handler = this.#handlers[method] as (r: unknown, u: UserAppIDSet) => unknown;
      response = await handler(request, userAppId) as Output;
    } catch (error) {
      if (error instanceof Answer) return fail(error.status);
      throw error;
    }
    const code = (response as { status?: Status }).status?.code ?? StatusCode.SUCCESS;
    if (dropsAfterCommit(this.#faults, method, code)) {
      ctx.drop();
      throw new ConnectionDroppedError(method);
    }
    return answer(response);
  }
}
