/**
 * The REST face of the local API: Clarifai's documented `/v2/users/{user}/apps/{app}/…` paths
 * for the implemented methods, JSON with snake_case field names (lowerCamelCase is accepted
 * too), bytes as base64, `authorization: Key …`. Errors travel in the body's `status`, with an
 * HTTP status that matches. Also serves stored content at `/local/blobs/{sha256}`.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import {
  type DescMessage,
  fromJson,
  type JsonObject,
  type JsonValue,
  ScalarType,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import { V2 } from "../../src/gen/clarifai/api/service_pb.ts";
import type { Status } from "../../src/gen/clarifai/api/status/status_pb.ts";
import { StatusSchema } from "../../src/gen/clarifai/api/status/status_pb.ts";
import { StatusCode } from "../../src/gen/clarifai/api/status/status_code_pb.ts";
import { browserRoutes } from "./browser/browser_routes.ts";
import { httpStatusOf, localStatus } from "./local_status.ts";
import { sniffFormat } from "./sniff_content.ts";
import type { LocalStore } from "./store.ts";
import { ConnectionDroppedError, type LocalV2Service, type V2MethodName } from "./v2_service.ts";

/** Options of {@linkcode createRestApp}. */
export interface RestAppOptions {
  /** The service answering the calls. */
  service: LocalV2Service;
  /** The store (for `/local/blobs/{sha256}`). */
  store: LocalStore;
  /** The largest request, as protobuf binary (default 128 MiB). */
  maxRequestBytes?: number;
}

/** What `@hono/node-server` passes as the environment: the Node request. */
export interface NodeEnv {
  /** The bindings: the Node request whose socket can be destroyed. */
  Bindings: { incoming?: { socket?: { destroy(): void } } };
}

const UA = "/v2/users/:user_id/apps/:app_id";

const ROUTES: [method: string, path: string, rpc: V2MethodName][] = [
  ["POST", `${UA}/inputs`, "postInputs"],
  ["GET", `${UA}/inputs`, "listInputs"],
  ["DELETE", `${UA}/inputs`, "deleteInputs"],
  ["GET", `${UA}/inputs/status`, "getInputCount"],
  ["GET", `${UA}/inputs/jobs/add/:id`, "getInputsAddJob"],
  ["PATCH", `${UA}/inputs/jobs/add/:id`, "cancelInputsAddJob"],
  ["GET", `${UA}/inputs/:input_id`, "getInput"],
  ["POST", `${UA}/annotations`, "postAnnotations"],
  ["GET", `${UA}/annotations`, "listAnnotations"],
  ["POST", `${UA}/datasets`, "postDatasets"],
  ["GET", `${UA}/datasets/:dataset_id`, "getDataset"],
  ["POST", `${UA}/datasets/:dataset_id/inputs`, "postDatasetInputs"],
  ["GET", `${UA}/datasets/:dataset_id/inputs`, "listDatasetInputs"],
  ["PATCH", `${UA}/inputs`, "patchInputs"],
  ["PATCH", `${UA}/annotations`, "patchAnnotations"],
  ["DELETE", `${UA}/annotations`, "deleteAnnotations"],
  ["DELETE", `${UA}/inputs/annotations`, "deleteAnnotations"],
  ["GET", `${UA}/datasets`, "listDatasets"],
  ["PATCH", `${UA}/datasets`, "patchDatasets"],
  ["DELETE", `${UA}/datasets`, "deleteDatasets"],
  ["POST", `${UA}/datasets/:dataset_id/versions`, "postDatasetVersions"],
  ["GET", `${UA}/datasets/:dataset_id/versions`, "listDatasetVersions"],
  ["DELETE", `${UA}/datasets/:dataset_id/versions`, "deleteDatasetVersions"],
  ["GET", `${UA}/datasets/:dataset_id/versions/:dataset_version_id`, "getDatasetVersion"],
  [
    "GET",
    `${UA}/datasets/:dataset_id/versions/:dataset_version_id/metrics`,
    "listDatasetVersionMetricsGroups",
  ],
];

function statusJson(status: Status): JsonObject {
  return { status: toJson(StatusSchema, status, { useProtoFieldName: true, enumAsInteger: true }) };
}

function answer(c: Context, status: Status, headers?: Record<string, string>): Response {
  return c.json(statusJson(status), httpStatusOf(status.code) as ContentfulStatusCode, headers);
}

/**
 * Converts query parameters into proto JSON for `desc`: dotted names reach into messages
 * (`status.code=30000`), repeated fields take the parameter several times or comma-separated
 * values (`ids=a&ids=b`, `ids=a,b`), numbers and booleans are converted.
 */
function queryToJson(desc: DescMessage, params: URLSearchParams): JsonObject {
  const json: JsonObject = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    let message: DescMessage = desc;
    let target = json;
    const parts = key.split(".");
    for (const [i, part] of parts.entries()) {
      const field = message.fields.find((f) => f.name === part || f.jsonName === part);
      if (field === undefined) break;
      const last = i === parts.length - 1;
      if (field.fieldKind === "message" && !last) {
        target[field.name] ??= {};
        target = target[field.name] as JsonObject;
        message = field.message;
        continue;
      }
      if (!last) break;
      const convert = (value: string): JsonValue => {
        const kind = field.fieldKind === "list" ? field.listKind : field.fieldKind;
        if (kind === "enum") return /^-?\d+$/.test(value) ? Number(value) : value;
        if (kind === "scalar") {
          const scalar = field.scalar;
          if (scalar === ScalarType.BOOL) return value === "true" || value === "1";
          if (scalar === ScalarType.FLOAT || scalar === ScalarType.DOUBLE) return Number(value);
        }
        return value;
      };
      if (field.fieldKind === "list") {
        target[field.name] = values.flatMap((v) => v.split(",")).filter((v) => v !== "").map(
          convert,
        );
      } else if (field.fieldKind === "scalar" || field.fieldKind === "enum") {
        target[field.name] = convert(values[values.length - 1]);
      }
    }
  }
  return json;
}

