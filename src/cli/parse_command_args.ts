/**
 * The CLI's one strict argument parser: `node:util`'s `parseArgs`, with every mistake turned
 * into a short {@linkcode UsageError} that names the option as typed, and a "did you mean" for
 * unknown ones.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { didYouMean, suggestion } from "./did_you_mean.ts";
import { UsageError } from "./usage_error.ts";

/** A command's options, as `parseArgs` takes them. */
export type CommandOptions = Record<
  string,
  { type: "string" | "boolean"; short?: string; multiple?: boolean }
>;

function known(options: CommandOptions): string[] {
  const names: string[] = [];
  for (const [name, option] of Object.entries(options)) {
    names.push(`--${name}`);
    if (option.short) names.push(`-${option.short}`);
  }
  return names;
}

function unknown(typed: string, options: CommandOptions): UsageError {
  const longs = Object.keys(options).map((name) => `--${name}`);
  const near = typed.startsWith("--")
    ? didYouMean(typed, longs)
    : didYouMean(typed, known(options));
  return new UsageError(`unknown option ${typed}${suggestion(near)}`);
}

/** Checks the arguments before `parseArgs` sees them, so that each mistake reads plainly. */
function check(args: readonly string[], options: CommandOptions): void {
  const byShort = new Map<string, string>();
  for (const [name, option] of Object.entries(options)) {
    if (option.short) byShort.set(option.short, name);
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") return;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const option = Object.hasOwn(options, name) ? options[name] : undefined;
      if (option === undefined) throw unknown(`--${name}`, options);
      if (option.type === "boolean") {
        if (eq >= 0) throw new UsageError(`--${name} takes no value: got "${arg}"`);
        continue;
      }
      if (eq >= 0) continue;
      const value = args[i + 1];
      if (value === undefined || (value.startsWith("-") && value.length > 1)) {
        throw new UsageError(
          `--${name} needs a value${
            value === undefined ? "" : `, but the next argument is the option ${value}`
          }`,
        );
      }
      i++;
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const name = byShort.get(arg[j]);
        if (name === undefined) throw unknown(`-${arg[j]}`, options);
        if (options[name].type === "string") {
          if (j < arg.length - 1) break; // -xVALUE
          const value = args[i + 1];
          if (value === undefined) throw new UsageError(`-${arg[j]} needs a value`);
          i++;
        }
      }
    }
  }
}

/**
 * Parses a command's arguments strictly (`node:util`'s `parseArgs`), turning every mistake
 * into a {@linkcode UsageError} with a plain message: `unknown option --recursve (did you mean
 * --recursive?)`, `--dataset needs a value`, `--json takes no value: got "--json=1"`.
 *
 * @param args The arguments after the command.
 * @param options The command's options, as `parseArgs` takes them.
 * @param allowPositionals Whether the command takes positional arguments (default `true`).
 * @returns The parsed values and positionals.
 * @throws {UsageError} On an unknown option, a missing value or a value given to a switch.
 *
 * @example Usage
 * ```ts
 * import { parseCommandArgs } from "./parse_command_args.ts";
 * import { UsageError } from "./usage_error.ts";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const { values, positionals } = parseCommandArgs(["a.csv", "--json"], {
 *   json: { type: "boolean" },
 * });
 * assertEquals([values.json, positionals], [true, ["a.csv"]]);
 * assertThrows(
 *   () => parseCommandArgs(["--jsno"], { json: { type: "boolean" } }),
 *   UsageError,
 *   "unknown option --jsno (did you mean --json?)",
 * );
 * ```
 */
export function parseCommandArgs<O extends CommandOptions>(
  args: string[],
  options: O,
  allowPositionals = true,
): ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: boolean; strict: true }>
> {
  check(args, options);
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    const message = (err as Error).message;
    const positional = /Unexpected argument '(.*)'/.exec(message);
    if (positional) {
      throw new UsageError(`this command takes no argument like "${positional[1]}"`);
    }
    throw new UsageError(message.replace(/\. To specify a positional argument.*$/s, ""));
  }
}
