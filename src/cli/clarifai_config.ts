/**
 * Credentials and target the way Clarifai's own CLI finds them: flags, then environment
 * variables, then a context of the Clarifai CLI's config file (`~/.config/clarifai/config`,
 * written by `clarifai login`), then nothing (upflow's embedded local API).
 *
 * @module
 */
import { join } from "node:path";
import type { EnvReader } from "../clarifai/client.ts";
import { parseYamlSubset, type YamlMap, type YamlValue } from "./yaml_subset.ts";
import { didYouMean, suggestion } from "./did_you_mean.ts";
import { UsageError } from "./usage_error.ts";

/** One context of the Clarifai CLI's config: its name and its settings. */
export interface ClarifaiContext {
  /** The context's name. */
  name: string;
  /** Its settings as written: `CLARIFAI_PAT`, `CLARIFAI_USER_ID`, `CLARIFAI_API_BASE`, … */
  env: Record<string, string>;
}

/** The Clarifai CLI's config file, read. */
export interface ClarifaiConfig {
  /** Where it was read from. */
  path: string;
  /** The active context's name (`current_context`). */
  currentContext?: string;
  /** The contexts, by name. */
  contexts: Map<string, ClarifaiContext>;
}

/**
 * Where Clarifai's CLI keeps its config: `~/.config/clarifai/config` (the SDK's
 * `DEFAULT_CONFIG`), from `HOME` (or `USERPROFILE` on Windows).
 *
 * @param env Where to read `HOME` (default `Deno.env`).
 * @returns The path, or `undefined` when there is no home folder.
 *
 * @example Usage
 * ```ts
 * import { clarifaiConfigPath } from "./clarifai_config.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(
 *   clarifaiConfigPath(new Map([["HOME", "/home/ada"]])),
 *   "/home/ada/.config/clarifai/config",
 * );
 * ```
 */
export function clarifaiConfigPath(env: EnvReader = Deno.env): string | undefined {
  const home = env.get("HOME") || env.get("USERPROFILE");
  return home ? join(home, ".config", "clarifai", "config") : undefined;
}

function strings(value: YamlValue): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === null || typeof value !== "object") return out;
  for (const [key, item] of Object.entries(value)) {
    if (typeof item === "string") out[key] = item;
  }
  return out;
}

/**
 * Reads the Clarifai CLI's config file: `current_context` and `contexts`, each context's settings
 * either directly under its name (as `clarifai login` writes them) or under an `env:` key (as
 * older versions did).
 *
 * @param path The file.
 * @returns The config, or `undefined` when there is no such file.
 * @throws {SyntaxError} With the file and line, when it is not YAML of the expected shape.
 *
 * @example Usage
 * ```ts
 * import { readClarifaiConfig } from "./clarifai_config.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, [
 *   "contexts:",
 *   "  work:",
 *   "    CLARIFAI_PAT: abc123",
 *   "    CLARIFAI_USER_ID: ada",
 *   "current_context: work",
 * ].join("\n"));
 * const config = await readClarifaiConfig(path);
 * assertEquals(config?.currentContext, "work");
 * assertEquals(config?.contexts.get("work")?.env.CLARIFAI_USER_ID, "ada");
 * assertEquals(await readClarifaiConfig(`${path}.missing`), undefined);
 * ```
 */
export async function readClarifaiConfig(path: string): Promise<ClarifaiConfig | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const doc: YamlMap = parseYamlSubset(text, path);
  const contexts = new Map<string, ClarifaiContext>();
  const listed = doc.contexts;
  if (listed !== undefined && listed !== null && typeof listed !== "object") {
    throw new SyntaxError(`${path}: "contexts" must be a mapping of context names`);
  }
  for (const [name, value] of Object.entries(listed ?? {})) {
    const settings = value !== null && typeof value === "object" && typeof value.env === "object"
      ? value.env
      : value;
    contexts.set(name, { name, env: strings(settings) });
  }
  const current = doc.current_context;
  return {
    path,
    currentContext: typeof current === "string" ? current : undefined,
    contexts,
  };
}

/** What {@linkcode resolveCredentials} is given. */
export interface CredentialInputs {
  /** Values from flags (never a PAT: that is never taken from a flag). */
  flags?: { base?: string; userId?: string; appId?: string };
  /** The environment (default `Deno.env`). */
  env?: EnvReader & { has?(name: string): boolean };
  /** The Clarifai CLI's config, when there is one. */
  config?: ClarifaiConfig;
  /** `--context NAME`: the context to use instead of the active one. */
  context?: string;
}

