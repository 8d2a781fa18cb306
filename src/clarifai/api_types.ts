/**
 * The types of Clarifai's API that upflow's public signatures name: messages generated from
 * Clarifai's `.proto` files (`src/gen/`) and the Connect client of the `clarifai.api.V2`
 * service. They are aliases, so a value of the generated type is a value of the alias and the
 * other way round.
 *
 * Each is tagged `@internal` for `deno doc`: the type itself is public and exported, but its
 * documentation stops here instead of listing the whole generated API (the messages' fields are
 * those of Clarifai's API reference; the client's methods are the V2 service's RPCs in
 * camelCase, `postInputs`, `listInputs`, …).
 *
 * @module
 */

import type { Client, Interceptor, Transport } from "@connectrpc/connect";
import type { Input, UserAppIDSet } from "../gen/clarifai/api/resources_pb.ts";
import type { V2 } from "../gen/clarifai/api/service_pb.ts";

/**
 * A Connect client of Clarifai's `clarifai.api.V2` service: one method per RPC
 * (`postInputs`, `listInputs`, `getInputsAddJob`, …), each taking the request message's fields
 * and returning the response message.
 *
 * @example Call the local API through a client
 * ```ts
 * import { createClarifaiClient, type V2Client } from "@upflow/upflow";
 * import { startLocalApi } from "@upflow/upflow/local";
 * import { assertEquals } from "@std/assert";
 *
 * await using api = await startLocalApi({ dataDir: ":memory:" });
 * using client = createClarifaiClient({
 *   base: `http://127.0.0.1:${api.port}`,
 *   pat: api.key,
 *   userId: "me",
 *   appId: "demo",
 * });
 * const v2: V2Client = client;
 * const response = await v2.listDatasets({ userAppId: client.userAppId });
 * assertEquals(response.datasets, []);
 * ```
 *
 * @internal
 */
export type V2Client = Client<typeof V2>;

/**
 * Clarifai's `Input` message (`clarifai.api.Input`): the ID, the data (media, concepts,
 * metadata, geo point, regions) and the dataset IDs of one input, as it is sent.
 *
 * @example The input the load stage makes of a draft
 * ```ts
 * import { type ClarifaiInput, type DraftOrRejection, LoadStream } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const drafts: DraftOrRejection[] = [{
 *   type: "draft",
 *   draft: {
 *     id: "t1",
 *     kind: "text",
 *     content: { type: "raw", text: "hi" },
 *     location: "t1",
 *     concepts: [],
 *   },
 * }];
 * const [item] = await Array.fromAsync(ReadableStream.from(drafts).pipeThrough(new LoadStream()));
 * const input: ClarifaiInput | undefined = item.type === "loaded" ? item.loaded.input : undefined;
 * assertEquals(input?.data?.text?.raw, "hi");
 * ```
 *
 * @internal
 */
export type ClarifaiInput = Input;

/**
 * Clarifai's `UserAppIDSet` message: the user and app a request is about (`userId`, `appId`).
 *
 * @example The pair a client puts in its requests
 * ```ts
 * import { type ClarifaiUserAppId, createClarifaiClient } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * using client = createClarifaiClient({ base: "127.0.0.1:1", userId: "me", appId: "demo" });
 * const ids: ClarifaiUserAppId | undefined = client.userAppId;
 * assertEquals(ids?.appId, "demo");
 * ```
 *
 * @internal
 */
export type ClarifaiUserAppId = UserAppIDSet;

/**
 * A Connect interceptor (`(next) => async (request) => …`): it sees every call of a client,
 * its headers and its outcome.
 *
 * @example Count the calls a client makes
 * ```ts
 * import { type ConnectInterceptor, createClarifaiClient } from "@upflow/upflow";
 * import { startLocalApi } from "@upflow/upflow/local";
 * import { assertEquals } from "@std/assert";
 *
 * await using api = await startLocalApi({ dataDir: ":memory:" });
 * const methods: string[] = [];
 * const recording: ConnectInterceptor = (next) => (request) => {
 *   methods.push(request.method.name);
 *   return next(request);
 * };
 * using client = createClarifaiClient({
 *   base: `http://127.0.0.1:${api.port}`,
 *   pat: api.key,
 *   userId: "me",
 *   appId: "demo",
 *   interceptors: [recording],
 * });
 * await client.listDatasets({ userAppId: client.userAppId });
 * assertEquals(methods, ["ListDatasets"]);
 * ```
 *
 * @internal
 */
export type ConnectInterceptor = Interceptor;

/**
 * A Connect transport: how a client's calls reach the server (gRPC, gRPC-web, Connect, or an
 * in-memory router in tests).
 *
 * @example A transport of one's own
 * ```ts
 * import { createClarifaiClient, type ConnectTransport } from "@upflow/upflow";
 * import { createConnectTransport } from "@connectrpc/connect-web";
 * import { assertEquals } from "@std/assert";
 *
 * using client = createClarifaiClient({
 *   base: "http://127.0.0.1:1",
 *   transport: (settings): ConnectTransport =>
 *     createConnectTransport({ baseUrl: settings.baseUrl, interceptors: settings.interceptors }),
 * });
 * assertEquals(client.transportKind, "custom");
 * ```
 *
 * @internal
 */
export type ConnectTransport = Transport;