const tooLarge = (max: number) =>
  localStatus(StatusCode.RPC_MAX_MESSAGE_SIZE_EXCEEDED, `the request is larger than ${max} bytes`);

/** Reads the JSON of a call: query parameters for GET, the body otherwise. */
async function requestJson(
  c: Context<NodeEnv>,
  desc: DescMessage,
  maxRequestBytes: number,
): Promise<{ json: JsonObject } | { refused: Status }> {
  if (c.req.method === "GET") return { json: queryToJson(desc, new URL(c.req.url).searchParams) };
  const text = await c.req.text();
  if (text.length > Math.ceil(maxRequestBytes * 4 / 3) + 1024 * 1024) {
    return { refused: tooLarge(maxRequestBytes) };
  }
  try {
    const parsed: unknown = text.trim() === "" ? {} : JSON.parse(text);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new TypeError("the body must be a JSON object");
    }
    return { json: parsed as JsonObject };
  } catch (error) {
    const details = `invalid JSON body: ${(error as Error).message}`;
    return { refused: localStatus(StatusCode.CONN_BAD_REQUEST_FORMAT, details) };
  }
}

/** The path parameters that become request fields. */
const PATH_FIELDS = ["input_id", "id", "dataset_id", "dataset_version_id"];

/** Answers one REST call: the request from JSON and path, the service's answer as JSON. */
async function restCall(
  c: Context<NodeEnv>,
  rpc: V2MethodName,
  service: LocalV2Service,
  maxRequestBytes: number,
): Promise<Response> {
  const desc = V2.method[rpc].input;
  const read = await requestJson(c, desc, maxRequestBytes);
  if ("refused" in read) return answer(c, read.refused);
  const body = read.json;
  delete body.userAppId;
  body.user_app_id = { user_id: c.req.param("user_id") ?? "", app_id: c.req.param("app_id") ?? "" };
  for (const field of PATH_FIELDS) {
    const value = c.req.param(field);
    if (value !== undefined) body[field] = value;
  }
  let request;
  try {
    request = fromJson(desc, body, { ignoreUnknownFields: true });
  } catch (error) {
    return answer(c, localStatus(StatusCode.CONN_BAD_REQUEST_FORMAT, (error as Error).message));
  }
  if (toBinary(desc, request).length > maxRequestBytes) return answer(c, tooLarge(maxRequestBytes));
  try {
    const response = await service.call(rpc, request as never, {
      authorization: c.req.header("authorization") ?? null,
      drop: () => c.env?.incoming?.socket?.destroy(),
    });
    const code = (response as { status?: Status }).status?.code ?? StatusCode.SUCCESS;
    return c.json(
      toJson(V2.method[rpc].output, response as never, {
        useProtoFieldName: true,
        enumAsInteger: true,
      }),
      httpStatusOf(code) as ContentfulStatusCode,
    );
  } catch (error) {
    if (error instanceof ConnectionDroppedError) return c.body(null, 500);
    throw error;
  }
}

/**
 * Creates the Hono app serving the REST paths.
 *
 * @param options The service, store and request limit.
 * @returns The app (mount it with `@hono/node-server`'s `getRequestListener`, or call
 * `app.request()` in tests).
 *
 * @example Ask for a count without a key
 * ```ts
 * import { createRestApp } from "./rest_app.ts";
 * import { LocalV2Service } from "./v2_service.ts";
 * import { LocalStore } from "./store.ts";
 * import { FaultInjector } from "./faults.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const store = new LocalStore(":memory:");
 * const service = new LocalV2Service({ store, key: "k", faults: new FaultInjector() });
 * const app = createRestApp({ service, store });
 * const res = await app.request("/v2/users/me/apps/demo/inputs/status");
 * assertEquals(res.status, 401);
 * assertEquals((await res.json()).status.code, 11002);
 * store.close();
 * ```
 */
export function createRestApp(options: RestAppOptions): Hono<NodeEnv> {
  const { service, store, maxRequestBytes = 128 * 1024 * 1024 } = options;
  const app = new Hono<NodeEnv>();

  app.get("/local/blobs/:hash", (c) => {
    const hash = c.req.param("hash");
    const bytes = /^[0-9a-f]{64}$/.test(hash) ? store.blobs.get(hash) : undefined;
    if (bytes === undefined) {
      return answer(c, localStatus(StatusCode.CONN_DOES_NOT_EXIST, "no content with this hash"));
    }
    const format = sniffFormat(bytes);
    const type = format ? `${format.kind}/${format.format}` : "application/octet-stream";
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { "content-type": type });
  });

  app.route("/", browserRoutes(store)); // the read-only browser: GET / and /browse/…

  for (const [httpMethod, path, rpc] of ROUTES) {
    app.on(httpMethod, path, (c) => restCall(c, rpc, service, maxRequestBytes));
  }

  app.all("/v2/*", (c) =>
    answer(
      c,
      localStatus(
        StatusCode.NOT_IMPLEMENTED,
        `the local API does not implement ${c.req.method} ${new URL(c.req.url).pathname}`,
      ),
    ));
  app.notFound((c) =>
    answer(
      c,
      localStatus(
        StatusCode.CONN_DOES_NOT_EXIST,
        `no such path: ${c.req.method} ${new URL(c.req.url).pathname}`,
      ),
    )
  );
  app.onError((error, c) =>
    answer(c, localStatus(StatusCode.INTERNAL_SERVER_ISSUE, error.message))
  );
  return app;
}