/** Where the PAT in use comes from. */
export type CredentialSource =
  | { kind: "environment" }
  | { kind: "context"; name: string; path: string }
  | { kind: "none" };

/** The credentials and target settings in use, and where they came from. */
export interface ResolvedCredentials {
  /** `CLARIFAI_*` variables to open the target with (PAT, user, app, base), as an env reader. */
  env: EnvReader;
  /** Where the PAT comes from. */
  source: CredentialSource;
  /** For people, never holding the PAT: `PAT from CLARIFAI_PAT`, `context "work" of …`. */
  description: string;
}

const NAMES = {
  pat: ["CLARIFAI_PAT", "pat"],
  userId: ["CLARIFAI_USER_ID", "user_id"],
  appId: ["CLARIFAI_APP_ID", "app_id"],
  base: ["CLARIFAI_GRPC_BASE", "CLARIFAI_API_BASE", "api_base"],
} as const;

/** A context's setting, as Clarifai's `Context` reads it (`ENVVAR` means: from the environment). */
function fromContext(
  context: ClarifaiContext,
  names: readonly string[],
  env: EnvReader,
): string | undefined {
  for (const name of names) {
    const value = context.env[name];
    if (value === undefined || value === "") continue;
    if (value === "ENVVAR") {
      const variable = name.startsWith("CLARIFAI_") ? name : `CLARIFAI_${name.toUpperCase()}`;
      const fromEnv = env.get(variable);
      if (!fromEnv) {
        throw new UsageError(
          `context "${context.name}" takes ${variable} from the environment, but it is not set`,
        );
      }
      return fromEnv;
    }
    return value;
  }
  return undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/**
 * Chooses the credentials and target settings, in this order: flags (`--base`, `--user`,
 * `--app`), then environment variables (`CLARIFAI_PAT`, `CLARIFAI_USER_ID`, `CLARIFAI_APP_ID`,
 * `CLARIFAI_GRPC_BASE`/`CLARIFAI_API_BASE`), then the Clarifai CLI's context (`--context NAME`,
 * else its `current_context`), then nothing, which means upflow's embedded local API.
 *
 * The context is consulted only for a PAT that the environment does not give: `CLARIFAI_PAT`
 * set (even to an empty value) keeps the context out, as it does in Clarifai's own CLI. A context
 * with no PAT is passed over, unless `--context` names it, which is then a usage error.
 *
 * @param inputs Flags, environment, config and the context asked for.
 * @returns The settings, as an env reader for the target, and where the PAT comes from.
 * @throws {UsageError} When `--context` names no context of the config, or a context with no
 *   PAT, or a setting it says to read from an unset variable.
 *
 * @example A context supplies what the environment does not
 * ```ts
 * import { resolveCredentials } from "./clarifai_config.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const config = {
 *   path: "/home/ada/.config/clarifai/config",
 *   currentContext: "work",
 *   contexts: new Map([["work", {
 *     name: "work",
 *     env: { CLARIFAI_PAT: "secret", CLARIFAI_USER_ID: "ada", CLARIFAI_API_BASE: "https://api.clarifai.com" },
 *   }]]),
 * };
 * const fromContext = resolveCredentials({ env: new Map([["CLARIFAI_APP_ID", "photos"]]), config });
 * assertEquals(fromContext.source.kind, "context");
 * assertEquals(fromContext.env.get("CLARIFAI_USER_ID"), "ada");
 * assertEquals(fromContext.env.get("CLARIFAI_APP_ID"), "photos");
 * assertEquals(fromContext.description.includes("secret"), false);
 *
 * const fromEnv = resolveCredentials({ env: new Map([["CLARIFAI_PAT", "other"]]), config });
 * assertEquals(fromEnv.source.kind, "environment");
 * assertEquals(fromEnv.env.get("CLARIFAI_USER_ID"), undefined);
 * ```
 */
export function resolveCredentials(inputs: CredentialInputs = {}): ResolvedCredentials {
  const env = inputs.env ?? Deno.env;
  const has = (name: string) =>
    typeof env.has === "function" ? env.has(name) : env.get(name) !== undefined;
  const config = inputs.config;
  let context: ClarifaiContext | undefined;
  if (inputs.context !== undefined) {
    context = config?.contexts.get(inputs.context);
    if (context === undefined) {
      const names = [...(config?.contexts.keys() ?? [])];
      throw new UsageError(
        config === undefined
          ? `--context ${inputs.context}: there is no Clarifai CLI config (run 'clarifai login')`
          : `--context ${inputs.context}: no such context in ${config.path}${
            suggestion(didYouMean(inputs.context, names))
          }; contexts: ${names.join(", ") || "none"}`,
      );
    }
    if (fromContext(context, NAMES.pat, env) === undefined && !nonEmpty(env.get("CLARIFAI_PAT"))) {
      throw new UsageError(`--context ${inputs.context}: the context has no CLARIFAI_PAT`);
    }
  } else if (!has("CLARIFAI_PAT") && config?.currentContext) {
    const active = config.contexts.get(config.currentContext);
    if (active && fromContext(active, NAMES.pat, env) !== undefined) context = active;
  }

  const envPat = nonEmpty(env.get("CLARIFAI_PAT"));
  const values = new Map<string, string>();
  const pick = (field: keyof typeof NAMES, variable: string, envNames: readonly string[]) => {
    let value: string | undefined;
    for (const name of envNames) value ??= nonEmpty(env.get(name));
    if (value === undefined && context !== undefined) {
      value = fromContext(context, NAMES[field], env);
    }
    if (value !== undefined) values.set(variable, value);
  };
  pick("pat", "CLARIFAI_PAT", ["CLARIFAI_PAT"]);
  pick("userId", "CLARIFAI_USER_ID", ["CLARIFAI_USER_ID"]);
  pick("appId", "CLARIFAI_APP_ID", ["CLARIFAI_APP_ID"]);
  pick("base", "CLARIFAI_GRPC_BASE", ["CLARIFAI_GRPC_BASE", "CLARIFAI_API_BASE"]);

  let source: CredentialSource;
  let description: string;
  if (envPat !== undefined) {
    source = { kind: "environment" };
    description = "PAT from CLARIFAI_PAT" +
      (context !== undefined ? ` (it overrides context "${context.name}")` : "");
  } else if (context !== undefined) {
    source = { kind: "context", name: context.name, path: config!.path };
    description = `PAT from context "${context.name}" of ${config!.path}`;
  } else {
    source = { kind: "none" };
    description = "no PAT (no CLARIFAI_PAT, no Clarifai CLI context with one)";
  }
  const flags = inputs.flags ?? {};
  if (flags.userId !== undefined) values.set("CLARIFAI_USER_ID", flags.userId);
  if (flags.appId !== undefined) values.set("CLARIFAI_APP_ID", flags.appId);
  if (flags.base !== undefined) values.set("CLARIFAI_GRPC_BASE", flags.base);
  return { env: values, source, description };
}

/**
 * Reads the Clarifai CLI's config (from `HOME`) when it is needed, and resolves the credentials
 * with {@linkcode resolveCredentials}. The config is not read when `CLARIFAI_PAT` is set and no
 * `--context` is given.
 *
 * @param flags Values from flags.
 * @param context `--context NAME`, when given.
 * @param env The environment (default `Deno.env`).
 * @returns The credentials in use and where they came from.
 * @throws {UsageError} When the config cannot be read or the context is unusable.
 *
 * @example No config, no PAT: the embedded local API
 * ```ts
 * import { loadCredentials } from "./clarifai_config.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const resolved = await loadCredentials({}, undefined, new Map([["HOME", await Deno.makeTempDir()]]));
 * assertEquals(resolved.source.kind, "none");
 * ```
 */
export async function loadCredentials(
  flags: CredentialInputs["flags"],
  context?: string,
  env: EnvReader & { has?(name: string): boolean } = Deno.env,
): Promise<ResolvedCredentials> {
  const hasPat = typeof env.has === "function"
    ? env.has("CLARIFAI_PAT")
    : env.get("CLARIFAI_PAT") !== undefined;
  let config: ClarifaiConfig | undefined;
  if (context !== undefined || !hasPat) {
    const path = clarifaiConfigPath(env);
    if (path !== undefined) {
      try {
        config = await readClarifaiConfig(path);
      } catch (error) {
        throw new UsageError(
          `cannot read Clarifai's CLI config: ${(error as Error).message}\n` +
            "fix the file, or set CLARIFAI_PAT (set it empty to use the embedded local API)",
        );
      }
    }
  }
  return resolveCredentials({ flags, env, config, context });
}
